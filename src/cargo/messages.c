/* cargo's JSON messages (`--message-format=json-render-diagnostics`), one per line on
 * its standard output: compiler-artifact (target.kind, target.name, executable),
 * build-script-executed (package_id, out_dir), compiler-message (message.rendered) and
 * build-finished (success). Read as cargo-espflash reads them: a line that does not
 * parse is text, a message of another shape is skipped. */
#include "cargo/cargo.h"

#include "core/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Where ESP-IDF's build (run by esp-idf-sys's build script through embuild) leaves
 * the bootloader and partition table, under the script's OUT_DIR. */
#define IDF_BOOTLOADER "/build/bootloader/bootloader.bin"
#define IDF_TABLE      "/build/partition_table/partition-table.bin"

int eg_cargo_package_name(char *dst, size_t len, const char *id)
{
    const char *hash = strrchr(id, '#'), *start, *end;

    /* Before cargo 1.77: "NAME VERSION (SOURCE)", where a git SOURCE has a '#' too;
     * the newer forms have no space. */
    if (!hash || strchr(id, ' ')) {
        start = id;
        end = strchr(id, ' ');
        if (!end || end == start || !strchr(end, '('))
            return eg_error_set(EG_EINVAL, "'%s' is not a cargo package id", id);
    } else if ((end = strchr(hash + 1, '@'))) {
        /* "SOURCE#NAME@VERSION". */
        start = hash + 1;
    } else {
        /* "SOURCE#VERSION": the name is the URL's last path segment. */
        const char *q = memchr(id, '?', (size_t)(hash - id));
        end = q ? q : hash;
        while (end > id && end[-1] == '/')
            end--;
        start = end;
        while (start > id && start[-1] != '/')
            start--;
        if (!strstr(id, "://"))
            return eg_error_set(EG_EINVAL, "'%s' is not a cargo package id", id);
    }
    if (end == start || (size_t)(end - start) >= len)
        return eg_error_set(EG_EINVAL, "'%s' is not a cargo package id", id);
    memcpy(dst, start, (size_t)(end - start));
    dst[end - start] = '\0';
    return 0;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir + suffix into a new string in *out, when that is a file; *out kept otherwise. */
static int take_file(char **out, const char *dir, const char *suffix)
{
    size_t len = strlen(dir) + strlen(suffix) + 1;
    char *path = malloc(len);
    if (!path)
        return eg_error_set(EG_ENOMEM, "out of memory");
    snprintf(path, len, "%s%s", dir, suffix);
    if (!is_file(path)) {
        free(path);
        return 0;
    }
    free(*out);
    *out = path;
    return 0;
}

static int build_script(eg_cargo_build *b, json_t *msg)
{
    const char *id = json_string_value(json_object_get(msg, "package_id"));
    const char *out_dir = json_string_value(json_object_get(msg, "out_dir"));
    char name[256], *dir;
    int rc;

    if (!id || !out_dir || !*out_dir || eg_cargo_package_name(name, sizeof(name), id) < 0 ||
        strcmp(name, "esp-idf-sys") != 0)
        return 0;
    if (!(dir = strdup(out_dir)))
        return eg_error_set(EG_ENOMEM, "out of memory");
    free(b->idf_out_dir);
    b->idf_out_dir = dir;
    if ((rc = take_file(&b->bootloader, dir, IDF_BOOTLOADER)) < 0)
        return rc;
    return take_file(&b->partition_table, dir, IDF_TABLE);
}

static int artifact(eg_cargo_build *b, json_t *msg)
{
    json_t *target = json_object_get(msg, "target");
    json_t *kinds = json_object_get(target, "kind");
    const char *exe = json_string_value(json_object_get(msg, "executable"));
    const char *name = json_string_value(json_object_get(target, "name"));
    const char *kind = json_string_value(json_array_get(kinds, 0));
    eg_cargo_exe *grown, *e;

    if (!exe || !*exe || !name || !kind)
        return 0; /* a library, a build script: nothing to flash */
    /* cargo names a file once; a second message for it is the same artifact. */
    for (size_t i = 0; i < b->nexes; i++)
        if (strcmp(b->exes[i].path, exe) == 0)
            return 0;
    if (!(grown = realloc(b->exes, (b->nexes + 1) * sizeof(*grown))))
        return eg_error_set(EG_ENOMEM, "out of memory");
    b->exes = grown;
    e = &grown[b->nexes];
    e->name = strdup(name);
    e->kind = strdup(kind);
    e->path = strdup(exe);
    if (!e->name || !e->kind || !e->path) {
        free(e->name);
        free(e->kind);
        free(e->path);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    b->nexes++;
    return 0;
}

int eg_cargo_feed(eg_cargo_build *b, const char *line, size_t len, eg_cargo_text_fn text, void *ctx)
{
    json_t *msg;
    const char *reason;
    int rc = 0;

    while (len && line[len - 1] == '\r')
        len--;
    msg = len && line[0] == '{' ? json_loadb(line, len, 0, NULL) : NULL;
    if (!json_is_object(msg)) {
        json_decref(msg);
        b->text_lines++;
        if (text) {
            text(ctx, line, len);
            text(ctx, "\n", 1);
        }
        return 0;
    }
    reason = json_string_value(json_object_get(msg, "reason"));
    if (!reason) {
        /* skipped */
    } else if (strcmp(reason, "compiler-artifact") == 0) {
        rc = artifact(b, msg);
    } else if (strcmp(reason, "build-script-executed") == 0) {
        rc = build_script(b, msg);
    } else if (strcmp(reason, "compiler-message") == 0) {
        json_t *r = json_object_get(json_object_get(msg, "message"), "rendered");
        if (json_is_string(r) && text)
            text(ctx, json_string_value(r), json_string_length(r));
    } else if (strcmp(reason, "build-finished") == 0) {
        json_t *ok = json_object_get(msg, "success");
        b->finished = 1;
        b->success = json_is_true(ok);
    }
    json_decref(msg);
    return rc;
}

/* Does e match --bin / --example (neither given: every executable does)? */
static int wanted(const eg_cargo_exe *e, const char *bin, const char *example)
{
    if (!bin && !example)
        return 1;
    if (bin && strcmp(e->kind, "bin") == 0 && strcmp(e->name, bin) == 0)
        return 1;
    return example && strcmp(e->kind, "example") == 0 && strcmp(e->name, example) == 0;
}

/* "bin 'app' (PATH), example 'ex' (PATH)" for the executables that match, into dst. */
static void list(char *dst, size_t len, const eg_cargo_build *b, const char *bin,
                 const char *example, int with_paths)
{
    size_t n = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < b->nexes && n < len; i++) {
        const eg_cargo_exe *e = &b->exes[i];
        int w;
        if (!wanted(e, bin, example))
            continue;
        if (with_paths)
            w = snprintf(dst + n, len - n, "%s%s '%s' (%s)", n ? ", " : "", e->kind, e->name,
                         e->path);
        else
            w = snprintf(dst + n, len - n, "%s%s '%s'", n ? ", " : "", e->kind, e->name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

int eg_cargo_pick(const eg_cargo_exe **out, const eg_cargo_build *b, const char *bin,
                  const char *example)
{
    const eg_cargo_exe *found = NULL;
    size_t n = 0;
    char names[1024];

    *out = NULL;
    for (size_t i = 0; i < b->nexes; i++) {
        if (wanted(&b->exes[i], bin, example)) {
            found = &b->exes[i];
            n++;
        }
    }
    if (n == 1) {
        *out = found;
        return 0;
    }
    if (n > 1) {
        list(names, sizeof(names), b, bin, example, 1);
        return eg_error_set(EG_EINVAL,
                            "cargo built %zu executables: %s; say which one to flash with --bin "
                            "NAME (or --example NAME)",
                            n, names);
    }
    if (b->nexes) {
        list(names, sizeof(names), b, NULL, NULL, 0);
        if (bin && example)
            return eg_error_set(EG_ENOTFOUND,
                                "cargo built no bin '%s' and no example '%s' (it built %s)", bin,
                                example, names);
        return eg_error_set(EG_ENOTFOUND, "cargo built no %s '%s' (it built %s)",
                            bin ? "bin" : "example", bin ? bin : example, names);
    }
    return eg_error_set(EG_ENOTFOUND,
                        "cargo built no executable: an example needs --example NAME, and in a "
                        "workspace the package is chosen with --package NAME");
}

void eg_cargo_build_release(eg_cargo_build *b)
{
    for (size_t i = 0; i < b->nexes; i++) {
        free(b->exes[i].name);
        free(b->exes[i].kind);
        free(b->exes[i].path);
    }
    free(b->exes);
    free(b->idf_out_dir);
    free(b->bootloader);
    free(b->partition_table);
    memset(b, 0, sizeof(*b));
}
