/* defmt: rzcobs against defmt's own vectors, every argument type and display hint of
 * wire format 4 in frames made here, levels and timestamps, text around frames in any
 * pieces, malformed and truncated frames and what comes after them, tables that cannot
 * be read, the output formats of -F, and the round trip: espsim's encoder (written
 * apart from the decoder) over the defmt fixture ELF, decoded to the lines written out
 * below. Synthetic ELFs are written by hand here (ELF32, a .defmt section and symbols). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/buf.h"
#include "core/error.h"
#include "defmt_out.h"
#include "monitor/defmt.h"
#include "monitor/defmt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_defmt.XXXXXX";

static void expect_msg(const char *part)
{
    if (!strstr(eg_error_msg(), part))
        fail_msg("message '%s' lacks '%s'", eg_error_msg(), part);
}

/* ---- synthetic ELFs ---- */

typedef struct tsym {
    const char *name;
    uint32_t addr;
    int where; /* 0: .defmt, 1: absolute (not in a section), 2: .text */
    uint32_t size;
} tsym;

typedef struct telf {
    const tsym *syms;
    size_t n;
    const uint8_t *defmt_data; /* NULL: zeros */
    size_t defmt_len;          /* 0: no .defmt section at all */
    const char *defmt_name;    /* default ".defmt" */
} telf;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

/* Writes an ELF32 RISC-V executable with sections .text, .defmt (when defmt_len),
 * .symtab, .strtab, .shstrtab to path. */
static void write_elf(const char *path, const telf *e)
{
    eg_buf f = EG_BUF_INIT, str = EG_BUF_INIT, sym = EG_BUF_INIT, shstr = EG_BUF_INIT;
    int has_defmt = e->defmt_len > 0;
    const char *dname = e->defmt_name ? e->defmt_name : ".defmt";
    /* section indices: 1 .text, 2 .defmt (if any), then symtab, strtab, shstrtab */
    uint16_t sec_text = 1, sec_defmt = 2, sec_symtab = (uint16_t)(has_defmt ? 3 : 2);
    uint16_t sec_strtab = (uint16_t)(sec_symtab + 1), sec_shstr = (uint16_t)(sec_strtab + 1);
    uint16_t nsec = (uint16_t)(sec_shstr + 1);

    assert_int_equal(eg_buf_push(&str, 0), 0);
    assert_int_equal(eg_buf_fill(&sym, 0, 16), 0);
    for (size_t i = 0; i < e->n; i++) {
        uint8_t s[16] = {0};
        put32(s, (uint32_t)str.len);
        put32(s + 4, e->syms[i].addr);
        put32(s + 8, e->syms[i].size ? e->syms[i].size : 1);
        s[12] = 0x11; /* GLOBAL OBJECT */
        put16(s + 14, e->syms[i].where == 0   ? sec_defmt
                      : e->syms[i].where == 1 ? 0xFFF1
                                              : sec_text);
        assert_int_equal(eg_buf_append(&str, e->syms[i].name, strlen(e->syms[i].name) + 1), 0);
        assert_int_equal(eg_buf_append(&sym, s, 16), 0);
    }
    const char *names[] = {"", ".text", dname, ".symtab", ".strtab", ".shstrtab"};
    uint32_t name_off[6];
    for (int i = 0; i < 6; i++) {
        name_off[i] = (uint32_t)shstr.len;
        assert_int_equal(eg_buf_append(&shstr, names[i], strlen(names[i]) + 1), 0);
    }
    /* layout: header, .text (4 bytes), .defmt, symtab, strtab, shstrtab, section headers */
    uint32_t off_text = 52, off_defmt = off_text + 4;
    uint32_t off_sym = off_defmt + (uint32_t)e->defmt_len;
    off_sym = (off_sym + 3) & ~3u;
    uint32_t off_str = off_sym + (uint32_t)sym.len, off_shstr = off_str + (uint32_t)str.len;
    uint32_t off_sh = (off_shstr + (uint32_t)shstr.len + 3) & ~3u;

    uint8_t h[52] = {0x7F, 'E', 'L', 'F', 1, 1, 1};
    put16(h + 16, 2);   /* ET_EXEC */
    put16(h + 18, 243); /* RISC-V */
    put32(h + 20, 1);
    put32(h + 32, off_sh);
    put16(h + 40, 52);
    put16(h + 46, 40);
    put16(h + 48, nsec);
    put16(h + 50, sec_shstr);
    assert_int_equal(eg_buf_append(&f, h, 52), 0);
    assert_int_equal(eg_buf_fill(&f, 0x13, 4), 0);
    if (has_defmt) {
        if (e->defmt_data)
            assert_int_equal(eg_buf_append(&f, e->defmt_data, e->defmt_len), 0);
        else
            assert_int_equal(eg_buf_fill(&f, 0, e->defmt_len), 0);
    }
    assert_int_equal(eg_buf_fill(&f, 0, off_sym - f.len), 0);
    assert_int_equal(eg_buf_append(&f, sym.data, sym.len), 0);
    assert_int_equal(eg_buf_append(&f, str.data, str.len), 0);
    assert_int_equal(eg_buf_append(&f, shstr.data, shstr.len), 0);
    assert_int_equal(eg_buf_fill(&f, 0, off_sh - f.len), 0);

    struct {
        int name;
        uint32_t type, flags, addr, off, size, link, info, align, entsize;
    } sh[6] = {
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {1, 1, 6, 0x42000000, off_text, 4, 0, 0, 4, 0},
        {2, 1, 0, 0, off_defmt, (uint32_t)e->defmt_len, 0, 0, 1, 0},
        {3, 2, 0, 0, off_sym, (uint32_t)sym.len, sec_strtab, 1, 4, 16},
        {4, 3, 0, 0, off_str, (uint32_t)str.len, 0, 0, 1, 0},
        {5, 3, 0, 0, off_shstr, (uint32_t)shstr.len, 0, 0, 1, 0},
    };
    for (int i = 0; i < 6; i++) {
        if (i == 2 && !has_defmt)
            continue;
        uint8_t s[40] = {0};
        put32(s, name_off[sh[i].name]);
        put32(s + 4, sh[i].type);
        put32(s + 8, sh[i].flags);
        put32(s + 12, sh[i].addr);
        put32(s + 16, sh[i].off);
        put32(s + 20, sh[i].size);
        put32(s + 24, sh[i].link);
        put32(s + 28, sh[i].info);
        put32(s + 32, sh[i].align);
        put32(s + 36, sh[i].entsize);
        assert_int_equal(eg_buf_append(&f, s, 40), 0);
    }
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(f.data, 1, f.len, fp), f.len);
    assert_int_equal(fclose(fp), 0);
    eg_buf_release(&f);
    eg_buf_release(&str);
    eg_buf_release(&sym);
    eg_buf_release(&shstr);
}

/* A symbol name as defmt's macros write it. */
static char *json(const char *tag, const char *data, int dis)
{
    char *s = malloc(512);
    assert_non_null(s);
    snprintf(s, 512,
             "{\"package\":\"pkg\",\"tag\":\"%s\",\"data\":\"%s\",\"disambiguator\":\"%d\","
             "\"crate_name\":\"app\"}",
             tag, data, dis);
    return s;
}

static char *path_of(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
    return p[k];
}

/* ---- frames ---- */

/* What the decoder handed back, kept for checks. */
typedef struct got {
    eg_buf text;         /* all text, joined */
    char lines[64][512]; /* FRAME: "LEVEL|ts|message", MALFORMED: "!message" */
    eg_defmt_line raw[64];
    size_t n;
    size_t text_calls;
} got;

static void collect(void *ctx, const eg_defmt_line *l)
{
    got *g = ctx;
    if (l->kind == EG_DEFMT_TEXT) {
        assert_true(l->text_len > 0);
        assert_int_equal(eg_buf_append(&g->text, l->text, l->text_len), 0);
        g->text_calls++;
        return;
    }
    assert_true(g->n < 64);
    if (l->kind == EG_DEFMT_MALFORMED)
        snprintf(g->lines[g->n], sizeof(g->lines[0]), "!%s", l->message);
    else
        snprintf(g->lines[g->n], sizeof(g->lines[0]), "%s|%s|%s", eg_defmt_level_name(l->level),
                 l->timestamp ? l->timestamp : "-", l->message);
    g->raw[g->n] = *l;
    g->raw[g->n].message = NULL;
    g->raw[g->n].timestamp = NULL;
    g->n++;
}

static void got_free(got *g)
{
    eg_buf_release(&g->text);
}

/* Appends one frame as esp-println sends it: FF 00, rzcobs(payload), 00. */
static void frame(eg_buf *out, const uint8_t *payload, size_t n)
{
    assert_int_equal(eg_buf_append(out, "\xFF\x00", 2), 0);
    assert_int_equal(sim_defmt_rzcobs(out, payload, n), 0);
    assert_int_equal(eg_buf_push(out, 0), 0);
}

/* ---- rzcobs ---- */

typedef struct rz {
    uint8_t enc[8];
    size_t enc_len;
    uint8_t dec[16];
    size_t dec_len;
} rz;

static void test_rzcobs_vectors(void **state)
{
    (void)state;
    /* defmt/src/encoding/rzcobs.rs's vectors, read backwards: the decoded frame is the
     * encoder's input and then the zeros that pad the last group of seven */
    static const rz v[] = {
        {{0x7f}, 1, {0}, 7},
        {{0x7f, 0x7f}, 2, {0}, 14},
        {{0x01, 0x7e}, 2, {0x01}, 7},
        {{0x01, 0x7d}, 2, {0x00, 0x01}, 7},
        {{0x01, 0x02, 0x7c}, 3, {0x01, 0x02}, 7},
        {{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x40}, 7, {0x11, 0x22, 0x33, 0x44, 0x55, 0x66}, 7},
        {{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x80},
         8,
         {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x00},
         8},
        {{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}, 8, {0}, 0}, /* no code byte */
        {{0x7f, 0xff, 0x3f}, 3, {[13] = 0xff}, 14},
        {{0x44, 0x5f, 0xff, 0x3f}, 4, {[5] = 0x44, [13] = 0xff}, 14},
    };
    eg_buf out = EG_BUF_INIT;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        int rc = dm_rzcobs_decode(v[i].enc, v[i].enc_len, &out);
        if (v[i].dec_len == 0) {
            assert_int_equal(rc, -1);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(out.len, v[i].dec_len);
        assert_memory_equal(out.data, v[i].dec, v[i].dec_len);
    }
    /* 134 non-zero bytes: the bytes and 0xFF; 133 and a zero: the bytes and 0xFE */
    uint8_t enc[140], want[140];
    for (int i = 0; i < 134; i++)
        enc[i] = want[i] = (uint8_t)(i + 1);
    enc[134] = 0xFF;
    assert_int_equal(dm_rzcobs_decode(enc, 135, &out), 0);
    assert_int_equal(out.len, 134);
    assert_memory_equal(out.data, want, 134);
    enc[133] = 0xFE;
    want[133] = 0;
    assert_int_equal(dm_rzcobs_decode(enc, 134, &out), 0);
    assert_int_equal(out.len, 134);
    assert_memory_equal(out.data, want, 134);
    /* short of bytes, or a zero inside */
    static const uint8_t bad[][3] = {{0x80}, {0xff}, {0x7e}, {0x05, 0x00, 0x7f}};
    static const size_t bad_len[] = {1, 1, 1, 3};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(dm_rzcobs_decode(bad[i], bad_len[i], &out), -1);
    assert_int_equal(dm_rzcobs_decode(bad[0], 0, &out), 0);
    assert_int_equal(out.len, 0);
    eg_buf_release(&out);
}

/* espsim's encoder writes what defmt's encoder writes (its vectors, forwards). */
static void test_rzcobs_encoder(void **state)
{
    (void)state;
    static const struct {
        uint8_t dec[8];
        size_t dec_len;
        uint8_t enc[10];
        size_t enc_len;
    } v[] = {
        {{0}, 0, {0}, 0},
        {{0x00}, 1, {0x7f}, 1},
        {{0x00, 0x00}, 2, {0x7f}, 1},
        {{0x01}, 1, {0x01, 0x7e}, 2},
        {{0x01, 0x00}, 2, {0x01, 0x7e}, 2},
        {{0x00, 0x01}, 2, {0x01, 0x7d}, 2},
        {{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x00},
         7,
         {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x40},
         7},
        {{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77},
         7,
         {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x80},
         8},
        {{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88},
         8,
         {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x81},
         9},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        eg_buf out = EG_BUF_INIT;
        assert_int_equal(sim_defmt_rzcobs(&out, v[i].dec, v[i].dec_len), 0);
        assert_int_equal(out.len, v[i].enc_len);
        if (out.len)
            assert_memory_equal(out.data, v[i].enc, v[i].enc_len);
        eg_buf_release(&out);
    }
    /* 13 zeros and 0xFF: 7f ff 3f; 134 non-zero bytes: the bytes, ff */
    uint8_t dec[140] = {[13] = 0xFF};
    eg_buf out = EG_BUF_INIT;
    assert_int_equal(sim_defmt_rzcobs(&out, dec, 14), 0);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.data, "\x7f\xff\x3f", 3);
    for (int i = 0; i < 135; i++)
        dec[i] = (uint8_t)(i + 1);
    eg_buf_clear(&out);
    assert_int_equal(sim_defmt_rzcobs(&out, dec, 134), 0);
    assert_int_equal(out.len, 135);
    assert_int_equal(out.data[134], 0xFF);
    eg_buf_clear(&out);
    dec[134] = 0;
    assert_int_equal(sim_defmt_rzcobs(&out, dec, 135), 0); /* 134 bytes, ff, then 7f */
    assert_int_equal(out.len, 136);
    assert_int_equal(out.data[134], 0xFF);
    assert_int_equal(out.data[135], 0x7F);
    eg_buf_release(&out);
}

/* ---- a table with every argument type ---- */

typedef struct tcase {
    const char *format; /* an info statement */
    const uint8_t *args;
    size_t args_len;
    const char *want; /* the message, or "!part of the malformed line" */
} tcase;

#define A(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define NOARGS NULL, 0

/* Entries that frames refer to: index 0x100 + position. */
static const struct {
    const char *tag, *data;
} NESTED[] = {
    {"defmt_prim", "{=u8}"},                                         /* 0x100 */
    {"defmt_prim", "{=u32}"},                                        /* 0x101 */
    {"defmt_prim", "{=i16}"},                                        /* 0x102 */
    {"defmt_prim", "None|Some({=?})"},                               /* 0x103 */
    {"defmt_derived", "Idle|Busy({=u8})|Done"},                      /* 0x104 */
    {"defmt_derived", "Point {{ x: {=i16:?}, y: {=i16:?} }}"},       /* 0x105 */
    {"defmt_prim", "{=__internal_FormatSequence}"},                  /* 0x106 */
    {"defmt_write", "at {}"},                                        /* 0x107 */
    {"defmt_write", "{=str}:{=u32}"},                                /* 0x108 */
    {"defmt_str", "interned text"},                                  /* 0x109 */
    {"defmt_derived", "A|B"},                                        /* 0x10a */
    {"defmt_prim", "{=u16}"},                                        /* 0x10b */
    {"defmt_prim", "{=__internal_Display}"},                         /* 0x10c */
    {"defmt_bitflags", "{=u8:__internal_bitflags_Flags@pkg@7@app}"}, /* 0x10d */
    {"defmt_println", "a println as a nested format"},               /* 0x10e */
};

/* f32 and f64 bits, little endian */
#define F32(b) (uint8_t)(b), (uint8_t)((b) >> 8), (uint8_t)((b) >> 16), (uint8_t)((b) >> 24)
#define F64(b) F32((uint32_t)(b)), F32((uint32_t)((uint64_t)(b) >> 32))

static const tcase CASES[] = {
    {"{=u8} {=u16} {=u32}", A(0xff, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12), "255 4660 305419896"},
    {"{=u64} {=usize}", A(F64(0xFFFFFFFFFFFFFFFFull), F32(4000000000u)),
     "18446744073709551615 4000000000"},
    {"{=u128}", A(F64(0xFFFFFFFFFFFFFFFFull), F64(0xFFFFFFFFFFFFFFFFull)),
     "340282366920938463463374607431768211455"},
    {"{=i8} {=i16} {=i32} {=isize}", A(0xff, 0x00, 0x80, F32(0x7FFFFFFF), F32(0xFFFFFFD6)),
     "-1 -32768 2147483647 -42"},
    {"{=i64} {=i128}", A(F64(0x8000000000000000ull), F64(0), F64(0x8000000000000000ull)),
     "-9223372036854775808 -170141183460469231731687303715884105728"},
    {"{=bool} {=bool}", A(1, 0), "true false"},
    {"{=bool}", A(2), "!bool byte 0x02"},
    {"{=f32} {=f32} {=f32} {=f32}",
     A(F32(0x3f800000), F32(0x3dcccccd), F32(0x33d6bf95), F32(0x7f7fffff)),
     "1.0 0.1 1e-7 3.4028235e38"},
    {"{=f32} {=f32} {=f32} {=f32}",
     A(F32(0x7fc00000), F32(0xff800000), F32(0x80000000), F32(0x4b800000)),
     "NaN -inf -0.0 16777216.0"},
    {"{=f32} {=f32} {=f32}", A(F32(0x358637bd), F32(0x551184e7), F32(0x5368d4a5)),
     "0.000001 1e13 1000000000000.0"},
    {"{=f64} {=f64} {=f64}",
     A(F64(0x3fb999999999999aull), F64(0x4341c37937e08000ull), F64(0x430c6bf526340000ull)),
     "0.1 1e16 1000000000000000.0"},
    {"{=f64} {=f64} {=f64}",
     A(F64(0x3ee4f8b588e368f1ull), F64(0x3eb0c6f7a0b5ed8dull), F64(0x0000000000000001ull)),
     "0.00001 1e-6 5e-324"},
    {"{=f64}", A(F64(0x400921fb54442d18ull)), "3.141592653589793"},
    {"s={=str}!", A(6, 0, 0, 0, 'h', 0xc3, 0xa9, 'l', 'l', 'o'), "s=héllo!"},
    {"{=str:?}", A(8, 0, 0, 0, 'a', '"', 'b', '\\', 'c', '\n', 0x01, '\''),
     "\"a\\\"b\\\\c\\n\\u{1}'\""},
    {"{=str}", A(2, 0, 0, 0, 0xc3, 0x28), "!str argument is not UTF-8"},
    {"{=str}", A(9, 0, 0, 0, 'a'), "!truncated"},
    {"{=[u8]} {=[u8]}", A(0, 0, 0, 0, 2, 0, 0, 0, 1, 255), "[] [1, 255]"},
    {"{=[u8]:x} {=[u8]:#04x} {=[u8]:b}", A(1, 0, 0, 0, 0xab, 1, 0, 0, 0, 0x0a, 1, 0, 0, 0, 5),
     "[ab] [0x0a] [101]"},
    {"{=[u8]:a}", A(6, 0, 0, 0, 'a', '"', 0x7f, ' ', '\r', 0xff), "b\"a\\\"\\x7f \\r\\xff\""},
    {"{=[u8; 3]} {=[u8;2]:X}", A(1, 2, 3, 0xab, 0xcd), "[1, 2, 3] [AB, CD]"},
    {"{=istr}", A(0x09, 0x01), "interned text"},
    {"{=istr}", A(0x01, 0x00), "!format index 0x0001 is a log statement"},
    {"{=char}{=char}{=char}", A(F32(0xe9), F32(0x20ac), F32(0x1f600)), "é€😀"},
    {"{=char}", A(F32(0xd800)), "!char 0xd800 is no Unicode scalar value"},
    {"{=u32:x} {=u32:#x} {=u32:X} {=u32:#X} {=u32:08x} {=u32:#010x}",
     A(F32(255), F32(255), F32(255), F32(255), F32(255), F32(255)),
     "ff 0xff FF 0xFF 000000ff 0x000000ff"},
    {"{=u8:b} {=u8:#b} {=u8:o} {=u8:#o} {=u8:05} {=u8:?} {=u8:zz} {=u8:0x}",
     A(5, 5, 8, 8, 42, 7, 7, 7), "101 0b101 10 0o10 00042 7 7 7"},
    {"{=i8:x} {=i16:#x} {=i32:05} {=i8:b} {=i64:X}",
     A(0xff, 0xfe, 0xff, F32(0xFFFFFFD6), 5, F64(0xFFFFFFFFFFFFFFFFull)),
     "ff 0xfffe -0042 101 FFFFFFFFFFFFFFFF"},
    {"{=u32:us} {=u64:ms} {=u64:tus} {=u32:ts} {=u32:tms}",
     A(F32(1500000), F64(61001), F64(90061000001ull), F32(59), F32(3723004)),
     "1.500000 61.001 1:01:01:01.000001 00:00:59 01:02:03.004"},
    {"{=u64:iso8601ms} {=u32:iso8601s}", A(F64(1700000000123ull), F32(0)),
     "2023-11-14T22:13:20.123Z 1970-01-01T00:00:00Z"},
    {"{1=u8} {0=str} {1=u8:x} {{literal}}", A(1, 0, 0, 0, 'z', 0xab), "171 z ab {literal}"},
    {"{0=0..4} {0=4..8:b} {1=8..12:x} {2=0..16:#x}", A(0xa5, 0x0f, 0x34, 0x12), "5 1010 f 0x1234"},
    {"{0=7..8} {0=0..1}", A(0x81), "1 1"},
    {"{:x} {:#06x} {}", A(0x01, 0x01, F32(255), 0x01, 0x01, F32(255), 0x02, 0x01, 0xfd, 0xff),
     "ff 0x00ff -3"},
    {"{} / {}", A(0x03, 0x01, 1, 0x00, 0x01, 42, 0x03, 0x01, 0), "Some(42) / None"},
    {"{} {} {}", A(0x04, 0x01, 0, 0x04, 0x01, 1, 9, 0x04, 0x01, 2), "Idle Busy(9) Done"},
    {"{}", A(0x04, 0x01, 5), "!variant 5 of 'Idle|Busy({=u8})|Done' does not exist"},
    {"{}", A(0x05, 0x01, 0xfe, 0xff, 3, 0), "Point { x: -2, y: 3 }"},
    {"{=[?]} {=[?]} {=[?]:a}",
     A(3, 0, 0, 0, 0x02, 0x01, 0xff, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 0x0a, 0x01, 2, 0, 0, 0, 0x00,
       0x01, 'h', 'i'),
     "[-1, 0, 1] [] b\"hi\""},
    {"{=[?]}", A(3, 0, 0, 0, 0x0a, 0x01, 0, 1, 0), "[A, B, A]"},
    {"{=[?; 2]}", A(0x0b, 0x01, 1, 0, 2, 0), "[1, 2]"},
    {"{}",
     A(0x06, 0x01, 0x07, 0x01, 0x06, 0x01, 0x08, 0x01, 4, 0, 0, 0, 'a', '.', 'r', 's', F32(42), 0,
       0, 0, 0),
     "at a.rs:42"},
    {"{} {=__internal_Debug}", A(0x0c, 0x01, 'o', 'k', 0xff, 'D', 'b', 'g', 0xff), "ok Dbg"},
    {"{=__internal_Display}", A('n', 'o', 'e', 'n', 'd'), "!truncated"},
    {"{}", A(0x0d, 0x01, 3), "A | B"},
    {"{}", A(0x0d, 0x01, 0), "NONE"},
    {"{}", A(0x0d, 0x01, 8), "(empty)"},
    {"{}", A(0x0e, 0x01), "a println as a nested format"},
    {"{}", A(0x99, 0x09), "!unknown format index 0x0999"},
    {"{=u64} {=u64}", A(1, 2), "!truncated"}, /* rzcobs pads up to six zeros */
    {"{=u8} {=u8}", A(1, 2, 3, 4), "1 2"},    /* bytes past the arguments: ignored */
    {"bad {=u7}", A(1), "!unknown type 'u7'"},
    {"bad {=u8", A(1), "!unmatched '{'"},
    {"bad } {=u8}", A(1), "!unmatched '}'"},
    {"{1=u8}", A(1, 2), "!argument 0 is not used"},
    {"{0=u8} {0=u16}", A(1, 2), "!argument 0 has two types"},
    {"{=u8:}", A(1), "!no display hint"},
};

#define N_CASES (sizeof(CASES) / sizeof(CASES[0]))

/* An ELF with the timestamp "{=u32:us}", one info statement per case at index 1 + its
 * position, the NESTED entries at 0x100 + position, and the bitflags values of Flags. */
static const char *cases_elf(void)
{
    const char *path = path_of("cases.elf");
    size_t n = 0, cap = N_CASES + 32;
    tsym *s = calloc(cap, sizeof(*s));
    char **owned = calloc(cap, sizeof(*owned));
    uint8_t data[0x300] = {0};
    assert_non_null(s);
    assert_non_null(owned);
    for (size_t i = 0; i < N_CASES; i++) {
        owned[n] = json("defmt_info", CASES[i].format, (int)i);
        s[n] = (tsym){owned[n], (uint32_t)(1 + i), 0, 0};
        n++;
    }
    for (size_t i = 0; i < sizeof(NESTED) / sizeof(NESTED[0]); i++) {
        owned[n] = json(NESTED[i].tag, NESTED[i].data, 100 + (int)i);
        s[n] = (tsym){owned[n], (uint32_t)(0x100 + i), 0, 0};
        n++;
    }
    owned[n] = json("defmt_timestamp", "{=u32:us}", 999);
    s[n] = (tsym){owned[n], 0x200, 0, 0};
    n++;
    /* bitflags values: 16 bytes each in the section */
    static const struct {
        const char *data;
        uint8_t value;
    } flags[] = {{"Flags::1::B", 2}, {"Flags::0::A", 1}, {"Flags::2::NONE", 0}};
    for (int i = 0; i < 3; i++) {
        char buf[256];
        snprintf(buf, sizeof(buf),
                 "{\"package\":\"pkg\",\"tag\":\"defmt_bitflags_value\",\"data\":\"%s\","
                 "\"disambiguator\":\"7\",\"crate_name\":\"app\"}",
                 flags[i].data);
        owned[n] = strdup(buf);
        s[n] = (tsym){owned[n], (uint32_t)(0x210 + 16 * i), 0, 16};
        n++;
        data[0x210 + 16 * i] = flags[i].value;
    }
    owned[n] = strdup("_defmt_version_ = 4");
    s[n] = (tsym){owned[n], 0, 1, 0};
    n++;
    owned[n] = strdup("_defmt_encoding_ = rzcobs");
    s[n] = (tsym){owned[n], 0, 1, 0};
    n++;
    owned[n] = strdup("{\"package\":\"x\",\"tag\":\"other_tool\",\"data\":\"?\","
                      "\"disambiguator\":\"1\"}"); /* another tool's: skipped */
    s[n] = (tsym){owned[n], 0x2ff, 0, 0};
    n++;
    telf e = {s, n, data, sizeof(data), NULL};
    write_elf(path, &e);
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
    free(owned);
    free(s);
    return path;
}

static void feed_all(eg_defmt_decoder *d, const eg_buf *b, size_t chunk, got *g)
{
    for (size_t off = 0; off < b->len; off += chunk) {
        size_t n = b->len - off < chunk ? b->len - off : chunk;
        assert_int_equal(eg_defmt_decoder_feed(d, b->data + off, n, collect, g), 0);
    }
}

static void test_every_type(void **state)
{
    eg_defmt_table *t = NULL;
    eg_defmt_decoder *d = NULL;
    (void)state;
    assert_int_equal(eg_defmt_table_load(&t, cases_elf()), 0);
    assert_int_equal(eg_defmt_table_statements(t), N_CASES + 1); /* and NESTED's println */
    assert_int_equal(eg_defmt_table_has_timestamp(t), 1);
    assert_int_equal(eg_defmt_table_locations(t), EG_DEFMT_LOCATIONS_NONE);
    assert_int_equal(eg_defmt_decoder_new(&d, t, 0), 0);
    for (size_t i = 0; i < N_CASES; i++) {
        uint8_t payload[256];
        eg_buf wire = EG_BUF_INIT;
        got g = {0};
        put16(payload, (uint16_t)(1 + i));
        put32(payload + 2, 2000001 + (uint32_t)i); /* the timestamp, {=u32:us} */
        memcpy(payload + 6, CASES[i].args, CASES[i].args_len);
        frame(&wire, payload, 6 + CASES[i].args_len);
        feed_all(d, &wire, wire.len, &g);
        if (g.n != 1)
            fail_msg("case %zu '%s': %zu lines", i, CASES[i].format, g.n);
        if (CASES[i].want[0] == '!') {
            if (g.lines[0][0] != '!' || !strstr(g.lines[0], CASES[i].want + 1))
                fail_msg("case %zu '%s': got '%s', want malformed '%s'", i, CASES[i].format,
                         g.lines[0], CASES[i].want + 1);
            assert_non_null(strstr(g.lines[0], "malformed defmt frame ("));
        } else {
            char want[600];
            snprintf(want, sizeof(want), "INFO|2.%06zu|%s", 1 + i, CASES[i].want);
            if (strcmp(g.lines[0], want) != 0)
                fail_msg("case %zu '%s':\n got '%s'\nwant '%s'", i, CASES[i].format, g.lines[0],
                         want);
            assert_int_equal(g.raw[0].index, 1 + i);
            assert_null(g.raw[0].file);
        }
        assert_int_equal(g.text.len, 0);
        got_free(&g);
        eg_buf_release(&wire);
    }
    eg_defmt_decoder_free(d);
    eg_defmt_table_free(t);
}

/* Random arguments after every statement's index: each frame gives exactly one line,
 * decoded or malformed, and nothing else. */
static void test_random_frames(void **state)
{
    eg_defmt_table *t = NULL;
    eg_defmt_decoder *d = NULL;
    uint32_t x = 2024;
    size_t decoded = 0, malformed = 0;
    (void)state;
    assert_int_equal(eg_defmt_table_load(&t, cases_elf()), 0);
    assert_int_equal(eg_defmt_decoder_new(&d, t, 0), 0);
    for (int i = 0; i < 20000; i++) {
        uint8_t payload[64];
        eg_buf wire = EG_BUF_INIT;
        got g = {0};
        x = x * 1103515245u + 12345u;
        size_t n = 2 + (x >> 16) % 60;
        put16(payload, (uint16_t)(1 + (x >> 8) % (N_CASES + 20)));
        for (size_t k = 2; k < n; k++) {
            x = x * 1103515245u + 12345u;
            /* mostly small values: indices, lengths and counts that point somewhere */
            payload[k] = (uint8_t)((x >> 16) % 4 ? (x >> 20) % 8 : x >> 24);
        }
        frame(&wire, payload, n);
        feed_all(d, &wire, wire.len, &g);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.text.len, 0);
        if (g.lines[0][0] == '!')
            malformed++;
        else
            decoded++;
        got_free(&g);
        eg_buf_release(&wire);
    }
    /* both kinds, plenty of each */
    if (decoded < 2000 || malformed < 2000)
        fail_msg("%zu decoded, %zu malformed", decoded, malformed);
    eg_defmt_decoder_free(d);
    eg_defmt_table_free(t);
}

/* ---- levels, timestamps, text, malformed frames, resync ---- */

static const char *levels_elf(int with_timestamp)
{
    const char *path = path_of(with_timestamp ? "levels-ts.elf" : "levels.elf");
    static const char *tags[] = {"defmt_println", "defmt_trace", "defmt_debug",
                                 "defmt_info",    "defmt_warn",  "defmt_error"};
    char *names[8];
    tsym s[10];
    size_t n = 0;
    for (int i = 0; i < 6; i++) {
        char data[64];
        snprintf(data, sizeof(data), "message {=u8} at %s", tags[i] + 6);
        names[i] = json(tags[i], data, i);
        s[n++] = (tsym){names[i], (uint32_t)(1 + i), 0, 0};
    }
    names[6] = json("defmt_timestamp", "{=u64:ms}", 77);
    if (with_timestamp)
        s[n++] = (tsym){names[6], 7, 0, 0};
    s[n++] = (tsym){"\"_defmt_version_ = 4\"", 0, 1, 0}; /* as LLD leaves it */
    s[n++] = (tsym){"_defmt_encoding_ = rzcobs", 0, 1, 0};
    s[n++] = (tsym){"__DEFMT_MARKER_TRACE_START", 2, 0, 0};
    telf e = {s, n, NULL, 16, NULL};
    write_elf(path, &e);
    for (int i = 0; i < 7; i++)
        free(names[i]);
    return path;
}

/* A frame of levels.elf: statement index (1 println ... 6 error), its u8, a timestamp. */
static void level_frame(eg_buf *wire, int index, uint8_t v, int ts, uint64_t ms)
{
    uint8_t p[16];
    size_t n = 0;
    put16(p, (uint16_t)index);
    n = 2;
    if (ts) {
        put32(p + 2, (uint32_t)ms);
        put32(p + 6, (uint32_t)(ms >> 32));
        n = 10;
    }
    p[n++] = v;
    frame(wire, p, n);
}

static void test_levels_and_timestamps(void **state)
{
    (void)state;
    for (int ts = 0; ts < 2; ts++) {
        eg_defmt_table *t = NULL;
        eg_defmt_decoder *d = NULL;
        eg_buf wire = EG_BUF_INIT;
        got g = {0};
        assert_int_equal(eg_defmt_table_load(&t, levels_elf(ts)), 0);
        assert_int_equal(eg_defmt_table_statements(t), 6);
        assert_int_equal(eg_defmt_table_has_timestamp(t), ts);
        assert_int_equal(eg_defmt_decoder_new(&d, t, 0), 0);
        for (int i = 1; i <= 6; i++)
            level_frame(&wire, i, (uint8_t)(10 * i), ts, 1234567ull * (uint64_t)i);
        feed_all(d, &wire, 3, &g);
        assert_int_equal(g.n, 6);
        const char *lv[] = {"", "TRACE", "DEBUG", "INFO", "WARN", "ERROR"};
        const char *tags[] = {"println", "trace", "debug", "info", "warn", "error"};
        for (int i = 0; i < 6; i++) {
            char want[128], tsbuf[32];
            if (ts)
                snprintf(tsbuf, sizeof(tsbuf), "%llu.%03llu",
                         1234567ull * (unsigned long long)(i + 1) / 1000,
                         1234567ull * (unsigned long long)(i + 1) % 1000);
            else
                snprintf(tsbuf, sizeof(tsbuf), "-");
            snprintf(want, sizeof(want), "%s|%s|message %d at %s", lv[i], tsbuf, 10 * (i + 1),
                     tags[i]);
            assert_string_equal(g.lines[i], want);
            assert_int_equal(g.raw[i].level, i == 0 ? EG_DEFMT_PRINTLN : EG_DEFMT_TRACE + i - 1);
        }
        got_free(&g);
        eg_buf_release(&wire);
        eg_defmt_decoder_free(d);
        eg_defmt_table_free(t);
    }
    assert_string_equal(eg_defmt_level_name(EG_DEFMT_WARN), "WARN");
    assert_string_equal(eg_defmt_level_name(EG_DEFMT_PRINTLN), "");
    assert_string_equal(eg_defmt_level_name((eg_defmt_level)42), "");
}

/* Text before, between and after frames, in pieces of every size. */
static void test_text_and_frames(void **state)
{
    eg_defmt_table *t = NULL;
    (void)state;
    assert_int_equal(eg_defmt_table_load(&t, levels_elf(0)), 0);
    eg_buf wire = EG_BUF_INIT;
    const char *boot = "ESP-ROM:esp32c3-api1-20210207\r\nentry 0x403ce710\r\n";
    /* text may hold 0xFF and 0x00 that are no marker */
    const char mid[] = "plain \xFF text\x00 with \xFF\xFF odd bytes\r\n";
    assert_int_equal(eg_buf_append(&wire, boot, strlen(boot)), 0);
    assert_int_equal(eg_buf_append(&wire, "\xFF\x00\x00", 3), 0); /* the first frame's 00 */
    uint8_t p[3] = {4, 0, 7};
    assert_int_equal(sim_defmt_rzcobs(&wire, p, 3), 0);
    assert_int_equal(eg_buf_push(&wire, 0), 0);
    assert_int_equal(eg_buf_append(&wire, mid, sizeof(mid) - 1), 0);
    level_frame(&wire, 6, 9, 0, 0);
    level_frame(&wire, 1, 8, 0, 0); /* back to back */
    assert_int_equal(eg_buf_append(&wire, "tail", 4), 0);

    eg_buf want_text = EG_BUF_INIT;
    assert_int_equal(eg_buf_append(&want_text, boot, strlen(boot)), 0);
    assert_int_equal(eg_buf_append(&want_text, mid, sizeof(mid) - 1), 0);
    assert_int_equal(eg_buf_append(&want_text, "tail", 4), 0);
    for (size_t chunk = 1; chunk <= wire.len; chunk = chunk < 16 ? chunk + 1 : chunk * 3) {
        eg_defmt_decoder *d = NULL;
        got g = {0};
        assert_int_equal(eg_defmt_decoder_new(&d, t, 0), 0);
        feed_all(d, &wire, chunk, &g);
        assert_int_equal(g.n, 3);
        assert_string_equal(g.lines[0], "INFO|-|message 7 at info");
        assert_string_equal(g.lines[1], "ERROR|-|message 9 at error");
        assert_string_equal(g.lines[2], "|-|message 8 at println");
        assert_int_equal(g.text.len, want_text.len);
        assert_memory_equal(g.text.data, want_text.data, want_text.len);
        got_free(&g);
        eg_defmt_decoder_free(d);
    }

    /* the order of text and frames is kept: feed the whole and record */
    eg_defmt_decoder *d = NULL;
    got g = {0};
    assert_int_equal(eg_defmt_decoder_new(&d, t, 0), 0);
    assert_int_equal(eg_defmt_decoder_feed(d, (const uint8_t *)"abc\xFF", 4, collect, &g), 0);
    assert_int_equal(g.text.len, 3); /* the 0xFF waits for its next byte */
    assert_int_equal(eg_defmt_decoder_feed(d, (const uint8_t *)"x", 1, collect, &g), 0);
    assert_int_equal(g.text.len, 5);
    assert_memory_equal(g.text.data, "abc\xFFx", 5);
    /* a reset forgets a frame half read */
    assert_int_equal(eg_defmt_decoder_feed(d, (const uint8_t *)"\xFF\x00\x05\x06", 4, collect, &g),
                     0);
    eg_defmt_decoder_reset(d);
    assert_int_equal(eg_defmt_decoder_feed(d, (const uint8_t *)"boot\r\n", 6, collect, &g), 0);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.text.len, 11);
    assert_memory_equal(g.text.data + 5, "boot\r\n", 6);
    got_free(&g);
    eg_defmt_decoder_free(d);
    assert_int_equal(eg_defmt_decoder_new(&d, t, 0x80), EG_EINVAL);
    assert_null(d);
    eg_buf_release(&want_text);
    eg_buf_release(&wire);
    eg_defmt_table_free(t);
}

static void test_malformed_and_resync(void **state)
{
    eg_defmt_table *t = NULL;
    eg_defmt_decoder *d = NULL;
    eg_buf wire = EG_BUF_INIT;
    got g = {0};
    (void)state;
    assert_int_equal(eg_defmt_table_load(&t, levels_elf(0)), 0);
    assert_int_equal(eg_defmt_decoder_new(&d, t, 0), 0);

    uint8_t unknown[] = {0x99, 0x09, 1};
    frame(&wire, unknown, 3);
    level_frame(&wire, 2, 1, 0, 0);
    uint8_t short_frame[] = {3, 0}; /* debug without its u8: rzcobs pads zeros, so it decodes */
    frame(&wire, short_frame, 2);
    assert_int_equal(eg_buf_append(&wire, "\xFF\x00\x80\x00", 4), 0); /* no rzcobs */
    uint8_t warn_only[] = {5};
    frame(&wire, warn_only, 1);
    level_frame(&wire, 3, 2, 0, 0);
    /* a frame cut short by a reset: its bytes, the ROM's text (no zero in it), then the
     * next frame's marker */
    assert_int_equal(eg_buf_append(&wire, "\xFF\x00\x00\x04\x02", 5), 0);
    assert_int_equal(eg_buf_append(&wire, "ESP-ROM:esp32c3\r\n", 17), 0);
    level_frame(&wire, 4, 3, 0, 0);
    /* a frame over the limit, then one more */
    assert_int_equal(eg_buf_append(&wire, "\xFF\x00", 2), 0);
    assert_int_equal(eg_buf_fill(&wire, 0x41, EG_DEFMT_FRAME_MAX + 10), 0);
    assert_int_equal(eg_buf_push(&wire, 0), 0);
    level_frame(&wire, 5, 4, 0, 0);
    feed_all(d, &wire, 1000, &g);

    static const char *const want[] = {
        "!malformed defmt frame (4 bytes): unknown format index 0x0999",
        "TRACE|-|message 1 at trace",
        "DEBUG|-|message 0 at debug",
        "!malformed defmt frame (1 byte): no rzcobs encoding",
        "WARN|-|message 0 at warn",
        "DEBUG|-|message 2 at debug",
        "!malformed defmt frame (19 bytes): cut short before a frame marker",
        "INFO|-|message 3 at info",
        "!malformed defmt frame (16394 bytes): longer than 16384 bytes",
        "WARN|-|message 4 at warn",
    };
    assert_int_equal(g.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < g.n; i++)
        assert_string_equal(g.lines[i], want[i]);
    assert_int_equal(g.text.len, 0);
    got_free(&g);

    /* garbage of every byte value, then a good frame: it is never lost */
    eg_buf junk = EG_BUF_INIT;
    uint32_t x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 1103515245u + 12345u;
        assert_int_equal(eg_buf_push(&junk, (uint8_t)(x >> 16)), 0);
    }
    assert_int_equal(eg_buf_push(&junk, 0), 0);
    level_frame(&junk, 6, 99, 0, 0);
    memset(&g, 0, sizeof(g));
    eg_defmt_decoder_reset(d);
    for (size_t off = 0; off < junk.len;) {
        size_t n = 1 + (off * 7919) % 97;
        if (n > junk.len - off)
            n = junk.len - off;
        /* keep only the last lines: the array holds 64 */
        if (g.n > 60)
            g.n = 0;
        assert_int_equal(eg_defmt_decoder_feed(d, junk.data + off, n, collect, &g), 0);
        off += n;
    }
    assert_true(g.n > 0);
    assert_string_equal(g.lines[g.n - 1], "ERROR|-|message 99 at error");
    got_free(&g);
    eg_buf_release(&junk);
    eg_buf_release(&wire);
    eg_defmt_decoder_free(d);
    eg_defmt_table_free(t);
}

/* A port that carries only defmt: no markers, frames between zeros. */
static void test_bare_stream(void **state)
{
    eg_defmt_table *t = NULL;
    eg_defmt_decoder *d = NULL;
    eg_buf wire = EG_BUF_INIT;
    got g = {0};
    (void)state;
    assert_int_equal(eg_defmt_table_load(&t, levels_elf(0)), 0);
    assert_int_equal(eg_defmt_decoder_new(&d, t, EG_DEFMT_BARE), 0);
    uint8_t a[] = {4, 0, 1}, b[] = {0x99, 0x09};
    assert_int_equal(eg_buf_append(&wire, "\x00\x00", 2), 0);
    assert_int_equal(sim_defmt_rzcobs(&wire, a, 3), 0);
    assert_int_equal(eg_buf_append(&wire, "\x00\x00", 2), 0);
    assert_int_equal(sim_defmt_rzcobs(&wire, b, 2), 0);
    assert_int_equal(eg_buf_push(&wire, 0), 0);
    a[2] = 2;
    assert_int_equal(sim_defmt_rzcobs(&wire, a, 3), 0);
    assert_int_equal(eg_buf_push(&wire, 0), 0);
    feed_all(d, &wire, 2, &g);
    assert_int_equal(g.n, 3);
    assert_string_equal(g.lines[0], "INFO|-|message 1 at info");
    assert_string_equal(g.lines[1],
                        "!malformed defmt frame (3 bytes): unknown format index 0x0999");
    assert_string_equal(g.lines[2], "INFO|-|message 2 at info");
    assert_int_equal(g.text.len, 0);
    got_free(&g);
    eg_buf_release(&wire);
    eg_defmt_decoder_free(d);
    eg_defmt_table_free(t);
}

/* ---- tables that cannot be read ---- */

static void expect_load(const char *path, int code, const char *part)
{
    eg_defmt_table *t = (eg_defmt_table *)&t;
    eg_error_clear();
    assert_int_equal(eg_defmt_table_load(&t, path), code);
    assert_null(t);
    expect_msg(part);
}

static void test_bad_tables(void **state)
{
    (void)state;
    char *good = json("defmt_info", "x {=u8}", 1);
    char msg[512];

    /* the fixture without defmt, a missing file, no ELF */
    snprintf(msg, sizeof(msg), "no defmt data in '%s' (is defmt linked in?)",
             EG_FIXTURES_DIR "/esp32c3.elf");
    expect_load(EG_FIXTURES_DIR "/esp32c3.elf", EG_ENOTFOUND, msg);
    expect_load(path_of("missing.elf"), EG_ENOTFOUND, "cannot open '");
    expect_msg("missing.elf");
    const char *notelf = path_of("not-an-elf.bin");
    FILE *fp = fopen(notelf, "wb");
    assert_non_null(fp);
    fputs("\xE9 not an elf", fp);
    fclose(fp);
    expect_load(notelf, EG_EINVAL, "not-an-elf.bin' is not an ELF file");

    /* std: the version 4 and rzcobs symbols are added */
    struct {
        const char *file;
        tsym syms[2];
        size_t n;
        int std, defmt, code;
        const char *part;
    } bad[] = {
        {"no-section.elf",
         {{"_defmt_version_ = 4", 0, 1, 0}},
         1,
         0,
         0,
         EG_EINVAL,
         "a defmt version symbol but no .defmt section"},
        {"no-version.elf",
         {{good, 1, 0, 0}, {"_defmt_encoding_ = rzcobs", 0, 1, 0}},
         2,
         0,
         1,
         EG_EINVAL,
         "a .defmt section but no defmt version symbol"},
        {"version-5.elf",
         {{good, 1, 0, 0}, {"_defmt_version_ = 5", 0, 1, 0}},
         2,
         0,
         1,
         EG_EUNSUPPORTED,
         "defmt wire format version 5 is not supported (3 and 4 are)"},
        {"two-versions.elf",
         {{"_defmt_version_ = 3", 0, 1, 0}},
         1,
         1,
         1,
         EG_EINVAL,
         "two defmt versions in use (3 and 4)"},
        {"no-encoding.elf",
         {{good, 1, 0, 0}, {"_defmt_version_ = 4", 0, 1, 0}},
         2,
         0,
         1,
         EG_EINVAL,
         "no defmt encoding symbol (_defmt_encoding_ = rzcobs)"},
        {"raw.elf",
         {{"_defmt_version_ = 4", 0, 1, 0}, {"_defmt_encoding_ = raw", 0, 1, 0}},
         2,
         0,
         1,
         EG_EUNSUPPORTED,
         "defmt encoding 'raw' is not supported"},
        {"bad-json.elf",
         {{"{\"package\":\"p\",\"tag\":", 3, 0, 0}},
         1,
         1,
         1,
         EG_EINVAL,
         "defmt symbol at index 3: its name is no JSON ("},
        {"no-tag.elf",
         {{"{\"package\":\"p\",\"data\":\"x\",\"disambiguator\":\"1\"}", 9, 0, 0}},
         1,
         1,
         1,
         EG_EINVAL,
         "defmt symbol at index 9: its JSON lacks one of"},
        {"not-object.elf",
         {{"[1,2]", 2, 0, 0}},
         1,
         1,
         1,
         EG_EINVAL,
         "defmt symbol at index 2: its name is no JSON object: '[1,2]'"},
        {"big-index.elf",
         {{good, 0x10000, 0, 0}},
         1,
         1,
         1,
         EG_EINVAL,
         "defmt symbol at index 65536: index beyond 65535"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tsym syms[4] = {bad[i].syms[0], bad[i].syms[1]};
        size_t n = bad[i].n;
        if (bad[i].std) {
            syms[n++] = (tsym){"_defmt_version_ = 4", 0, 1, 0};
            syms[n++] = (tsym){"_defmt_encoding_ = rzcobs", 0, 1, 0};
        }
        telf e = {syms, n, NULL, bad[i].defmt ? 0x20000 : 0, NULL};
        const char *p = path_of(bad[i].file);
        write_elf(p, &e);
        expect_load(p, bad[i].code, bad[i].part);
        expect_msg(bad[i].file); /* every message names the file */
    }
    /* two timestamps */
    char *ts1 = json("defmt_timestamp", "{=u8}", 1), *ts2 = json("defmt_timestamp", "{=u16}", 2);
    tsym two[] = {{ts1, 1, 0, 0},
                  {ts2, 2, 0, 0},
                  {"_defmt_version_ = 4", 0, 1, 0},
                  {"_defmt_encoding_ = rzcobs", 0, 1, 0}};
    telf e = {two, 4, NULL, 8, NULL};
    write_elf(path_of("two-ts.elf"), &e);
    expect_load(path_of("two-ts.elf"), EG_EINVAL,
                "two defmt timestamp formats ('{=u8}' and '{=u16}')");
    /* a bitflags value that is not 16 bytes */
    char *bf = strdup("{\"package\":\"p\",\"tag\":\"defmt_bitflags_value\",\"data\":\"F::0::A\","
                      "\"disambiguator\":\"1\",\"crate_name\":\"c\"}");
    tsym bfs[] = {
        {bf, 1, 0, 4}, {"_defmt_version_ = 4", 0, 1, 0}, {"_defmt_encoding_ = rzcobs", 0, 1, 0}};
    telf e2 = {bfs, 3, NULL, 32, NULL};
    write_elf(path_of("bitflags.elf"), &e2);
    expect_load(path_of("bitflags.elf"), EG_EINVAL, "bitflags value does not occupy 16 bytes");
    /* host binaries keep .defmt.* sections unmerged: still read */
    tsym ok[] = {
        {good, 1, 0, 0}, {"_defmt_version_ = 3", 0, 1, 0}, {"_defmt_encoding_ = rzcobs", 0, 1, 0}};
    telf e3 = {ok, 3, NULL, 8, ".defmt.info.x"};
    write_elf(path_of("unmerged.elf"), &e3);
    eg_defmt_table *t = NULL;
    assert_int_equal(eg_defmt_table_load(&t, path_of("unmerged.elf")), 0);
    assert_int_equal(eg_defmt_table_statements(t), 1);
    eg_defmt_table_free(t);
    /* a table without statements loads; every frame is then unknown */
    tsym none[] = {{"_defmt_version_ = 4", 0, 1, 0}, {"_defmt_encoding_ = rzcobs", 0, 1, 0}};
    telf e4 = {none, 2, NULL, 1, NULL};
    write_elf(path_of("empty.elf"), &e4);
    assert_int_equal(eg_defmt_table_load(&t, path_of("empty.elf")), 0);
    assert_int_equal(eg_defmt_table_statements(t), 0);
    eg_defmt_decoder *d = NULL;
    got g = {0};
    assert_int_equal(eg_defmt_decoder_new(&d, t, 0), 0);
    assert_int_equal(
        eg_defmt_decoder_feed(d, (const uint8_t *)"\xFF\x00\x01\x7e\x00", 5, collect, &g), 0);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.lines[0],
                        "!malformed defmt frame (2 bytes): unknown format index 0x0001");
    got_free(&g);
    eg_defmt_decoder_free(d);
    eg_defmt_table_free(t);
    eg_defmt_table_free(NULL);
    free(ts1);
    free(ts2);
    free(bf);
    free(good);
}

/* ---- output formats ---- */

static void fmt_line(const eg_defmt_format *f, const eg_defmt_line *l, unsigned flags, char *out,
                     size_t cap)
{
    eg_buf b = EG_BUF_INIT;
    assert_int_equal(eg_defmt_format_line(f, l, flags, &b), 0);
    snprintf(out, cap, "%.*s", (int)b.len, b.data ? (const char *)b.data : "");
    eg_buf_release(&b);
}

static void test_output_format(void **state)
{
    eg_defmt_table *t0 = NULL, *t1 = NULL;
    eg_defmt_format *f = NULL;
    char out[512];
    (void)state;
    assert_int_equal(eg_defmt_table_load(&t0, levels_elf(0)), 0);
    assert_int_equal(eg_defmt_table_load(&t1, levels_elf(1)), 0);

    eg_defmt_line info = {.kind = EG_DEFMT_FRAME,
                          .level = EG_DEFMT_INFO,
                          .timestamp = "1.234",
                          .message = "hello",
                          .file = "/home/u/app/src/sensor/temp.rs",
                          .line = 42,
                          .module = "app::sensor::read"};
    eg_defmt_line bare = {.kind = EG_DEFMT_FRAME, .level = EG_DEFMT_WARN, .message = "m"};

    /* espflash's default and "full", with and without timestamp */
    assert_int_equal(eg_defmt_format_new(&f, NULL, t1), 0);
    assert_null(eg_defmt_format_warning(f));
    fmt_line(f, &info, 0, out, sizeof(out));
    assert_string_equal(out, "1.234 [INFO ] hello");
    fmt_line(f, &info, EG_DEFMT_COLOR, out, sizeof(out));
    assert_string_equal(out, "1.234 \x1b[1m[\x1b[32mINFO \x1b[0m\x1b[1m]\x1b[0m hello");
    eg_defmt_format_free(f);
    assert_int_equal(eg_defmt_format_new(&f, "oneline", t0), 0);
    fmt_line(f, &bare, 0, out, sizeof(out));
    assert_string_equal(out, "[WARN ] m");
    eg_defmt_format_free(f);
    assert_int_equal(eg_defmt_format_new(&f, "full", t1), 0);
    fmt_line(f, &info, 0, out, sizeof(out));
    assert_string_equal(out, "1.234 INFO  hello");
    eg_defmt_format_free(f);

    /* every specifier and parameter; a 0 width pads with zeros on the side the
     * alignment leaves (left by default), as Rust's fill does */
    static const struct {
        const char *spec;
        const char *want, *want_bare;
    } cases[] = {
        {"{s}", "hello", "m"},
        {"{t}|{L}|{s}", "1.234|INFO |hello", "<time>|WARN |m"},
        {"{F}:{l} {s}", "/home/u/app/src/sensor/temp.rs:42   hello", "<file>:0    m"},
        {"{f}|{ff}|{fff}|{ffffffffff} {s}",
         "temp.rs|sensor/temp.rs|src/sensor/temp.rs|//home/u/app/src/sensor/temp.rs hello",
         "<file>|<file>|<file>|<file> m"},
        {"{m} {c} {s}", "app::sensor::read app hello", "<mod path> <crate> m"},
        {"{L:>7}|{L:^8}|{L:<2}|{l:03}|{l:>03}|{l:>5} {s}",
         "   INFO|  INFO  |INFO|420|042|   42 hello", "   WARN|  WARN  |WARN|000|000|    0 m"},
        {"{[{L}]%<9}|{({c} {l:1})%>12} {s}", "[INFO ]  |    (app 42) hello",
         "[WARN ]  | (<crate> 0) m"},
        {"> {s:>8} <", ">    hello <", ">        m <"},
        {"{L:>06} {s}", "00INFO hello", "00WARN m"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (eg_defmt_format_new(&f, cases[i].spec, t1) != 0)
            fail_msg("'%s': %s", cases[i].spec, eg_error_msg());
        fmt_line(f, &info, 0, out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("'%s': got '%s' want '%s'", cases[i].spec, out, cases[i].want);
        fmt_line(f, &bare, 0, out, sizeof(out));
        if (strcmp(out, cases[i].want_bare) != 0)
            fail_msg("'%s' (no location): got '%s' want '%s'", cases[i].spec, out,
                     cases[i].want_bare);
        eg_defmt_format_free(f);
    }

    /* colours */
    assert_int_equal(eg_defmt_format_new(&f, "{s:red} {L:werror} {s:bold:underline:green}", t1), 0);
    fmt_line(f, &info, EG_DEFMT_COLOR, out, sizeof(out));
    assert_string_equal(out, "\x1b[31mhello\x1b[0m INFO  \x1b[1;4;32mhello\x1b[0m");
    eg_defmt_line err = info;
    err.level = EG_DEFMT_ERROR;
    fmt_line(f, &err, EG_DEFMT_COLOR, out, sizeof(out));
    assert_string_equal(out, "\x1b[31mhello\x1b[0m \x1b[31mERROR\x1b[0m \x1b[1;4;32mhello\x1b[0m");
    fmt_line(f, &err, 0, out, sizeof(out));
    assert_string_equal(out, "hello ERROR hello");
    eg_defmt_format_free(f);

    /* println: the message alone; malformed: its message; text: nothing */
    assert_int_equal(eg_defmt_format_new(&f, "{t} [{L}] {s} {F}", t1), 0);
    eg_defmt_line pl = {.kind = EG_DEFMT_FRAME, .level = EG_DEFMT_PRINTLN, .message = "plain"};
    fmt_line(f, &pl, EG_DEFMT_COLOR, out, sizeof(out));
    assert_string_equal(out, "plain");
    eg_defmt_line bad = {.kind = EG_DEFMT_MALFORMED,
                         .message = "malformed defmt frame (1 byte): x"};
    fmt_line(f, &bad, 0, out, sizeof(out));
    assert_string_equal(out, "malformed defmt frame (1 byte): x");
    eg_defmt_line txt = {.kind = EG_DEFMT_TEXT, .text = (const uint8_t *)"t", .text_len = 1};
    fmt_line(f, &txt, 0, out, sizeof(out));
    assert_string_equal(out, "");
    eg_defmt_format_free(f);

    /* warnings about {t} */
    assert_int_equal(eg_defmt_format_new(&f, "{L} {s}", t1), 0);
    assert_non_null(strstr(eg_defmt_format_warning(f), "does not show it ({t})"));
    eg_defmt_format_free(f);
    assert_int_equal(eg_defmt_format_new(&f, "{t} {s}", t0), 0);
    assert_non_null(strstr(eg_defmt_format_warning(f), "has no defmt timestamp"));
    eg_defmt_format_free(f);

    /* bad formats: what and where */
    static const struct {
        const char *spec, *part;
    } bad_specs[] = {
        {"{q} {s}", "unknown specifier or parameter at column 2"},
        {"{s", "an unmatched '{' at column 1"},
        {"{t}", "no {s} (the message) in it"},
        {"{s:bold:bold}", "a style given twice at column 9"},
        {"{s:red:blue}", "two colours at column 8"},
        {"{s:3:4}", "two widths at column 6"},
        {"{s:>}", "an alignment without a width at column 5"},
        {"{s:1x}", "a bad width at column 5"},
        {"{s} % x", "a '%' outside a group at column 5"},
        {"{s} }", "an unmatched '}' at column 5"},
        {"{s:L}", "two specifiers in one segment at column 4"},
        {"{[{x}]%bold} {s}", "unknown specifier or parameter at column 4"},
        {"{a%{s}}", "a group without a specifier at column 2"},
        {"{:red} {s}", "an empty parameter at column 2"},
        {"{red} {s}", "a segment without a specifier at column 2"},
        {"{[{L}]%purpl} {s}", "unknown specifier or parameter at column 8"},
    };
    for (size_t i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++) {
        f = (eg_defmt_format *)&f;
        eg_error_clear();
        assert_int_equal(eg_defmt_format_new(&f, bad_specs[i].spec, t1), EG_EINVAL);
        assert_null(f);
        char head[160];
        snprintf(head, sizeof(head), "output format '%s': ", bad_specs[i].spec);
        expect_msg(head);
        expect_msg(bad_specs[i].part);
    }
    eg_defmt_table_free(t0);
    eg_defmt_table_free(t1);
}

/* ---- the round trip over the fixture ---- */

/* What `espgang monitor -L defmt -F '{t} {L} {s}'` shows for the fixture app, written
 * here from tools/espsim/defmt_out.h's list, not computed. */
static const char *const FIXTURE_LINES[] = {
    "defmt fixture for esp32c3, wire format 4",
    "1.250000 TRACE entering main loop",
    "1.500000 DEBUG u8=200 u16=65535 u32=4000000000 u64=18446744073709551615",
    "1.750000 INFO  i8=-128 i16=-32768 i32=-2147483648 i64=-9223372036854775808",
    "2.000000 WARN  flags true false, ratio 0.5, precise 3.141592653589793",
    "2.250000 ERROR code 0x002a mask 0b00000101 mode 10 id DEADBEEF",
    "2.500000 INFO  bytes [1, 2, 3] head [0xde, 0xad, 0xbe, 0xef] ascii b\"OK\\r\\n\"",
    "2.750000 INFO  reading Reading { celsius: 21.5, ok: true }",
    "3.000000 INFO  state Some(7) / None",
    "3.250000 WARN  hex ff 0x1000 debug -3 str \"tab\\there\"",
    "3.500000 INFO  samples [-1, 0, 1]",
    "3.750000 INFO  char é usize 123456 isize -42",
    "4.000000 INFO  uptime 01:02:03.004 elapsed 1.500",
    "4.250000 DEBUG config Config { retries: 3 }",
    "TEXT esp_println::println! between frames\r\n",
    "4.500000 INFO  status 1011 ready 1",
    "4.750000 ERROR ====================== PANIC ======================",
    "5.000000 ERROR panicked at src/main.rs:42:5",
    "5.250000 ERROR Backtrace:",
    "5.500000 ERROR 0x42000a3c",
    "5.750000 ERROR 0x42001b2e",
};

typedef struct rt_ctx {
    const eg_defmt_format *f;
    unsigned flags;
    char lines[32][512];
    eg_defmt_line raw[32];
    char modules[32][64];
    size_t n;
    eg_buf pending; /* text not yet ended by a line */
} rt_ctx;

static void rt_collect(void *ctx, const eg_defmt_line *l)
{
    rt_ctx *r = ctx;
    if (l->kind == EG_DEFMT_TEXT) {
        /* lines of text, as a monitor would show them */
        assert_int_equal(eg_buf_append(&r->pending, l->text, l->text_len), 0);
        uint8_t *nl;
        while ((nl = memchr(r->pending.data, '\n', r->pending.len)) != NULL) {
            size_t n = (size_t)(nl - r->pending.data) + 1;
            assert_true(r->n < 32);
            snprintf(r->lines[r->n++], sizeof(r->lines[0]), "TEXT %.*s", (int)n, r->pending.data);
            memmove(r->pending.data, r->pending.data + n, r->pending.len - n);
            r->pending.len -= n;
        }
        return;
    }
    eg_buf b = EG_BUF_INIT;
    assert_true(r->n < 32);
    assert_int_equal(eg_defmt_format_line(r->f, l, r->flags, &b), 0);
    snprintf(r->lines[r->n], sizeof(r->lines[0]), "%.*s", (int)b.len, b.data);
    r->raw[r->n] = *l;
    snprintf(r->modules[r->n], sizeof(r->modules[0]), "%s", l->module ? l->module : "(null)");
    r->n++;
    eg_buf_release(&b);
}

/* The line of the fixture source that holds needle. */
static unsigned source_line(const char *needle)
{
    FILE *fp = fopen(EG_SOURCE_DIR "/tools/fixtures/defmt_app.cc", "r");
    char buf[512];
    unsigned n = 0, found = 0;
    assert_non_null(fp);
    while (fgets(buf, sizeof(buf), fp)) {
        n++;
        if (strstr(buf, needle)) {
            assert_int_equal(found, 0); /* once only */
            found = n;
        }
    }
    fclose(fp);
    assert_int_not_equal(found, 0);
    return found;
}

static void test_fixture_round_trip(void **state)
{
    const char *elf = EG_FIXTURES_DIR "/esp32c3-meta-defmt.elf";
    eg_defmt_table *t = NULL;
    eg_defmt_format *f = NULL;
    sim_defmt_output o;
    (void)state;
    memset(&o, 0, sizeof(o));
    if (eg_defmt_table_load(&t, elf) != 0)
        fail_msg("%s", eg_error_msg());
    assert_int_equal(eg_defmt_table_statements(t), 19);
    assert_int_equal(eg_defmt_table_has_timestamp(t), 1);
    assert_int_equal(eg_defmt_table_locations(t), EG_DEFMT_LOCATIONS_ALL);
    if (sim_defmt_output_make(&o, elf) != 0)
        fail_msg("%s", eg_error_msg());
    assert_int_equal(o.n, SIM_DEFMT_CALLS);
    assert_int_equal(o.ends[o.n - 1], o.bytes.len);
    /* esp-println: the first frame has one more 0x00 */
    assert_memory_equal(o.bytes.data, "\xFF\x00\x00", 3);
    assert_memory_equal(o.bytes.data + o.ends[0], "\xFF\x00", 2);
    assert_int_not_equal(o.bytes.data[o.ends[0] + 2], 0);

    assert_int_equal(eg_defmt_format_new(&f, "{t} {L} {s}", t), 0);
    size_t chunks[] = {o.bytes.len + 100, 1, 2, 7, 64};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        eg_defmt_decoder *d = NULL;
        rt_ctx r;
        memset(&r, 0, sizeof(r));
        r.f = f;
        assert_int_equal(eg_defmt_decoder_new(&d, t, 0), 0);
        const char *boot = "ESP-ROM:esp32c3-api1-20210207\r\n";
        assert_int_equal(
            eg_defmt_decoder_feed(d, (const uint8_t *)boot, strlen(boot), rt_collect, &r), 0);
        for (size_t off = 0; off < o.bytes.len; off += chunks[c]) {
            size_t n = o.bytes.len - off < chunks[c] ? o.bytes.len - off : chunks[c];
            assert_int_equal(eg_defmt_decoder_feed(d, o.bytes.data + off, n, rt_collect, &r), 0);
        }
        assert_int_equal(r.n, 1 + sizeof(FIXTURE_LINES) / sizeof(FIXTURE_LINES[0]));
        assert_string_equal(r.lines[0], "TEXT ESP-ROM:esp32c3-api1-20210207\r\n");
        for (size_t i = 0; i < sizeof(FIXTURE_LINES) / sizeof(FIXTURE_LINES[0]); i++) {
            if (strcmp(r.lines[1 + i], FIXTURE_LINES[i]) != 0)
                fail_msg("chunks of %zu, line %zu:\n got '%s'\nwant '%s'", chunks[c], i,
                         r.lines[1 + i], FIXTURE_LINES[i]);
        }
        /* locations: the statement's file, line and module from the DWARF */
        if (c == 0) {
            assert_string_equal(r.modules[2], "defmt_fixture::app::run");
            assert_string_equal(r.modules[18], "defmt_fixture::panic::report");
            assert_int_equal(r.raw[2].line, source_line("LOG(trace, \"3\""));
            assert_int_equal(r.raw[17].line, source_line("LOG(error, \"25\""));
            assert_int_equal(r.raw[20].line, source_line("LOG(error, \"31\""));
            assert_non_null(strstr(r.raw[2].file, "tools/fixtures/defmt_app.cc"));
        }
        eg_buf_release(&r.pending);
        eg_defmt_decoder_free(d);
    }
    eg_defmt_format_free(f);

    /* espflash's default format with locations */
    assert_int_equal(eg_defmt_format_new(&f, NULL, t), 0);
    eg_defmt_decoder *d = NULL;
    rt_ctx r;
    memset(&r, 0, sizeof(r));
    r.f = f;
    assert_int_equal(eg_defmt_decoder_new(&d, t, 0), 0);
    assert_int_equal(eg_defmt_decoder_feed(d, o.bytes.data, o.bytes.len, rt_collect, &r), 0);
    char want[256];
    snprintf(want, sizeof(want),
             "1.250000 [TRACE] entering main loop (defmt_fixture tools/fixtures/defmt_app.cc:%u)",
             source_line("LOG(trace, \"3\""));
    assert_string_equal(r.lines[1], want);
    assert_string_equal(r.lines[0], "defmt fixture for esp32c3, wire format 4");
    eg_buf_release(&r.pending);
    eg_defmt_decoder_free(d);
    eg_defmt_format_free(f);
    sim_defmt_output_free(&o);
    eg_defmt_table_free(t);
}

/* espsim refuses an ELF that is not the fixture, naming what is missing. */
static void test_encoder_errors(void **state)
{
    sim_defmt_output o;
    (void)state;
    memset(&o, 0, sizeof(o));
    assert_int_equal(sim_defmt_output_make(&o, EG_FIXTURES_DIR "/esp32c3.elf"), EG_EINVAL);
    expect_msg("esp32c3.elf': no defmt rzcobs encoding");
    assert_int_equal(sim_defmt_output_make(&o, levels_elf(1)), EG_EINVAL);
    expect_msg(
        "no defmt_timestamp string \"{=u64:us}\" in its defmt table (not the defmt fixture?)");
    assert_int_equal(sim_defmt_output_make(&o, path_of("missing.elf")), EG_ENOTFOUND);
    sim_defmt_output_free(&o);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rzcobs_vectors),
        cmocka_unit_test(test_rzcobs_encoder),
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_random_frames),
        cmocka_unit_test(test_levels_and_timestamps),
        cmocka_unit_test(test_text_and_frames),
        cmocka_unit_test(test_malformed_and_resync),
        cmocka_unit_test(test_bare_stream),
        cmocka_unit_test(test_bad_tables),
        cmocka_unit_test(test_output_format),
        cmocka_unit_test(test_fixture_round_trip),
        cmocka_unit_test(test_encoder_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
