/* What a single-board command shows while it works: the board it found and what it
 * will do, a progress line per step (on a terminal a bar fitted to its width, redrawn
 * in place; otherwise a line every 10 %), a last line with the time and throughput,
 * and log lines that never tear a bar. */
#include "cli/cli.h"

#include "core/clock.h"
#include "core/hash.h"
#include "core/num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define REDRAW_MS   100 /* a terminal's bar is redrawn at most this often */
#define MIN_COLUMNS 2   /* a narrower terminal gets one character a line */

void eg_cli_progress_init(eg_cli_progress *p, int tty, int verbose)
{
    memset(p, 0, sizeof(*p));
    p->tty = tty;
    p->verbose = verbose;
    p->step = -1;
}

/* The terminal's width on standard error ($COLUMNS when it does not say; 80). */
static int columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        /* Fitted to what there is: on a very narrow one the line is cut, never wrapped. */
        return ws.ws_col < MIN_COLUMNS ? MIN_COLUMNS : ws.ws_col;
    const char *env = getenv("COLUMNS");
    uint32_t n;
    if (env && eg_num_parse_u32(&n, env) == 0 && n >= MIN_COLUMNS && n < 1000)
        return (int)n;
    return 80;
}

/* bytes as people read them: "950 B", "157.4 KiB", "3.2 MiB". */
static void human(char *dst, size_t len, double bytes)
{
    if (bytes < 1024)
        snprintf(dst, len, "%.0f B", bytes);
    else if (bytes < 1024.0 * 1024)
        snprintf(dst, len, "%.1f KiB", bytes / 1024);
    else
        snprintf(dst, len, "%.1f MiB", bytes / (1024.0 * 1024));
}

static void clock_text(char *dst, size_t len, int64_t ms)
{
    int64_t s = ms / 1000;
    snprintf(dst, len, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static const char *verb(int step)
{
    static const char *const verbs[EG_STEP_COUNT] = {"Connecting", "Identifying", "Checking",
                                                     "Erasing",    "Writing",     "Verifying",
                                                     "Reading",    "Booting"};
    return step >= 0 && step < EG_STEP_COUNT ? verbs[step] : "Working";
}

/* Ends a bar on the screen so that other text starts on a line of its own. */
void eg_cli_progress_break(eg_cli_progress *p)
{
    if (p->drawn) {
        fputs("\r\033[K", stderr);
        p->drawn = 0;
    }
}

/* The step's last line: how much, how long, how fast. */
static void final_line(eg_cli_progress *p, uint64_t total, int64_t now)
{
    char size[32], speed[32];
    int64_t ms = now - p->start_ms;
    human(size, sizeof(size), (double)total);
    human(speed, sizeof(speed), ms > 0 ? (double)total * 1000 / (double)ms : 0);
    eg_cli_progress_break(p);
    if (ms > 0)
        fprintf(stderr, "%s: %s in %.1f s (%s/s)\n", verb(p->step), size, (double)ms / 1000, speed);
    else
        fprintf(stderr, "%s: %s\n", verb(p->step), size);
}

/* The bar line, fitted to width columns: parts are dropped from the right (the
 * time, the speed, the sizes) until the bar has room for at least 10 cells. */
static void draw(eg_cli_progress *p, uint64_t done, uint64_t total, int64_t now, int width)
{
    char sizes[96], a[32], b[32], speed[96], times[96], line[512];
    int64_t ms = now - p->start_ms;
    int pct = total ? (int)(done * 100 / total) : 100;
    double rate = ms > 0 ? (double)done * 1000 / (double)ms : 0;

    human(a, sizeof(a), (double)done);
    human(b, sizeof(b), (double)total);
    snprintf(sizes, sizeof(sizes), " %s/%s", a, b);
    human(a, sizeof(a), rate);
    snprintf(speed, sizeof(speed), " %s/s", a);
    clock_text(a, sizeof(a), ms);
    if (rate > 0 && done < total) {
        clock_text(b, sizeof(b), (int64_t)((double)(total - done) * 1000 / rate));
        snprintf(times, sizeof(times), " %s ETA %s", a, b);
    } else {
        snprintf(times, sizeof(times), " %s", a);
    }
    const char *parts[3] = {sizes, speed, times};
    int head = (int)strlen(verb(p->step)) + 1, pctw = 5; /* "Writing " "[" ... "] 45%" */
    int keep = 3, bar;
    for (;;) {
        int used = head + 2 + pctw;
        for (int i = 0; i < keep; i++)
            used += (int)strlen(parts[i]);
        bar = width - 1 - used; /* never the last column: no wrap */
        if (bar >= 10 || keep == 0)
            break;
        keep--;
    }
    if (bar < 3)
        bar = 0;
    int fill = total ? (int)((uint64_t)bar * done / total) : bar, n = 0;
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%s ", verb(p->step));
    if (bar) {
        line[n++] = '[';
        for (int i = 0; i < bar && n < (int)sizeof(line) - 64; i++)
            line[n++] = i < fill ? '#' : '.';
        line[n++] = ']';
    }
    n += snprintf(line + n, sizeof(line) - (size_t)n, "%4d%%", pct);
    for (int i = 0; i < keep && n < (int)sizeof(line); i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s", parts[i]);
    if (n > width - 1)
        n = width - 1;
    fprintf(stderr, "\r%.*s\033[K", n, line);
    p->drawn = 1;
}

void eg_cli_progress_update(eg_cli_progress *p, int step, uint64_t done, uint64_t total)
{
    int64_t now = eg_clock_ms();
    int pct = total ? (int)(done * 100 / total) : 100;

    if (step != p->step) {
        eg_cli_progress_break(p);
        p->step = step;
        p->start_ms = now;
        p->last_pct = -1;
        p->last_draw_ms = 0;
        p->last_tenth = 0;
        p->ended = 0;
    }
    if (p->ended)
        return;
    if (done >= total) {
        final_line(p, total, now);
        p->ended = 1;
    } else if (p->tty) {
        if (pct == p->last_pct && now - p->last_draw_ms < REDRAW_MS)
            return;
        draw(p, done, total, now, columns());
        p->last_draw_ms = now;
    } else if (pct / 10 > p->last_tenth) {
        char a[32], b[32];
        p->last_tenth = pct / 10;
        human(a, sizeof(a), (double)done);
        human(b, sizeof(b), (double)total);
        fprintf(stderr, "%s: %d%% (%s of %s)\n", verb(step), p->last_tenth * 10, a, b);
    }
    p->last_pct = pct;
    fflush(stderr);
}

/* n with thousands separators: 1,048,576. */
static void grouped(char *dst, size_t len, uint64_t n)
{
    char digits[32];
    int nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n), o = 0;
    for (int i = 0; i < nd && (size_t)o + 2 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            dst[o++] = ',';
        dst[o++] = digits[i];
    }
    dst[o] = '\0';
}

void eg_cli_print_board(const eg_job_result *r)
{
    char mac[18], size[32], feat[256] = "";
    size_t used = 0;

    if (!r->identified || !r->chip)
        return;
    eg_mac_format(mac, r->mac);
    eg_num_format_size(size, sizeof(size), r->flash_size);
    for (unsigned i = 0; i < r->info.n_features; i++) {
        int w =
            snprintf(feat + used, sizeof(feat) - used, "%s%s", i ? ", " : "", r->info.features[i]);
        if (w > 0 && (size_t)w < sizeof(feat) - used)
            used += (size_t)w;
    }
    fprintf(stderr, "Chip type:         %s (revision v%u.%u)\n",
            r->info.package[0] ? r->info.package : r->chip->name, r->rev_major, r->rev_minor);
    if (r->info.crystal_mhz)
        fprintf(stderr, "Crystal frequency: %u MHz\n", r->info.crystal_mhz);
    fprintf(stderr, "Flash size:        %s\n", r->flash_size ? size : "unknown");
    if (feat[0])
        fprintf(stderr, "Features:          %s\n", feat);
    fprintf(stderr, "MAC address:       %s\n", mac);
}

void eg_cli_print_plan(const eg_plan *plan, const eg_chip *chip)
{
    char a[32], b[32];

    if (!plan)
        return;
    for (size_t i = 0; i < plan->n_regions; i++) {
        const eg_plan_region *r = &plan->regions[i];
        if (!r->is_app || !r->part_size)
            continue;
        grouped(a, sizeof(a), r->len);
        grouped(b, sizeof(b), r->part_size);
        fprintf(stderr, "App/part. size:    %s/%s bytes, %.2f%% (partition '%s')\n", a, b,
                100.0 * r->len / r->part_size, r->part_name);
    }
    if (plan->keep_board_bootloader)
        fprintf(stderr, "Bootloader:        the board's, kept (a valid %s bootloader)\n",
                chip ? chip->name : "");
    for (size_t i = 0; i < plan->n_regions; i++) {
        const eg_plan_region *r = &plan->regions[i];
        if (chip && r->addr == chip->bootloader_offset && r->image_chip_id != EG_PLAN_NO_IMAGE) {
            grouped(a, sizeof(a), r->len);
            fprintf(stderr, "Bootloader:        %s bytes at 0x%x, written\n", a, r->addr);
        }
    }
}
