// One ARM semihosting call (bkpt 0xab): qemu -semihosting serves it from the host.
#ifndef E2MON_SEMIHOSTING_H
#define E2MON_SEMIHOSTING_H
#include <stdint.h>

enum { SYS_OPEN = 0x01, SYS_WRITE = 0x05, SYS_READ = 0x06, SYS_SEEK = 0x0a, SYS_TIME = 0x11 };

static inline uint32_t semihosting(uint32_t op, const void *args) {
    register uint32_t r0 __asm__ ("r0") = op;
    register const void *r1 __asm__ ("r1") = args;
    __asm__ volatile ("bkpt 0xab" : "+r" (r0) : "r" (r1) : "memory");
    return r0;
}

#endif
