#!/usr/bin/env bash
# Puts MicroPython v1.28.0 source in DEST: the vendor tarball from ../shared/vendor when it is there,
# otherwise a pinned git checkout with the submodules the unix and qemu ports need. Then lays the
# project's overlay files (upy/overlay, each says why) over it.
#   upy/source.sh DEST
set -euo pipefail
dest=$1
here=$(cd "$(dirname "$0")" && pwd)
tarball=$here/../../shared/vendor/micropython-1.28.0-src.tar.xz
sha256=eb0784a32db3eb0dff61d9800bd2abaa51fd9562f4382fab41423f93f3aa273e
tarball=${MICROPYTHON_TARBALL:-$tarball}
if [ ! -f "$dest/py/mpconfig.h" ]; then
    rm -rf "$dest" "$dest.tmp"
    mkdir -p "$dest.tmp"
    if [ -f "$tarball" ]; then
        echo "$sha256  $tarball" | sha256sum -c --quiet
        tar -xJf "$tarball" -C "$dest.tmp"
        mv "$dest.tmp/micropython" "$dest"
    else
        git clone -q --depth 1 --branch v1.28.0 https://github.com/micropython/micropython "$dest.tmp/micropython"
        git -C "$dest.tmp/micropython" submodule update -q --init --depth 1 \
            lib/btstack lib/mynewt-nimble lib/mbedtls lib/axtls lib/micropython-lib lib/berkeley-db-1.xx
        mv "$dest.tmp/micropython" "$dest"
    fi
    rmdir "$dest.tmp"
fi
# cp -p keeps each overlay file's own time: a changed overlay is newer than the objects built from it.
cp -rp "$here/overlay/." "$dest/"
