#!/usr/bin/env bash
# The Debian packages the MicroPython builds need: the Arm cross compiler and C library (qemu Cortex-M3
# image), qemu to run it, multilib for -m32 host builds (it brings gcc), and xz for the vendor tarball.
# Installed only when a tool is missing and we are root (CI); otherwise says what to install.
set -euo pipefail
packages="gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc-multilib xz-utils"
missing=
command -v arm-none-eabi-gcc >/dev/null || missing=1
command -v qemu-system-arm >/dev/null || missing=1
command -v xz >/dev/null || missing=1
[ -f "$(arm-none-eabi-gcc -mthumb -mcpu=cortex-m3 -print-file-name=libc.a 2>/dev/null)" ] || missing=1
echo 'int main(void) { return 0; }' | gcc -m32 -x c - -o /dev/null 2>/dev/null || missing=1
[ -z "$missing" ] && exit 0
exec "$(dirname "$0")/apt-install.sh" $packages
