# The device's heap policy: a collection after every GC_EVERY_BYTES of allocation, set before the app's
# modules load. Loading .mpy modules and handling entries leave short-lived buffers between long-lived
# objects; collected early, their space is reused and the free heap stays in large blocks. Measured on
# the unix port (bench/upy_device_heap.py): with it the largest free block after boot is about 15 KB of
# 17 KB free; without it under 1 KB, and a 0.8 KB snapshot buffer can no longer be allocated.
# While the device idles (device.runner) it allocates only the frames of its own calls, freed as each
# returns: nothing to fragment, so the threshold is lifted then (idle(True)) and a collection, which walks
# the whole live heap, no longer runs every few seconds for nothing (bench/bench_rp2040_energy.py).
import gc

GC_EVERY_BYTES = 4096


def tune():
    if hasattr(gc, "threshold"):   # MicroPython; CPython (the simulator) manages its own heap
        gc.threshold(GC_EVERY_BYTES)


def idle(on):
    """Lifts the threshold while the device idles; idle(False) sets it again."""
    if hasattr(gc, "threshold"):
        gc.threshold(-1 if on else GC_EVERY_BYTES)
