// Why: axTLS's port header (extmod/axtls-include/axtls_os_port.h) includes this POSIX header for htonl and
// ntohl, which a bare-metal C library has not; the Cortex-M is little-endian.
#ifndef E2MON_ARPA_INET_H
#define E2MON_ARPA_INET_H
#include <stdint.h>
#define htonl(x) __builtin_bswap32((uint32_t)(x))
#define ntohl(x) __builtin_bswap32((uint32_t)(x))
#endif
