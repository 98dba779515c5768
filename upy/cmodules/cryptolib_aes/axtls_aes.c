// axTLS's AES, compiled here as the only part of axTLS the qemu image needs (see micropython.mk).
#include "lib/axtls/crypto/aes.c"
