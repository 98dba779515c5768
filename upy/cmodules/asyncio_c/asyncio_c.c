// _asyncio, the C half of asyncio that the ESP32 and rp2 firmware have: the qemu port switches it off
// (MICROPY_PY_ASYNCIO 0 in its mpconfigport.h), and the frozen asyncio package then finds no TaskQueue.
#include "py/mpconfig.h"
#undef MICROPY_PY_ASYNCIO
#define MICROPY_PY_ASYNCIO (1)
#include "extmod/modasyncio.c"
