/* The table model: type and subtype names, validation, the default table, lookups. */
#include "partition/internal.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OTADATA_SIZE    0x2000u
#define NVS_RW_MIN_SIZE 0x3000u
#define APP_ALIGN       0x10000u
#define DATA_ALIGN      0x1000u
#define APP_SIZE_ALIGN  0x1000u

typedef struct name_value {
    const char *name;
    uint8_t value;
} name_value;

static const name_value type_names[] = {
    {"app", EG_PARTITION_TYPE_APP},
    {"data", EG_PARTITION_TYPE_DATA},
    {"bootloader", EG_PARTITION_TYPE_BOOTLOADER},
    {"partition_table", EG_PARTITION_TYPE_PARTITION_TABLE},
};

static const name_value app_subtypes[] = {
    {"factory", 0x00}, {"test", 0x20},   {"ota_0", 0x10},  {"ota_1", 0x11},  {"ota_2", 0x12},
    {"ota_3", 0x13},   {"ota_4", 0x14},  {"ota_5", 0x15},  {"ota_6", 0x16},  {"ota_7", 0x17},
    {"ota_8", 0x18},   {"ota_9", 0x19},  {"ota_10", 0x1A}, {"ota_11", 0x1B}, {"ota_12", 0x1C},
    {"ota_13", 0x1D},  {"ota_14", 0x1E}, {"ota_15", 0x1F}, {"tee_0", 0x30},  {"tee_1", 0x31},
};

static const name_value data_subtypes[] = {
    {"ota", 0x00},      {"phy", 0x01},    {"nvs", 0x02},       {"coredump", 0x03},
    {"nvs_keys", 0x04}, {"efuse", 0x05},  {"undefined", 0x06}, {"esphttpd", 0x80},
    {"fat", 0x81},      {"spiffs", 0x82}, {"littlefs", 0x83},  {"tee_ota", 0x90},
};

static const name_value bootloader_subtypes[] = {
    {"primary", 0x00},
    {"ota", 0x01},
    {"recovery", 0x02},
};

static const name_value table_subtypes[] = {
    {"primary", 0x00},
    {"ota", 0x01},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The subtype names of a type; NULL for types without any. */
static const name_value *subtypes_of(uint8_t type, size_t *n, const char **known)
{
    switch (type) {
    case EG_PARTITION_TYPE_APP:
        *n = COUNT(app_subtypes);
        *known = "factory, ota_0..ota_15, test, tee_0, tee_1";
        return app_subtypes;
    case EG_PARTITION_TYPE_DATA:
        *n = COUNT(data_subtypes);
        *known = "ota, phy, nvs, coredump, nvs_keys, efuse, undefined, esphttpd, fat, spiffs, "
                 "littlefs, tee_ota";
        return data_subtypes;
    case EG_PARTITION_TYPE_BOOTLOADER:
        *n = COUNT(bootloader_subtypes);
        *known = "primary, ota, recovery";
        return bootloader_subtypes;
    case EG_PARTITION_TYPE_PARTITION_TABLE:
        *n = COUNT(table_subtypes);
        *known = "primary, ota";
        return table_subtypes;
    default:
        *n = 0;
        *known = "";
        return NULL;
    }
}

void eg_partition_opts_default(eg_partition_opts *out)
{
    out->table_offset = EG_PARTITION_TABLE_OFFSET;
    out->flash_size = 0;
    out->bootloader_offset = EG_PARTITION_OFFSET_UNKNOWN;
    out->recovery_offset = EG_PARTITION_OFFSET_UNKNOWN;
}

int eg_partition_check_opts(const eg_partition_opts *o)
{
    if (o->table_offset % EG_PARTITION_TABLE_SECTOR != 0)
        return eg_error_set(EG_EINVAL, "partition table offset 0x%x is not aligned to 0x%x",
                            o->table_offset, EG_PARTITION_TABLE_SECTOR);
    if (o->table_offset > UINT32_MAX - EG_PARTITION_TABLE_SECTOR)
        return eg_error_set(EG_EINVAL, "partition table offset 0x%x is beyond 4 GiB",
                            o->table_offset);
    if (o->flash_size != 0 && o->table_offset + EG_PARTITION_TABLE_SECTOR > o->flash_size)
        return eg_error_set(EG_EINVAL,
                            "partition table offset 0x%x does not fit a flash of 0x%x bytes",
                            o->table_offset, o->flash_size);
    if (o->bootloader_offset != EG_PARTITION_OFFSET_UNKNOWN &&
        o->bootloader_offset >= o->table_offset)
        return eg_error_set(EG_EINVAL,
                            "bootloader offset 0x%x is not below the partition table offset 0x%x",
                            o->bootloader_offset, o->table_offset);
    return 0;
}

int eg_partition_number(uint64_t *out, const char *s, int suffixes, uint64_t max)
{
    const char *p = s;
    size_t len = strlen(s);
    uint64_t v = 0, mult = 1;
    unsigned base = 10;
    int digits = 0;

    *out = 0;
    if (suffixes && len > 0) {
        char last = s[len - 1];
        if (last == 'k' || last == 'K')
            mult = 1024;
        else if (last == 'm' || last == 'M')
            mult = 1024 * 1024;
        if (mult != 1)
            len--;
    }
    if (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
        len -= 2;
    } else if (len >= 2 && p[0] == '0') {
        return EG_PARTITION_NUM_BAD; /* Python refuses leading zeros, octal-looking */
    }
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return EG_PARTITION_NUM_BAD;
        v = v * base + d;
        if (v > max)
            return EG_PARTITION_NUM_BIG;
        digits++;
    }
    if (digits == 0)
        return EG_PARTITION_NUM_BAD;
    if (v > max / mult)
        return EG_PARTITION_NUM_BIG;
    *out = v * mult;
    return EG_PARTITION_NUM_OK;
}

int eg_partition_type_parse(uint8_t *out, const char *s)
{
    uint64_t v;
    int r;

    *out = 0;
    if (!*s)
        return eg_error_set(EG_EINVAL, "the type is empty");
    r = eg_partition_number(&v, s, 0, 0xFF);
    if (r == EG_PARTITION_NUM_BIG)
        return eg_error_set(EG_EINVAL, "type '%s' is larger than 0xff", s);
    if (r == EG_PARTITION_NUM_OK) {
        if ((v > EG_PARTITION_TYPE_PARTITION_TABLE && v < EG_PARTITION_TYPE_CUSTOM_MIN) ||
            v > EG_PARTITION_TYPE_CUSTOM_MAX)
            return eg_error_set(EG_EINVAL, "type 0x%02x is reserved (custom types are 0x40-0xfe)",
                                (unsigned)v);
        *out = (uint8_t)v;
        return 0;
    }
    for (size_t i = 0; i < COUNT(type_names); i++) {
        if (strcasecmp(s, type_names[i].name) == 0) {
            *out = type_names[i].value;
            return 0;
        }
    }
    return eg_error_set(EG_EINVAL,
                        "unknown type '%s' (known: app, data, bootloader, partition_table, "
                        "or a number 0x40-0xfe)",
                        s);
}

int eg_partition_subtype_parse(uint8_t *out, uint8_t type, const char *s)
{
    const char *known;
    size_t n;
    const name_value *names = subtypes_of(type, &n, &known);
    const char *tname = eg_partition_type_name(type);
    uint64_t v;
    int r;

    *out = 0;
    if (!*s) {
        if (type == EG_PARTITION_TYPE_APP || type == EG_PARTITION_TYPE_BOOTLOADER ||
            type == EG_PARTITION_TYPE_PARTITION_TABLE)
            return eg_error_set(EG_EINVAL, "%s %s partition needs a subtype (%s)",
                                type == EG_PARTITION_TYPE_APP ? "an" : "a", tname, known);
        *out = EG_PARTITION_SUBTYPE_UNDEFINED;
        return 0;
    }
    r = eg_partition_number(&v, s, 0, 0xFF);
    if (r == EG_PARTITION_NUM_BIG)
        return eg_error_set(EG_EINVAL, "subtype '%s' is larger than 0xff", s);
    if (r == EG_PARTITION_NUM_OK) {
        if (v == EG_PARTITION_SUBTYPE_ANY)
            return eg_error_set(EG_EINVAL,
                                "subtype 0xff is reserved (ESP-IDF reads it as any subtype)");
        if ((type == EG_PARTITION_TYPE_BOOTLOADER || type == EG_PARTITION_TYPE_PARTITION_TABLE) &&
            !eg_partition_subtype_name(type, (uint8_t)v))
            return eg_error_set(EG_EINVAL, "unknown %s subtype 0x%02x (known: %s)", tname,
                                (unsigned)v, known);
        *out = (uint8_t)v;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].value;
            return 0;
        }
    }
    if (!names)
        return eg_error_set(EG_EINVAL,
                            "subtype '%s' is not a number, and type 0x%02x has no named subtypes",
                            s, type);
    return eg_error_set(EG_EINVAL, "unknown %s subtype '%s' (known: %s, or a number)", tname, s,
                        known);
}

const char *eg_partition_type_name(uint8_t type)
{
    for (size_t i = 0; i < COUNT(type_names); i++)
        if (type_names[i].value == type)
            return type_names[i].name;
    return NULL;
}

const char *eg_partition_subtype_name(uint8_t type, uint8_t subtype)
{
    const char *known;
    size_t n;
    const name_value *names = subtypes_of(type, &n, &known);

    for (size_t i = 0; i < n; i++)
        if (names[i].value == subtype)
            return names[i].name;
    return NULL;
}

uint32_t eg_partition_offset_align(uint8_t type)
{
    return type == EG_PARTITION_TYPE_APP ? APP_ALIGN : DATA_ALIGN;
}

int eg_partition_is_fixed_low(const eg_partition *p)
{
    return (p->type == EG_PARTITION_TYPE_BOOTLOADER ||
            p->type == EG_PARTITION_TYPE_PARTITION_TABLE) &&
           p->subtype == EG_PARTITION_SUBTYPE_PRIMARY;
}

/* Length of the UTF-8 sequence starting at s (at most n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

int eg_partition_check_name(const char *name, size_t len)
{
    const unsigned char *s = (const unsigned char *)name;

    if (len == 0)
        return eg_error_set(EG_EINVAL, "a partition needs a name");
    if (len > EG_PARTITION_NAME_MAX)
        return eg_error_set(EG_EINVAL, "name '%.*s' is %zu bytes long; at most %d fit", (int)len,
                            name, len, EG_PARTITION_NAME_MAX);
    for (size_t i = 0; i < len;) {
        size_t n;
        if (s[i] < 0x20 || s[i] == 0x7F)
            return eg_error_set(EG_EINVAL, "the name holds a control character (0x%02x)", s[i]);
        n = utf8_seq(s + i, len - i);
        if (n == 0)
            return eg_error_set(EG_EINVAL, "the name is not valid UTF-8");
        i += n;
    }
    if (memchr(name, ',', len))
        return eg_error_set(EG_EINVAL, "name '%.*s' holds ',', which separates CSV columns",
                            (int)len, name);
    if (memchr(name, '$', len))
        return eg_error_set(EG_EINVAL,
                            "name '%.*s' holds '$', which gen_esp32part expands as an "
                            "environment variable",
                            (int)len, name);
    if (name[0] == '#')
        return eg_error_set(EG_EINVAL,
                            "name '%.*s' starts with '#', which makes a CSV row a comment",
                            (int)len, name);
    if (name[0] == ' ' || name[len - 1] == ' ')
        return eg_error_set(EG_EINVAL,
                            "name '%.*s' starts or ends with a space, which a CSV row loses",
                            (int)len, name);
    return 0;
}

int eg_partition_start(eg_partition_table **t, eg_partition_opts *o, const eg_partition_opts *given,
                       size_t cap)
{
    int rc;

    *t = NULL;
    if (given)
        *o = *given;
    else
        eg_partition_opts_default(o);
    if ((rc = eg_partition_check_opts(o)) < 0)
        return rc;
    if (!(*t = calloc(1, sizeof(**t) + cap * sizeof(eg_partition))))
        return eg_error_set(EG_ENOMEM, "out of memory");
    return 0;
}

int eg_partition_finish(eg_partition_table **out, eg_partition_table *t, const eg_partition_opts *o,
                        const char *source)
{
    int rc = eg_partition_validate(t, o, source);
    if (rc < 0) {
        eg_partition_table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void eg_partition_table_free(eg_partition_table *t)
{
    free(t);
}

const eg_partition *eg_partition_entries(const eg_partition_table *t, size_t *count)
{
    *count = t->n;
    return t->e;
}

void eg_partition_where(char *dst, size_t len, const char *source, const eg_partition *e, size_t i)
{
    if (e && e->line) {
        if (source)
            snprintf(dst, len, "%s:%u", source, e->line);
        else
            snprintf(dst, len, "line %u", e->line);
    } else {
        if (source)
            snprintf(dst, len, "%s: entry %zu", source, i + 1);
        else
            snprintf(dst, len, "entry %zu", i + 1);
    }
}

int eg_partition_fail(int code, const char *source, const eg_partition *e, size_t i)
{
    char where[512];
    eg_partition_where(where, sizeof(where), source, e, i);
    return eg_error_prefix(code, "%s: partition '%s' at 0x%x: ", where, e->name, e->offset);
}

/* "line 5" or "entry 2": how a message names another row. */
static void row_ref(char *dst, size_t len, const eg_partition *e, size_t i)
{
    if (e->line)
        snprintf(dst, len, "line %u", e->line);
    else
        snprintf(dst, len, "entry %zu", i + 1);
}

static int is_otadata(const eg_partition *p)
{
    return p->type == EG_PARTITION_TYPE_DATA && (p->subtype == EG_PARTITION_SUBTYPE_OTADATA ||
                                                 p->subtype == EG_PARTITION_SUBTYPE_TEE_OTA);
}

/* The rules for one partition on its own. */
static int check_one(const eg_partition *p, const eg_partition_opts *o)
{
    uint64_t end = (uint64_t)p->offset + p->size;
    uint64_t table_end = (uint64_t)o->table_offset + EG_PARTITION_TABLE_SECTOR;
    uint32_t align = eg_partition_offset_align(p->type);
    const char *sub = eg_partition_subtype_name(p->type, p->subtype);

    if ((p->type > EG_PARTITION_TYPE_PARTITION_TABLE && p->type < EG_PARTITION_TYPE_CUSTOM_MIN) ||
        p->type > EG_PARTITION_TYPE_CUSTOM_MAX)
        return eg_error_set(EG_EINVAL, "type 0x%02x is reserved (custom types are 0x40-0xfe)",
                            p->type);
    if (p->subtype == EG_PARTITION_SUBTYPE_ANY)
        return eg_error_set(EG_EINVAL,
                            "subtype 0xff is reserved (ESP-IDF reads it as any subtype)");
    if ((p->type == EG_PARTITION_TYPE_BOOTLOADER || p->type == EG_PARTITION_TYPE_PARTITION_TABLE) &&
        !sub)
        return eg_error_set(EG_EINVAL, "unknown %s subtype 0x%02x", eg_partition_type_name(p->type),
                            p->subtype);
    if (p->flags & ~(EG_PARTITION_FLAG_ENCRYPTED | EG_PARTITION_FLAG_READONLY))
        return eg_error_set(EG_EINVAL,
                            "unknown flag bits 0x%x (known: encrypted 0x1, readonly 0x2)",
                            p->flags & ~(EG_PARTITION_FLAG_ENCRYPTED | EG_PARTITION_FLAG_READONLY));
    if (p->size == 0)
        return eg_error_set(EG_EINVAL, "the size is zero");
    if (end > 0x100000000ull)
        return eg_error_set(EG_EINVAL, "size 0x%x takes it beyond 4 GiB", p->size);
    if (p->offset % align != 0) {
        if (p->type == EG_PARTITION_TYPE_APP)
            return eg_error_set(EG_EINVAL, "an app partition's offset must be aligned to 0x%x",
                                align);
        return eg_error_set(EG_EINVAL, "the offset must be aligned to 0x%x", align);
    }
    if (p->type == EG_PARTITION_TYPE_APP && p->size % APP_SIZE_ALIGN != 0)
        return eg_error_set(EG_EINVAL,
                            "an app partition's size must be a multiple of 0x%x (0x%x is not)",
                            APP_SIZE_ALIGN, p->size);
    if (p->offset < table_end && !eg_partition_is_fixed_low(p))
        return eg_error_set(EG_EINVAL,
                            "it starts below 0x%llx, the end of the partition table at 0x%x",
                            (unsigned long long)table_end, o->table_offset);
    if (p->type == EG_PARTITION_TYPE_PARTITION_TABLE &&
        p->subtype == EG_PARTITION_SUBTYPE_PRIMARY && p->offset != o->table_offset)
        return eg_error_set(EG_EINVAL, "the primary partition table is at 0x%x, not here",
                            o->table_offset);
    if (p->type == EG_PARTITION_TYPE_BOOTLOADER && p->subtype == EG_PARTITION_SUBTYPE_PRIMARY &&
        o->bootloader_offset != EG_PARTITION_OFFSET_UNKNOWN && p->offset != o->bootloader_offset)
        return eg_error_set(EG_EINVAL, "the bootloader is at 0x%x, not here", o->bootloader_offset);
    if (p->flags & EG_PARTITION_FLAG_READONLY) {
        if (p->type != EG_PARTITION_TYPE_DATA)
            return eg_error_set(EG_EINVAL, "only data partitions may be readonly");
        if (is_otadata(p) || p->subtype == EG_PARTITION_SUBTYPE_COREDUMP)
            return eg_error_set(EG_EINVAL,
                                "a data partition of subtype %s is always read-write and "
                                "cannot be readonly",
                                sub);
    }
    if (p->type == EG_PARTITION_TYPE_DATA && p->subtype == EG_PARTITION_SUBTYPE_NVS &&
        p->size < NVS_RW_MIN_SIZE && !(p->flags & EG_PARTITION_FLAG_READONLY))
        return eg_error_set(EG_EINVAL,
                            "an nvs partition smaller than 0x%x must be flagged readonly "
                            "(0x%x bytes given)",
                            NVS_RW_MIN_SIZE, p->size);
    if (is_otadata(p) && p->size != OTADATA_SIZE)
        return eg_error_set(EG_EINVAL,
                            "a data partition of subtype %s must be 0x%x bytes, not 0x%x", sub,
                            OTADATA_SIZE, p->size);
    if (o->flash_size != 0 && end > o->flash_size)
        return eg_error_set(EG_EINVAL, "it ends at 0x%llx, beyond the end of the 0x%x-byte flash",
                            (unsigned long long)end, o->flash_size);
    return 0;
}

/* The rules between partition i and an earlier partition j. */
static int check_pair(const eg_partition *p, const eg_partition *q, size_t j)
{
    char ref[64];

    row_ref(ref, sizeof(ref), q, j);
    if (strcmp(p->name, q->name) == 0)
        return eg_error_set(EG_EINVAL, "the name is already used (%s)", ref);
    if ((uint64_t)p->offset < (uint64_t)q->offset + q->size &&
        (uint64_t)q->offset < (uint64_t)p->offset + p->size)
        return eg_error_set(EG_EINVAL, "overlaps partition '%s' (%s, 0x%x-0x%llx)", q->name, ref,
                            q->offset, (unsigned long long)q->offset + q->size - 1);
    if (is_otadata(p) && is_otadata(q) && p->subtype == q->subtype)
        return eg_error_set(EG_EINVAL,
                            "a second data partition of subtype %s ('%s', %s, is one already); "
                            "only one is allowed",
                            eg_partition_subtype_name(p->type, p->subtype), q->name, ref);
    return 0;
}

int eg_partition_validate(const eg_partition_table *t, const eg_partition_opts *o,
                          const char *source)
{
    int rc;

    for (size_t i = 0; i < t->n; i++) {
        const eg_partition *p = &t->e[i];
        rc = eg_partition_check_name(p->name, strlen(p->name));
        if (rc < 0) {
            char where[512];
            eg_partition_where(where, sizeof(where), source, p, i);
            return eg_error_prefix(rc, "%s: partition at 0x%x: ", where, p->offset);
        }
        rc = check_one(p, o);
        if (rc < 0)
            return eg_partition_fail(rc, source, p, i);
    }
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = 0; j < i; j++) {
            rc = check_pair(&t->e[i], &t->e[j], j);
            if (rc < 0)
                return eg_partition_fail(rc, source, &t->e[i], i);
        }
    }
    return 0;
}

static void add(eg_partition_table *t, const char *name, uint8_t type, uint8_t subtype,
                uint32_t offset, uint32_t size)
{
    eg_partition *p = &t->e[t->n++];
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->type = type;
    p->subtype = subtype;
    p->offset = offset;
    p->size = size;
}

int eg_partition_default(eg_partition_table **out, const eg_partition_opts *opts)
{
    eg_partition_opts o;
    eg_partition_table *t = NULL;
    uint64_t nvs, phy, app, flash, size;
    char fs[32];
    int rc;

    *out = NULL;
    if ((rc = eg_partition_start(&t, &o, opts, 3)) < 0)
        goto done;
    if (o.flash_size == 0) {
        rc = eg_error_set(EG_EINVAL, "the default partition table needs the flash size");
        goto done;
    }
    nvs = (uint64_t)o.table_offset + EG_PARTITION_TABLE_SECTOR;
    phy = nvs + 0x6000;
    app = (phy + 0x1000 + APP_ALIGN - 1) / APP_ALIGN * APP_ALIGN;
    flash = o.flash_size & ~(uint64_t)(APP_SIZE_ALIGN - 1);
    if (flash < app + APP_ALIGN) {
        eg_num_format_size(fs, sizeof(fs), o.flash_size);
        rc = eg_error_set(EG_EINVAL,
                          "a %s flash is too small for the default partition table "
                          "(its factory app starts at 0x%llx)",
                          fs, (unsigned long long)app);
        goto done;
    }
    size = flash - app;
    if (size > EG_PARTITION_DEFAULT_APP_MAX)
        size = EG_PARTITION_DEFAULT_APP_MAX;
    add(t, "nvs", EG_PARTITION_TYPE_DATA, EG_PARTITION_SUBTYPE_NVS, (uint32_t)nvs, 0x6000);
    add(t, "phy_init", EG_PARTITION_TYPE_DATA, EG_PARTITION_SUBTYPE_PHY, (uint32_t)phy, 0x1000);
    add(t, "factory", EG_PARTITION_TYPE_APP, EG_PARTITION_SUBTYPE_FACTORY, (uint32_t)app,
        (uint32_t)size);
    rc = eg_partition_finish(out, t, &o, "default table");
    t = NULL;
done:
    eg_partition_table_free(t);
    return rc;
}

int eg_partition_load(eg_partition_table **out, const char *path, const eg_partition_opts *opts)
{
    eg_buf b = EG_BUF_INIT;
    int rc;

    *out = NULL;
    rc = eg_buf_read_file(&b, path);
    if (rc < 0)
        goto done;
    if (b.len >= 2 && b.data[0] == 0xAA && b.data[1] == 0x50)
        rc = eg_partition_parse_bin(out, b.data, b.len, path, opts);
    else
        rc = eg_partition_parse_csv(out, (const char *)b.data, b.len, path, opts);
done:
    eg_buf_release(&b);
    return rc;
}

const eg_partition *eg_partition_find_name(const eg_partition_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->e[i].name, name) == 0)
            return &t->e[i];
    return NULL;
}

const eg_partition *eg_partition_find_type(const eg_partition_table *t, uint8_t type,
                                           uint8_t subtype)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].type == type &&
            (subtype == EG_PARTITION_SUBTYPE_ANY || t->e[i].subtype == subtype))
            return &t->e[i];
    return NULL;
}

static int is_tee_slot(const eg_partition *p)
{
    return p->subtype == EG_PARTITION_SUBTYPE_TEE_0 || p->subtype == EG_PARTITION_SUBTYPE_TEE_0 + 1;
}

int eg_partition_app_target(const eg_partition **out, const eg_partition_table *t, const char *name)
{
    const eg_partition *p;

    *out = NULL;
    if (name) {
        char names[256];
        size_t used = 0;
        p = eg_partition_find_name(t, name);
        if (p && p->type != EG_PARTITION_TYPE_APP) {
            const char *tn = eg_partition_type_name(p->type);
            if (tn)
                return eg_error_set(EG_EINVAL, "partition '%s' is a %s partition, not an app", name,
                                    tn);
            return eg_error_set(EG_EINVAL, "partition '%s' has type 0x%02x, not app", name,
                                p->type);
        }
        if (p) {
            *out = p;
            return 0;
        }
        names[0] = '\0';
        for (size_t i = 0; i < t->n && used < sizeof(names); i++) {
            int w =
                snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", t->e[i].name);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        return eg_error_set(EG_ENOTFOUND, "no partition named '%s' (the table has: %s)", name,
                            names);
    }
    p = eg_partition_find_type(t, EG_PARTITION_TYPE_APP, EG_PARTITION_SUBTYPE_FACTORY);
    if (!p)
        p = eg_partition_find_type(t, EG_PARTITION_TYPE_APP, EG_PARTITION_SUBTYPE_OTA_0);
    for (size_t i = 0; !p && i < t->n; i++)
        if (t->e[i].type == EG_PARTITION_TYPE_APP && !is_tee_slot(&t->e[i]))
            p = &t->e[i];
    if (!p)
        return eg_error_set(EG_ENOTFOUND, "the partition table has no app partition");
    *out = p;
    return 0;
}

int eg_partition_select_data(const eg_partition ***out, size_t *count, const eg_partition_table *t,
                             const char *list)
{
    unsigned char want[256] = {0};
    const eg_partition **sel = NULL;
    const char *p = list;
    size_t n = 0;
    int rc = 0;

    *out = NULL;
    *count = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[64];
        uint8_t st;

        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0) {
            rc = eg_error_set(EG_EINVAL, "data partition list '%s' has an empty item", list);
            goto done;
        }
        if (len >= sizeof(item)) {
            rc = eg_error_set(EG_EINVAL, "data partition list '%s': item too long", list);
            goto done;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        rc = eg_partition_subtype_parse(&st, EG_PARTITION_TYPE_DATA, item);
        if (rc < 0) {
            rc = eg_error_prefix(rc, "data partition list '%s': ", list);
            goto done;
        }
        want[st] = 1;
        if (!end)
            break;
        p = end + 1;
    }
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].type == EG_PARTITION_TYPE_DATA && want[t->e[i].subtype])
            n++;
    if (n == 0)
        goto done;
    sel = malloc(n * sizeof(*sel));
    if (!sel) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].type == EG_PARTITION_TYPE_DATA && want[t->e[i].subtype])
            sel[n++] = &t->e[i];
    *out = sel;
    *count = n;
done:
    return rc;
}

int eg_partition_select_names(const eg_partition ***out, size_t *count, const eg_partition_table *t,
                              const char *names)
{
    const eg_partition **sel = calloc(strlen(names) / 2 + 1, sizeof(*sel));
    const char *p = names;
    size_t n = 0;

    *out = NULL;
    *count = 0;
    if (!sel)
        return eg_error_set(EG_ENOMEM, "out of memory");
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *end = p + len;
        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 0) {
            const eg_partition *e = NULL;
            for (size_t i = 0; i < t->n && !e; i++)
                if (strlen(t->e[i].name) == len && memcmp(t->e[i].name, p, len) == 0)
                    e = &t->e[i];
            if (!e) {
                free(sel);
                return eg_error_set(EG_ENOTFOUND, "no partition named '%.*s' in the table",
                                    (int)len, p);
            }
            sel[n++] = e;
        }
        p = *end ? end + 1 : end;
    }
    *out = sel;
    *count = n;
    return 0;
}
