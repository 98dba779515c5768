import glob
import os
import sys

# Tests are grouped by the part they test (tests/<group>/test_*.py); shared helpers sit in tests/ itself.
# Every group folder is on sys.path, so a test uses another group's fixtures by module name
# (`from test_cli_sim import e2mon`) whichever file pytest collects first.
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)   # the bench package: tests reuse its fault layers and stand-ins
for group in sorted(glob.glob(os.path.join(HERE, "*", ""))):
    if glob.glob(os.path.join(group, "test_*.py")) and group.rstrip(os.sep) not in sys.path:
        sys.path.append(group.rstrip(os.sep))

# The firmware image on the emulated RP2040 (tests/rp2040) runs from `make check-rp2`, which builds the
# image and installs rp2040js first; a plain `pytest` leaves it out instead of skipping it.
if not os.environ.get("E2MON_RP2"):
    collect_ignore = ["rp2040"]

# PostgreSQL for the storage tests (a throw-away cluster per session; tests/postgres_fixture.py).
from postgres_fixture import db_target, pg_url, postgres_server  # noqa: E402,F401
