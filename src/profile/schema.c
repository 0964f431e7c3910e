/* The schema checks YAML files are read with (profiles, slots): every fault names
 * PATH:LINE:COLUMN and the key's path. */
#define _DEFAULT_SOURCE
#include "profile/schema.h"

#include "core/error.h"
#include "core/hash.h"
#include "core/num.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DURATION_MS (24u * 3600u * 1000u)

/* ---- messages ---------------------------------------------------------------------- */

static int eg_schema_vfail(int code, const eg_schema *c, unsigned line, unsigned column,
                           const char *key, const char *fmt, va_list ap)
{
    char text[768];
    vsnprintf(text, sizeof(text), fmt, ap);
    if (!key || !*key)
        return eg_error_set(code, "%s:%u:%u: %s", c->path, line, column, text);
    return eg_error_set(code, "%s:%u:%u: %s: %s", c->path, line, column, key, text);
}

/* EG_EINVAL with "PATH:LINE:COLUMN: KEY: " from node n in front of the message. */
int eg_schema_fail(const eg_schema *c, const eg_profile_node *n, const char *key, const char *fmt,
                   ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = eg_schema_vfail(EG_EINVAL, c, n->line, n->column, key, fmt, ap);
    va_end(ap);
    return rc;
}

/* The same with another code and an explicit place. */
int eg_schema_fail_at(int code, const eg_schema *c, unsigned line, unsigned column, const char *key,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = eg_schema_vfail(code, c, line, column, key, fmt, ap);
    va_end(ap);
    return rc;
}

void eg_schema_key_join(char *dst, const char *parent, const char *child)
{
    if (*parent)
        snprintf(dst, MAX_KEY, "%s.%s", parent, child);
    else
        snprintf(dst, MAX_KEY, "%s", child);
}

int eg_schema_is_null(const eg_profile_node *n)
{
    return n->kind == EG_NODE_SCALAR && n->plain &&
           (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
            strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

/* What a node is, for "expected X, found Y". */
const char *eg_schema_describe(char *buf, size_t len, const eg_profile_node *n)
{
    if (n->kind == EG_NODE_MAP)
        return "a map";
    if (n->kind == EG_NODE_LIST)
        return "a list";
    if (n->kind == EG_NODE_ALIAS)
        return "an alias";
    if (eg_schema_is_null(n))
        return "nothing";
    /* At most 40 bytes of it, cut between characters, on one line. */
    char text[48];
    size_t cut = strlen(n->text) > 40 ? 40 : strlen(n->text);
    while (cut > 0 && cut < strlen(n->text) && ((unsigned char)n->text[cut] & 0xC0) == 0x80)
        cut--;
    for (size_t i = 0; i < cut; i++)
        text[i] = (unsigned char)n->text[i] < 0x20 ? ' ' : n->text[i];
    text[cut] = '\0';
    snprintf(buf, len, n->plain ? "'%s%s'" : "\"%s%s\" in quotes", text,
             cut < strlen(n->text) ? "..." : "");
    return buf;
}

/* Anchors, aliases and tags: a profile writes every value out, plainly. */
int eg_schema_check_plain(const eg_schema *c, const eg_profile_node *n, const char *key)
{
    if (n->kind == EG_NODE_ALIAS)
        return eg_schema_fail(c, n, key,
                              "an alias (*%s): a profile writes each value out, without "
                              "anchors or aliases",
                              n->text);
    if (n->anchor)
        return eg_schema_fail(c, n, key,
                              "an anchor (&%s): a profile writes each value out, without "
                              "anchors or aliases",
                              n->anchor);
    if (n->tag)
        return eg_schema_fail(c, n, key, "a tag (%s): a profile takes no YAML tags", n->tag);
    return 0;
}

int eg_schema_expect_kind(const eg_schema *c, const eg_profile_node *n, const char *key,
                          eg_profile_node_kind kind, const char *what)
{
    char buf[64];
    int rc = eg_schema_check_plain(c, n, key);
    if (rc < 0)
        return rc;
    if (n->kind != kind || (kind == EG_NODE_SCALAR && eg_schema_is_null(n)))
        return eg_schema_fail(c, n, key, "expected %s, found %s", what,
                              eg_schema_describe(buf, sizeof(buf), n));
    return 0;
}

/* ---- maps -------------------------------------------------------------------------- */

/* Checks that n is a map whose keys are all among names (once each) and sets found[i]
 * to the value of names[i], NULL when absent. Faults are reported in the file's order. */
int eg_schema_walk_map(const eg_profile_node **found, const eg_schema *c, const eg_profile_node *n,
                       const char *key, const char *const *names, size_t count)
{
    const eg_profile_node *first[MAX_FIELDS];
    char sub[MAX_KEY], known[512] = "";
    int rc;

    if (count > MAX_FIELDS)
        return eg_error_set(EG_EINVAL, "%s: a map of more than %d keys", key, MAX_FIELDS);
    for (size_t i = 0; i < count; i++)
        found[i] = first[i] = NULL;
    if ((rc = eg_schema_expect_kind(c, n, key, EG_NODE_MAP, "a map")) < 0)
        return rc;
    for (size_t i = 0; i < count; i++)
        snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s", i ? ", " : "",
                 names[i]);
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const eg_profile_node *k = n->items[i];
        size_t f;

        if ((rc = eg_schema_expect_kind(c, k, key, EG_NODE_SCALAR, "a key")) < 0)
            return rc;
        eg_schema_key_join(sub, key, k->text);
        for (f = 0; f < count; f++)
            if (k->len == strlen(names[f]) && strcmp(k->text, names[f]) == 0)
                break;
        if (f == count)
            return eg_schema_fail(c, k, sub, "unknown key (known: %s)", known);
        if (found[f])
            return eg_schema_fail(c, k, sub, "given a second time (first on line %u)",
                                  first[f]->line);
        found[f] = n->items[i + 1];
        first[f] = k;
    }
    return 0;
}

/* ---- scalars ----------------------------------------------------------------------- */

int eg_schema_get_string(char **out, const eg_schema *c, const eg_profile_node *n, const char *key)
{
    int rc = eg_schema_expect_kind(c, n, key, EG_NODE_SCALAR, "a string");
    if (rc < 0)
        return rc;
    if (n->len == 0)
        return eg_schema_fail(c, n, key, "is empty");
    if (memchr(n->text, '\0', n->len))
        return eg_schema_fail(c, n, key, "holds a NUL character");
    if (!(*out = strdup(n->text)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    return 0;
}

/* A string that must be one line of printable text of at most max characters. */
int eg_schema_get_line(char **out, const eg_schema *c, const eg_profile_node *n, const char *key,
                       size_t max)
{
    int rc = eg_schema_get_string(out, c, n, key);
    if (rc < 0)
        return rc;
    for (const unsigned char *s = (const unsigned char *)*out; *s; s++)
        if (*s == '\n')
            return eg_schema_fail(c, n, key, "must be one line of text (it holds a line break)");
        else if (*s < 0x20 || *s == 0x7F)
            return eg_schema_fail(
                c, n, key, "must be one line of text (it holds control character 0x%02x)", *s);
    if (strlen(*out) > max)
        return eg_schema_fail(c, n, key, "longer than %zu characters", max);
    return 0;
}

int eg_schema_get_bool(int *out, const eg_schema *c, const eg_profile_node *n, const char *key)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    char buf[64];
    int rc = eg_schema_check_plain(c, n, key);
    if (rc < 0)
        return rc;
    if (n->kind == EG_NODE_SCALAR && n->plain)
        for (size_t i = 0; i < COUNT(yes); i++) {
            if (strcmp(n->text, yes[i]) == 0) {
                *out = 1;
                return 0;
            }
            if (strcmp(n->text, no[i]) == 0) {
                *out = 0;
                return 0;
            }
        }
    return eg_schema_fail(c, n, key, "expected true or false, found %s",
                          eg_schema_describe(buf, sizeof(buf), n));
}

/* A whole number written in decimal digits, from min to max. */
int eg_schema_get_count(unsigned *out, const eg_schema *c, const eg_profile_node *n,
                        const char *key, unsigned min, unsigned max)
{
    char buf[64];
    unsigned long long v = 0;
    int rc = eg_schema_check_plain(c, n, key);
    if (rc < 0)
        return rc;
    if (n->kind != EG_NODE_SCALAR || !n->plain || n->len == 0 || n->len > 12 ||
        strspn(n->text, "0123456789") != n->len)
        return eg_schema_fail(c, n, key, "expected a whole number, found %s",
                              eg_schema_describe(buf, sizeof(buf), n));
    for (size_t i = 0; i < n->len; i++)
        v = v * 10 + (unsigned)(n->text[i] - '0');
    if (v < min || v > max)
        return eg_schema_fail(c, n, key, "%s is out of range (%u to %u)", n->text, min, max);
    *out = (unsigned)v;
    return 0;
}

/* A flash offset: decimal, 0x hex or a size (64k), 4 KiB aligned. */
int eg_schema_get_offset(uint32_t *out, const eg_schema *c, const eg_profile_node *n,
                         const char *key)
{
    char buf[64];
    int rc = eg_schema_check_plain(c, n, key);
    if (rc < 0)
        return rc;
    if (n->kind != EG_NODE_SCALAR || !n->plain || eg_schema_is_null(n) ||
        eg_num_parse_u32(out, n->text) < 0)
        return eg_schema_fail(c, n, key, "expected an offset (0x9000, 36864 or 36k), found %s",
                              eg_schema_describe(buf, sizeof(buf), n));
    if (*out % 0x1000)
        return eg_schema_fail(c, n, key, "0x%x is not 4 KiB aligned (a multiple of 0x1000)", *out);
    return 0;
}

/* "500ms", "10s", "2m" into milliseconds, more than zero and at most a day. */
int eg_schema_get_duration(unsigned *out, const eg_schema *c, const eg_profile_node *n,
                           const char *key)
{
    char buf[64];
    unsigned long long v = 0, unit = 0;
    size_t digits;
    int rc = eg_schema_check_plain(c, n, key);
    if (rc < 0)
        return rc;
    if (n->kind == EG_NODE_SCALAR && n->plain) {
        digits = strspn(n->text, "0123456789");
        if (digits > 0 && digits <= 9) {
            const char *u = n->text + digits;
            unit = strcmp(u, "ms") == 0  ? 1
                   : strcmp(u, "s") == 0 ? 1000
                   : strcmp(u, "m") == 0 ? 60000
                                         : 0;
            for (size_t i = 0; i < digits; i++)
                v = v * 10 + (unsigned)(n->text[i] - '0');
        }
    }
    if (!unit)
        return eg_schema_fail(c, n, key, "expected a duration (500ms, 10s or 2m), found %s",
                              eg_schema_describe(buf, sizeof(buf), n));
    if (v == 0)
        return eg_schema_fail(c, n, key, "a deadline of zero: leave the step out to give it none");
    if (v * unit > MAX_DURATION_MS)
        return eg_schema_fail(c, n, key, "%s is more than a day", n->text);
    *out = (unsigned)(v * unit);
    return 0;
}

int eg_schema_get_sha256(uint8_t out[32], const eg_schema *c, const eg_profile_node *n,
                         const char *key)
{
    char buf[64];
    size_t good;
    int rc = eg_schema_check_plain(c, n, key);
    if (rc < 0)
        return rc;
    if (n->kind != EG_NODE_SCALAR || eg_schema_is_null(n))
        return eg_schema_fail(c, n, key, "expected 64 hex digits, found %s",
                              eg_schema_describe(buf, sizeof(buf), n));
    good = strspn(n->text, "0123456789abcdefABCDEF");
    if (good < n->len && good < 64 && n->text[good] > 0x20 && n->text[good] < 0x7F)
        return eg_schema_fail(c, n, key, "expected 64 hex digits ('%c' is not one)", n->text[good]);
    if (good < n->len && good < 64)
        return eg_schema_fail(c, n, key, "expected 64 hex digits (character %zu is not one)",
                              good + 1);
    if (n->len != 64)
        return eg_schema_fail(c, n, key, "expected 64 hex digits, found %zu", n->len);
    return eg_unhex(out, 32, n->text, 64);
}

/* "major.minor", each from 0 to 99, into major * 100 + minor. */
int eg_schema_get_revision(uint16_t *out, const eg_schema *c, const eg_profile_node *n,
                           const char *key)
{
    char buf[64];
    const char *t = n->text, *dot;
    size_t a, b;
    int rc = eg_schema_check_plain(c, n, key);
    if (rc < 0)
        return rc;
    if (n->kind == EG_NODE_SCALAR && !eg_schema_is_null(n) && n->len > 0 &&
        strspn(t, "0123456789") == n->len)
        return eg_schema_fail(c, n, key,
                              "'%s' is ambiguous: write major.minor, as \"0.%s\" or \"%s.0\" "
                              "(quotes keep it text)",
                              t, t, t);
    dot = n->kind == EG_NODE_SCALAR ? strchr(t, '.') : NULL;
    a = dot ? strspn(t, "0123456789") : 0;
    b = dot ? strspn(dot + 1, "0123456789") : 0;
    if (!dot || a == 0 || a > 2 || a != (size_t)(dot - t) || b == 0 || b > 2 || dot[1 + b] != '\0')
        return eg_schema_fail(c, n, key, "expected a revision as major.minor (\"0.3\"), found %s",
                              eg_schema_describe(buf, sizeof(buf), n));
    *out = (uint16_t)(strtoul(t, NULL, 10) * 100 + strtoul(dot + 1, NULL, 10));
    return 0;
}

/* ---- files ------------------------------------------------------------------------- */

/* given joined to the profile's folder (unless absolute), into a new string. */
char *eg_schema_resolve(const eg_schema *c, const char *given)
{
    const char *folder = given[0] == '/' ? "" : c->folder;
    size_t len = strlen(folder) + strlen(given) + 1;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s%s", folder, given);
    return s;
}

/* path must exist and be a regular file (or a folder when folder is set). */
int eg_schema_check_exists(const eg_schema *c, const eg_profile_node *n, const char *key,
                           const char *path, int folder)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return eg_schema_fail_at(EG_ENOTFOUND, c, n->line, n->column, key,
                                     "'%s' does not exist", path);
        return eg_schema_fail_at(EG_EIO, c, n->line, n->column, key, "cannot reach '%s': %s", path,
                                 eg_strerror(errno));
    }
    if (folder && !S_ISDIR(st.st_mode))
        return eg_schema_fail(c, n, key, "'%s' is not a folder", path);
    if (!folder && !S_ISREG(st.st_mode))
        return eg_schema_fail(c, n, key, "'%s' is not a file", path);
    return 0;
}
