/* How a board is brought into its serial loader (the --before modes) and how it is
 * left when the work is done (the --after modes). Every layer that deals with boards
 * speaks of them, so they live here. */
#ifndef EG_CORE_MODES_H
#define EG_CORE_MODES_H

typedef enum eg_before {
    EG_BEFORE_DEFAULT_RESET,    /* DTR/RTS into download mode (USB-Serial-JTAG by VID:PID) */
    EG_BEFORE_USB_RESET,        /* the USB-Serial-JTAG sequence */
    EG_BEFORE_NO_RESET,         /* the board is in download mode already: just sync */
    EG_BEFORE_NO_RESET_NO_SYNC, /* not even sync */
} eg_before;

typedef enum eg_after {
    EG_AFTER_HARD_RESET,       /* pulse EN: the application starts */
    EG_AFTER_NO_RESET,         /* stay in the ROM loader (a running stub hands back to it) */
    EG_AFTER_WATCHDOG_RESET,   /* restart through the chip's RTC watchdog */
    EG_AFTER_NO_RESET_NO_STUB, /* stay in whichever loader runs, the stub included */
} eg_after;

/* Parse and name the modes ("default-reset", ...; '_' is accepted for '-'). */
int eg_before_parse(eg_before *out, const char *s);
int eg_after_parse(eg_after *out, const char *s);
const char *eg_before_name(eg_before b);
const char *eg_after_name(eg_after a);

/* True when the board stays in a loader (no-reset, no-reset-no-stub): its app does
 * not start. */
int eg_after_stays(eg_after a);

#endif
