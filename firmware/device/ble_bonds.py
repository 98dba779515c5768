# LE bonding keys for device/ble_service.py (the _IRQ_GET_SECRET / _IRQ_SET_SECRET events), kept in a file
# next to the device key so bonds survive a reboot: records of  type u8 | key length u8 | key |
# value length u8 | value, oldest first.  Loaded only by a build that bonds (secure_link, ESP32) or when a
# stack asks.  Just Works lets anyone nearby pair, so each type keeps at most MAX_BONDS keys: a new one
# past that drops the oldest of its type (a key set again counts as new).
#
#   bonds = Bonds(path, load=True)
#   bonds.get(sec_type, index, key) -> value or None      # key None: the index-th key of that type
#   bonds.set(sec_type, key, value) -> True               # value None deletes; saved at once
import os

from micropython import const

MAX_BONDS = const(4)   # keys kept per type (peers bonded at once)


class Bonds:
    def __init__(self, path, load=True):
        self.path = path
        self._secrets = {}
        self._order = []     # (sec_type, key), oldest first: MicroPython's dict keeps no order
        if load:
            self._load()

    def _load(self):
        try:
            with open(self.path, "rb") as f:
                blob = f.read()
        except OSError:
            return
        pos = 0
        while pos + 2 <= len(blob):
            sec_type, klen = blob[pos], blob[pos + 1]
            key = blob[pos + 2:pos + 2 + klen]
            pos += 2 + klen
            if pos >= len(blob):
                break
            vlen = blob[pos]
            value = blob[pos + 1:pos + 1 + vlen]
            pos += 1 + vlen
            if len(key) == klen and len(value) == vlen:
                self._put(sec_type, bytes(key), bytes(value))

    def _put(self, sec_type, key, value):
        entry = (sec_type, key)
        if entry in self._secrets:
            self._order.remove(entry)
        self._secrets[entry] = value
        self._order.append(entry)
        same = [e for e in self._order if e[0] == sec_type]
        if len(same) > MAX_BONDS:
            self._order.remove(same[0])
            del self._secrets[same[0]]

    def _save(self):
        out = bytearray()
        for entry in self._order:
            sec_type, key = entry
            value = self._secrets[entry]
            if len(key) < 256 and len(value) < 256:
                out += bytes((sec_type, len(key))) + key + bytes((len(value),)) + value
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(out)
        os.rename(tmp, self.path)

    def get(self, sec_type, index, key):
        if key is None:
            i = 0
            for entry in self._order:
                if entry[0] == sec_type:
                    if i == index:
                        return self._secrets[entry]
                    i += 1
            return None
        return self._secrets.get((sec_type, bytes(key)))

    def set(self, sec_type, key, value):
        key = bytes(key)
        if value is None:
            if self._secrets.pop((sec_type, key), None) is not None:
                self._order.remove((sec_type, key))
        else:
            self._put(sec_type, key, bytes(value))
        try:
            self._save()
        except OSError:
            pass   # bond kept for this boot only
        return True
