/* Inside src/profile: the profile's sections that live in files of their own
 * (factory.c: boot_check, serial, nvs), and what they share with profile.c. */
#ifndef EG_PROFILE_SECTIONS_H
#define EG_PROFILE_SECTIONS_H

#include "profile/profile.h"
#include "profile/schema.h"

/* {file, sha256} at n (and offset, for a region, when offset is not NULL): resolved,
 * pinned, checked to exist. */
int eg_profile_get_file(eg_profile_file *f, uint32_t *offset, const eg_schema *c,
                        const eg_profile_node *n, const char *key);
/* The file named by value n (given) with its pin, resolved and checked to exist. */
int eg_profile_set_file(eg_profile_file *f, const eg_schema *c, const eg_profile_node *n,
                        const char *key, const uint8_t pin[32]);
/* f's bytes read and checked against its pin. */
int eg_profile_read_file(const eg_profile *p, eg_profile_file *f, const char *key);
void eg_profile_file_release(eg_profile_file *f);

int eg_profile_get_boot_check(const eg_schema *c, const eg_profile_node *n);
int eg_profile_get_serial(const eg_schema *c, const eg_profile_node *n);
int eg_profile_get_nvs(const eg_schema *c, const eg_profile_node *n);
/* Checks across sections, once all are read (after: no-reset with a boot check...). */
int eg_profile_check_factory(const eg_schema *c, const eg_profile_node *root);
/* Reads the files the NVS keys pin. */
int eg_profile_read_factory(eg_profile *p);
void eg_profile_free_factory(eg_profile *p);

#endif
