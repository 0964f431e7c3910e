/* Reset sequences that move a board between its application and the ROM download
 * mode through DTR (wired to GPIO0/boot) and RTS (wired to EN/reset), as on
 * Espressif's development boards, or through the USB-Serial-JTAG peripheral's
 * interpretation of the same lines. Transports without lines make these no-ops. */
#ifndef EG_TRANSPORT_RESET_H
#define EG_TRANSPORT_RESET_H

#include "transport/transport.h"

#define EG_USB_JTAG_SERIAL_PID 0x1001
#define EG_ESPRESSIF_VID       0x303A

/* Classic: DTR=0 RTS=1, 100 ms, DTR=1 RTS=0, delay_ms, DTR=0 (one line at a time). */
int eg_reset_classic(eg_transport *t, unsigned delay_ms);
/* The same, with both lines changed in one call ("tight"), better on Unix drivers. */
int eg_reset_tight(eg_transport *t, unsigned delay_ms);
/* For the USB-Serial-JTAG peripheral (VID:PID 303A:1001). */
int eg_reset_usb_jtag(eg_transport *t);
/* Pulses EN (RTS) to restart the board into its application. */
int eg_reset_hard(eg_transport *t);
/* Holds the board in reset (EN low) and leaves it there. */
int eg_reset_hold(eg_transport *t);

#endif
