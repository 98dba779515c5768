#!/usr/bin/env bash
# The Debian packages the Pico W (rp2) build needs: cmake, the Arm cross compiler, its C and C++ libraries
# (pico-sdk links newlib's libstdc++); node and npm run the emulated RP2040 (rp2040js). Installed only when
# missing and we are root (CI); otherwise says what to install.
set -euo pipefail
packages="cmake gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib"
missing=
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
command -v node >/dev/null && command -v npm >/dev/null || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
exec "$(dirname "$0")/apt-install.sh" $missing
