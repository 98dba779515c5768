// Why: upstream's qemu main.c fixes the heap at build time; this reads `heap=BYTES` (or `heap=NK`) from
// the semihosting command line (qemu -append), so one image serves every heap size up to MICROPY_HEAP_SIZE.
// Otherwise upstream's file (MicroPython v1.28.0 ports/qemu/main.c, MIT, (c) 2014-2023 Damien P. George).

#include <stdlib.h>
#include <string.h>

#include "py/compile.h"
#include "py/runtime.h"
#include "py/gc.h"
#include "py/mperrno.h"
#include "shared/runtime/gchelper.h"
#include "shared/runtime/pyexec.h"

#if MICROPY_HEAP_SIZE <= 0
#error MICROPY_HEAP_SIZE must be a positive integer.
#endif

static uint32_t gc_heap[MICROPY_HEAP_SIZE / sizeof(uint32_t)];

// ARM semihosting SYS_GET_CMDLINE: qemu answers with the kernel's path and the -append text.
static size_t heap_size_from_cmdline(void) {
    static char cmdline[256];
    uint32_t block[2] = { (uint32_t)cmdline, sizeof(cmdline) - 1 };
    register uint32_t r0 __asm__ ("r0") = 0x15;
    register uint32_t r1 __asm__ ("r1") = (uint32_t)block;
    __asm__ volatile ("bkpt 0xab" : "+r" (r0) : "r" (r1) : "memory");
    if (r0 != 0) {
        return MICROPY_HEAP_SIZE;
    }
    cmdline[block[1]] = 0;
    const char *arg = strstr(cmdline, "heap=");
    if (arg == NULL) {
        return MICROPY_HEAP_SIZE;
    }
    const char *end = arg + 5;
    size_t size = 0;
    while (*end >= '0' && *end <= '9') {   // the image links no C library: no strtoul
        size = size * 10 + (size_t)(*end++ - '0');
    }
    if (*end == 'K' || *end == 'k') {
        size *= 1024;
    }
    if (size < 8192 || size > MICROPY_HEAP_SIZE) {
        mp_printf(&mp_plat_print, "heap=%u ignored: from 8192 to %u bytes\n", (unsigned)size, (unsigned)MICROPY_HEAP_SIZE);
        return MICROPY_HEAP_SIZE;
    }
    return size & ~(size_t)(sizeof(uint32_t) - 1);
}

int main(int argc, char **argv) {
    mp_cstack_init_with_sp_here(10240);
    size_t heap_size = heap_size_from_cmdline();
    gc_init(gc_heap, (char *)gc_heap + heap_size);

    for (;;) {
        mp_init();

        for (;;) {
            if (pyexec_mode_kind == PYEXEC_MODE_RAW_REPL) {
                if (pyexec_raw_repl() != 0) {
                    break;
                }
            } else {
                if (pyexec_friendly_repl() != 0) {
                    break;
                }
            }
        }

        mp_printf(&mp_plat_print, "MPY: soft reboot\n");

        gc_sweep_all();
        mp_deinit();
    }
}

void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
}

void nlr_jump_fail(void *val) {
    mp_printf(&mp_plat_print, "uncaught NLR\n");
    exit(1);
}
