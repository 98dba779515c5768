# Runs on the MicroPython unix port: mounts the ROMFS image `e2mon deploy --romfs` writes (argv[1]) at
# /rom as a board does, imports the app from it and reads inlined const() names back through the .consts
# sidecars in the image. Prints one "name value" line per fact.
import os
import sys
import vfs

with open(sys.argv[1], "rb") as f:
    image = f.read()
vfs.mount(vfs.VfsRom(image), "/rom")
sys.path.insert(0, "/rom")

import monitor.app  # noqa: E402
import device.ble_service  # noqa: E402
import monitor.store  # noqa: E402
from monitor import records  # noqa: E402

for module in (monitor.app, monitor.store, device.ble_service, records):
    print("file", module.__name__, module.__file__)
print("rom", ",".join(sorted(os.listdir("/rom"))))
print("rom_monitor", ",".join(sorted(os.listdir("/rom/monitor"))))
print("in_globals", "KIND_LAB" in records.__dict__, "KIND_EVENT" in records.__dict__)
print("const KIND_LAB", records.KIND_LAB)
print("const KIND_EVENT", records.KIND_EVENT)
