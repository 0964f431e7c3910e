#include "cli/cmds.h"

#include "core/error.h"
#include "core/num.h"

#include <jansson.h>
#include <stdio.h>

typedef struct info_ctx {
    int json;
} info_ctx;

static void security_text(char *dst, size_t len, const eg_security_info *sec)
{
    if (!sec->present) {
        snprintf(dst, len, "not available (this chip's ROM does not report it)");
        return;
    }
    int crypt = __builtin_popcount(sec->flash_crypt_cnt) % 2;
    snprintf(dst, len, "secure boot %s, flash encryption %s, secure download %s (flags 0x%08x)",
             sec->flags & EG_SEC_SECURE_BOOT ? "on" : "off", crypt ? "on" : "off",
             sec->flags & EG_SEC_SECURE_DOWNLOAD ? "on" : "off", sec->flags);
}

static json_t *security_json(const eg_security_info *sec)
{
    json_t *o, *keys;

    if (!sec->present)
        return json_null();
    keys = json_array();
    for (int i = 0; i < 7; i++)
        json_array_append_new(keys, json_integer(sec->key_purposes[i]));
    o = json_pack("{s:i, s:b, s:b, s:b, s:b, s:i, s:o}", "flags", (json_int_t)sec->flags,
                  "secure_boot", (sec->flags & EG_SEC_SECURE_BOOT) != 0, "flash_encryption",
                  __builtin_popcount(sec->flash_crypt_cnt) % 2 == 1, "secure_download",
                  (sec->flags & EG_SEC_SECURE_DOWNLOAD) != 0, "jtag_disabled",
                  (sec->flags & (EG_SEC_SOFT_DIS_JTAG | EG_SEC_HARD_DIS_JTAG)) != 0,
                  "flash_crypt_cnt", (json_int_t)sec->flash_crypt_cnt, "key_purposes", keys);
    if (o && sec->has_chip_id)
        json_object_set_new(o, "chip_id", json_integer(sec->chip_id));
    return o;
}

static json_t *features_json(const eg_chip_info *info)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < info->n_features; i++)
        json_array_append_new(a, json_string(info->features[i]));
    return a;
}

static void features_text(char *dst, size_t len, const eg_chip_info *info)
{
    size_t at = 0;

    dst[0] = '\0';
    for (unsigned i = 0; i < info->n_features && at < len; i++) {
        int n = snprintf(dst + at, len - at, "%s%s", i ? ", " : "", info->features[i]);
        if (n < 0)
            break;
        at += (size_t)n;
    }
}

static int print_info(void *vctx, eg_device *b)
{
    info_ctx *ctx = vctx;
    char mac[18], size[32], rev[16], id[16], sec[160], maker_id[8], device[8];
    char features[EG_CHIP_FEATURES_MAX * (EG_CHIP_FEATURE_LEN + 2)];
    const char *maker = eg_flash_manufacturer(b->flash_id);

    eg_mac_format(mac, b->mac);
    eg_num_format_size(size, sizeof(size), b->flash_size);
    snprintf(rev, sizeof(rev), "v%u.%u", b->rev_major, b->rev_minor);
    snprintf(id, sizeof(id), "0x%06x", b->flash_id);
    snprintf(maker_id, sizeof(maker_id), "0x%02x", b->flash_id & 0xFF);
    snprintf(device, sizeof(device), "0x%04x", eg_flash_device_id(b->flash_id));
    if (ctx->json) {
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:I, s:s, s:I, s:o, s:s, s:I, s:s, s:o, s:s, s:s, s:o}", "chip",
            b->chip->id, "chip_name", b->chip->name, "package", b->info.package, "package_version",
            (json_int_t)b->info.package_version, "revision", rev, "crystal_mhz",
            (json_int_t)b->info.crystal_mhz, "features", features_json(&b->info), "mac", mac,
            "flash_size", (json_int_t)b->flash_size, "flash_id", id, "flash_manufacturer",
            maker ? json_string(maker) : json_null(), "flash_manufacturer_id", maker_id,
            "flash_device_id", device, "security", security_json(&b->sec));
        if (!o)
            return eg_error_set(EG_ENOMEM, "cannot build the JSON output");
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
        return 0;
    }
    security_text(sec, sizeof(sec), &b->sec);
    features_text(features, sizeof(features), &b->info);
    if (b->info.package_known)
        printf("Chip type:          %s (revision %s)\n", b->info.package, rev);
    else
        printf("Chip type:          %s, package %s (revision %s)\n", b->chip->name, b->info.package,
               rev);
    printf("Revision:           %s\n", rev);
    printf("Crystal frequency:  %u MHz\n", b->info.crystal_mhz);
    printf("Features:           %s\n", features);
    printf("MAC address:        %s\n", mac);
    printf("Flash manufacturer: %s (%s)\n", maker ? maker : "unknown", maker_id);
    printf("Flash device:       %s\n", device);
    printf("Flash size:         %s\n", b->flash_size ? size : "unknown");
    printf("Flash id:           %s\n", id);
    printf("Security:           %s\n", sec);
    return 0;
}

int cmd_board_info(const eg_command *cmd, eg_args *a)
{
    info_ctx ctx = {a->count[OPT_JSON] > 0};
    return eg_cli_run_work(cmd, a, print_info, &ctx);
}
