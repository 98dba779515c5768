# The Pico W's speed settings on the qemu image, so that the instructions counted there are close to the
# rp2 build's (ports/rp2: mpconfigport.h and CMakeLists.txt): the VM's computed-goto dispatch, and -O2 for
# the interpreter loop, dict lookups and big integers (the rest, like the rp2 build, is -Os).
CFLAGS_USERMOD += -DMICROPY_OPT_COMPUTED_GOTO=1
$(BUILD)/py/vm.o $(BUILD)/py/map.o $(BUILD)/py/mpz.o: CFLAGS += -O2
