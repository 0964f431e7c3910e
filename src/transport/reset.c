#include "transport/reset.h"

#include "core/cancel.h"

/* Sets one or both lines; stops at the first failure. */
#define LINES(t, dtr, rts)                                                                         \
    do {                                                                                           \
        int rc_ = eg_transport_set_lines((t), (dtr), (rts));                                       \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

/* Pauses ms on the transport's clock; a stop or the step's deadline ends the sequence. */
#define PAUSE(t, ms)                                                                               \
    do {                                                                                           \
        int rc_ = eg_cancel_sleep((t)->cancel, (ms));                                              \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

int eg_reset_classic(eg_transport *t, unsigned delay_ms)
{
    LINES(t, 0, -1); /* IO0 high */
    LINES(t, -1, 1); /* EN low: in reset */
    PAUSE(t, 100);
    LINES(t, 1, -1); /* IO0 low */
    LINES(t, -1, 0); /* EN high: out of reset, samples IO0 */
    PAUSE(t, delay_ms);
    LINES(t, 0, -1); /* IO0 high again */
    return 0;
}

int eg_reset_tight(eg_transport *t, unsigned delay_ms)
{
    LINES(t, 0, 0);
    LINES(t, 1, 1);
    LINES(t, 0, 1); /* IO0 high, EN low: in reset */
    PAUSE(t, 100);
    LINES(t, 1, 0); /* IO0 low, EN high: out of reset into download mode */
    PAUSE(t, delay_ms);
    LINES(t, 0, 0);
    LINES(t, 0, -1);
    return 0;
}

int eg_reset_usb_jtag(eg_transport *t)
{
    LINES(t, -1, 0);
    LINES(t, 0, -1); /* idle */
    PAUSE(t, 100);
    LINES(t, 1, -1); /* boot strap */
    LINES(t, -1, 0);
    PAUSE(t, 100);
    LINES(t, -1, 1); /* reset, going through (1,1) rather than (0,0) */
    LINES(t, 0, -1);
    LINES(t, -1, 1);
    PAUSE(t, 100);
    LINES(t, 0, -1);
    LINES(t, -1, 0); /* out of reset */
    return 0;
}

int eg_reset_hard(eg_transport *t)
{
    int usb_jtag = t->usb_vid == EG_ESPRESSIF_VID && t->usb_pid == EG_USB_JTAG_SERIAL_PID;

    LINES(t, -1, 1); /* EN low */
    PAUSE(t, usb_jtag ? 200 : 100);
    LINES(t, -1, 0);
    if (usb_jtag)
        PAUSE(t, 200);
    return 0;
}

int eg_reset_hold(eg_transport *t)
{
    LINES(t, 0, 1);
    return 0;
}
