/* Inside src/profile: the checks every YAML file espgang reads is held to (profiles,
 * slots files). Each fault is EG_EINVAL (unless said) with a message that starts
 * "PATH:LINE:COLUMN: KEY: ", KEY the dotted path of the value ("images.app.sha256"). */
#ifndef EG_PROFILE_SCHEMA_H
#define EG_PROFILE_SCHEMA_H

#include "profile/internal.h"

#include <stddef.h>
#include <stdint.h>

#define MAX_KEY    320 /* a key path in a message */
#define MAX_FIELDS 24  /* keys a map of the schema may have */
#define COUNT(a)   (sizeof(a) / sizeof((a)[0]))

typedef struct eg_schema {
    const char *path;   /* the file as given, for messages */
    const char *folder; /* its folder with the trailing '/', "" for the current one */
    void *user;         /* what the reader fills */
} eg_schema;

int eg_schema_fail(const eg_schema *c, const eg_profile_node *n, const char *key, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
/* The same with another code and an explicit place. */
int eg_schema_fail_at(int code, const eg_schema *c, unsigned line, unsigned column, const char *key,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* parent.child into dst (MAX_KEY bytes). */
void eg_schema_key_join(char *dst, const char *parent, const char *child);
int eg_schema_is_null(const eg_profile_node *n);
/* What a node is, for "expected X, found Y". */
const char *eg_schema_describe(char *buf, size_t len, const eg_profile_node *n);
/* Anchors, aliases and tags are refused: every value is written out. */
int eg_schema_check_plain(const eg_schema *c, const eg_profile_node *n, const char *key);
int eg_schema_expect_kind(const eg_schema *c, const eg_profile_node *n, const char *key,
                          eg_profile_node_kind kind, const char *what);
/* n must be a map whose keys are all among names (once each); found[i] is the value of
 * names[i], NULL when absent. */
int eg_schema_walk_map(const eg_profile_node **found, const eg_schema *c, const eg_profile_node *n,
                       const char *key, const char *const *names, size_t count);
int eg_schema_get_string(char **out, const eg_schema *c, const eg_profile_node *n, const char *key);
/* One line of printable text of at most max characters. */
int eg_schema_get_line(char **out, const eg_schema *c, const eg_profile_node *n, const char *key,
                       size_t max);
int eg_schema_get_bool(int *out, const eg_schema *c, const eg_profile_node *n, const char *key);
/* A whole number in decimal digits, from min to max. */
int eg_schema_get_count(unsigned *out, const eg_schema *c, const eg_profile_node *n,
                        const char *key, unsigned min, unsigned max);
/* A flash offset: decimal, 0x hex or a size (64k), 4 KiB aligned. */
int eg_schema_get_offset(uint32_t *out, const eg_schema *c, const eg_profile_node *n,
                         const char *key);
/* "500ms", "10s", "2m" into milliseconds, more than zero and at most a day. */
int eg_schema_get_duration(unsigned *out, const eg_schema *c, const eg_profile_node *n,
                           const char *key);
int eg_schema_get_sha256(uint8_t out[32], const eg_schema *c, const eg_profile_node *n,
                         const char *key);
/* "major.minor", each from 0 to 99, into major * 100 + minor. */
int eg_schema_get_revision(uint16_t *out, const eg_schema *c, const eg_profile_node *n,
                           const char *key);
/* given joined to the file's folder (unless absolute), into a new string; NULL when out
 * of memory. */
char *eg_schema_resolve(const eg_schema *c, const char *given);
/* path must exist and be a regular file (a folder when folder is set); EG_ENOTFOUND /
 * EG_EIO / EG_EINVAL naming it. */
int eg_schema_check_exists(const eg_schema *c, const eg_profile_node *n, const char *key,
                           const char *path, int folder);

#endif
