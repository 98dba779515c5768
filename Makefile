# Every target sets up the local virtual environment it needs by itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UPY := $(BIN)/micropython -X heapsize=64K
MPY_ARCHS := armv6m xtensawin

.PHONY: test demo bench lint pytest check-upy mpy clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

test: lint pytest check-upy check-rp2

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
	rm -rf build $(VENV) node_modules

include upy/rp2.mk
