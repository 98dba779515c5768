# The self-test a new version passes after its first boot, before it may confirm itself (update_boot):
# the store mounted and answers, the profile on flash decodes to the one in use, and the rules evaluate a
# fixed history to the flags and reminders below.  A release whose rules change this result on purpose
# changes EXPECTED with them.  Loaded only on a trial boot (main.py).
from monitor import records as R
from monitor import profile_codec
from monitor import profile as P
from monitor.tracker import Tracker

DAY = 9000   # 2024-08-23: any fixed day; the vector is relative to it
VECTOR = (
    (1, DAY, 480, R.KIND_DOSE, R.D_ANASTROZOLE, 500, 0),
    (2, DAY + 28, 480, R.KIND_LAB, R.A_E2, 110, R.METHOD_LCMS | R.FLAG_CLINIC),   # E2 11 pg/mL, the clinic's
    (3, DAY + 28, 490, R.KIND_LAB, R.A_TT, 5500, R.FLAG_CLINIC),
    (4, DAY + 29, 600, R.KIND_SYMPTOM, R.S_JOINT, 2, 0),             # joint pain, moderate
)
EXPECTED_FLAGS = ((6, 1, DAY + 28, 110, 150, 0), (11, 0, DAY + 28, 5500, 0, 0), (14, 2, DAY + 29, 110, 0, 0))
EXPECTED_REMINDERS = ((0, 1, DAY + 29, 0), (2, 0, DAY + 91, 0), (3, 0, DAY + 182, 0))

STORE = "store"
PROFILE = "profile"
RULES = "rules"


def run(app, profile_path):
    """None if the version works, else the name of the part that failed."""
    try:
        if app.store.count_from(0) < 0 or app.store.next_seq < 0:
            return STORE
    except Exception:  # noqa: BLE001 - any failure of the new code is a failed self-test
        return STORE
    try:
        try:
            f = open(profile_path, "rb")
        except OSError:
            f = None   # no profile sent yet: the defaults are in use
        if f is not None:
            try:
                blob = f.read()
            finally:
                f.close()
            if profile_codec.encode(profile_codec.decode(blob)) != profile_codec.encode(app.profile):
                return PROFILE
    except Exception:  # noqa: BLE001
        return PROFILE
    try:
        tracker = Tracker(P.Profile())
        for record in VECTOR:
            tracker.apply(*record)
        if tracker.flags(DAY + 30) != EXPECTED_FLAGS or tracker.reminders(DAY + 30) != EXPECTED_REMINDERS:
            return RULES
    except Exception:  # noqa: BLE001
        return RULES
    return None
