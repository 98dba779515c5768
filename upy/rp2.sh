#!/usr/bin/env bash
# An RP2040 firmware image with e2mon frozen in: MicroPython v1.28.0's rp2 port from the vendor tarball
# (../shared/vendor, see its README), picotool built without USB so the SDK downloads nothing, firmware/
# staged with its version stamped, then `make -C ports/rp2 BOARD=... FROZEN_MANIFEST=...`.
#   upy/rp2.sh WORK_DIR OUT.uf2 PYTHON [BOARD [MANIFEST]]
# BOARD: RPI_PICO_W (default; firmware/manifest_pico_w.py) or ARDUINO_NANO_RP2040_CONNECT (NimBLE over
# UART1; the rp2 tarball lacks lib/mynewt-nimble, so it is copied from the unix tarball, the same v1.28.0
# submodule commit).
set -euo pipefail
work=$1 out=$2 python=$3 board=${4:-RPI_PICO_W} manifest=${5:-manifest_pico_w.py}
here=$(cd "$(dirname "$0")" && pwd)
tarball=${MICROPYTHON_RP2_TARBALL:-$here/../../shared/vendor/micropython-1.28.0-rp2-src.tar.xz}
sha256=dc8b7e72d6e0d045bc69b11fbdb118df8c8e4cdc23671affb76738a2b20e19e2
unix_tarball=${MICROPYTHON_TARBALL:-$here/../../shared/vendor/micropython-1.28.0-src.tar.xz}
unix_sha256=eb0784a32db3eb0dff61d9800bd2abaa51fd9562f4382fab41423f93f3aa273e
mkdir -p "$work"
work=$(cd "$work" && pwd)
src=$work/src
jobs=${RP2_JOBS:-2}

if [ ! -f "$src/micropython/ports/rp2/Makefile" ]; then
    [ -f "$tarball" ] || { echo "no $tarball: the rp2 build needs the vendor tarball (../shared/vendor)" >&2; exit 1; }
    echo "$sha256  $tarball" | sha256sum -c --quiet
    rm -rf "$src" "$work/unpack"
    mkdir -p "$work/unpack"
    tar -xJf "$tarball" -C "$work/unpack"
    mv "$work/unpack/rp2" "$src"
    rmdir "$work/unpack"
fi
sdk=$src/micropython/lib/pico-sdk

if [ "$board" != RPI_PICO_W ] && [ ! -f "$src/micropython/lib/mynewt-nimble/nimble/host/include/host/ble_hs.h" ]; then
    [ -f "$unix_tarball" ] || { echo "no $unix_tarball: NimBLE's source comes from it" >&2; exit 1; }
    echo "$unix_sha256  $unix_tarball" | sha256sum -c --quiet
    rm -rf "$work/nimble-unpack" "$src/micropython/lib/mynewt-nimble"
    mkdir -p "$work/nimble-unpack"
    tar -xJf "$unix_tarball" -C "$work/nimble-unpack" micropython/lib/mynewt-nimble
    mv "$work/nimble-unpack/micropython/lib/mynewt-nimble" "$src/micropython/lib/mynewt-nimble"
    rm -rf "$work/nimble-unpack"
fi

if [ ! -x "$work/picotool/picotool" ]; then
    nice cmake -S "$src/picotool" -B "$work/picotool-build" -DPICO_SDK_PATH="$sdk" -DPICOTOOL_NO_LIBUSB=1 \
        -DPICOTOOL_FLAT_INSTALL=1 -DCMAKE_INSTALL_PREFIX="$work/picotool" -DCMAKE_BUILD_TYPE=Release >/dev/null
    nice cmake --build "$work/picotool-build" -j"$jobs" >/dev/null
    cmake --install "$work/picotool-build" >/dev/null
fi

# firmware/ with monitor/version.py stamped from `git describe`; only changed files are rewritten.
version=$(cd "$here/.." && "$python" -m host_tools.firmware_version "$work/frozen")
echo "e2mon $version"
# mpy-cross first, on its own: built from inside the port's make it would inherit FROZEN_MANIFEST.
nice make -s -j"$jobs" -C "$src/micropython/mpy-cross"
# The port's default build directory: a BUILD= on the command line would reach mpy-cross's own make too.
PICOTOOL_FETCH_FROM_GIT_PATH=$work/picotool nice make -s -j"$jobs" -C "$src/micropython/ports/rp2" \
    BOARD="$board" FROZEN_MANIFEST="$work/frozen/$manifest"
mkdir -p "$(dirname "$out")"
cp "$src/micropython/ports/rp2/build-$board/firmware.uf2" "$out.tmp" && mv -f "$out.tmp" "$out"
