#include "proto/stub.h"

#include "core/error.h"

#define OHAI_TIMEOUT_MS 3000

static int load(eg_session *s, const eg_ram_program *prog)
{
    for (size_t i = 0; i < prog->n_segs; i++) {
        const eg_ram_segment *seg = &prog->segs[i];
        int rc = eg_session_mem_write(s, seg->data, seg->len, seg->addr);
        if (rc < 0)
            return eg_error_prefix(rc, "%s: ", seg->name ? seg->name : "segment");
    }
    return 0;
}

int eg_session_await_stub(eg_session *s, unsigned timeout_ms)
{
    int rc = eg_session_await_raw(s, (const uint8_t *)"OHAI", 4, timeout_ms);
    if (rc < 0)
        return rc;
    s->stub = 1;
    s->status_len = EG_STUB_STATUS_LEN;
    return 0;
}

int eg_session_run_stub(eg_session *s, const eg_ram_program *stub)
{
    int rc = load(s, stub);

    if (rc < 0)
        return eg_error_prefix(rc, "uploading the flasher stub '%s': ", stub->name);
    rc = eg_session_mem_run(s, stub->entry);
    if (rc < 0)
        return eg_error_prefix(rc, "starting the flasher stub '%s': ", stub->name);
    rc = eg_session_await_stub(s, OHAI_TIMEOUT_MS);
    if (rc < 0)
        return eg_error_prefix(rc, "starting the flasher stub '%s': ", stub->name);
    return 0;
}

int eg_session_run_ram(eg_session *s, const eg_ram_program *prog)
{
    int rc = load(s, prog);

    if (rc < 0)
        return eg_error_prefix(rc, "loading '%s' into RAM: ", prog->name);
    rc = eg_session_mem_run(s, prog->entry);
    /* The ROM may jump before its answer is out. */
    if (rc == EG_ETIMEDOUT)
        rc = 0;
    if (rc < 0)
        return eg_error_prefix(rc, "starting '%s' at 0x%08x: ", prog->name, prog->entry);
    return 0;
}
