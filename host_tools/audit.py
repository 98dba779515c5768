"""Who is changing the host database: the OS user, the clinician's name (settings file or
$E2MON_CLINICIAN) and the machine, written with every entry of the audit log (HostDB.audit).

The actions e2mon records, in the words `e2mon audit` shows.
"""
import getpass
import os
import socket

PULL = "pull"
ACKNOWLEDGE = "acknowledge"
PUSH = "push"
CORRECT = "entry correction"
PROFILE = "profile change"
FIRMWARE = "firmware update"
REMOVE = "devices remove"
LABEL = "devices label"
COPY = "db copy"
CLINIC = "clinic made"
CLINICIAN_ADD = "clinician added"
CLINICIAN_REMOVE = "clinician removed"
ACCOUNT_ADD = "page account added"
ACCOUNT_REMOVE = "page account removed"


class Actor:
    def __init__(self, os_user, clinician, machine):
        self.os_user = os_user
        self.clinician = clinician
        self.machine = machine

    @classmethod
    def here(cls, clinician=None):
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "uid %d" % os.getuid()
        return cls(user, clinician or os.environ.get("E2MON_CLINICIAN") or None, socket.getfqdn())

    def text(self):
        return "%s (%s) on %s" % (self.clinician, self.os_user, self.machine) if self.clinician else \
            "%s on %s" % (self.os_user, self.machine)

