# MicroPython freeze manifest: the whole device frozen into a firmware image, so its bytecode, constants
# and interned names run from flash instead of the heap.
#   make firmware                                           (qemu Cortex-M3 and Pico W images)
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/e2mon/firmware/manifest.py
# A board build that keeps its own modules includes its board manifest first (see the README).
package("monitor")
package("device")
package("boards")
module("main.py")
module("update_boot.py")   # picks an update's A/B slot ahead of the frozen modules
include("$(MPY_DIR)/extmod/asyncio")
