/* espsim's defmt encoder: the fixture application's log calls as bytes on the wire.
 * Written from defmt's encoding rules (defmt/src/encoding/rzcobs.rs, export/mod.rs),
 * independently of espgang's decoder. */
#include "defmt_out.h"

#include "core/error.h"

#include <gelf.h>
#include <jansson.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

/* The strings the sequence refers to, by tag and text. */
enum {
    F_TS,
    F_PRINTLN,
    F_TRACE,
    F_UNSIGNED,
    F_SIGNED,
    F_FLOATS,
    F_HINTS,
    F_BYTES,
    F_READING,
    F_STATE,
    F_NESTED_HINTS,
    F_SAMPLES,
    F_CHAR,
    F_TIMES,
    F_CONFIG,
    F_BITS,
    F_BANNER,
    F_PANIC,
    F_BACKTRACE,
    F_ADDR,
    P_U32,
    P_USIZE,
    P_I16,
    P_OPTION,
    P_U16,
    P_SEQUENCE,
    P_DEBUG,
    S_MAIN_LOOP,
    D_READING,
    W_PANICKED,
    W_LOCATION,
    F_COUNT,
};

static const struct {
    const char *tag, *data;
} WANTED[F_COUNT] = {
    [F_TS] = {"defmt_timestamp", "{=u64:us}"},
    [F_PRINTLN] = {"defmt_println", "defmt fixture for {=str}, wire format {=u8}"},
    [F_TRACE] = {"defmt_trace", "entering {=istr}"},
    [F_UNSIGNED] = {"defmt_debug", "u8={=u8} u16={=u16} u32={=u32} u64={=u64}"},
    [F_SIGNED] = {"defmt_info", "i8={=i8} i16={=i16} i32={=i32} i64={=i64}"},
    [F_FLOATS] = {"defmt_warn", "flags {=bool} {=bool}, ratio {=f32}, precise {=f64}"},
    [F_HINTS] = {"defmt_error", "code {=u16:#06x} mask {=u8:#010b} mode {=u8:o} id {=u32:X}"},
    [F_BYTES] = {"defmt_info", "bytes {=[u8]} head {=[u8; 4]:#04x} ascii {=[u8]:a}"},
    [F_READING] = {"defmt_info", "reading {}"},
    [F_STATE] = {"defmt_info", "state {} / {}"},
    [F_NESTED_HINTS] = {"defmt_warn", "hex {:x} {:#x} debug {:?} str {=str:?}"},
    [F_SAMPLES] = {"defmt_info", "samples {=[?]}"},
    [F_CHAR] = {"defmt_info", "char {=char} usize {=usize} isize {=isize}"},
    [F_TIMES] = {"defmt_info", "uptime {=u32:tms} elapsed {=u32:ms}"},
    [F_CONFIG] = {"defmt_debug", "config {}"},
    [F_BITS] = {"defmt_info", "status {0=0..4:b} ready {0=7..8}"},
    [F_BANNER] = {"defmt_error", "====================== PANIC ======================"},
    [F_PANIC] = {"defmt_error", "{}"},
    [F_BACKTRACE] = {"defmt_error", "Backtrace:"},
    [F_ADDR] = {"defmt_error", "0x{:x}"},
    [P_U32] = {"defmt_prim", "{=u32}"},
    [P_USIZE] = {"defmt_prim", "{=usize}"},
    [P_I16] = {"defmt_prim", "{=i16}"},
    [P_OPTION] = {"defmt_prim", "None|Some({=?})"},
    [P_U16] = {"defmt_prim", "{=u16}"},
    [P_SEQUENCE] = {"defmt_prim", "{=__internal_FormatSequence}"},
    [P_DEBUG] = {"defmt_prim", "{=__internal_Debug}"},
    [S_MAIN_LOOP] = {"defmt_str", "main loop"},
    [D_READING] = {"defmt_derived", "Reading {{ celsius: {=f32:?}, ok: {=bool:?} }}"},
    [W_PANICKED] = {"defmt_write", "panicked at {}"},
    [W_LOCATION] = {"defmt_write", "{=str}:{=u32}:{=u32}"},
};

/* The frame under construction, before rzcobs. */
typedef struct frame {
    uint8_t b[512];
    size_t n;
} frame;

static void w8(frame *f, uint8_t v)
{
    if (f->n < sizeof(f->b))
        f->b[f->n++] = v;
}

static void wle(frame *f, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        w8(f, (uint8_t)(v >> (8 * i)));
}

static void wstr(frame *f, const char *s)
{
    size_t n = strlen(s);
    wle(f, n, 4);
    for (size_t i = 0; i < n; i++)
        w8(f, (uint8_t)s[i]);
}

static void wf32(frame *f, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    wle(f, bits, 4);
}

static void wf64(frame *f, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    wle(f, bits, 8);
}

/* rzcobs, front to back: up to seven bytes share one code byte whose bits mark the
 * zeros among them (bit i for the i-th byte); a run of 7 to 133 non-zero bytes followed
 * by a zero is the bytes and 0x80 | (run - 7); 134 non-zero bytes in a row are the
 * bytes and 0xFF. */
int sim_defmt_rzcobs(eg_buf *out, const uint8_t *p, size_t n)
{
    unsigned run = 0, zeros = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (run < 7) {
            if (b == 0)
                zeros |= 1u << run;
            else if (eg_buf_push(out, b) != 0)
                return EG_ENOMEM;
            run++;
            if (run == 7 && zeros != 0) {
                if (eg_buf_push(out, (uint8_t)zeros) != 0)
                    return EG_ENOMEM;
                run = zeros = 0;
            }
        } else if (b == 0) {
            if (eg_buf_push(out, (uint8_t)(0x80 | (run - 7))) != 0)
                return EG_ENOMEM;
            run = zeros = 0;
        } else {
            if (eg_buf_push(out, b) != 0)
                return EG_ENOMEM;
            if (++run == 134) {
                if (eg_buf_push(out, 0xFF) != 0)
                    return EG_ENOMEM;
                run = zeros = 0;
            }
        }
    }
    /* the last, partial group: positions past the end count as zeros */
    if (run > 0 && run < 7) {
        if (eg_buf_push(out, (uint8_t)((zeros | (0x7Fu << run)) & 0x7F)) != 0)
            return EG_ENOMEM;
    } else if (run >= 7) {
        if (eg_buf_push(out, (uint8_t)(0x80 | (run - 7))) != 0)
            return EG_ENOMEM;
    }
    return 0;
}

typedef struct enc {
    sim_defmt_output *out;
    uint16_t idx[F_COUNT];
    int started;
    uint64_t now_us;
} enc;

static frame start(enc *e, int statement)
{
    frame f = {.n = 0};
    wle(&f, e->idx[statement], 2);
    wle(&f, e->now_us, 8); /* the timestamp: {=u64:us} */
    e->now_us += 250000;
    return f;
}

static int finish(enc *e, const frame *f)
{
    eg_buf *b = &e->out->bytes;
    if (eg_buf_append(b, "\xFF\x00", 2) != 0 || (!e->started && eg_buf_push(b, 0) != 0) ||
        sim_defmt_rzcobs(b, f->b, f->n) != 0 || eg_buf_push(b, 0) != 0)
        return eg_error_set(EG_ENOMEM, "out of memory");
    e->started = 1;
    e->out->ends[e->out->n++] = b->len;
    return 0;
}

static int text(enc *e, const char *s)
{
    if (eg_buf_append(&e->out->bytes, s, strlen(s)) != 0)
        return eg_error_set(EG_ENOMEM, "out of memory");
    e->out->ends[e->out->n++] = e->out->bytes.len;
    return 0;
}

/* Finds every WANTED string among the symbols of the ELF's .defmt sections. */
static int read_table(enc *e, const char *path)
{
    eg_buf file = EG_BUF_INIT;
    Elf *elf = NULL;
    int rc, found[F_COUNT] = {0}, rzcobs = 0;
    size_t shstrndx;

    if ((rc = eg_buf_read_file(&file, path)) != 0)
        return rc;
    if (elf_version(EV_CURRENT) == EV_NONE || !(elf = elf_memory((char *)file.data, file.len)) ||
        elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx) != 0) {
        rc = eg_error_set(EG_EINVAL, "'%s' is not an ELF file", path);
        goto done;
    }
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym sym;
            GElf_Shdr ssh;
            Elf_Scn *sscn;
            const char *name, *sname;
            if (!gelf_getsym(d, (int)i, &sym) || !(name = elf_strptr(elf, sh.sh_link, sym.st_name)))
                continue;
            if (strcmp(name, "_defmt_encoding_ = rzcobs") == 0)
                rzcobs = 1;
            if (name[0] != '{' || !(sscn = elf_getscn(elf, sym.st_shndx)) ||
                !gelf_getshdr(sscn, &ssh) || !(sname = elf_strptr(elf, shstrndx, ssh.sh_name)) ||
                strncmp(sname, ".defmt", 6) != 0)
                continue;
            json_t *j = json_loads(name, 0, NULL);
            const char *tag = json_string_value(json_object_get(j, "tag"));
            const char *data = json_string_value(json_object_get(j, "data"));
            for (int k = 0; tag && data && k < F_COUNT; k++) {
                if (strcmp(tag, WANTED[k].tag) == 0 && strcmp(data, WANTED[k].data) == 0) {
                    e->idx[k] = (uint16_t)sym.st_value;
                    found[k] = 1;
                }
            }
            json_decref(j);
        }
    }
    if (!rzcobs) {
        rc = eg_error_set(EG_EINVAL, "'%s': no defmt rzcobs encoding (_defmt_encoding_ = rzcobs)",
                          path);
        goto done;
    }
    for (int k = 0; k < F_COUNT; k++) {
        if (!found[k]) {
            rc = eg_error_set(EG_EINVAL,
                              "'%s': no %s string \"%s\" in its defmt table (not the defmt "
                              "fixture?)",
                              path, WANTED[k].tag, WANTED[k].data);
            goto done;
        }
    }
    rc = 0;
done:
    if (elf)
        elf_end(elf);
    eg_buf_release(&file);
    return rc;
}

int sim_defmt_output_make(sim_defmt_output *out, const char *elf_path)
{
    enc e = {.out = out, .now_us = 1000000};
    frame f;
    int rc;

    out->n = 0;
    eg_buf_clear(&out->bytes);
    if ((rc = read_table(&e, elf_path)) != 0)
        return rc;

    f = start(&e, F_PRINTLN); /* 1 */
    wstr(&f, "esp32c3");
    w8(&f, 4);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_TRACE); /* 2 */
    wle(&f, e.idx[S_MAIN_LOOP], 2);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_UNSIGNED); /* 3 */
    w8(&f, 200);
    wle(&f, 65535, 2);
    wle(&f, 4000000000u, 4);
    wle(&f, UINT64_MAX, 8);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_SIGNED); /* 4: two's complement */
    w8(&f, 0x80);
    wle(&f, 0x8000, 2);
    wle(&f, 0x80000000u, 4);
    wle(&f, (uint64_t)1 << 63, 8);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_FLOATS); /* 5 */
    w8(&f, 1);
    w8(&f, 0);
    wf32(&f, 0.5f);
    wf64(&f, 3.141592653589793);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_HINTS); /* 6 */
    wle(&f, 0x2a, 2);
    w8(&f, 5);
    w8(&f, 8);
    wle(&f, 0xdeadbeefu, 4);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_BYTES); /* 7 */
    wle(&f, 3, 4);
    w8(&f, 1);
    w8(&f, 2);
    w8(&f, 3);
    wle(&f, 0xefbeadde, 4); /* de ad be ef */
    wstr(&f, "OK\r\n");
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_READING); /* 8: a derived Format */
    wle(&f, e.idx[D_READING], 2);
    wf32(&f, 21.5f);
    w8(&f, 1);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_STATE); /* 9: Option<u16>: Some(7), None */
    wle(&f, e.idx[P_OPTION], 2);
    w8(&f, 1);
    wle(&f, e.idx[P_U16], 2);
    wle(&f, 7, 2);
    wle(&f, e.idx[P_OPTION], 2);
    w8(&f, 0);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_NESTED_HINTS); /* 10 */
    wle(&f, e.idx[P_U32], 2);
    wle(&f, 255, 4);
    wle(&f, e.idx[P_USIZE], 2);
    wle(&f, 4096, 4);
    wle(&f, e.idx[P_I16], 2);
    wle(&f, 0xFFFD, 2);
    wstr(&f, "tab\there");
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_SAMPLES); /* 11: [i16] */
    wle(&f, 3, 4);
    wle(&f, e.idx[P_I16], 2);
    wle(&f, 0xFFFF, 2);
    wle(&f, 0, 2);
    wle(&f, 1, 2);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_CHAR); /* 12 */
    wle(&f, 0xE9, 4);
    wle(&f, 123456, 4);
    wle(&f, (uint32_t)-42, 4);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_TIMES); /* 13 */
    wle(&f, 3723004, 4);
    wle(&f, 1500, 4);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_CONFIG); /* 14: Debug2Format */
    wle(&f, e.idx[P_DEBUG], 2);
    for (const char *s = "Config { retries: 3 }"; *s; s++)
        w8(&f, (uint8_t)*s);
    w8(&f, 0xFF);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    if ((rc = text(&e, "esp_println::println! between frames\r\n")) != 0)
        return rc;

    f = start(&e, F_BITS); /* 15: one u8 holds both bit fields */
    w8(&f, 0x8B);
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_BANNER); /* 16 */
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_PANIC); /* 17: PanicInfo's Format impl: write! calls */
    wle(&f, e.idx[P_SEQUENCE], 2);
    wle(&f, e.idx[W_PANICKED], 2);
    wle(&f, e.idx[P_SEQUENCE], 2); /* its {}: core::panic::Location */
    wle(&f, e.idx[W_LOCATION], 2);
    wstr(&f, "src/main.rs");
    wle(&f, 42, 4);
    wle(&f, 5, 4);
    wle(&f, 0, 2); /* end of Location's writes */
    wle(&f, 0, 2); /* end of PanicInfo's writes */
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    f = start(&e, F_BACKTRACE); /* 18 */
    if ((rc = finish(&e, &f)) != 0)
        return rc;

    static const uint32_t addrs[] = {0x42000a3c, 0x42001b2e};
    for (int i = 0; i < 2; i++) { /* 19, 20 */
        f = start(&e, F_ADDR);
        wle(&f, e.idx[P_USIZE], 2);
        wle(&f, addrs[i], 4);
        if ((rc = finish(&e, &f)) != 0)
            return rc;
    }
    return 0;
}

void sim_defmt_output_free(sim_defmt_output *out)
{
    eg_buf_release(&out->bytes);
    out->n = 0;
}
