// Why: upstream's unix H4 build (extmod/btstack/btstack_hci_uart.c) includes this header, but the file has been missing since 2023.
#ifndef MICROPY_INCLUDED_UNIX_MPBTHCIPORT_H
#define MICROPY_INCLUDED_UNIX_MPBTHCIPORT_H

// The unix port polls the HCI UART from its own thread every millisecond (mpbthciport.c), so a request
// to poll now has nothing more to do.
static inline void mp_bluetooth_hci_poll_now(void) {
}

#endif // MICROPY_INCLUDED_UNIX_MPBTHCIPORT_H
