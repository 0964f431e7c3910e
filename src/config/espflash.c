/* espflash's configuration files (espflash.h): where they are, what they may hold,
 * and adding a [[usb_device]] to the ports file. The keys, their files and what
 * espflash 4 does with each are read from espflash's own cli/config.rs (v4.0 to 4.5). */
#include "config/espflash.h"

#include "config/toml.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/path.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The keys that belong in one section only, and the section (espflash's check). */
static const char *const idf_keys[] = {"bootloader", "partition_table", "partition_table_offset",
                                       "target_app_partition"};
static const char *const flash_keys[] = {"size", "mode", "frequency"};

/* What espflash's enums take, as it spells them. */
static const char *const flash_modes[] = {"qio", "qout", "dio", "dout"};
static const char *const flash_sizes[] = {"256KB", "512KB", "1MB",  "2MB",   "4MB",  "8MB",
                                          "16MB",  "32MB",  "64MB", "128MB", "256MB"};
static const char *const flash_freqs[] = {"12MHz", "15MHz", "16MHz", "20MHz", "24MHz", "26MHz",
                                          "30MHz", "40MHz", "48MHz", "60MHz", "80MHz"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

static void join(char *dst, size_t len, const char *const *list, size_t n)
{
    size_t used = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(dst + used, len - used, "%s%s", i ? ", " : "", list[i]);
}

void eg_espflash_global_dir(char *dst, size_t len, const char *xdg_config_home, const char *home)
{
    if (xdg_config_home && xdg_config_home[0] == '/')
        snprintf(dst, len, "%s/espflash", xdg_config_home);
    else if (home && home[0])
        snprintf(dst, len, "%s/.config/espflash", home);
    else if (len)
        dst[0] = '\0';
}

int eg_espflash_find(char *dst, size_t len, const char *name, const char *cwd,
                     const char *global_dir)
{
    char parent[4096];

    snprintf(dst, len, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, name);
    if (access(dst, F_OK) == 0)
        return 1;
    snprintf(parent, sizeof(parent), "%s", cwd);
    char *slash = strrchr(parent, '/');
    if (slash && strcmp(parent, "/") != 0) {
        slash[slash == parent ? 1 : 0] = '\0';
        snprintf(dst, len, "%s/%s", strcmp(parent, "/") == 0 ? "" : parent, name);
        if (access(dst, F_OK) == 0)
            return 1;
    }
    if (global_dir && global_dir[0]) {
        snprintf(dst, len, "%s/%s", global_dir, name);
        return access(dst, F_OK) == 0;
    }
    if (len)
        dst[0] = '\0';
    return 0;
}

void eg_espflash_config_free(eg_espflash_config *c)
{
    if (!c)
        return;
    free(c->bootloader);
    free(c->partition_table);
    free(c->target_app_partition);
    free(c->flash_mode);
    free(c->flash_size);
    free(c->flash_frequency);
    free(c->serial);
    free(c->usb_devices);
    for (size_t i = 0; i < c->warning_count; i++)
        free(c->warnings[i]);
    free(c->warnings);
    free(c);
}

/* A warning "NAME:LINE:COLUMN: text" at v's key. */
static int warn(eg_espflash_config *c, const char *name, const eg_toml *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int warn(eg_espflash_config *c, const char *name, const eg_toml *v, const char *fmt, ...)
{
    char msg[512], *text = NULL;
    va_list ap;
    char **w;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t n = strlen(name) + strlen(msg) + 32;
    if (!(text = malloc(n)) || !(w = realloc(c->warnings, (c->warning_count + 1) * sizeof(*w)))) {
        free(text);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    snprintf(text, n, "%s:%u:%u: %s", name, v->key_line, v->key_column, msg);
    c->warnings = w;
    c->warnings[c->warning_count++] = text;
    return 0;
}

static int unknown_key(eg_espflash_config *c, const char *name, const eg_toml *v,
                       const char *section)
{
    return warn(c, name, v, "unknown key '%s%s%s', ignored (espflash ignores it too)",
                section ? section : "", section ? "." : "", v->key);
}

/* v must be of type want; what names it in the message ("flash.size"). */
static int want_type(const char *name, const eg_toml *v, eg_toml_type want, const char *what)
{
    if (v->type == want)
        return 0;
    return eg_toml_error(name, v, 0, "%s must be %s, not %s", what, eg_toml_type_name(want),
                         eg_toml_type_name(v->type));
}

static int take_string(char **out, const char *name, const eg_toml *v, const char *what)
{
    if (want_type(name, v, EG_TOML_STRING, what) < 0)
        return EG_EINVAL;
    if (!(*out = strdup(v->string)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    return 0;
}

static int take_u32(uint32_t *out, const char *name, const eg_toml *v, const char *what)
{
    if (want_type(name, v, EG_TOML_INTEGER, what) < 0)
        return EG_EINVAL;
    if (v->integer < 0 || v->integer > (int64_t)UINT32_MAX)
        return eg_toml_error(name, v, 0, "%s: %lld is out of range (0 to 4294967295)", what,
                             (long long)v->integer);
    *out = (uint32_t)v->integer;
    return 0;
}

/* The extension of path's last part as Rust's Path::extension() sees it: after the
 * last '.', unless that '.' starts the name; NULL when none. */
static const char *extension(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *base = path;
    for (size_t i = 0; i < n; i++)
        if (path[i] == '/')
            base = path + i + 1;
    const char *dot = NULL;
    for (const char *p = base; p < path + n; p++)
        if (*p == '.')
            dot = p;
    if (!dot || dot == base)
        return NULL;
    return dot + 1;
}

static int ext_is(const char *path, const char *ext)
{
    const char *e = extension(path);
    size_t n = strlen(ext);
    if (!e || strncmp(e, ext, n) != 0)
        return 0;
    return e[n] == '\0' || e[n] == '/';
}

/* Where the settings of a key came from, for messages: "FILE:LINE". */
static void at(char *dst, size_t len, const char *name, const eg_toml *v)
{
    snprintf(dst, len, "%.4096s:%u", name, v->key_line);
}

/* espflash's check: the idf and flash keys in no other place. */
static int check_misplaced(const char *name, const eg_toml *root)
{
    for (size_t i = 0; i < root->count; i++) {
        const eg_toml *v = root->items[i];
        if (in_list(v->key, idf_keys, COUNT(idf_keys)))
            return eg_toml_error(name, v, 1, "'%s' belongs under [idf_format_args] (or [idf])",
                                 v->key);
        if (in_list(v->key, flash_keys, COUNT(flash_keys)))
            return eg_toml_error(name, v, 1, "'%s' belongs under [flash]", v->key);
        if (v->type != EG_TOML_TABLE)
            continue;
        int idf = strcmp(v->key, "idf_format_args") == 0 || strcmp(v->key, "idf") == 0;
        int flash = strcmp(v->key, "flash") == 0;
        for (size_t j = 0; j < v->count; j++) {
            const eg_toml *k = v->items[j];
            if (!idf && in_list(k->key, idf_keys, COUNT(idf_keys)))
                return eg_toml_error(name, k, 1,
                                     "'%s.%s': '%s' belongs under [idf_format_args] (or [idf])",
                                     v->key, k->key, k->key);
            if (!flash && in_list(k->key, flash_keys, COUNT(flash_keys)))
                return eg_toml_error(name, k, 1, "'%s.%s': '%s' belongs under [flash]", v->key,
                                     k->key, k->key);
        }
    }
    return 0;
}

static int read_idf(eg_espflash_config *c, const char *name, const eg_toml *t)
{
    char what[64];
    int rc = 0;

    if (want_type(name, t, EG_TOML_TABLE, t->key) < 0)
        return EG_EINVAL;
    for (size_t i = 0; i < t->count && rc == 0; i++) {
        const eg_toml *v = t->items[i];
        snprintf(what, sizeof(what), "%s.%s", t->key, v->key);
        if (strcmp(v->key, "bootloader") == 0) {
            if ((rc = take_string(&c->bootloader, name, v, what)) == 0 && !ext_is(v->string, "bin"))
                rc = eg_toml_error(name, v, 0,
                                   "%s: '%s' is not a .bin file (a bootloader is given as its "
                                   "image, as espflash takes it)",
                                   what, v->string);
        } else if (strcmp(v->key, "partition_table") == 0) {
            if ((rc = take_string(&c->partition_table, name, v, what)) == 0 &&
                !ext_is(v->string, "csv") && !ext_is(v->string, "bin"))
                rc = eg_toml_error(name, v, 0,
                                   "%s: '%s' is neither a .csv nor a .bin file (as espflash "
                                   "takes a partition table)",
                                   what, v->string);
        } else if (strcmp(v->key, "partition_table_offset") == 0) {
            rc = take_u32(&c->table_offset, name, v, what);
            c->has_table_offset = rc == 0;
        } else if (strcmp(v->key, "target_app_partition") == 0) {
            rc = take_string(&c->target_app_partition, name, v, what);
        } else {
            rc = unknown_key(c, name, v, t->key);
        }
    }
    return rc;
}

static int take_choice(char **out, const char *name, const eg_toml *v, const char *what,
                       const char *const *list, size_t n)
{
    char known[256];
    if (want_type(name, v, EG_TOML_STRING, what) < 0)
        return EG_EINVAL;
    if (!in_list(v->string, list, n)) {
        join(known, sizeof(known), list, n);
        return eg_toml_error(name, v, 0, "%s: '%s' is not one of %s", what, v->string, known);
    }
    if (!(*out = strdup(v->string)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    return 0;
}

static int read_flash(eg_espflash_config *c, const char *name, const eg_toml *t)
{
    int rc = 0;

    if (want_type(name, t, EG_TOML_TABLE, "flash") < 0)
        return EG_EINVAL;
    for (size_t i = 0; i < t->count && rc == 0; i++) {
        const eg_toml *v = t->items[i];
        if (strcmp(v->key, "mode") == 0)
            rc =
                take_choice(&c->flash_mode, name, v, "flash.mode", flash_modes, COUNT(flash_modes));
        else if (strcmp(v->key, "size") == 0)
            rc =
                take_choice(&c->flash_size, name, v, "flash.size", flash_sizes, COUNT(flash_sizes));
        else if (strcmp(v->key, "frequency") == 0)
            rc = take_choice(&c->flash_frequency, name, v, "flash.frequency", flash_freqs,
                             COUNT(flash_freqs));
        else
            rc = unknown_key(c, name, v, "flash");
    }
    return rc;
}

/* A vid or pid: hex digits, with or without 0x, any case (espflash's reading). */
static int take_hex16(uint16_t *out, const char *name, const eg_toml *v, const char *what)
{
    const char *s;
    unsigned value = 0;

    if (v->type != EG_TOML_STRING)
        return eg_toml_error(name, v, 0, "%s must be a string of hex digits (\"303a\"), not %s",
                             what, eg_toml_type_name(v->type));
    s = v->string;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (!*s)
        return eg_toml_error(name, v, 0, "%s: '%s' has no hex digits", what, v->string);
    for (; *s; s++) {
        int d = eg_hex_value(*s);
        if (d < 0)
            return eg_toml_error(name, v, 0, "%s: '%s' is not a hex number", what, v->string);
        value = value << 4 | (unsigned)d;
        if (value > 0xFFFF)
            return eg_toml_error(name, v, 0, "%s: '%s' is more than 16 bits (4 hex digits)", what,
                                 v->string);
    }
    *out = (uint16_t)value;
    return 0;
}

static int read_usb_devices(eg_espflash_config *c, const char *name, const eg_toml *arr)
{
    if (want_type(name, arr, EG_TOML_ARRAY, "usb_device") < 0)
        return EG_EINVAL;
    for (size_t i = 0; i < arr->count; i++) {
        const eg_toml *t = arr->items[i], *vid = NULL, *pid = NULL;
        eg_usb_id id = {0, 0, ""};
        int rc;

        if (t->type != EG_TOML_TABLE)
            return eg_toml_error(name, t, 0, "usb_device must be [[usb_device]] tables, not %s",
                                 eg_toml_type_name(t->type));
        for (size_t j = 0; j < t->count; j++) {
            const eg_toml *v = t->items[j];
            if (strcmp(v->key, "vid") == 0)
                vid = v;
            else if (strcmp(v->key, "pid") == 0)
                pid = v;
            else if ((rc = unknown_key(c, name, v, "usb_device")) < 0)
                return rc;
        }
        if (!vid || !pid)
            return eg_toml_error(name, t, 0,
                                 "[[usb_device]] without its %s (both vid and pid, "
                                 "as hex strings: vid = \"303a\")",
                                 vid ? "pid" : "vid");
        if (take_hex16(&id.vid, name, vid, "usb_device.vid") < 0 ||
            take_hex16(&id.pid, name, pid, "usb_device.pid") < 0)
            return EG_EINVAL;
        snprintf(id.at, sizeof(id.at), "%.4096s:%u", name, t->line);
        eg_usb_id *list = realloc(c->usb_devices, (c->usb_count + 1) * sizeof(*list));
        if (!list)
            return eg_error_set(EG_ENOMEM, "out of memory");
        c->usb_devices = list;
        c->usb_devices[c->usb_count++] = id;
    }
    return 0;
}

static int read_connection(eg_espflash_config *c, const char *name, const eg_toml *t)
{
    int rc = 0;
    if (want_type(name, t, EG_TOML_TABLE, "connection") < 0)
        return EG_EINVAL;
    for (size_t i = 0; i < t->count && rc == 0; i++) {
        const eg_toml *v = t->items[i];
        if (strcmp(v->key, "serial") == 0) {
            if ((rc = take_string(&c->serial, name, v, "connection.serial")) == 0)
                at(c->serial_at, sizeof(c->serial_at), name, v);
        } else {
            rc = unknown_key(c, name, v, "connection");
        }
    }
    return rc;
}

static int is_port_key(const char *key)
{
    return strcmp(key, "connection") == 0 || strcmp(key, "usb_device") == 0;
}

/* The port settings of root ([connection], [[usb_device]]); others are warned about
 * when others_unknown. */
static int read_ports(eg_espflash_config *c, const char *name, const eg_toml *root,
                      int others_unknown)
{
    int rc = 0;
    for (size_t i = 0; i < root->count && rc == 0; i++) {
        const eg_toml *v = root->items[i];
        if (strcmp(v->key, "connection") == 0)
            rc = read_connection(c, name, v);
        else if (strcmp(v->key, "usb_device") == 0)
            rc = read_usb_devices(c, name, v);
        else if (others_unknown)
            rc = unknown_key(c, name, v, NULL);
    }
    return rc;
}

/* espflash.toml's settings; its port settings (espflash 3) when ports is set. */
static int read_project(eg_espflash_config *c, const char *name, const eg_toml *root, int ports)
{
    const eg_toml *idf = eg_toml_get(root, "idf"), *args = eg_toml_get(root, "idf_format_args");
    int rc;

    if ((rc = check_misplaced(name, root)) < 0)
        return rc;
    if (idf && args) {
        const eg_toml *second = idf->key_line > args->key_line ? idf : args;
        return eg_toml_error(name, second, 1,
                             "[idf] and [idf_format_args] are the same section: keep one");
    }
    for (size_t i = 0; i < root->count && rc == 0; i++) {
        const eg_toml *v = root->items[i];
        if (strcmp(v->key, "baudrate") == 0) {
            if ((rc = take_u32(&c->baudrate, name, v, "baudrate")) == 0 && c->baudrate < 9600)
                rc = eg_toml_error(name, v, 0, "baudrate: %u is too low (9600 or more)",
                                   c->baudrate);
            c->has_baudrate = rc == 0;
            at(c->baudrate_at, sizeof(c->baudrate_at), name, v);
        } else if (strcmp(v->key, "format") == 0) {
            if ((rc = want_type(name, v, EG_TOML_STRING, "format")) == 0 &&
                strcmp(v->string, "EspIdf") != 0)
                rc = eg_toml_error(name, v, 0,
                                   "format: '%s' is not an image format espflash knows (EspIdf)",
                                   v->string);
        } else if (strcmp(v->key, "idf_format_args") == 0 || strcmp(v->key, "idf") == 0) {
            rc = read_idf(c, name, v);
        } else if (strcmp(v->key, "flash") == 0) {
            rc = read_flash(c, name, v);
        } else if (is_port_key(v->key)) {
            if (!ports)
                rc = warn(c, name, v, "'%s' is ignored here: the port settings are read from '%s'",
                          v->key, c->ports_path);
        } else {
            rc = unknown_key(c, name, v, NULL);
        }
    }
    if (rc == 0 && ports)
        rc = read_ports(c, name, root, 0);
    return rc;
}

int eg_espflash_config_load(eg_espflash_config **out, const char *cwd, const char *global_dir)
{
    eg_espflash_config *c = calloc(1, sizeof(*c));
    eg_toml *project = NULL, *ports = NULL;
    int rc = 0;

    *out = NULL;
    if (!c)
        return eg_error_set(EG_ENOMEM, "out of memory");
    c->project_found = eg_espflash_find(c->project_path, sizeof(c->project_path),
                                        EG_ESPFLASH_PROJECT_FILE, cwd, global_dir);
    c->ports_found = eg_espflash_find(c->ports_path, sizeof(c->ports_path), EG_ESPFLASH_PORTS_FILE,
                                      cwd, global_dir);
    if (c->project_found && (rc = eg_toml_load(&project, c->project_path)) < 0)
        goto done;
    if (c->ports_found && (rc = eg_toml_load(&ports, c->ports_path)) < 0)
        goto done;
    if (project && (rc = read_project(c, c->project_path, project, !c->ports_found)) < 0)
        goto done;
    if (ports)
        rc = read_ports(c, c->ports_path, ports, 1);
done:
    eg_toml_free(project);
    eg_toml_free(ports);
    if (rc < 0)
        eg_espflash_config_free(c);
    else
        *out = c;
    return rc;
}

/* Appends s to b as a TOML basic string. */
static int append_quoted(eg_buf *b, const char *s)
{
    int rc = eg_buf_push(b, '"');
    for (; *s && rc == 0; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        if (ch == '"' || ch == '\\') {
            snprintf(esc, sizeof(esc), "\\%c", ch);
            rc = eg_buf_append(b, esc, 2);
        } else if (ch < 0x20 || ch == 0x7F) {
            snprintf(esc, sizeof(esc), "\\u%04x", ch);
            rc = eg_buf_append(b, esc, 6);
        } else {
            rc = eg_buf_push(b, ch);
        }
    }
    return rc < 0 ? rc : eg_buf_push(b, '"');
}

static int append_usb(eg_buf *b, uint16_t vid, uint16_t pid)
{
    char add[96];
    snprintf(add, sizeof(add), "%s[[usb_device]]\nvid = \"%04x\"\npid = \"%04x\"\n",
             b->len == 0                   ? ""
             : b->data[b->len - 1] == '\n' ? "\n"
                                           : "\n\n",
             vid, pid);
    return eg_buf_append(b, add, strlen(add));
}

int eg_espflash_remember_usb(const eg_espflash_config *c, uint16_t vid, uint16_t pid)
{
    const char *path = c->ports_path;
    eg_buf text = EG_BUF_INIT;
    eg_toml *check = NULL;
    char dir[4096];
    int rc = 0;

    if (!path[0])
        return eg_error_set(EG_ENOTFOUND, "no folder for espflash's files (neither "
                                          "XDG_CONFIG_HOME nor HOME is set)");
    if (c->ports_found) {
        if ((rc = eg_buf_read_file(&text, path)) < 0)
            return rc;
        if ((rc = eg_toml_parse(&check, path, (const char *)text.data, text.len)) < 0)
            goto done;
        const eg_toml *list = eg_toml_get(check, "usb_device");
        if (list && !(list->type == EG_TOML_ARRAY && list->count &&
                      list->items[0]->type == EG_TOML_TABLE)) {
            rc = eg_toml_error(path, list, 1,
                               "usb_device is not a list of [[usb_device]] tables: cannot add one");
            goto done;
        }
        eg_toml_free(check);
        check = NULL;
    } else {
        /* Taking over espflash 3's settings from espflash.toml. */
        if (c->serial) {
            const char *head = "[connection]\nserial = ";
            if ((rc = eg_buf_append(&text, head, strlen(head))) < 0 ||
                (rc = append_quoted(&text, c->serial)) < 0 || (rc = eg_buf_push(&text, '\n')) < 0)
                goto done;
        }
        for (size_t i = 0; i < c->usb_count; i++)
            if ((rc = append_usb(&text, c->usb_devices[i].vid, c->usb_devices[i].pid)) < 0)
                goto done;
    }
    if ((rc = append_usb(&text, vid, pid)) < 0)
        goto done;
    /* What is written must read back. */
    if ((rc = eg_toml_parse(&check, path, (const char *)text.data, text.len)) < 0)
        goto done;
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if ((rc = eg_path_mkdirs(dir)) < 0)
            goto done;
    }
    /* A file that is a link (a dotfiles checkout, say) is written where it leads. */
    char real[4096];
    rc = eg_file_write_atomic(eg_path_resolve(real, sizeof(real), path) == 0 ? real : path,
                              text.data, text.len);
done:
    eg_toml_free(check);
    eg_buf_release(&text);
    return rc;
}
