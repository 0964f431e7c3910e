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

static int print_info(void *vctx, eg_device *b)
{
    info_ctx *ctx = vctx;
    char mac[18], size[32], rev[16], id[16], sec[160];

    eg_mac_format(mac, b->mac);
    eg_num_format_size(size, sizeof(size), b->flash_size);
    snprintf(rev, sizeof(rev), "v%u.%u", b->rev_major, b->rev_minor);
    snprintf(id, sizeof(id), "0x%06x", b->flash_id);
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:o}", "chip", b->chip->id,
                              "chip_name", b->chip->name, "revision", rev, "mac", mac, "flash_size",
                              (json_int_t)b->flash_size, "flash_id", id, "security",
                              security_json(&b->sec));
        if (!o)
            return eg_error_set(EG_ENOMEM, "cannot build the JSON output");
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
        return 0;
    }
    security_text(sec, sizeof(sec), &b->sec);
    printf("Chip type:   %s (revision %s)\n", b->chip->name, rev);
    printf("Revision:    %s\n", rev);
    printf("MAC address: %s\n", mac);
    printf("Flash size:  %s\n", b->flash_size ? size : "unknown");
    printf("Flash id:    %s\n", id);
    printf("Security:    %s\n", sec);
    return 0;
}

int cmd_board_info(const eg_command *cmd, eg_args *a)
{
    info_ctx ctx = {a->count[OPT_JSON] > 0};
    return eg_cli_run_work(cmd, a, print_info, &ctx);
}
