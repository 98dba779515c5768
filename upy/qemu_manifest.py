# The qemu Cortex-M3 image (make firmware): the device firmware frozen exactly as firmware/manifest.py
# freezes it for a board, plus what drives it on qemu, frozen too so that, like the firmware, it runs from
# flash and takes no heap: the core tests (tests/core), the memory bench's driver and the stand-in radio
# and board (staged under build/upy/qemu-harness by the Makefile with the module names they import).
include("../firmware/manifest.py")
freeze("../tests/core")
freeze("../build/upy/qemu-harness")
