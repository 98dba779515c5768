#!/usr/bin/env bash
# The Pico W firmware image with e2mon frozen in: MicroPython v1.28.0's rp2 port from the vendor tarball
# (../shared/vendor, see its README), picotool built without USB so the SDK downloads nothing, firmware/
# staged with its version stamped, then `make -C ports/rp2 BOARD=RPI_PICO_W FROZEN_MANIFEST=...`.
#   upy/rp2.sh WORK_DIR OUT.uf2 PYTHON
set -euo pipefail
work=$1 out=$2 python=$3
here=$(cd "$(dirname "$0")" && pwd)
tarball=${MICROPYTHON_RP2_TARBALL:-$here/../../shared/vendor/micropython-1.28.0-rp2-src.tar.xz}
sha256=dc8b7e72d6e0d045bc69b11fbdb118df8c8e4cdc23671affb76738a2b20e19e2
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
    BOARD=RPI_PICO_W FROZEN_MANIFEST="$work/frozen/manifest_pico_w.py"
mkdir -p "$(dirname "$out")"
cp "$src/micropython/ports/rp2/build-RPI_PICO_W/firmware.uf2" "$out"
