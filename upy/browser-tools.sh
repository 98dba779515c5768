#!/usr/bin/env bash
# The real browser the clinic page's tests drive: Debian's Chromium and its matching chromedriver
# (Selenium talks to it; no browser is downloaded from elsewhere). Installed only when missing and we are
# root (CI); otherwise says what to install.
set -euo pipefail
command -v chromium >/dev/null && command -v chromedriver >/dev/null && exit 0
exec "$(dirname "$0")/apt-install.sh" chromium chromium-driver fonts-dejavu-core
