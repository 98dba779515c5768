// The port part of extmod/modtime.c (MICROPY_PY_TIME_INCLUDEFILE): the host's clock (hostclock.c).
#include "shared/timeutils/timeutils.h"

void e2mon_time_localtime_get(timeutils_struct_time_t *tm);
mp_obj_t e2mon_time_time_get(void);

static void mp_time_localtime_get(timeutils_struct_time_t *tm) {
    e2mon_time_localtime_get(tm);
}

static mp_obj_t mp_time_time_get(void) {
    return e2mon_time_time_get();
}
