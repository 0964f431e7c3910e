/* The monitor's core: line splitting (partial lines at once, CR LF, a CR split from its
 * LF), address decoding against the fixture ELFs (code and data addresses, backtrace
 * pairs, --all-addresses, the bootloader's lines, an ELF without DWARF, inlined
 * functions), bad ELFs, and the log formats.
 *
 * Expected names and lines never come from the code under test: addresses are read from
 * the ELF's symbol table here (libelf), lines from the marker comments in
 * tools/fixtures/firmware.c ("entry line of NAME (monitor tests)"). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/buf.h"
#include "core/error.h"
#include "monitor/format.h"
#include "monitor/monitor.h"
#include "monitor/symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef EG_FIXTURES_DIR
#error "EG_FIXTURES_DIR must name build/fixtures"
#endif
#ifndef EG_FIXTURE_SOURCE
#error "EG_FIXTURE_SOURCE must name tools/fixtures/firmware.c"
#endif

/* The defmt decoder (monitor/defmt.h) and espsim's defmt encoder, where they are. */
#if defined(__has_include)
#if __has_include("monitor/defmt.h")
#define HAVE_DEFMT 1
#endif
#endif

#define C3_ELF     EG_FIXTURES_DIR "/esp32c3.elf"
#define S3_ELF     EG_FIXTURES_DIR "/esp32s3.elf"
#define INLINE_ELF EG_FIXTURES_DIR "/inline-rv32.elf"

/* ---- helpers ----------------------------------------------------------------------- */

/* What the monitor emitted: the board's text and the decoded text, apart and together. */
typedef struct capture {
    eg_buf all, board, decoded;
    int calls;
    int fail_with; /* return this from the next emit (0: none) */
} capture;

static int capture_emit(void *ctx, eg_monitor_kind kind, const char *text, size_t len)
{
    capture *c = ctx;
    c->calls++;
    if (c->fail_with)
        return c->fail_with;
    assert_int_equal(eg_buf_append(&c->all, text, len), 0);
    assert_int_equal(eg_buf_append(kind == EG_MONITOR_BOARD ? &c->board : &c->decoded, text, len),
                     0);
    return 0;
}

static const char *str(eg_buf *b)
{
    assert_int_equal(eg_buf_push(b, 0), 0);
    b->len--;
    return (const char *)b->data;
}

static void capture_release(capture *c)
{
    eg_buf_release(&c->all);
    eg_buf_release(&c->board);
    eg_buf_release(&c->decoded);
}

static eg_monitor *monitor_for(capture *c, eg_symbols *s, int all)
{
    eg_monitor *m = NULL;
    eg_monitor_opts o = {NULL, s, all, capture_emit, c};
    memset(c, 0, sizeof(*c));
    assert_int_equal(eg_monitor_new(&m, &o), 0);
    return m;
}

static void feed(eg_monitor *m, const char *text)
{
    assert_int_equal(eg_monitor_feed(m, (const uint8_t *)text, strlen(text)), 0);
}

/* Feeds text whole to a monitor on s and checks that what it decoded is exactly want. */
static void expect_decoded(eg_symbols *s, int all, const char *text, const char *want)
{
    capture c;
    eg_monitor *m = monitor_for(&c, s, all);

    feed(m, text);
    assert_string_equal(str(&c.decoded), want);
    eg_monitor_free(m);
    capture_release(&c);
}

/* Symbol name of the ELF at path, read with libelf: its address, and its size in
 * *size when size is not NULL. Fails the test when the ELF has no such symbol. */
static uint32_t symbol(const char *path, const char *name, uint32_t *size)
{
    int fd = open(path, O_RDONLY);
    Elf *e;
    Elf_Scn *scn = NULL;
    GElf_Sym found = {0};
    int seen = 0;

    assert_true(fd >= 0);
    elf_version(EV_CURRENT);
    e = elf_begin(fd, ELF_C_READ, NULL);
    assert_non_null(e);
    while ((scn = elf_nextscn(e, scn)) != NULL && !seen) {
        GElf_Shdr sh;
        assert_non_null(gelf_getshdr(scn, &sh));
        Elf_Data *d = sh.sh_type == SHT_SYMTAB ? elf_getdata(scn, NULL) : NULL;
        for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize && !seen; i++) {
            GElf_Sym sym;
            gelf_getsym(d, (int)i, &sym);
            const char *n = elf_strptr(e, sh.sh_link, sym.st_name);
            if (n && strcmp(n, name) == 0) {
                found = sym;
                seen = 1;
            }
        }
    }
    elf_end(e);
    close(fd);
    if (!seen)
        fail_msg("no symbol '%s' in %s", name, path);
    if (size)
        *size = (uint32_t)found.st_size;
    return (uint32_t)found.st_value;
}

#define symbol_addr(path, name) symbol(path, name, NULL)

/* The line of firmware.c that carries marker. */
static unsigned marker_line(const char *marker)
{
    FILE *f = fopen(EG_FIXTURE_SOURCE, "r");
    char line[512];
    unsigned n = 0, found = 0;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        n++;
        if (strstr(line, marker)) {
            assert_int_equal(found, 0); /* one marker, one line */
            found = n;
        }
    }
    fclose(f);
    if (!found)
        fail_msg("no '%s' in %s", marker, EG_FIXTURE_SOURCE);
    return found;
}

static unsigned entry_line(const char *fn)
{
    char marker[128];
    snprintf(marker, sizeof(marker), "entry line of %s (monitor tests)", fn);
    return marker_line(marker);
}

#define FIXTURE_FILE "tools/fixtures/firmware.c"

static eg_symbols *open_ok(const char *path)
{
    eg_symbols *s = NULL;
    if (eg_symbols_open(&s, path) != 0)
        fail_msg("%s: %s", path, eg_error_msg());
    return s;
}

/* ---- line splitting ------------------------------------------------------------------ */

static void test_partial_lines_pass_at_once(void **state)
{
    capture c;
    eg_monitor *m = monitor_for(&c, NULL, 0);
    (void)state;

    feed(m, "login: ");
    assert_string_equal(str(&c.all), "login: "); /* before its line ends */
    feed(m, "admin");
    assert_string_equal(str(&c.all), "login: admin");
    feed(m, "\r\nok\n");
    assert_string_equal(str(&c.all), "login: admin\nok\n");
    assert_int_equal(c.decoded.len, 0);
    assert_int_equal(eg_monitor_finish(m), 0);
    assert_string_equal(str(&c.all), "login: admin\nok\n");
    eg_monitor_free(m);
    capture_release(&c);
}

static void test_crlf_and_lone_cr(void **state)
{
    capture c;
    eg_monitor *m = monitor_for(&c, NULL, 0);
    (void)state;

    /* CR LF split between two reads is still one line end. */
    feed(m, "one\r");
    assert_string_equal(str(&c.all), "one");
    feed(m, "\ntwo\r\n\r\nthree");
    assert_string_equal(str(&c.all), "one\ntwo\n\nthree");
    /* A lone CR (a progress line drawn over) is passed on. */
    feed(m, "\r10%\r20%\n");
    assert_string_equal(str(&c.all), "one\ntwo\n\nthree\r10%\r20%\n");
    /* A CR at the very end is held until the end, then passed on. */
    feed(m, "last\r");
    assert_string_equal(str(&c.all), "one\ntwo\n\nthree\r10%\r20%\nlast");
    assert_int_equal(eg_monitor_finish(m), 0);
    assert_string_equal(str(&c.all), "one\ntwo\n\nthree\r10%\r20%\nlast\r");
    eg_monitor_free(m);
    capture_release(&c);
}

static void test_emit_failure_stops(void **state)
{
    capture c;
    eg_monitor *m = monitor_for(&c, NULL, 0);
    (void)state;

    c.fail_with = EG_EIO;
    assert_int_equal(eg_monitor_feed(m, (const uint8_t *)"abc\n", 4), EG_EIO);
    assert_int_equal(c.calls, 1); /* nothing more after the failure */
    eg_monitor_free(m);
    capture_release(&c);
}

/* ---- decoding -------------------------------------------------------------------- */

static void test_register_dump_decoded(void **state)
{
    eg_symbols *s = open_ok(C3_ELF);
    uint32_t shuffle = symbol_addr(C3_ELF, "eg_shuffle.constprop.0");
    uint32_t app_main = symbol_addr(C3_ELF, "eg_app_main");
    char line[256], want[512];
    capture c;
    eg_monitor *m = monitor_for(&c, s, 0);
    (void)state;

    assert_true(eg_symbols_has_dwarf(s));
    snprintf(line, sizeof(line),
             "MEPC    : 0x%08x  RA      : 0x%08x  SP      : 0x3fc83560  GP      : 0x3fc80000  \r\n",
             shuffle, app_main);
    /* Fed in two pieces, cut inside the first address. */
    assert_int_equal(eg_monitor_feed(m, (const uint8_t *)line, 20), 0);
    assert_int_equal(c.decoded.len, 0);
    feed(m, line + 20);
    snprintf(want, sizeof(want),
             "0x%08x - eg_shuffle\n    at " FIXTURE_FILE ":%u\n"
             "0x%08x - eg_app_main\n    at " FIXTURE_FILE ":%u\n",
             shuffle, entry_line("eg_shuffle"), app_main, entry_line("eg_app_main"));
    assert_string_equal(str(&c.decoded), want);
    /* The board's line comes first, whole, then what decodes under it. */
    line[strlen(line) - 2] = '\0';
    assert_int_equal(memcmp(str(&c.all), line, strlen(line)), 0);
    assert_int_equal(c.all.data[strlen(line)], '\n');
    assert_string_equal(str(&c.all) + strlen(line) + 1, want);
    eg_monitor_free(m);
    capture_release(&c);
    eg_symbols_free(s);
}

static void test_backtrace_pairs(void **state)
{
    eg_symbols *s = open_ok(C3_ELF);
    uint32_t sort = symbol_addr(C3_ELF, "eg_sort.constprop.0");
    uint32_t app_main = symbol_addr(C3_ELF, "eg_app_main");
    uint32_t start = symbol_addr(C3_ELF, "eg_start");
    char line[256], want[512];
    (void)state;

    /* PC:SP pairs: the stack pointers are RAM, not code, and stay undecoded. */
    snprintf(line, sizeof(line),
             "Backtrace: 0x%08x:0x3fc83500 0x%08x:0x3fc83520 0x%08x:0x3fc83540\n", sort, app_main,
             start);
    snprintf(want, sizeof(want),
             "0x%08x - eg_sort\n    at " FIXTURE_FILE ":%u\n"
             "0x%08x - eg_app_main\n    at " FIXTURE_FILE ":%u\n"
             "0x%08x - eg_start\n    at " FIXTURE_FILE ":%u\n",
             sort, entry_line("eg_sort"), app_main, entry_line("eg_app_main"), start,
             entry_line("eg_start"));
    expect_decoded(s, 0, line, want);
    eg_symbols_free(s);
}

static void test_address_alone_and_case(void **state)
{
    eg_symbols *s = open_ok(C3_ELF);
    uint32_t app_main = symbol_addr(C3_ELF, "eg_app_main");
    char line[128], want[512];
    (void)state;

    /* A line that is only the address: just the name. */
    snprintf(line, sizeof(line), "  0x%08x \n", app_main);
    snprintf(want, sizeof(want), "eg_app_main\n    at " FIXTURE_FILE ":%u\n",
             entry_line("eg_app_main"));
    expect_decoded(s, 0, line, want);
    /* Upper case as the board wrote it; part of a longer number is no address. */
    snprintf(line, sizeof(line), "at 0X%08X, not 0x%08xff or 0x%07x\n", app_main, app_main,
             app_main >> 4);
    snprintf(want, sizeof(want), "0X%08X - eg_app_main\n    at " FIXTURE_FILE ":%u\n", app_main,
             entry_line("eg_app_main"));
    expect_decoded(s, 0, line, want);
    eg_symbols_free(s);
}

static void test_code_ranges_and_all_addresses(void **state)
{
    eg_symbols *s = open_ok(C3_ELF);
    uint32_t state_var = symbol_addr(C3_ELF, "eg_state"); /* data, in DRAM */
    uint32_t start = symbol_addr(C3_ELF, "call_start_cpu0");
    unsigned l = entry_line("call_start_cpu0");
    char line[128], want[512];
    (void)state;

    assert_false(eg_symbols_in_code(s, state_var));
    assert_true(eg_symbols_in_code(s, start));
    assert_false(eg_symbols_in_code(s, 0x40000000)); /* ROM: not the ELF's */
    /* Data addresses and the bootloader's load lines are not decoded by default. */
    snprintf(line, sizeof(line),
             "ptr=0x%08x\nentry 0x%08x\nSaved PC:0x%08x\nload:0x%08x,len:0x40\n", state_var, start,
             start, start);
    expect_decoded(s, 0, line, "");
    /* --all-addresses: every address the ELF knows, on every line. */
    snprintf(want, sizeof(want),
             "0x%08x - eg_state\n    at ??:??\n"
             "0x%08x - call_start_cpu0\n    at " FIXTURE_FILE ":%u\n"
             "0x%08x - call_start_cpu0\n    at " FIXTURE_FILE ":%u\n"
             "0x%08x - call_start_cpu0\n    at " FIXTURE_FILE ":%u\n",
             state_var, start, l, start, l, start, l);
    expect_decoded(s, 1, line, want);
    /* An address nothing in the ELF covers stays undecoded even so. */
    expect_decoded(s, 1, "0x12345678 0x60000000\n", "");
    eg_symbols_free(s);
}

static void test_no_symbols_no_decoding(void **state)
{
    capture c;
    eg_monitor *m = monitor_for(&c, NULL, 1);
    (void)state;

    feed(m, "Backtrace: 0x42002098:0x3fc83500\n");
    assert_string_equal(str(&c.all), "Backtrace: 0x42002098:0x3fc83500\n");
    assert_int_equal(c.decoded.len, 0);
    eg_monitor_free(m);
    capture_release(&c);
}

static void test_elf_without_dwarf(void **state)
{
    eg_symbols *s = open_ok(S3_ELF); /* synthetic Xtensa: a symbol table, no DWARF */
    uint32_t size;
    uint32_t app_main = symbol(S3_ELF, "app_main", &size);
    char line[160], want[256];
    (void)state;

    assert_false(eg_symbols_has_dwarf(s));
    assert_true(size > 8);
    snprintf(line, sizeof(line), "PC      : 0x%08x  PS      : 0x00060830  A0      : 0x%08x\n",
             app_main + 4, app_main + size); /* inside app_main; just past its end */
    snprintf(want, sizeof(want), "0x%08x - app_main\n    at ??:??\n", app_main + 4);
    expect_decoded(s, 0, line, want);
    eg_symbols_free(s);
}

static void test_inlined_chain(void **state)
{
    eg_symbols *s = open_ok(INLINE_ELF);
    uint32_t size;
    uint32_t outer = symbol(INLINE_ELF, "eg_inline_outer", &size);
    unsigned inner_line = marker_line("line of eg_inline_inner (monitor tests)");
    unsigned middle_line = marker_line("call of eg_inline_inner (monitor tests)");
    unsigned outer_line = marker_line("call of eg_inline_middle (monitor tests)");
    eg_symbol_frame f[EG_SYMBOL_FRAMES_MAX];
    int seen = 0;
    (void)state;

    /* Somewhere in eg_inline_outer is eg_inline_inner's code, inlined twice over. */
    for (uint32_t a = outer; a < outer + size; a += 2) {
        size_t n = eg_symbols_lookup(s, a, f, EG_SYMBOL_FRAMES_MAX);
        assert_true(n >= 1);
        assert_true(n <= 3);
        assert_string_equal(f[n - 1].function, "eg_inline_outer");
        if (n < 3)
            continue;
        seen++;
        assert_string_equal(f[0].function, "eg_inline_inner");
        assert_string_equal(f[0].file, FIXTURE_FILE);
        assert_int_equal(f[0].line, inner_line);
        assert_string_equal(f[1].function, "eg_inline_middle");
        assert_string_equal(f[1].file, FIXTURE_FILE);
        assert_int_equal(f[1].line, middle_line);
        assert_string_equal(f[2].function, "eg_inline_outer");
        assert_string_equal(f[2].file, FIXTURE_FILE);
        assert_int_equal(f[2].line, outer_line);

        /* ... and the monitor prints the chain. */
        char line[64], want[512];
        snprintf(line, sizeof(line), "PC: 0x%08x\n", a);
        snprintf(want, sizeof(want),
                 "0x%08x - eg_inline_inner\n    at " FIXTURE_FILE ":%u\n"
                 " (inlined by) eg_inline_middle\n    at " FIXTURE_FILE ":%u\n"
                 " (inlined by) eg_inline_outer\n    at " FIXTURE_FILE ":%u\n",
                 a, inner_line, middle_line, outer_line);
        expect_decoded(s, 0, line, want);
    }
    assert_true(seen > 0);
    eg_symbols_free(s);
}

static void test_long_line(void **state)
{
    eg_symbols *s = open_ok(C3_ELF);
    uint32_t app_main = symbol_addr(C3_ELF, "eg_app_main");
    char *line = malloc(EG_MONITOR_LINE_MAX * 2 + 64);
    capture c;
    eg_monitor *m = monitor_for(&c, s, 0);
    size_t n;
    (void)state;

    assert_non_null(line);
    /* One address early, one past what is kept for decoding. */
    n = (size_t)snprintf(line, 32, "0x%08x ", app_main);
    memset(line + n, 'x', EG_MONITOR_LINE_MAX * 2 - n);
    snprintf(line + EG_MONITOR_LINE_MAX * 2, 64, " 0x%08x\n", app_main);
    feed(m, line);
    assert_string_equal(str(&c.board), line); /* shown whole */
    char want[256];
    snprintf(want, sizeof(want), "0x%08x - eg_app_main\n    at " FIXTURE_FILE ":%u\n", app_main,
             entry_line("eg_app_main"));
    assert_string_equal(str(&c.decoded), want); /* only the first */
    /* The next line starts afresh. */
    eg_buf_clear(&c.decoded);
    feed(m, line + EG_MONITOR_LINE_MAX * 2 + 1);
    snprintf(want, sizeof(want), "eg_app_main\n    at " FIXTURE_FILE ":%u\n",
             entry_line("eg_app_main"));
    assert_string_equal(str(&c.decoded), want);
    eg_monitor_free(m);
    capture_release(&c);
    eg_symbols_free(s);
    free(line);
}

/* ---- bad ELFs -------------------------------------------------------------------- */

static void bad_elf(const char *path, int code, const char *part)
{
    eg_symbols *s = (eg_symbols *)1;
    eg_error_clear();
    assert_int_equal(eg_symbols_open(&s, path), code);
    assert_null(s);
    if (!strstr(eg_error_msg(), path))
        fail_msg("message '%s' does not name '%s'", eg_error_msg(), path);
    if (!strstr(eg_error_msg(), part))
        fail_msg("message '%s' lacks '%s'", eg_error_msg(), part);
}

static void test_bad_elfs(void **state)
{
    char dir[] = "/tmp/eg_monitor_XXXXXX", path[128];
    (void)state;

    bad_elf(EG_FIXTURES_DIR "/missing.elf", EG_ENOTFOUND, "No such file");
    bad_elf(EG_FIXTURES_DIR "/bad/truncated.elf", EG_EINVAL,
            "is cut short: its section headers end at byte");
    bad_elf(EG_FIXTURES_DIR "/bad/not-an-elf.bin", EG_EINVAL, "is not an ELF file");
    bad_elf(EG_FIXTURES_DIR "/bad/host-object.o", EG_EINVAL, "is not an executable");
    bad_elf(EG_FIXTURES_DIR "/bad", EG_EINVAL, "is not a file");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/empty.elf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    bad_elf(path, EG_EINVAL, "is not an ELF file");
    unlink(path);
    rmdir(dir);
}

static void test_elf_without_code(void **state)
{
    /* Symbols and DWARF but nothing loadable: opened, nothing is code. */
    eg_symbols *s = open_ok(EG_FIXTURES_DIR "/bad/esp32c3-no-loadable.elf");
    (void)state;

    assert_false(eg_symbols_in_code(s, 0x42000020));
    expect_decoded(s, 0, "PC: 0x42000020\n", "");
    eg_symbols_free(s);
}

/* ---- formats --------------------------------------------------------------------- */

static void test_formats(void **state)
{
    eg_monitor_format *f = (eg_monitor_format *)1;
    (void)state;

    assert_int_equal(eg_monitor_format_new(&f, "serial", NULL), 0);
    assert_string_equal(f->ops->name, "serial");
    eg_monitor_format_free(f);
    f = (eg_monitor_format *)1;
    assert_int_equal(eg_monitor_format_new(&f, "defmt", NULL), EG_EUNSUPPORTED);
    assert_null(f);
#ifdef HAVE_DEFMT
    assert_non_null(strstr(eg_error_msg(), "give --elf FILE"));
#else
    assert_non_null(strstr(eg_error_msg(), "defmt decoding is not built yet"));
#endif
    assert_int_equal(eg_monitor_format_new(&f, "json", NULL), EG_EINVAL);
    assert_null(f);
    assert_non_null(strstr(eg_error_msg(), "unknown log format 'json' (known: serial, defmt)"));
    assert_string_equal(eg_monitor_format_for_elf(NULL), "serial");
    eg_elf e;
    memset(&e, 0, sizeof(e));
    e.log_format = "defmt-espflash";
    assert_string_equal(eg_monitor_format_for_elf(&e), "defmt");
    e.log_format = "serial";
    assert_string_equal(eg_monitor_format_for_elf(&e), "serial");
    eg_monitor_free(NULL);
    eg_symbols_free(NULL);
    eg_monitor_format_free(NULL);
}

#ifdef EG_TEST_DEFMT
#include "defmt_out.h"

#define DEFMT_ELF EG_FIXTURES_DIR "/esp32c3-meta-defmt.elf"

/* A monitor with the defmt format of the defmt fixture, -F spec (NULL: the default). */
static eg_monitor *defmt_monitor(capture *c, const char *spec)
{
    eg_monitor_format_opts fo = {DEFMT_ELF, NULL, spec, 0};
    eg_monitor_format *f = NULL;
    eg_monitor *m = NULL;

    if (eg_monitor_format_new(&f, "defmt", &fo) != 0)
        fail_msg("defmt format: %s", eg_error_msg());
    eg_monitor_opts o = {f, NULL, 0, capture_emit, c};
    memset(c, 0, sizeof(*c));
    assert_int_equal(eg_monitor_new(&m, &o), 0);
    return m;
}

/* espsim's frames of the defmt fixture through the monitor, in pieces of 7 bytes:
 * every frame a line of its own, the text between them as it came. */
static void test_defmt_format(void **state)
{
    sim_defmt_output o;
    capture c;
    eg_monitor *m;
    (void)state;

    memset(&o, 0, sizeof(o));
    if (sim_defmt_output_make(&o, DEFMT_ELF) != 0)
        fail_msg("espsim's defmt output: %s", eg_error_msg());
    m = defmt_monitor(&c, NULL);
    feed(m, "I (30) boot: text first, then a prompt> ");
    for (size_t at = 0; at < o.bytes.len; at += 7) {
        size_t n = o.bytes.len - at < 7 ? o.bytes.len - at : 7;
        assert_int_equal(eg_monitor_feed(m, o.bytes.data + at, n), 0);
    }
    assert_int_equal(eg_monitor_finish(m), 0);
    const char *out = str(&c.all);
    /* A frame after a partial line starts a line of its own. */
    assert_non_null(strstr(out, "I (30) boot: text first, then a prompt> \n"
                                "defmt fixture for esp32c3, wire format 4\n"
                                "1.250000 [TRACE] entering main loop (defmt_fixture "
                                "tools/fixtures/defmt_app.cc:"));
    assert_non_null(strstr(out, ")\nesp_println::println! between frames\n4.500000 [INFO ] status "
                                "1011 ready 1 (defmt_fixture "));
    assert_non_null(strstr(out, "\n5.750000 [ERROR] 0x42001b2e (defmt_fixture "));
    size_t lines = 0;
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1 + SIM_DEFMT_CALLS);
    eg_monitor_free(m);
    capture_release(&c);

    /* -F: the user's layout. */
    m = defmt_monitor(&c, "{L} {s}");
    assert_int_equal(eg_monitor_feed(m, o.bytes.data, o.ends[1]), 0);
    assert_string_equal(str(&c.all), "defmt fixture for esp32c3, wire format 4\n"
                                     "TRACE entering main loop\n");
    eg_monitor_free(m);
    capture_release(&c);
    sim_defmt_output_free(&o);

    /* An ELF without a defmt table, and a bad -F, are refused with the decoder's word. */
    eg_monitor_format_opts fo = {C3_ELF, NULL, NULL, 0};
    eg_monitor_format *f = NULL;
    assert_int_not_equal(eg_monitor_format_new(&f, "defmt", &fo), 0);
    assert_null(f);
    assert_non_null(strstr(eg_error_msg(), "no defmt data"));
    fo.elf_path = DEFMT_ELF;
    fo.output_format = "{L}";
    assert_int_equal(eg_monitor_format_new(&f, "defmt", &fo), EG_EINVAL);
    assert_null(f);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_lines_pass_at_once),
        cmocka_unit_test(test_crlf_and_lone_cr),
        cmocka_unit_test(test_emit_failure_stops),
        cmocka_unit_test(test_register_dump_decoded),
        cmocka_unit_test(test_backtrace_pairs),
        cmocka_unit_test(test_address_alone_and_case),
        cmocka_unit_test(test_code_ranges_and_all_addresses),
        cmocka_unit_test(test_no_symbols_no_decoding),
        cmocka_unit_test(test_elf_without_dwarf),
        cmocka_unit_test(test_inlined_chain),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_bad_elfs),
        cmocka_unit_test(test_elf_without_code),
        cmocka_unit_test(test_formats),
#ifdef EG_TEST_DEFMT
        cmocka_unit_test(test_defmt_format),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
