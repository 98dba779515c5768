# _asyncio on the qemu image (see asyncio_c.c).
SRC_USERMOD_C += $(USERMOD_DIR)/asyncio_c.c
