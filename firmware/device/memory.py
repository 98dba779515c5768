# The device's heap policy: a collection after every GC_EVERY_BYTES of allocation, set before the app's
# modules load. Loading .mpy modules and handling entries leave short-lived buffers between long-lived
# objects; collected early, their space is reused and the free heap stays in large blocks. Measured on
# the unix port (bench/upy_device_heap.py): with it the largest free block after boot is about 15 KB of
# 17 KB free; without it under 1 KB, and a 0.8 KB snapshot buffer can no longer be allocated.
import gc

GC_EVERY_BYTES = 4096


def tune():
    if hasattr(gc, "threshold"):   # MicroPython; CPython (the simulator) manages its own heap
        gc.threshold(GC_EVERY_BYTES)
