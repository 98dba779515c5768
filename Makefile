# Every target sets up the local virtual environment it needs by itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UPY := $(BIN)/micropython -X heapsize=64K
MPY_ARCHS := armv6m xtensawin

.PHONY: test demo bench lint typecheck typecheck-stubs pytest check-upy mpy clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

test: lint typecheck pytest check-upy

lint: $(STAMP)
	$(BIN)/ruff check firmware host_tools sim tests bench

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
