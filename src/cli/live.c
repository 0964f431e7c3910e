#include "cli/live.h"

#include "core/error.h"

#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void eg_live_init(eg_live *l, eg_live_mode mode, FILE *out, const char *what, int verbose)
{
    memset(l, 0, sizeof(*l));
    l->mode = mode;
    l->out = out;
    l->what = what;
    l->verbose = verbose;
    if (mode == EG_LIVE_TABLE)
        fputs("\x1b[?25l", out); /* no cursor while the table moves */
}

void eg_live_release(eg_live *l)
{
    if (l->mode == EG_LIVE_TABLE)
        fputs("\x1b[?25h", l->out);
    eg_buf_release(&l->frame);
}

static void emit_json(eg_live *l, json_t *o)
{
    if (!o)
        return;
    json_dumpf(o, l->out, JSON_COMPACT);
    fputc('\n', l->out);
    fflush(l->out);
    json_decref(o);
}

static const char *state_word(eg_job_state s)
{
    static const char *const words[] = {"start", "done", "retry", "fail"};
    return (unsigned)s < 4 ? words[s] : "?";
}

static json_t *board_json(const eg_prod_board *b)
{
    json_t *o = json_pack("{s:i, s:s}", "slot", b->slot, "port", b->port);
    if (b->label[0])
        json_object_set_new(o, "slot_label", json_string(b->label));
    if (b->identified) {
        json_object_set_new(o, "chip", json_string(b->chip));
        json_object_set_new(o, "mac", json_string(b->mac));
    }
    if (b->usb_location[0])
        json_object_set_new(o, "usb_location", json_string(b->usb_location));
    if (b->seq)
        json_object_set_new(o, "seq", json_integer(b->seq));
    if (b->serial[0])
        json_object_set_new(o, "serial", json_string(b->serial));
    return o;
}

static const char *stop_text(const eg_live *l, int level)
{
    if (level >= 2)
        return "stopping now: the boards still running are canceled";
    if (l->watch)
        return "stopping: no new boards; the running ones finish (Ctrl-C again to stop now)";
    return "stopping: running boards finish their current region (Ctrl-C again to stop now)";
}

static void on_event(void *ctx, const eg_prod_event *e)
{
    eg_live *l = ctx;
    const eg_prod_board *b = e->board;

    if (l->mode == EG_LIVE_JSON) {
        json_t *o = b ? board_json(b) : json_object();
        json_object_set_new(o, "t_ms", json_integer(e->t_ms));
        switch (e->kind) {
        case EG_PROD_STEP:
            json_object_set_new(o, "event", json_string("step"));
            json_object_set_new(o, "step", json_string(eg_step_name(e->step)));
            json_object_set_new(o, "state", json_string(state_word(e->state)));
            if (e->state == EG_JOB_STEP_RETRY || e->state == EG_JOB_STEP_FAIL)
                json_object_set_new(o, "message", json_string(b->message));
            break;
        case EG_PROD_DONE:
            json_object_set_new(o, "event", json_string("done"));
            json_object_set_new(o, "result", json_string(eg_board_state_name(b->state)));
            json_object_set_new(o, "elapsed_ms", json_integer(b->ended_ms - b->started_ms));
            json_object_set_new(o, "retries", json_integer(b->retries));
            if (b->first_block_ms >= 0)
                json_object_set_new(o, "first_block_ms", json_integer(b->first_block_ms));
            if (b->state != EG_BOARD_PASS) {
                json_object_set_new(o, "failed_step", json_string(eg_step_name(b->step)));
                json_object_set_new(o, "cause", json_string(b->cause));
                json_object_set_new(o, "message", json_string(b->message));
            }
            break;
        case EG_PROD_LOG:
            json_object_set_new(o, "event", json_string("log"));
            json_object_set_new(o, "text", json_string(e->text));
            break;
        case EG_PROD_STOPPING:
            json_object_set_new(o, "event", json_string("stopping"));
            json_object_set_new(o, "now", json_boolean(e->level_stop >= 2));
            break;
        case EG_PROD_WATCHING:
            json_object_set_new(o, "event", json_string("watching"));
            break;
        case EG_PROD_SLOT:
            json_object_set_new(o, "event", json_string("slot"));
            json_object_set_new(o, "text", json_string(e->text));
            json_object_set_new(o, "state", json_string(eg_board_state_name(b->state)));
            break;
        }
        emit_json(l, o);
        return;
    }
    if (l->mode == EG_LIVE_TABLE) {
        /* The table shows the boards; only a stop is worth a line of its own. */
        if (e->kind == EG_PROD_STOPPING) {
            eg_buf_clear(&l->frame);
            l->drawn = 0;
            fprintf(l->out, "%s\n", stop_text(l, e->level_stop));
        }
        return;
    }
    switch (e->kind) {
    case EG_PROD_STEP:
        if (e->state == EG_JOB_STEP_START && !l->verbose)
            break;
        if (e->state == EG_JOB_STEP_RETRY)
            fprintf(l->out, "slot %d %s: %s failed, trying again: %s\n", b->slot, b->port,
                    eg_step_name(e->step), b->message);
        else if (e->state == EG_JOB_STEP_DONE && e->step == EG_STEP_IDENTIFY)
            fprintf(l->out, "slot %d %s: %s %s\n", b->slot, b->port, b->chip, b->mac);
        else if (e->state == EG_JOB_STEP_START)
            fprintf(l->out, "slot %d %s: %s\n", b->slot, b->port, eg_step_name(e->step));
        break;
    case EG_PROD_DONE:
        if (b->state == EG_BOARD_PASS)
            fprintf(l->out, "slot %d %s: PASS %s in %.1f s\n", b->slot, b->port,
                    b->identified ? b->mac : "", (double)(b->ended_ms - b->started_ms) / 1000);
        else
            fprintf(l->out, "slot %d %s: %s %s (%s): %s\n", b->slot, b->port,
                    eg_board_state_name(b->state), b->identified ? b->mac : "-", b->cause,
                    b->message);
        break;
    case EG_PROD_LOG:
        if (l->verbose || e->level == EG_LOG_WARN)
            fprintf(l->out, "slot %d %s: %s%s\n", b->slot, b->port,
                    e->level == EG_LOG_WARN ? "warning: " : "", e->text);
        break;
    case EG_PROD_STOPPING:
        fprintf(l->out, "%s\n", stop_text(l, e->level_stop));
        break;
    case EG_PROD_SLOT:
        fprintf(l->out, "slot %d (%s): %s\n", b->slot, b->usb_location, e->text);
        break;
    case EG_PROD_WATCHING:
        fprintf(l->out, "watching for boards plugged in (Ctrl-C to stop)\n");
        break;
    }
    fflush(l->out);
}

static int terminal_width(FILE *f)
{
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

/* Appends text formatted to the frame, cut to the room left on the line. */
static void cell(eg_buf *f, int *room, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0 || *room <= 0)
        return;
    if (n > (int)sizeof(text) - 1)
        n = (int)sizeof(text) - 1;
    if (n > *room)
        n = *room;
    eg_buf_append(f, text, (size_t)n);
    *room -= n;
}

static void human_rate(char *dst, size_t len, double bytes_per_s)
{
    if (bytes_per_s <= 0)
        snprintf(dst, len, "-");
    else if (bytes_per_s >= 1e6)
        snprintf(dst, len, "%.1fMB/s", bytes_per_s / 1e6);
    else
        snprintf(dst, len, "%.0fkB/s", bytes_per_s / 1e3);
}

/* The port's name, the tail of it when it is longer than width. */
static const char *port_tail(const char *port, int width)
{
    size_t n = strlen(port);
    return n > (size_t)width ? port + n - (size_t)width : port;
}

static void on_tick(void *ctx, const eg_prod_board *boards, size_t n, const eg_prod_totals *t)
{
    eg_live *l = ctx;
    int width = terminal_width(l->out);
    int port_w = 0, show_mac = width >= 100, show_chip = width >= 72;
    int bar_w;
    eg_buf *f = &l->frame;

    if (l->mode != EG_LIVE_TABLE)
        return;
    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(boards[i].port);
        if (len > port_w)
            port_w = len;
    }
    /* Columns: slot 5, port and a space, chip 9, MAC 18, step 9, "[bar] " , percent
     * 5, speed 9, result 9, time 8. The port and the bar share what is left. */
    int fixed = 5 + 1 + 9 + 3 + 5 + 9 + 9 + 8 + (show_chip ? 9 : 0) + (show_mac ? 18 : 0);
    int left = width - 1 - fixed;
    if (port_w > left / 2)
        port_w = left / 2;
    if (port_w < 6)
        port_w = 6;
    bar_w = left - port_w;
    if (bar_w > 30)
        bar_w = 30;
    if (bar_w < 0)
        bar_w = 0;
    eg_buf_clear(f);
    if (l->drawn) {
        /* Back to the top of the last frame, and over it line by line. */
        char up[16];
        int k = snprintf(up, sizeof(up), "\x1b[%dA", l->drawn);
        eg_buf_append(f, up, (size_t)k);
    }
    int lines = 0;
    int room = width - 1;
    eg_buf_append(f, "\r\x1b[2K", 5);
    cell(f, &room, "%-5s%-*s ", "slot", port_w, "port");
    if (show_chip)
        cell(f, &room, "%-9s", "chip");
    if (show_mac)
        cell(f, &room, "%-18s", "mac");
    cell(f, &room, "%-9s%-*s %5s %-9s%-9s%7s", "step", bar_w + 2, "progress", "", "speed", "result",
         "time");
    eg_buf_append(f, "\n", 1);
    lines++;
    for (size_t i = 0; i < n; i++) {
        const eg_prod_board *b = &boards[i];
        char rate[16], bar[64];
        int pct = b->total ? (int)(b->done * 100 / b->total) : 0;
        int fill = b->total ? (int)((uint64_t)bar_w * b->done / b->total) : 0;
        int64_t ms = (b->ended_ms ? b->ended_ms : t->elapsed_ms) - b->started_ms;
        int running = b->state == EG_BOARD_RUNNING;
        const char *step = running                      ? eg_step_name(b->step)
                           : b->state == EG_BOARD_PASS  ? "done"
                           : b->state == EG_BOARD_EMPTY ? "-"
                                                        : eg_step_name(b->step);

        if (b->state == EG_BOARD_PASS) {
            pct = 100;
            fill = bar_w;
        }
        if (fill > bar_w)
            fill = bar_w;
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(bar_w - fill));
        bar[bar_w] = '\0';
        human_rate(rate, sizeof(rate), running && b->step == EG_STEP_WRITE ? b->speed : 0);
        room = width - 1;
        eg_buf_append(f, "\r\x1b[2K", 5);
        cell(f, &room, "%-5d%-*s ", b->slot, port_w, port_tail(b->port, port_w));
        if (show_chip)
            cell(f, &room, "%-9s", b->identified ? b->chip : "-");
        if (show_mac)
            cell(f, &room, "%-18s", b->identified ? b->mac : "-");
        if (b->state == EG_BOARD_EMPTY)
            ms = 0;
        cell(f, &room, "%-9s[%s] %3d%% %-9s%-9s%5lld.%llds", b->away ? "away" : step, bar, pct,
             rate, b->state == EG_BOARD_ALREADY ? "passed<" : eg_board_state_name(b->state),
             (long long)(ms / 1000), (long long)(ms % 1000 / 100));
        eg_buf_append(f, "\n", 1);
        lines++;
    }
    room = width - 1;
    eg_buf_append(f, "\r\x1b[2K", 5);
    cell(f, &room, "%u passed, %u failed, %u running%s", t->passed, t->failed, t->running,
         t->canceled ? ", some canceled" : "");
    if (t->already)
        cell(f, &room, ", %u passed before (passed<)", t->already);
    cell(f, &room, ", %.0f boards/hour, %lld.%llds", t->boards_per_hour,
         (long long)(t->elapsed_ms / 1000), (long long)(t->elapsed_ms % 1000 / 100));
    if (l->watch)
        cell(f, &room, "; plug boards in, Ctrl-C to stop");
    eg_buf_append(f, "\n", 1);
    lines++;
    /* One write per frame: no half-drawn table. */
    fwrite(f->data, 1, f->len, l->out);
    fflush(l->out);
    l->drawn = lines;
}

eg_prod_events eg_live_events(eg_live *l)
{
    return (eg_prod_events){on_event, on_tick, l};
}

void eg_live_summary(eg_live *l, const eg_prod_summary *s)
{
    const eg_prod_totals *t = &s->totals;
    const char *causes[256];
    unsigned counts[256];
    size_t n_causes = 0;

    for (size_t i = 0; i < s->n_boards; i++) {
        const eg_prod_board *b = &s->boards[i];
        size_t k;
        if (b->state != EG_BOARD_FAIL && b->state != EG_BOARD_CANCELED)
            continue;
        for (k = 0; k < n_causes && strcmp(causes[k], b->cause) != 0; k++)
            ;
        if (k == n_causes && n_causes < 256) {
            causes[n_causes] = b->cause;
            counts[n_causes++] = 0;
        }
        if (k < 256)
            counts[k]++;
    }
    if (l->mode == EG_LIVE_JSON) {
        json_t *by = json_object();
        for (size_t k = 0; k < n_causes; k++)
            json_object_set_new(by, causes[k], json_integer(counts[k]));
        emit_json(l, json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:I, s:f, s:o, s:b}", "event",
                               "summary", "kind", l->what, "boards", t->boards, "passed", t->passed,
                               "failed", t->failed, "canceled", t->canceled, "already_passed",
                               t->already, "wall_ms", (json_int_t)t->elapsed_ms, "boards_per_hour",
                               t->boards_per_hour, "failures_by_cause", by, "stopped",
                               s->stopped != 0));
        return;
    }
    fprintf(l->out, "\n%s of %u boards: %u passed, %u failed", l->what, t->boards, t->passed,
            t->failed);
    if (t->canceled)
        fprintf(l->out, ", %u canceled", t->canceled);
    if (t->already)
        fprintf(l->out, ", %u passed before (left as they were)", t->already);
    fprintf(l->out, " in %.1f s (%.0f boards/hour)\n", (double)t->elapsed_ms / 1000,
            t->boards_per_hour);
    for (size_t k = 0; k < n_causes; k++)
        fprintf(l->out, "  %3u  %s\n", counts[k], causes[k]);
    for (size_t i = 0; i < s->n_boards; i++) {
        const eg_prod_board *b = &s->boards[i];
        if (b->state == EG_BOARD_FAIL || b->state == EG_BOARD_CANCELED)
            fprintf(l->out, "slot %d %s%s%s: %s\n", b->slot, b->port, b->identified ? " " : "",
                    b->identified ? b->mac : "", b->message);
    }
    fflush(l->out);
}
