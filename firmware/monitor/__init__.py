"""The portable core of the device: integer only, no hardware; runs unchanged on the boards, the MicroPython
unix port and CPython. It imports nothing but itself and what MicroPython provides.

Records and codes
    records.py        record kinds and codes, the 16-byte record layout, ERR_* codes, EntryError
    catalog.py        names and display tables of the codes; rule, reminder and level lookups
    errors.py         the plain message of each ERR_* code
    units.py          units of entry and exact integer conversion to the stored integers
    validate.py       whether an entry may be stored (plausibility, dates, qualifiers)
    texts.py          names and plain-language texts of values, flags and reminders (hosts, screen)
    dates.py          day numbers since 2000-01-01, civil dates, weekdays

Rules and reminders
    profile.py        the clinician's rule profile: a flat array of integer parameters, its defaults
    profile_codec.py  the profile's parameter names, bounds and bytes (host and device)
    param_names.py    profile parameter names in profile order
    rules.py          rule IDs, flag fields, shared predicates
    evaluate.py       lab ladders against the profile (evaluate_flags)
    combine.py        combination rules: symptoms with results and therapy dates
    schedule.py       reminder IDs, states and fields
    reminders.py      reminder evaluation (evaluate_reminders)
    state.py          the tracker's derived state: one flat int32 array
    ingest.py         applies one stored record to that state
    tracker.py        incremental derived state over the log: rules and reminders in one object
    snapshot.py       the state's bytes on flash, so a reboot need not replay the log
    lms.py            HSS/LMS signature verification (update bundles)

The device's app
    app.py            the store, tracker, clock and profile in one object: every change to the log
    clock.py          the wall clock over an RTC it is given; unset until a host sets it
    store.py          append-only durable log of records in segment files
    store_files.py    the store's file layer and its small atomic files
    selftest.py       what a new version checks before it confirms itself
    corrections.py    void and amend in the open: the correcting records, the exact rebuild without them
    entry_checks.py   a host's push against the log: exact duplicates, dates before the therapy or a year back

Sync and updates
    protocol.py       UUIDs, channels, RACP-style control point, codecs and codes: the one source
    protocol_host.py  the host's half of the codecs (requests it sends, replies it reads)
    protocol_text.py  plain-text names of the protocol's codes
    codes.py          roles, status and error codes shared by session and protocol
    session.py        authentication and frame protection (HMAC-SHA256, AES-CTR on cryptolib's ECB)
    native.py         the session's keystream XOR in native code where the board can load it
    endpoint.py       the device side of the protocol, free of any transport
    framing.py        the same frames over USB serial (COBS)
    beacon.py         the advertised rotating identifier; beacon_host.py: the host's half
    bundle.py         update bundle layout; update.py: receiving and staging one on the device
    flash_room.py     the flash in use on a board whose flash area has a set size (the simulator's)
    version.py        the firmware's version
"""
