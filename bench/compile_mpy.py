"""Compiles every firmware file with mpy-cross for each board architecture.

A file the boards cannot load fails the build. Output goes to
build/mpy/<arch>/, mirroring firmware/. The compile step itself lives once in
host_tools/deploy.py (shared with `e2mon deploy`).
"""
import sys

from host_tools.deploy import CompileError, compile_firmware


def compile_all(arch):
    """Compiles firmware/ for arch; returns {relative .py path: .mpy bytes}."""
    return compile_firmware(arch)


def main(archs):
    for arch in archs:
        try:
            sizes = compile_all(arch)
        except CompileError as exc:
            raise SystemExit(str(exc)) from None
        print("mpy-cross %s: %d files, %d bytes" % (arch, len(sizes), sum(sizes.values())))


if __name__ == "__main__":
    main(sys.argv[1:] or ["armv6m", "xtensawin"])
