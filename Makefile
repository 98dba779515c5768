# Every target sets up the local virtual environment it needs by itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UPY := $(BIN)/micropython -X heapsize=64K
MPY_ARCHS := armv6m xtensawin

.PHONY: test demo bench lint typecheck typecheck-stubs pytest check-upy mpy clean firmware tools browser qemu-inline-image

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

test: lint typecheck pytest check-upy check-rp2

lint: $(STAMP)
	$(BIN)/ruff check firmware host_tools sim tests bench upy compat

# firmware/ against each board's MicroPython 1.28 stubs (typecheck/*.json). The two stub packages
# ship the same module names, so each goes into its own directory, used as that check's typeshed.
STUBS := build/stubs
STDLIB_STUBS := micropython-stdlib-stubs==1.28.0.post6
$(STUBS)/esp32/.installed: BOARD_STUBS := micropython-esp32-stubs==1.28.0.post4
$(STUBS)/pico_w/.installed: BOARD_STUBS := micropython-rp2-rpi-pico-w-stubs==1.28.0.post4

$(STUBS)/%/.installed: $(STAMP) Makefile
	rm -rf $(@D)
	$(BIN)/pip install -q --no-compile --target $(@D) $(BOARD_STUBS) $(STDLIB_STUBS)
	touch $@

# The checks' (empty) python environment: without one, basedpyright would resolve imports from the
# CPython running it, so dataclasses or sqlite3 would pass.
typecheck-stubs: $(STUBS)/esp32/.installed $(STUBS)/pico_w/.installed
	mkdir -p $(STUBS)/no_python_env/lib/python3.12/site-packages

typecheck: typecheck-stubs
	$(BIN)/basedpyright -p typecheck/esp32.json
	$(BIN)/basedpyright -p typecheck/pico_w.json

# The storage tests and the clinic benchmark run on a throw-away PostgreSQL cluster too (Debian's package).
pytest: $(STAMP) firmware browser
	upy/postgres-tools.sh
	$(BIN)/pytest

# Debian's chromium and chromium-driver for the clinic page's browser tests (tests/clinic), when missing.
browser:
	upy/browser-tools.sh

# The core's tests on the real MicroPython unix port with a small heap, then
# every firmware file compiled for both boards' architectures.
check-upy: $(STAMP) mpy
	MICROPYPATH=firmware:tests/core $(UPY) tests/core/upy_runner.py

mpy: $(STAMP)
	$(BIN)/python bench/compile_mpy.py $(MPY_ARCHS)

bench: $(STAMP) firmware
	upy/postgres-tools.sh
	$(BIN)/python -m bench

demo: $(STAMP) build/firmware/micropython-btstack
	$(BIN)/python -m sim demo

clean:
	rm -rf build $(VENV) node_modules

# MicroPython v1.28.0 built from source (upy/source.sh: the vendor tarball, else a pinned git checkout,
# with the overlay files in upy/overlay). Each binary is rebuilt only when its inputs change.
UPY_SRC := build/upy/micropython
UPY_SOURCE_STAMP := build/upy/source.stamp
UPY_OVERLAY := $(shell find upy/overlay -type f)
FIRMWARE_PY := firmware/manifest.py $(shell find firmware -name '*.py')
MPY_CROSS := $(UPY_SRC)/mpy-cross/build/mpy-cross
# GIT_CEILING_DIRECTORIES: the banner shows v1.28.0, not this repository's commit (the tree sits inside it).
UPY_MAKE := GIT_CEILING_DIRECTORIES=$(abspath build/upy) nice $(MAKE) --no-print-directory -j2
# Both stacks deliver IRQs synchronously from the scheduler, as the ESP32 and rp2 ports do.
UPY_UNIX_BLE := MICROPY_PY_BLUETOOTH=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 \
	FROZEN_MANIFEST=$(abspath upy/unix_manifest.py) \
	CFLAGS_EXTRA=-DMICROPY_PY_BLUETOOTH_USE_SYNC_EVENTS=1
UPY_UNIX_BTSTACK := $(UPY_UNIX_BLE) MICROPY_BLUETOOTH_BTSTACK=1 MICROPY_BLUETOOTH_BTSTACK_H4=1 \
	MICROPY_BLUETOOTH_BTSTACK_USB=0
UPY_UNIX_NIMBLE := $(UPY_UNIX_BLE) MICROPY_BLUETOOTH_NIMBLE=1 MICROPY_BLUETOOTH_BTSTACK=0
QEMU_FIRMWARE := build/firmware/qemu-mps2-an385.elf

# Binaries are replaced by a rename (mv), so one that is running (another test's device) stays intact.
# A build directory whose make flags changed starts afresh: MicroPython's make does not notice new flags
# (its interned-name tables would keep the old module set).
define upy_flags_check
	@echo '$(2)' | cmp -s - $(1).flags || { rm -rf $(1); mkdir -p $(1); echo '$(2)' > $(1).flags; }
endef

firmware: build/firmware/mpy-cross build/firmware/micropython-btstack build/firmware/micropython-nimble \
	$(QEMU_FIRMWARE)

tools:
	upy/install-tools.sh

$(UPY_SOURCE_STAMP): upy/source.sh $(UPY_OVERLAY)
	upy/install-tools.sh
	upy/source.sh $(UPY_SRC)
	touch $@

build/firmware/mpy-cross: $(UPY_SOURCE_STAMP)
	$(UPY_MAKE) -C $(UPY_SRC)/mpy-cross
	mkdir -p $(@D) && cp $(MPY_CROSS) $@.tmp && mv -f $@.tmp $@

build/firmware/micropython-btstack: build/firmware/mpy-cross upy/unix_manifest.py Makefile
	$(call upy_flags_check,$(abspath build/upy/unix-btstack),$(UPY_UNIX_BTSTACK))
	$(UPY_MAKE) -C $(UPY_SRC)/ports/unix BUILD=$(abspath build/upy/unix-btstack) $(UPY_UNIX_BTSTACK)
	cp build/upy/unix-btstack/micropython $@.tmp && mv -f $@.tmp $@

# The qemu Cortex-M3 image: firmware and test harness frozen (upy/qemu_manifest.py), cryptolib (axTLS AES,
# upy/cmodules/cryptolib_aes) and os.urandom as the boards have them, littlefs on a semihosting file
# (upy/cmodules/semihost), and a heap chosen at run time up to 512 KB (qemu -append heap=64K,
# upy/overlay/ports/qemu/main.c).
QEMU_HARNESS := build/upy/qemu-harness
QEMU_HARNESS_FILES := _launch:upy/qemu_launch.py _qemu_boot:upy/qemu_boot.py _driver:bench/upy_device_heap.py \
	_interface:bench/upy_interface.py bluetooth:tests/upy_shadow/bluetooth.py \
	_board_standin:tests/upy_shadow/_board_standin.py
QEMU_BUILD := $(abspath build/upy/qemu-mps2-an385)
UPY_QEMU := BOARD=MPS2_AN385 BUILD=$(QEMU_BUILD) FROZEN_MANIFEST=$(abspath upy/qemu_manifest.py) \
	MICROPY_HEAP_SIZE=524288 MICROPY_VFS_LFS2=1 USER_C_MODULES=$(abspath upy/cmodules) \
	CFLAGS_EXTRA=-DMICROPY_PY_OS_URANDOM=1

$(QEMU_FIRMWARE): build/firmware/mpy-cross upy/qemu_manifest.py $(FIRMWARE_PY) $(wildcard tests/core/*.py) \
		$(foreach f,$(QEMU_HARNESS_FILES),$(word 2,$(subst :, ,$(f)))) $(shell find upy/cmodules -type f) Makefile
	$(call upy_flags_check,$(QEMU_BUILD),$(UPY_QEMU) $(shell cat upy/cmodules/*/micropython.mk | cksum))
	rm -rf $(QEMU_HARNESS) && mkdir -p $(QEMU_HARNESS)
	$(foreach f,$(QEMU_HARNESS_FILES),cp $(word 2,$(subst :, ,$(f))) $(QEMU_HARNESS)/$(word 1,$(subst :, ,$(f))).py && ) true
	$(UPY_MAKE) -C $(UPY_SRC)/ports/qemu $(UPY_QEMU)
	cp $(QEMU_BUILD)/firmware.elf $@.tmp && mv -f $@.tmp $@

# The same image with the firmware as e2mon deploy stages it (cross-module const() names inlined by
# host_tools/const_inline.py, staged by bench/qemu_heap_tricks.py): what that step buys when frozen.
QEMU_INLINE_BUILD := $(abspath build/upy/qemu-inline)
qemu-inline-image: $(QEMU_FIRMWARE)
	$(UPY_MAKE) -C $(UPY_SRC)/ports/qemu $(subst $(QEMU_BUILD),$(QEMU_INLINE_BUILD),$(subst \
		$(abspath upy/qemu_manifest.py),$(abspath build/upy/inline-src/manifest.py),$(UPY_QEMU)))

build/firmware/micropython-nimble: build/firmware/mpy-cross upy/unix_manifest.py Makefile
	$(call upy_flags_check,$(abspath build/upy/unix-nimble),$(UPY_UNIX_NIMBLE))
	$(UPY_MAKE) -C $(UPY_SRC)/ports/unix BUILD=$(abspath build/upy/unix-nimble) $(UPY_UNIX_NIMBLE)
	cp build/upy/unix-nimble/micropython $@.tmp && mv -f $@.tmp $@

# The Pico W image and the emulated RP2040 (make firmware-rp2, make check-rp2).
include upy/rp2.mk
