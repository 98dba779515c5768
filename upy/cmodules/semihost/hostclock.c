// The wall clock the qemu port lacks, from the host (semihosting SYS_TIME, whole seconds): time.time(),
// time.gmtime() and localtime() as the boards have them (device/soft_rtc.py reads gmtime), and the file
// times littlefs stamps (extmod/vfs_lfs.c). Enabled by the flags in micropython.mk.
#include "py/mphal.h"
#include "shared/timeutils/timeutils.c"   // the port does not build it; nothing else here needs it
#include "semihosting.h"

static mp_timestamp_t seconds_since_epoch(void) {
    mp_timestamp_t seconds = semihosting(SYS_TIME, NULL);   // since 1970
    #if !MICROPY_EPOCH_IS_1970
    seconds -= TIMEUTILS_SECONDS_1970_TO_2000;
    #endif
    return seconds;
}

uint64_t mp_hal_time_ns(void) {
    return (uint64_t)seconds_since_epoch() * 1000000000ull;
}

// For extmod/modtime.c (MICROPY_PY_TIME_INCLUDEFILE, modtime_host.h).
void e2mon_time_localtime_get(timeutils_struct_time_t *tm) {
    timeutils_seconds_since_epoch_to_struct_time(seconds_since_epoch(), tm);
}

mp_obj_t e2mon_time_time_get(void) {
    return timeutils_obj_from_timestamp(seconds_since_epoch());
}
