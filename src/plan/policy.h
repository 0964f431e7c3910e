/* What a plan asks of every board besides the bytes: the steps a worker runs with
 * their retries and deadlines, erasing, verifying, the security a board may have, and
 * what the board is left doing. Plain data, shared read-only by every worker. */
#ifndef EG_PLAN_POLICY_H
#define EG_PLAN_POLICY_H

#include "core/modes.h"

#include <stdint.h>

/* The steps of one attempt on one board, in the order a worker runs them. */
typedef enum eg_step {
    EG_STEP_CONNECT,  /* open the port, reset into the loader, sync */
    EG_STEP_IDENTIFY, /* chip, revision, MAC, security, baud, stub, flash id and size */
    EG_STEP_CHECK,    /* the board against what the plan expects */
    EG_STEP_ERASE,
    EG_STEP_WRITE,  /* skip what the flash holds, write the rest */
    EG_STEP_VERIFY, /* on-chip MD5 (and read-back) of every region */
    EG_STEP_FINISH, /* leave the board as asked (reset) */
    EG_STEP_BOOT,   /* the boot check: the app's console says it started */
    EG_STEP_COUNT,
} eg_step;

/* "connect", "identify", ... ("?" out of range). */
const char *eg_step_name(eg_step step);
/* The step named s; EG_EINVAL with a message listing the names otherwise. */
int eg_step_parse(eg_step *out, const char *s);

typedef enum eg_erase_policy {
    EG_ERASE_NONE,    /* only what writing a region erases anyway */
    EG_ERASE_REGIONS, /* each region to be written is erased whole first */
    EG_ERASE_ALL,     /* the whole flash is erased before anything is written */
} eg_erase_policy;

const char *eg_erase_policy_name(eg_erase_policy p);
int eg_erase_policy_parse(eg_erase_policy *out, const char *s);

typedef struct eg_policy {
    eg_erase_policy erase;
    int verify_md5;      /* compare every region's on-chip MD5 with the plan's */
    int verify_readback; /* also read every region back and compare it byte for byte */
    int skip_same;       /* skip a region whose on-chip MD5 already matches */
    /* Boards with these on are refused unless allowed. */
    int allow_secure_boot;
    int allow_flash_encryption;
    int allow_secure_download;
    eg_before before;
    eg_after after;
    /* Per step: how many times a failed step is tried again (after reconnecting),
     * and the most it may take in all, in ms (0: no deadline). */
    unsigned retries[EG_STEP_COUNT];
    unsigned timeout_ms[EG_STEP_COUNT];
} eg_policy;

/* Erase none, verify by MD5, skip what is there, secure boards refused, default
 * reset before, hard reset after, no retries, no deadlines. */
void eg_policy_default(eg_policy *out);

#endif
