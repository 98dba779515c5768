#!/usr/bin/env bash
# Installs Debian packages when we are root (CI), waiting for another apt run (e.g. unattended upgrades)
# that holds the lock; otherwise says what to install. Used by install-tools.sh and rp2-tools.sh.
#   upy/apt-install.sh PACKAGE...
set -euo pipefail
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "$@"
else
    echo "missing build tools: install them with: sudo apt-get install $*" >&2
    exit 1
fi
