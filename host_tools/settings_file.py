"""The settings file, $E2MON_SETTINGS or $XDG_CONFIG_HOME/e2mon/settings.toml (TOML), for what stays the
same between commands on one machine:

    database = "postgresql://clinic-db.example/e2mon"   # or a path (SQLite)
    clinician = "Dr A. Example"                          # named in the audit log

--db and $E2MON_DB come before `database`; $E2MON_CLINICIAN before `clinician`. A missing file is no
settings; a file that is not TOML, or holds a key e2mon does not know, is a clear error.
"""
import os
import tomllib

KNOWN = {"database": str, "clinician": str}


class SettingsError(ValueError):
    pass


def path():
    if os.environ.get("E2MON_SETTINGS"):
        return os.environ["E2MON_SETTINGS"]
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "e2mon", "settings.toml")


def load():
    where = path()
    try:
        with open(where, "rb") as f:
            found = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError("the settings file %s is not TOML (%s)" % (where, exc)) from None
    for key, value in found.items():
        if key not in KNOWN:
            raise SettingsError("the settings file %s holds %r, which e2mon does not know (it knows %s)"
                                % (where, key, ", ".join(sorted(KNOWN))))
        if not isinstance(value, KNOWN[key]):
            raise SettingsError("the settings file %s: %s must be text" % (where, key))
    return found
