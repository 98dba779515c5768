"""host_tools.firmware_version: the one place a build stamps firmware/monitor/version.py."""
import os
import subprocess

import pytest

from host_tools import firmware_version


def test_describe_is_git_describe_of_this_checkout():
    expected = subprocess.run(["git", "-C", firmware_version.ROOT, "describe", "--tags", "--always", "--dirty"],
                              capture_output=True, text=True, check=True).stdout.strip()
    assert firmware_version.describe() == expected


def test_describe_outside_git_is_dev(tmp_path):
    assert firmware_version.describe(str(tmp_path)) == "dev"


def test_stage_copies_firmware_and_stamps_only_the_copy(tmp_path):
    dest = tmp_path / "frozen"
    assert firmware_version.stage(str(dest), "v9.8-7-gabcdef0") == "v9.8-7-gabcdef0"
    assert 'VERSION = "v9.8-7-gabcdef0"\n' in (dest / "monitor" / "version.py").read_text()
    assert (dest / "main.py").read_text() == open(os.path.join(firmware_version.FIRMWARE, "main.py")).read()
    assert (dest / "manifest_pico_w.py").exists()
    namespace = {}
    exec((dest / "monitor" / "version.py").read_text(), namespace)
    assert namespace["VERSION"] == "v9.8-7-gabcdef0" and namespace["SEQUENCE"] == 0   # the rest kept
    # a file gone from firmware/ leaves the copy; an unchanged file keeps its time (incremental builds)
    (dest / "monitor" / "gone.py").write_text("x = 1\n")
    before = os.stat(dest / "main.py").st_mtime_ns
    firmware_version.stage(str(dest), "v9.8-7-gabcdef0")
    assert not (dest / "monitor" / "gone.py").exists()
    assert os.stat(dest / "main.py").st_mtime_ns == before


@pytest.mark.parametrize("bad", ["", 'v1"; import os', "v1\\n", "v1\nx"])
def test_a_version_that_is_not_a_plain_string_is_refused(bad):
    with pytest.raises(ValueError, match="not a version string"):
        firmware_version.version_source(bad, 'VERSION = "dev"\n')


def test_the_source_tree_is_never_stamped():
    with pytest.raises(ValueError, match="copy"):
        firmware_version.stamp(firmware_version.FIRMWARE, "v1")
