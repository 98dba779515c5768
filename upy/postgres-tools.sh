#!/usr/bin/env bash
# Debian's PostgreSQL server for the host database's tests and the clinic benchmark (tests/postgres_fixture.py
# starts a throw-away cluster with its initdb and pg_ctl; pg_dump comes with it). Installed only when
# missing and we are root (CI); otherwise says what to install.
set -euo pipefail
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v pg_dump >/dev/null && exit 0
exec "$(dirname "$0")/apt-install.sh" postgresql
