# ruff: noqa: F821  (include() is the freeze manifest's own function)
# The RP2040 image with NimBLE over an HCI UART (upy/rp2.mk, make firmware-rp2-nano): the stock
# ARDUINO_NANO_RP2040_CONNECT modules (aioble, networking, its sensors' drivers), then e2mon.
#   make -C ports/rp2 BOARD=ARDUINO_NANO_RP2040_CONNECT FROZEN_MANIFEST=/path/to/manifest_nano_rp2040.py
include("$(BOARD_DIR)/manifest.py")
include("manifest.py")
