# cryptolib (AES-ECB for monitor/session.py) on the qemu image with axTLS's AES alone: upstream enables it
# only with the ssl module (MICROPY_PY_SSL), whose axTLS TLS code needs a hosted C library bare metal lacks.
CRYPTOLIB_AES_DIR := $(USERMOD_DIR)
CFLAGS_USERMOD += -DMICROPY_PY_CRYPTOLIB=1 -DMICROPY_SSL_AXTLS=1 -I$(TOP)/lib/axtls/ssl -I$(TOP)/lib/axtls/crypto \
	-I$(TOP)/extmod/axtls-include -I$(CRYPTOLIB_AES_DIR)/include
SRC_USERMOD_LIB_C += $(CRYPTOLIB_AES_DIR)/axtls_aes.c
$(BUILD)/cryptolib_aes/axtls_aes.o: CFLAGS += -Wno-all -Wno-unused-parameter -Wno-uninitialized -Wno-sign-compare
