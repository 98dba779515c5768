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


_saved = []   # the policy in force before pulling(True)


def pulling(on):
    """While a pull runs, no collection every GC_EVERY_BYTES: its garbage is frames and hashes of a few
    sizes that leave no holes, and a collection every 4 KB of it (every 3-4 frames) was a third of the
    device's time per record (qemu Cortex-M3). The heap is collected when it is full, or by the BLE pump
    at HEAP_FLOOR; the boot policy returns when the pull ends."""
    if not hasattr(gc, "threshold"):
        return
    if on:
        if not _saved:
            _saved.append(gc.threshold())
            gc.threshold(-1)
    elif _saved:
        gc.threshold(_saved.pop())
