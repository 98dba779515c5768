# The Pico W firmware image and its emulated RP2040 (included by the Makefile).
#   make firmware-rp2   build/firmware/e2mon-pico_w.uf2 (upy/rp2.sh; always run: the version stamp follows git,
#                       and the rp2 port's own make rebuilds only what changed)
#   make firmware-rp2-nano  build/firmware/e2mon-nano_rp2040.uf2: the Arduino Nano RP2040 Connect's build (NimBLE
#                       over UART1 to its radio module), e2mon frozen in the same way; run on the air by
#                       sim/rp2040_radio.py. Built after the Pico W image: both share one rp2 source tree.
#   make check-rp2      the images booted on rp2040js (npm, pinned in package-lock.json): tests/rp2040
RP2_UF2 := build/firmware/e2mon-pico_w.uf2
RP2_NANO_UF2 := build/firmware/e2mon-nano_rp2040.uf2
NODE_STAMP := node_modules/.installed

.PHONY: firmware-rp2 firmware-rp2-nano rp2-tools check-rp2

firmware-rp2: rp2-tools $(STAMP)
	upy/rp2.sh build/rp2 $(RP2_UF2) $(abspath $(BIN)/python)

firmware-rp2-nano: firmware-rp2
	upy/rp2.sh build/rp2 $(RP2_NANO_UF2) $(abspath $(BIN)/python) ARDUINO_NANO_RP2040_CONNECT manifest_nano_rp2040.py

rp2-tools:
	upy/rp2-tools.sh

$(NODE_STAMP): package.json package-lock.json
	upy/rp2-tools.sh
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

check-rp2: firmware-rp2 firmware-rp2-nano $(NODE_STAMP) $(STAMP)
	E2MON_RP2=1 $(BIN)/pytest tests/rp2040

# make firmware builds every image, the Pico W's included.
firmware: firmware-rp2 firmware-rp2-nano

# bench/bench_rp2040.py measures the image on the emulated chip.
bench: firmware-rp2 firmware-rp2-nano $(NODE_STAMP)
