/* The build flags of `cargo espgang flash|save-image`: those of cargo-espflash 4.x's
 * BuildArgs, handed to `cargo build` in its order; everything else is espgang's. */
#include "cargo/cargo.h"

#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const eg_cargo_flag eg_cargo_flags[EG_CARGO_NFLAGS] = {
    [EG_CARGO_TARGET] = {"target", 0, "TRIPLE", 0,
                         "the target to build for (default: cargo's own)"},
    [EG_CARGO_TARGET_DIR] = {"target-dir", 0, "DIR", 0, "where cargo puts what it builds"},
    [EG_CARGO_RELEASE] = {"release", 0, NULL, 0, "build with the release profile"},
    [EG_CARGO_LOCKED] = {"locked", 0, NULL, 0, "Cargo.lock must not change"},
    [EG_CARGO_FROZEN] = {"frozen", 0, NULL, 0,
                         "Cargo.lock must not change and the network is not used"},
    [EG_CARGO_EXAMPLE] = {"example", 0, "NAME", 0, "build and flash this example"},
    [EG_CARGO_BIN] = {"bin", 0, "NAME", 0,
                      "build and flash this binary (needed when the package has several)"},
    [EG_CARGO_PACKAGE] = {"package", 0, "NAME", 0, "the package of a workspace to build"},
    [EG_CARGO_NO_DEFAULT_FEATURES] = {"no-default-features", 0, NULL, 0,
                                      "do not turn on the package's default features"},
    [EG_CARGO_FEATURES] = {"features", 0, "LIST", 1,
                           "features to turn on, comma-separated (may be given again)"},
    [EG_CARGO_UNSTABLE] = {NULL, 'Z', "FLAG", 1,
                           "a nightly cargo flag (-Z build-std=core), handed to cargo"},
    [EG_CARGO_SKIP_UPDATE_CHECK] = {"skip-update-check", 'S', NULL, 0,
                                    "ignored: espgang never looks for updates"},
};

/* The flag arg names (with value set to what follows '=' or the short letter), or -1. */
static int find_flag(const char *arg, const char **value)
{
    *value = NULL;
    if (arg[0] != '-' || arg[1] == '\0')
        return -1;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (int i = 0; i < EG_CARGO_NFLAGS; i++) {
            const char *l = eg_cargo_flags[i].long_name;
            if (l && strlen(l) == len && strncmp(l, name, len) == 0) {
                *value = eq ? eq + 1 : NULL;
                return i;
            }
        }
        return -1;
    }
    for (int i = 0; i < EG_CARGO_NFLAGS; i++) {
        if (eg_cargo_flags[i].short_name == arg[1]) {
            *value = arg[2] ? arg + 2 : NULL;
            return i;
        }
    }
    return -1;
}

/* "--bin" or "-Z": how the user spells flag i. */
static void spelling(char *dst, size_t len, int i)
{
    const eg_cargo_flag *f = &eg_cargo_flags[i];
    if (f->long_name)
        snprintf(dst, len, "--%s", f->long_name);
    else
        snprintf(dst, len, "-%c", f->short_name);
}

/* Appends s (a copy when copy is set) to arr, which has room for it and a NULL. */
static int push(char **arr, size_t *n, const char *s, int copy)
{
    if (!(arr[*n] = copy ? strdup(s) : (char *)s))
        return eg_error_set(EG_ENOMEM, "out of memory");
    arr[++*n] = NULL;
    return 0;
}

/* Appends "--flag" and, when given, its value to out->build. */
static int push_flag(eg_cargo_args *out, int i, const char *value)
{
    char name[32];
    int rc;
    spelling(name, sizeof(name), i);
    if ((rc = push(out->build, &out->nbuild, name, 1)) < 0)
        return rc;
    return value ? push(out->build, &out->nbuild, value, 1) : 0;
}

int eg_cargo_args_split(eg_cargo_args *out, int argc, char **argv)
{
    const char *one[EG_CARGO_NFLAGS] = {0}; /* value of a single-value flag, "" for a flag */
    const char **many[EG_CARGO_NFLAGS] = {0};
    size_t nmany[EG_CARGO_NFLAGS] = {0};
    char *features = NULL;
    char name[32];
    int rc = 0, i;

    memset(out, 0, sizeof(*out));
    /* Room for every argument (a flag and its value at most make two), and the NULLs. */
    out->build = calloc(2 * (size_t)argc + 3, sizeof(char *));
    out->rest = calloc((size_t)argc + 1, sizeof(char *));
    if (!out->build || !out->rest) {
        rc = eg_error_set(EG_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = push(out->build, &out->nbuild, "build", 1)) < 0 ||
        (rc = push(out->build, &out->nbuild, "--message-format=json-render-diagnostics", 1)) < 0)
        goto done;
    for (i = 0; i < argc; i++) {
        const char *value;
        int f;

        if (strcmp(argv[i], "--") == 0) {
            for (; i < argc; i++)
                if ((rc = push(out->rest, &out->nrest, argv[i], 0)) < 0)
                    goto done;
            break;
        }
        if ((f = find_flag(argv[i], &value)) < 0) {
            if ((rc = push(out->rest, &out->nrest, argv[i], 0)) < 0)
                goto done;
            continue;
        }
        spelling(name, sizeof(name), f);
        if (!eg_cargo_flags[f].metavar) {
            if (value) {
                rc = eg_error_set(EG_EINVAL, "%s takes no value (got '%s')", name, argv[i]);
                goto done;
            }
            one[f] = "";
            continue;
        }
        if (!value) {
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0')) {
                rc = eg_error_set(EG_EINVAL, "%s needs a value (%s)", name,
                                  eg_cargo_flags[f].metavar);
                goto done;
            }
            value = argv[++i];
        }
        if (!*value) {
            rc = eg_error_set(EG_EINVAL, "%s needs a value (%s), not an empty one", name,
                              eg_cargo_flags[f].metavar);
            goto done;
        }
        if (eg_cargo_flags[f].repeat) {
            const char **grown = realloc(many[f], (nmany[f] + 1) * sizeof(char *));
            if (!grown) {
                rc = eg_error_set(EG_ENOMEM, "out of memory");
                goto done;
            }
            many[f] = grown;
            grown[nmany[f]++] = value;
        } else if (one[f]) {
            rc = eg_error_set(EG_EINVAL, "%s given twice ('%s' and '%s')", name, one[f], value);
            goto done;
        } else {
            one[f] = value;
        }
    }
    /* cargo-espflash hands the features on as one list joined by commas. */
    if (nmany[EG_CARGO_FEATURES]) {
        size_t len = 1;
        for (size_t k = 0; k < nmany[EG_CARGO_FEATURES]; k++)
            len += strlen(many[EG_CARGO_FEATURES][k]) + 1;
        if (!(features = malloc(len))) {
            rc = eg_error_set(EG_ENOMEM, "out of memory");
            goto done;
        }
        features[0] = '\0';
        for (size_t k = 0; k < nmany[EG_CARGO_FEATURES]; k++) {
            if (k)
                strncat(features, ",", len - strlen(features) - 1);
            strncat(features, many[EG_CARGO_FEATURES][k], len - strlen(features) - 1);
        }
    }
    for (i = 0; i < EG_CARGO_NFLAGS; i++) {
        if (i == EG_CARGO_SKIP_UPDATE_CHECK)
            continue;
        if (i == EG_CARGO_FEATURES) {
            if (features && (rc = push_flag(out, i, features)) < 0)
                goto done;
        } else if (eg_cargo_flags[i].repeat) {
            for (size_t k = 0; k < nmany[i]; k++)
                if ((rc = push_flag(out, i, many[i][k])) < 0)
                    goto done;
        } else if (one[i] && (rc = push_flag(out, i, *one[i] ? one[i] : NULL)) < 0) {
            goto done;
        }
    }
    out->bin = one[EG_CARGO_BIN];
    out->example = one[EG_CARGO_EXAMPLE];
done:
    for (i = 0; i < EG_CARGO_NFLAGS; i++)
        free(many[i]);
    free(features);
    if (rc < 0)
        eg_cargo_args_release(out);
    return rc;
}

void eg_cargo_args_release(eg_cargo_args *a)
{
    for (size_t i = 0; i < a->nbuild; i++)
        free(a->build[i]);
    free(a->build);
    free(a->rest);
    memset(a, 0, sizeof(*a));
}
