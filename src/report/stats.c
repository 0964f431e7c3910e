/* The statistics of a report, counted in the same pass that writes its attempts: per
 * slot, per minute (then per hour and per chart bucket), durations in 10 ms steps
 * (then median, percentiles and the histogram), the time boards were worked on, and
 * the runs. Adding an attempt costs a few array lookups: a report of a million
 * attempts counts them in tens of milliseconds. */
#include "report/priv.h"

#include "core/error.h"

#include <stdlib.h>
#include <string.h>

/* Slots numbered below this are found by index; others by a search. */
#define SLOT_DIRECT 4096
/* Durations: 10 ms steps up to 10 minutes, then 1 s steps up to a day and 10
 * minutes; longer ones are counted apart (and the longest kept). */
#define FINE_MS     10
#define FINE_N      60000
#define COARSE_MS   1000
#define COARSE_FROM ((int64_t)FINE_N * FINE_MS)
#define COARSE_N    86400

typedef struct minute {
    int64_t minute; /* Unix time / 60 s */
    int64_t attempts, pass, fail;
} minute;

struct eg_report_acc {
    int32_t *slot_index; /* slot number -> position in st->slots + 1 (SLOT_DIRECT) */
    size_t slot_cap;
    minute *minutes; /* in order */
    size_t n_minutes, minute_cap, last_minute;
    int64_t *fine, *coarse; /* counts; NULL until needed */
    int64_t over;           /* durations past the coarse steps */
    int64_t *runs;          /* distinct run ids, in order */
    size_t n_runs, run_cap;
    int64_t last_run;
    /* The time boards were worked on: the attempts' spans, as they come (in the order
     * they started), joined across pauses shorter than a break. */
    int64_t busy_ms, span_from, span_to; /* span_from -1: none open */
};

static int nomem(void)
{
    return eg_error_set(EG_ENOMEM, "out of memory");
}

/* Makes room for one more element in *arr (n used, *cap allocated). */
static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, ncap * size);
    if (!p)
        return nomem();
    *arr = p;
    *cap = ncap;
    return 0;
}

static int add_slot(eg_report_stats *st, struct eg_report_acc *a, const eg_store_attempt_rec *rec,
                    int pass, int fail)
{
    int n = rec->start.slot;
    eg_report_slot *sl = NULL;

    if (n >= 0 && n < SLOT_DIRECT) {
        if (a->slot_index[n])
            sl = &st->slots[a->slot_index[n] - 1];
    } else {
        for (size_t i = 0; i < st->n_slots && !sl; i++)
            if (st->slots[i].slot == n)
                sl = &st->slots[i];
    }
    if (!sl) {
        if (grow((void **)&st->slots, &a->slot_cap, st->n_slots, sizeof(*st->slots)) < 0)
            return EG_ENOMEM;
        sl = &st->slots[st->n_slots++];
        memset(sl, 0, sizeof(*sl));
        sl->slot = n;
        if (n >= 0 && n < SLOT_DIRECT)
            a->slot_index[n] = (int32_t)st->n_slots;
    }
    sl->attempts++;
    sl->pass += pass;
    sl->fail += fail;
    const char *label = rec->start.slot_label;
    if (label && (!sl->label || strcmp(sl->label, label) != 0)) {
        char *copy = strdup(label);
        if (!copy)
            return nomem();
        free(sl->label);
        sl->label = copy;
    }
    return 0;
}

static int add_minute(struct eg_report_acc *a, int64_t ms, int pass, int fail)
{
    int64_t m = eg_report_floor_div(ms, 60000);
    size_t i = a->last_minute;

    if (!(i < a->n_minutes && a->minutes[i].minute == m)) {
        if (a->n_minutes && a->minutes[a->n_minutes - 1].minute < m) {
            i = a->n_minutes; /* the usual case: a later minute */
        } else {
            size_t lo = 0, hi = a->n_minutes;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (a->minutes[mid].minute < m)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            i = lo;
        }
        if (i == a->n_minutes || a->minutes[i].minute != m) {
            if (grow((void **)&a->minutes, &a->minute_cap, a->n_minutes, sizeof(minute)) < 0)
                return EG_ENOMEM;
            memmove(&a->minutes[i + 1], &a->minutes[i], (a->n_minutes - i) * sizeof(minute));
            a->minutes[i] = (minute){m, 0, 0, 0};
            a->n_minutes++;
        }
        a->last_minute = i;
    }
    a->minutes[i].attempts++;
    a->minutes[i].pass += pass;
    a->minutes[i].fail += fail;
    return 0;
}

static int add_duration(struct eg_report_acc *a, int64_t d)
{
    if (d < COARSE_FROM) {
        if (!a->fine && !(a->fine = calloc(FINE_N, sizeof(*a->fine))))
            return nomem();
        a->fine[d / FINE_MS]++;
    } else if (d < COARSE_FROM + (int64_t)COARSE_N * COARSE_MS) {
        if (!a->coarse && !(a->coarse = calloc(COARSE_N, sizeof(*a->coarse))))
            return nomem();
        a->coarse[(d - COARSE_FROM) / COARSE_MS]++;
    } else {
        a->over++;
    }
    return 0;
}

static int add_run(struct eg_report_acc *a, int64_t run)
{
    if (a->n_runs && run == a->last_run)
        return 0;
    a->last_run = run;
    size_t lo = 0, hi = a->n_runs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->runs[mid] < run)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < a->n_runs && a->runs[lo] == run)
        return 0;
    if (grow((void **)&a->runs, &a->run_cap, a->n_runs, sizeof(*a->runs)) < 0)
        return EG_ENOMEM;
    memmove(&a->runs[lo + 1], &a->runs[lo], (a->n_runs - lo) * sizeof(*a->runs));
    a->runs[lo] = run;
    a->n_runs++;
    return 0;
}

int eg_report_stats_add(eg_report_stats *st, const eg_store_attempt_rec *rec)
{
    struct eg_report_acc *a = st->acc;
    const eg_store_attempt_end *e = &rec->end;
    int64_t start = rec->start.started_ms, end = e->ended_ms >= 0 ? e->ended_ms : start;
    int pass = e->result == EG_RESULT_PASS, fail = e->result == EG_RESULT_FAIL, rc;

    if (!a) {
        if (!(a = st->acc = calloc(1, sizeof(*a))) ||
            !(a->slot_index = calloc(SLOT_DIRECT, sizeof(*a->slot_index))))
            return nomem();
        a->span_from = -1;
        st->first_ms = st->last_ms = -1;
    }
    if ((rc = eg_store_summary_add(&st->sum, rec)) < 0 ||
        (rc = add_slot(st, a, rec, pass, fail)) < 0 ||
        (rc = add_minute(a, start, pass, fail)) < 0 || (rc = add_run(a, rec->start.run_id)) < 0)
        return rc;
    if ((pass || fail) && e->ended_ms >= start && (rc = add_duration(a, e->ended_ms - start)) < 0)
        return rc;
    if ((pass || fail) && e->ended_ms >= start) {
        st->timed++;
        if (e->ended_ms - start > st->max_ms)
            st->max_ms = e->ended_ms - start;
    }
    if (st->first_ms < 0 || start < st->first_ms)
        st->first_ms = start;
    if (end > st->last_ms)
        st->last_ms = end;
    if (end < start)
        end = start;
    if (a->span_from >= 0 && start <= a->span_to + EG_REPORT_BREAK_MS) {
        if (start < a->span_from)
            a->span_from = start;
        if (end > a->span_to)
            a->span_to = end;
    } else {
        if (a->span_from >= 0)
            a->busy_ms += a->span_to - a->span_from;
        a->span_from = start;
        a->span_to = end;
    }
    return 0;
}

/* The lower edge (ms) of the duration at rank k (1-based) among the counts. */
static int64_t duration_at(const struct eg_report_acc *a, int64_t k)
{
    int64_t seen = 0;
    for (size_t i = 0; a->fine && i < FINE_N; i++)
        if ((seen += a->fine[i]) >= k)
            return (int64_t)i * FINE_MS;
    for (size_t i = 0; a->coarse && i < COARSE_N; i++)
        if ((seen += a->coarse[i]) >= k)
            return COARSE_FROM + (int64_t)i * COARSE_MS;
    return -1; /* past a day: the caller uses the longest */
}

static int slot_cmp(const void *pa, const void *pb)
{
    const eg_report_slot *a = pa, *b = pb;
    return (a->slot > b->slot) - (a->slot < b->slot);
}

static int step_rank(const char *step)
{
    for (int i = 0; i < EG_STORE_STEPS; i++)
        if (strcmp(step, eg_store_step_names[i]) == 0)
            return i;
    return EG_STORE_STEPS;
}

static int step_cmp(const void *pa, const void *pb)
{
    const eg_report_step *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return step_rank(a->step) - step_rank(b->step);
}

/* Widths the histogram's bars may have: numbers people read at a glance. */
static const int64_t nice_ms[] = {
    10,     20,     50,      100,     200,     250,      500,      1000,
    2000,   5000,   10000,   15000,   30000,   60000,    120000,   300000,
    600000, 900000, 1800000, 3600000, 7200000, 21600000, 43200000, 86400000,
};

/* Adds count durations from lo_ms into the bars. */
static void bin_add(eg_report_stats *st, int64_t lo_ms, int64_t count)
{
    if (!count)
        return;
    int64_t i = (lo_ms - st->bins[0].from_ms) / st->bin_ms;
    if (i < 0)
        i = 0;
    if (i >= (int64_t)st->n_bins)
        i = (int64_t)st->n_bins - 1;
    st->bins[i].count += count;
}

static int make_histogram(eg_report_stats *st)
{
    const struct eg_report_acc *a = st->acc;
    if (!st->timed)
        return 0;
    int64_t hi = duration_at(a, st->timed - st->timed / 100); /* the 99th percentile */
    if (hi < 0)
        hi = st->max_ms;
    int64_t lo = st->min_ms, w = nice_ms[sizeof(nice_ms) / sizeof(nice_ms[0]) - 1];
    for (size_t i = 0; i < sizeof(nice_ms) / sizeof(nice_ms[0]); i++) {
        int64_t from = lo / nice_ms[i] * nice_ms[i];
        if ((hi - from) / nice_ms[i] + 1 <= 20) {
            w = nice_ms[i];
            break;
        }
    }
    int64_t from = lo / w * w;
    size_t n = (size_t)((hi - from) / w + 1);
    int open = st->max_ms >= from + (int64_t)n * w; /* the slowest go in an open last bar */
    st->bins = calloc(n + (size_t)open, sizeof(*st->bins));
    if (!st->bins)
        return nomem();
    st->n_bins = n + (size_t)open;
    st->bin_ms = w;
    for (size_t i = 0; i < st->n_bins; i++) {
        st->bins[i].from_ms = from + (int64_t)i * w;
        st->bins[i].to_ms = open && i == n ? -1 : from + (int64_t)(i + 1) * w;
    }
    for (size_t i = 0; a->fine && i < FINE_N; i++)
        bin_add(st, (int64_t)i * FINE_MS, a->fine[i]);
    for (size_t i = 0; a->coarse && i < COARSE_N; i++)
        bin_add(st, COARSE_FROM + (int64_t)i * COARSE_MS, a->coarse[i]);
    bin_add(st, INT64_MAX / 2, a->over);
    return 0;
}

/* The start (Unix ms) of the span of width w (ms) that holds minute m, aligned on
 * local time. */
static int64_t local_floor(int64_t m, int64_t w, int64_t *off_slot, int64_t *off)
{
    int64_t t = m * 60;
    if (t / 900 != *off_slot) {
        *off_slot = t / 900;
        *off = eg_report_utc_offset(t);
    }
    int64_t local_ms = (t + *off) * 1000;
    return eg_report_floor_div(local_ms, w) * w - *off * 1000;
}

int eg_report_stats_finish(eg_report_stats *st)
{
    struct eg_report_acc *a = st->acc;
    size_t hcap = 0;

    eg_store_summary_sort(&st->sum);
    st->boards_per_hour = -1;
    if (!a) {
        st->first_ms = st->last_ms = -1;
        return 0;
    }
    /* Failures by step. */
    for (size_t i = 0; i < st->sum.n_causes; i++) {
        const eg_store_cause *c = &st->sum.causes[i];
        size_t j = 0;
        while (j < st->n_steps && strcmp(st->steps[j].step, c->step) != 0)
            j++;
        if (j == st->n_steps) {
            eg_report_step *n = realloc(st->steps, (st->n_steps + 1) * sizeof(*n));
            if (!n)
                return nomem();
            st->steps = n;
            st->steps[st->n_steps++] = (eg_report_step){c->step, 0};
        }
        st->steps[j].count += c->count;
    }
    if (st->n_steps > 1)
        qsort(st->steps, st->n_steps, sizeof(*st->steps), step_cmp);
    if (st->n_slots > 1)
        qsort(st->slots, st->n_slots, sizeof(*st->slots), slot_cmp);
    st->runs = (int64_t)a->n_runs;

    /* Hours (local). */
    int64_t off_slot = INT64_MIN, off = 0;
    for (size_t i = 0; i < a->n_minutes; i++) {
        const minute *m = &a->minutes[i];
        int64_t h = local_floor(m->minute, 3600000, &off_slot, &off);
        if (!st->n_hours || st->hours[st->n_hours - 1].start_ms != h) {
            if (grow((void **)&st->hours, &hcap, st->n_hours, sizeof(*st->hours)) < 0)
                return EG_ENOMEM;
            st->hours[st->n_hours++] = (eg_report_bucket){h, 0, 0, 0};
        }
        eg_report_bucket *b = &st->hours[st->n_hours - 1];
        b->attempts += m->attempts;
        b->pass += m->pass;
        b->fail += m->fail;
    }
    for (size_t i = 0; i < st->n_hours; i++) {
        int64_t boards = st->hours[i].pass + st->hours[i].fail;
        if (boards > st->peak_hour_boards) {
            st->peak_hour_boards = boards;
            st->peak_hour_ms = st->hours[i].start_ms;
        }
    }

    /* Boards per hour while working. */
    if (a->span_from >= 0) {
        a->busy_ms += a->span_to - a->span_from;
        a->span_from = -1;
    }
    int64_t boards = st->sum.by_result[EG_RESULT_PASS] + st->sum.by_result[EG_RESULT_FAIL];
    st->busy_ms = a->busy_ms;
    if (boards > 0)
        st->boards_per_hour =
            (double)boards * 3600000.0 / (double)(a->busy_ms > 1000 ? a->busy_ms : 1000);

    /* Time per board. */
    if (st->timed) {
        int64_t k50 = (st->timed + 1) / 2, k90 = (st->timed * 9 + 9) / 10;
        int64_t v;
        st->min_ms = (v = duration_at(a, 1)) >= 0 ? v : st->max_ms;
        st->median_ms = (v = duration_at(a, k50)) >= 0 ? v : st->max_ms;
        st->p90_ms = (v = duration_at(a, k90)) >= 0 ? v : st->max_ms;
        st->max_ms = st->max_ms / FINE_MS * FINE_MS;
        if (st->min_ms > st->max_ms)
            st->min_ms = st->max_ms;
        return make_histogram(st);
    }
    return 0;
}

int eg_report_stats_buckets(eg_report_bucket **out, size_t *n, const eg_report_stats *st, int64_t w)
{
    const struct eg_report_acc *a = st->acc;
    int64_t off_slot = INT64_MIN, off = 0;

    *out = NULL;
    *n = 0;
    if (w < 60000 || w % 60000)
        return eg_error_set(EG_EINVAL, "report: a bucket of %lld ms is not whole minutes",
                            (long long)w);
    if (!a || !a->n_minutes)
        return 0;
    int64_t first = local_floor(a->minutes[0].minute, w, &off_slot, &off);
    int64_t last = a->minutes[a->n_minutes - 1].minute * 60000;
    size_t count = (size_t)((last - first) / w + 1);
    eg_report_bucket *b = calloc(count, sizeof(*b));
    if (!b)
        return nomem();
    for (size_t i = 0; i < count; i++)
        b[i].start_ms = first + (int64_t)i * w;
    for (size_t i = 0; i < a->n_minutes; i++) {
        const minute *m = &a->minutes[i];
        size_t k = (size_t)((m->minute * 60000 - first) / w);
        if (k >= count)
            k = count - 1;
        b[k].attempts += m->attempts;
        b[k].pass += m->pass;
        b[k].fail += m->fail;
    }
    *out = b;
    *n = count;
    return 0;
}

void eg_report_stats_release(eg_report_stats *st)
{
    if (!st)
        return;
    struct eg_report_acc *a = st->acc;
    if (a) {
        free(a->slot_index);
        free(a->minutes);
        free(a->fine);
        free(a->coarse);
        free(a->runs);
        free(a);
    }
    for (size_t i = 0; i < st->n_slots; i++)
        free(st->slots[i].label);
    free(st->slots);
    free(st->steps);
    free(st->hours);
    free(st->bins);
    eg_store_summary_release(&st->sum);
    memset(st, 0, sizeof(*st));
}
