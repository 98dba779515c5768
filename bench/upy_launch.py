# Starts the device memory bench's driver (bench/upy_device_heap.py, module _driver) on the MicroPython
# unix port. With E2MON_ROMFS=<image> in the environment it first mounts that ROMFS image at /rom and puts
# /rom first on sys.path, as a board with a ROMFS partition runs the firmware (and here the driver too):
# bytecode in place, not copied into the heap. The unix port has no flash, so the image is read into a
# buffer of its exact size; the driver leaves those bytes (ROM_BYTES) out of every heap figure.
import gc
import os
import sys



def mount(path):
    # locals, not globals: the harness interns as few names as it can (they count in the device's heap)
    import vfs
    gc.collect()
    before = gc.mem_alloc()
    image = bytearray(os.stat(path)[6])
    with open(path, "rb") as f:
        f.readinto(image)
    vfs.mount(vfs.VfsRom(image), "/rom")
    sys.path.insert(0, "/rom")
    gc.collect()
    return gc.mem_alloc() - before


ROM_BYTES = mount(os.getenv("E2MON_ROMFS")) if os.getenv("E2MON_ROMFS") else 0

import _driver  # noqa: E402,F401  (runs the bench)
