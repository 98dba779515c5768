# The duplicate check (monitor.entry_checks) over a real store: an exact duplicate is found among the
# newest records, a different unit, time or a voided original is not one.
from monitor import entry_checks as duplicates
from monitor import records as R
from monitor.store import Store
from store_fs import each_fs

DAY = 9800


def test_an_exact_duplicate_is_found_and_a_near_one_is_not():
    def check(path):
        store = Store(path, segment_records=64)   # the window's 259 records fit the 8 KB littlefs (few files)
        e2 = store.append(DAY, 600, R.KIND_LAB, R.A_E2, 385, R.METHOD_LCMS | R.FLAG_CLINIC)
        store.append(DAY, 601, R.KIND_SYMPTOM, R.S_JOINT, 2, 0)
        find = duplicates.find
        # who entered it and a confirmation do not make it another entry
        assert find(store, R.KIND_LAB, R.A_E2, 385, R.METHOD_LCMS | R.FLAG_CONFIRMED, DAY, 600) == e2
        assert find(store, R.KIND_LAB, R.A_E2, 385, R.METHOD_LCMS | R.FLAG_SI, DAY, 600) == 0   # entered in SI
        assert find(store, R.KIND_LAB, R.A_E2, 385, R.METHOD_LCMS, DAY, 601) == 0
        assert find(store, R.KIND_LAB, R.A_E2, 386, R.METHOD_LCMS, DAY, 600) == 0
        assert find(store, R.KIND_LAB, R.A_TT, 385, R.METHOD_LCMS, DAY, 600) == 0
        store.append(DAY, 602, R.KIND_EVENT, R.EVENT_VOID, e2, 1)
        assert find(store, R.KIND_LAB, R.A_E2, 385, R.METHOD_LCMS, DAY, 600) == 0
        # only the newest WINDOW records are looked through
        for i in range(duplicates.WINDOW):
            store.append(DAY, i % 1440, R.KIND_SYMPTOM, R.S_MOOD, 1, 0)
        assert find(store, R.KIND_SYMPTOM, R.S_JOINT, 2, 0, DAY, 601) == 0
        assert find(store, R.KIND_SYMPTOM, R.S_MOOD, 1, 0, DAY, 5) > 0
        store.close()
    each_fs(check)
