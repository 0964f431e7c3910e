/* Eight sessions in eight threads, each writing a region to its own scripted loader
 * on a fake transport; two of the loaders fall silent mid-write and their threads are
 * stopped from the main thread through their cancel tokens. The stopped ones must end
 * with EG_ECANCELED within 100 ms of the request, the others finish with every byte.
 * Runs under ThreadSanitizer in make check. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/clock.h"
#include "core/deflate.h"
#include "core/error.h"
#include "fake_transport.h"
#include "proto/session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BOARDS   8
#define DATA_LEN (48 * 1024)

typedef struct board {
    int index;
    int stall_at; /* the loader stops answering at this data block (0: never) */
    eg_slip_decoder dec;
    eg_buf inflated_in; /* the compressed payload received */
    int blocks;
    eg_transport *t;
    eg_session *s;
    const eg_zblocks *z;
    const uint8_t *data;
    int rc;
    int64_t ended_ms;
    volatile int stalled; /* set by the responder (this board's thread), read by main */
} board;

static void reply(eg_transport *t, uint8_t op)
{
    uint8_t raw[12] = {1, op, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    eg_buf enc = EG_BUF_INIT;
    eg_slip_encode(&enc, raw, sizeof(raw));
    fake_push(t, enc.data, enc.len);
    eg_buf_release(&enc);
}

static void responder(eg_transport *t, const uint8_t *w, size_t len, void *ctx)
{
    board *b = ctx;
    while (len > 0) {
        size_t used;
        int rc = eg_slip_decode(&b->dec, w, len, &used);
        w += used;
        len -= used;
        if (rc != EG_SLIP_FRAME)
            continue;
        size_t flen;
        const uint8_t *f = eg_slip_frame(&b->dec, &flen);
        if (flen < 8)
            continue;
        if (f[1] == EG_OP_FLASH_DEFL_DATA) {
            b->blocks++;
            if (b->stall_at && b->blocks >= b->stall_at) {
                __atomic_store_n(&b->stalled, 1, __ATOMIC_SEQ_CST);
                continue; /* silent from here on */
            }
            eg_buf_append(&b->inflated_in, f + 8 + 16, eg_get_u32le(f + 8));
        }
        reply(t, f[1]);
    }
}

static void *run_board(void *arg)
{
    board *b = arg;
    b->rc = eg_session_flash_write(b->s, 0x10000, b->data, DATA_LEN, b->z);
    b->ended_ms = eg_clock_ms();
    return NULL;
}

static void test_eight_sessions_two_canceled(void **state)
{
    (void)state;
    board boards[BOARDS];
    pthread_t th[BOARDS];
    uint8_t *data = malloc(DATA_LEN);
    eg_zblocks z;
    unsigned seed = 3;

    for (size_t i = 0; i < DATA_LEN; i++) {
        seed = seed * 1103515245 + 12345;
        data[i] = (uint8_t)(seed >> 20);
    }
    /* One plan's blocks, shared read-only by every thread. */
    assert_int_equal(eg_zblocks_build(&z, data, DATA_LEN, 6, EG_ROM_FLASH_BLOCK), 0);
    assert_true(z.n_blocks > 8);
    memset(boards, 0, sizeof(boards));
    for (int i = 0; i < BOARDS; i++) {
        board *b = &boards[i];
        b->index = i;
        b->stall_at = i == 2 || i == 5 ? 4 : 0;
        b->z = &z;
        b->data = data;
        eg_slip_decoder_init(&b->dec, 0x8000);
        b->t = fake_transport_new();
        fake_use_system_clock(b->t);
        fake_set_responder(b->t, responder, b);
        assert_int_equal(eg_session_new(&b->s, b->t), 0);
    }
    for (int i = 0; i < BOARDS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run_board, &boards[i]), 0);
    /* Wait until both silent loaders have stalled, then stop their threads. */
    for (int tries = 0; tries < 500; tries++) {
        if (__atomic_load_n(&boards[2].stalled, __ATOMIC_SEQ_CST) &&
            __atomic_load_n(&boards[5].stalled, __ATOMIC_SEQ_CST))
            break;
        eg_sleep_ms(2);
    }
    int64_t asked = eg_clock_ms();
    eg_cancel_request(fake_cancel(boards[2].t), EG_CANCEL_NOW);
    eg_cancel_request(fake_cancel(boards[5].t), EG_CANCEL_NOW);
    for (int i = 0; i < BOARDS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < BOARDS; i++) {
        board *b = &boards[i];
        if (i == 2 || i == 5) {
            assert_int_equal(b->rc, EG_ECANCELED);
            assert_true(b->ended_ms - asked < 100);
        } else {
            eg_buf plain = EG_BUF_INIT;
            assert_int_equal(b->rc, 0);
            assert_int_equal(eg_inflate(&plain, b->inflated_in.data, b->inflated_in.len, 1 << 20),
                             0);
            assert_int_equal(plain.len, DATA_LEN);
            assert_memory_equal(plain.data, data, DATA_LEN);
            eg_buf_release(&plain);
        }
        eg_session_free(b->s);
        eg_slip_decoder_release(&b->dec);
        eg_buf_release(&b->inflated_in);
    }
    eg_zblocks_release(&z);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eight_sessions_two_canceled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
