# ruff: noqa: F821  (include() is the freeze manifest's own function)
# The Pico W image (upy/rp2.mk): the stock RPI_PICO_W modules (network, aioble, asyncio, ...), then e2mon.
#   make -C ports/rp2 BOARD=RPI_PICO_W FROZEN_MANIFEST=/path/to/e2mon/firmware/manifest_pico_w.py
include("$(BOARD_DIR)/manifest.py")
include("manifest.py")
