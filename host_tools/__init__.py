"""The clinician's side of e2mon: the `e2mon` CLI (host_tools.cli) and what it is built from.

    cli.py            the click group; each cmd_*.py adds its commands with register(cli)
    settings.py       global options --sim --port --device --json --db --verbose (before or after the
                      command), output helpers
    failures.py       one clear line (JSON with --json) and a distinct exit code per failure (EXIT_CODES)
    cmd_database.py   devices (list, label, remove), backup, restore, db init|check
    cmd_scan.py       scan: your devices nearby      cmd_provision.py  provision over USB (--port)
    cmd_pull.py       pull the device's log          cmd_push.py       push lab|dose|symptom
    cmd_entry.py      entry void|amend: corrections recorded on the device
    entry_checks.py   a push against what was pulled: exact duplicates (asked), unusual dates (--confirm)
    corrections.py    what a device's corrections say about pulled records (status, notes, what counts)
    cmd_time.py       time sync|show (time-sync)     cmd_profile.py    profile show|set|check
    cmd_alerts.py     alerts, reminders              device_command.py what those share: run(), --device, --as
    cmd_export.py     export (CSV, JSON, FHIR, history; --all), report   cmd_evaluate.py  evaluate a history file
    cmd_update.py     release keygen|build, update       cmd_deploy.py    deploy firmware over USB (mpremote)
    connect.py        reaching a device: BLE (bleak), the simulator (--sim), USB (--port)
    sim_link.py       the host's end of the simulator's link (bumble TCP central, its addresses and port)
    bleak_backend.py  bleak's BleakClient and BleakScanner on a bumble central, for sim_link
    serial_link.py    the USB port as a BleakClient-like object, so DeviceLink runs unchanged over USB
    device_link.py    the protocol client over any link  host_crypto.py  its handshake and frame sealing
    db.py             SQLite or PostgreSQL: records keyed by (device, record number), atomic batches; 0600, backups, lock
    schema.py         the tables (SQLAlchemy Core)   migrate.py, migrations/  Alembic's schema upgrades
    db_url.py         a path (SQLite) or URL -> engine  db_lock.py  the per-database / per-device lock
    db_copy.py        e2mon db copy, counted and hashed  pg_backup.py  pg_dump
    audit.py          who changes what (audit log)   settings_file.py  ~/.config/e2mon/settings.toml
                      entries_as_typed: what was typed on this host (an SI value, a date without a time)
    export.py         rows with units, CSV, JSON      fhir.py  FHIR R4 Bundle (LOINC, UCUM)
    report.py         the trend picture (PNG/HTML)    alert_text.py  flags and reminders in words
    profile_file.py   the rule profile as an editable text file, and as JSON (to_document: what profile show
                      --json prints and profile set reads back)
    keys.py           per-device role keys: keyring, else 0600 files
    outfile.py        every file with patient data: 0600 temporary beside it, renamed; a device or pipe written
                      through, never replaced
    deploy.py         mpy-cross per board + the mpremote command (shared with `make mpy`)
    progress.py       the pull's progress line
    history.py        a therapy history file (JSON) read into the core's integer entries
    release.py        the publisher's signing key and release bundles
    firmware_version.py  the one place a build stamps the firmware version
    const_inline.py   device build step: cross-module const() names inlined (measured in the README)
    clinical_doc.py   docs/clinical-rules.md, generated from firmware/monitor

Exit codes: failures.EXIT_CODES (printed by `e2mon --help`, tabled in the README).
"""
