# Host services for the qemu image over ARM semihosting: the flash (hostflash.c, module hostflash) and
# the wall clock (hostclock.c: time.time/gmtime/localtime, which the qemu port leaves out).
SEMIHOST_MOD_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(SEMIHOST_MOD_DIR)/hostflash.c
SRC_USERMOD_LIB_C += $(SEMIHOST_MOD_DIR)/hostclock.c
CFLAGS_USERMOD += -DMICROPY_PY_TIME_GMTIME_LOCALTIME_MKTIME=1 -DMICROPY_PY_TIME_TIME_TIME_NS=1 \
	-DMICROPY_PY_TIME_INCLUDEFILE='"$(SEMIHOST_MOD_DIR)/modtime_host.h"'
