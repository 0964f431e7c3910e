/* Production profiles: every field of the good profiles in tests/data/profiles/good
 * (and of profiles/example.yaml), the defaults, paths relative to the profile's
 * folder, reading the inputs against their pins (also an ESP-IDF build), a file that
 * changes after loading, and every bad profile in tests/data/profiles/bad failing
 * with exactly the code and message the table below expects, leaving nothing behind.
 * Also the policy's and the modes' names. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/modes.h"
#include "plan/policy.h"
#include "profile/profile.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EG_PROFILE_CORPUS
#error "EG_PROFILE_CORPUS must name tests/data/profiles"
#endif
#ifndef EG_PROFILE_EXAMPLE
#error "EG_PROFILE_EXAMPLE must name profiles/example.yaml"
#endif

/* A non-NULL value that a failing load must replace with NULL. */
static int not_a_profile;
#define SENTINEL ((eg_profile *)&not_a_profile)

enum stage { AT_LOAD, AT_READ };

typedef struct bad_case {
    const char *file; /* in bad/ */
    enum stage stage; /* where it fails: eg_profile_load or eg_profile_read_inputs */
    int code;
    const char *msg;
} bad_case;

/* Every profile in bad/, with the code and the whole message it must fail with. */
static const bad_case BAD[] = {
    {"boot-no-expect.yaml", AT_LOAD, EG_EINVAL,
     "bad/boot-no-expect.yaml:8:13: boot_check.expect: missing: the line (a regular "
     "expression) the app prints once it runs"},
    {"boot-no-reset.yaml", AT_LOAD, EG_EINVAL,
     "bad/boot-no-reset.yaml:9:13: boot_check: the board is left in its loader (after: "
     "no-reset): it never boots to be checked"},
    {"boot-regex.yaml", AT_LOAD, EG_EINVAL,
     "bad/boot-regex.yaml:8:22: boot_check.expect: '(started' is not a regular expression: "
     "Unmatched ( or \\("},
    {"nvs-file-unpinned.yaml", AT_LOAD, EG_EINVAL,
     "bad/nvs-file-unpinned.yaml:11:12: nvs.namespaces.factory.cal.sha256: missing: every "
     "input file is pinned by its SHA-256 (sha256sum FILE prints it)"},
    {"nvs-key-long.yaml", AT_LOAD, EG_EINVAL,
     "bad/nvs-key-long.yaml:11:7: nvs.namespaces.factory.serial_number_xy: key "
     "'serial_number_xy' is 16 characters: NVS keys are at most 15 characters"},
    {"nvs-per-device-folder.yaml", AT_LOAD, EG_ENOTFOUND,
     "bad/nvs-per-device-folder.yaml:11:38: nvs.namespaces.factory.cert.per_device: "
     "'bad/../files/certs/' does not exist"},
    {"nvs-range.yaml", AT_LOAD, EG_EINVAL,
     "bad/nvs-range.yaml:11:30: nvs.namespaces.factory.rev.value: '300' is not a whole number "
     "a u8 holds (0 to 255)"},
    {"nvs-serial-no-format.yaml", AT_LOAD, EG_EINVAL,
     "bad/nvs-serial-no-format.yaml:11:7: nvs.namespaces.factory.sn: uses {serial}, but the "
     "profile gives no serial.format"},
    {"nvs-type.yaml", AT_LOAD, EG_EINVAL,
     "bad/nvs-type.yaml:11:19: nvs.namespaces.factory.rev.type: unknown type 'float' (u8, i8, "
     "u16, i16, u32, i32, u64, i64, string or blob)"},
    {"nvs-unknown-field.yaml", AT_LOAD, EG_EINVAL,
     "bad/nvs-unknown-field.yaml:11:36: nvs.namespaces.factory.host.value: unknown field "
     "'{hostname}' (known: {serial}, {mac}, {mac_hex}, {lot}, {station}, {date})"},
    {"serial-no-seq.yaml", AT_LOAD, EG_EINVAL,
     "bad/serial-no-seq.yaml:8:18: serial.format: uses no {seq}: every board would get the "
     "same number"},
    {"serial-unknown-field.yaml", AT_LOAD, EG_EINVAL,
     "bad/serial-unknown-field.yaml:8:22: serial.format: unknown field '{lto}' (known: {lot}, "
     "{station}, {date}, {seq})"},
    {"serial-width.yaml", AT_LOAD, EG_EINVAL,
     "bad/serial-width.yaml:8:22: serial.format: '{seq:6}': a field's width is written '0N' "
     "(1 to 32), as in {seq:06}"},
    {"after-unknown.yaml", AT_LOAD, EG_EINVAL,
     "bad/after-unknown.yaml:8:8: after: unknown mode 'reboot' (hard-reset, no-reset or "
     "watchdog-reset)"},
    {"alias.yaml", AT_LOAD, EG_EINVAL,
     "bad/alias.yaml:8:10: retries: an alias (*twice): a profile writes each value out, without "
     "anchors or aliases"},
    {"anchor.yaml", AT_LOAD, EG_EINVAL,
     "bad/anchor.yaml:2:7: name: an anchor (&n): a profile writes each value out, without anchors "
     "or aliases"},
    {"app-string.yaml", AT_LOAD, EG_EINVAL,
     "bad/app-string.yaml:5:8: images.app: expected a map with file and sha256, found "
     "'../files/app.bin'"},
    {"attempts-zero.yaml", AT_LOAD, EG_EINVAL,
     "bad/attempts-zero.yaml:9:21: connection.connect_attempts: 0 is out of range (1 to 1000)"},
    {"baud-quoted.yaml", AT_LOAD, EG_EINVAL,
     "bad/baud-quoted.yaml:9:9: connection.baud: expected a whole number, found \"921600\" in "
     "quotes"},
    {"baud-range.yaml", AT_LOAD, EG_EINVAL,
     "bad/baud-range.yaml:9:9: connection.baud: 300 is out of range (9600 to 5000000)"},
    {"baud-text.yaml", AT_LOAD, EG_EINVAL,
     "bad/baud-text.yaml:9:9: connection.baud: expected a whole number, found 'fast'"},
    {"before-unknown.yaml", AT_LOAD, EG_EINVAL,
     "bad/before-unknown.yaml:9:11: connection.before: unknown mode 'sometimes' (default-reset, "
     "usb-reset, no-reset or no-reset-no-sync)"},
    {"chip-list.yaml", AT_LOAD, EG_EINVAL,
     "bad/chip-list.yaml:3:7: chip: expected a string, found a list"},
    {"chip-missing.yaml", AT_LOAD, EG_EINVAL,
     "bad/chip-missing.yaml:1:1: chip: missing: the chip every board must be (esp32, esp32s2, "
     "esp32s3, esp32c2, esp32c3, esp32c5, esp32c6, esp32h2, esp32p4)"},
    {"chip-unknown.yaml", AT_LOAD, EG_EINVAL,
     "bad/chip-unknown.yaml:3:7: chip: unknown chip 'esp8266' (known: esp32, esp32s2, esp32s3, "
     "esp32c2, esp32c3, esp32c5, esp32c6, esp32h2, esp32p4)"},
    {"comments-only.yaml", AT_LOAD, EG_EINVAL, "bad/comments-only.yaml:1:1: the profile is empty"},
    {"control-char.yaml", AT_LOAD, EG_EINVAL,
     "bad/control-char.yaml:2:10: control characters are not allowed (character 0x01)"},
    {"duplicate-key.yaml", AT_LOAD, EG_EINVAL,
     "bad/duplicate-key.yaml:10:1: erase: given a second time (first on line 8)"},
    {"empty.yaml", AT_LOAD, EG_EINVAL, "bad/empty.yaml:1:1: the profile is empty"},
    {"erase-unknown.yaml", AT_LOAD, EG_EINVAL,
     "bad/erase-unknown.yaml:8:8: erase: unknown policy 'everything' (none, regions or all)"},
    {"file-is-folder.yaml", AT_LOAD, EG_EINVAL,
     "bad/file-is-folder.yaml:6:11: images.app.file: 'bad/../files' is not a file"},
    {"file-missing-key.yaml", AT_LOAD, EG_EINVAL,
     "bad/file-missing-key.yaml:6:5: images.app.file: missing: the file to write"},
    {"file-not-found.yaml", AT_LOAD, EG_ENOTFOUND,
     "bad/file-not-found.yaml:6:11: images.app.file: 'bad/../files/nope.bin' does not exist"},
    {"flash-freq.yaml", AT_LOAD, EG_EINVAL,
     "bad/flash-freq.yaml:9:9: flash.freq: flash frequency '80m' is not one ESP32-C2 can use (60m, "
     "30m, 20m, 15m)"},
    {"flash-list.yaml", AT_LOAD, EG_EINVAL,
     "bad/flash-list.yaml:9:3: flash: expected a map, found a list"},
    {"flash-mode.yaml", AT_LOAD, EG_EINVAL,
     "bad/flash-mode.yaml:9:9: flash.mode: unknown flash mode 'fastest' (qio, qout, dio or dout)"},
    {"flash-size.yaml", AT_LOAD, EG_EINVAL,
     "bad/flash-size.yaml:9:9: flash.size: unknown flash size '3MB' (1MB, 2MB, 4MB, 8MB, 16MB, "
     "32MB, 64MB or 128MB)"},
    {"idf-absolute-pin.yaml", AT_LOAD, EG_EINVAL,
     "bad/idf-absolute-pin.yaml:7:5: idf_build.sha256./etc/passwd: must be a path relative to "
     "idf_build.dir, as flasher_args.json lists it"},
    {"idf-dir-is-file.yaml", AT_LOAD, EG_EINVAL,
     "bad/idf-dir-is-file.yaml:5:8: idf_build.dir: 'bad/../files/app.bin' is not a folder"},
    {"idf-dir-missing.yaml", AT_LOAD, EG_ENOTFOUND,
     "bad/idf-dir-missing.yaml:5:8: idf_build.dir: 'bad/../files/build' does not exist"},
    {"idf-duplicate-pin.yaml", AT_LOAD, EG_EINVAL,
     "bad/idf-duplicate-pin.yaml:9:5: idf_build.sha256.hello.bin: given a second time (first on "
     "line 8)"},
    {"idf-no-args-pin.yaml", AT_LOAD, EG_EINVAL,
     "bad/idf-no-args-pin.yaml:7:5: idf_build.sha256.flasher_args.json: missing: flasher_args.json "
     "says what goes where, so it is pinned too"},
    {"idf-no-sha256.yaml", AT_LOAD, EG_EINVAL,
     "bad/idf-no-sha256.yaml:5:3: idf_build.sha256: missing: every file of the build is pinned by "
     "its SHA-256 (sha256sum prints it)"},
    {"images-and-idf.yaml", AT_LOAD, EG_EINVAL,
     "bad/images-and-idf.yaml:9:3: idf_build: a profile names its images or an idf_build, not "
     "both"},
    {"images-empty.yaml", AT_LOAD, EG_EINVAL,
     "bad/images-empty.yaml:4:9: images: nothing to flash: name a bootloader, partition_table, app "
     "or regions"},
    {"images-list.yaml", AT_LOAD, EG_EINVAL,
     "bad/images-list.yaml:5:3: images: expected a map, found a list"},
    {"key-list.yaml", AT_LOAD, EG_EINVAL, "bad/key-list.yaml:8:1: expected a key, found a list"},
    {"latin1.yaml", AT_LOAD, EG_EINVAL,
     "bad/latin1.yaml:2:10: not UTF-8 text (incomplete UTF-8 octet sequence)"},
    {"min-revision-bad.yaml", AT_LOAD, EG_EINVAL,
     "bad/min-revision-bad.yaml:8:15: min_revision: expected a revision as major.minor (\"0.3\"), "
     "found '0.3.1'"},
    {"min-revision-integer.yaml", AT_LOAD, EG_EINVAL,
     "bad/min-revision-integer.yaml:8:15: min_revision: '3' is ambiguous: write major.minor, as "
     "\"0.3\" or \"3.0\" (quotes keep it text)"},
    {"name-empty.yaml", AT_LOAD, EG_EINVAL,
     "bad/name-empty.yaml:2:6: name: expected a string, found nothing"},
    {"name-missing.yaml", AT_LOAD, EG_EINVAL,
     "bad/name-missing.yaml:1:1: name: missing: what records and reports call this profile"},
    {"name-multiline.yaml", AT_LOAD, EG_EINVAL,
     "bad/name-multiline.yaml:2:7: name: must be one line of text (it holds a line break)"},
    {"name-nul.yaml", AT_LOAD, EG_EINVAL, "bad/name-nul.yaml:2:7: name: holds a NUL character"},
    {"no-images.yaml", AT_LOAD, EG_EINVAL,
     "bad/no-images.yaml:1:1: images: missing: a profile names its images or an idf_build"},
    {"read-elf-no-size.yaml", AT_READ, EG_EINVAL,
     "bad/read-elf-no-size.yaml:6:11: images.app: 'bad/../files/app.elf' is an ELF, and the app "
     "image made from it names the flash size: set flash.size"},
    {"read-idf-args-mismatch.yaml", AT_READ, EG_EMISMATCH,
     "bad/read-idf-args-mismatch.yaml:7:5: idf_build.sha256.flasher_args.json: "
     "'bad/../files/idf/flasher_args.json' has SHA-256 "
     "6689daf762015068d6bfb665025800ee87d0ffe9bc7aa53971bddb80b4457b1d, but the profile pins "
     "663666ead3c4b420e24416f320d5333009a132dcc6ac9a11de929c8e0bd19f3d"},
    {"read-idf-chip.yaml", AT_READ, EG_EMISMATCH,
     "bad/read-idf-chip.yaml:7:5: idf_build: the build is for 'esp32c3', the profile for ESP32-S3"},
    {"read-idf-extra-pin.yaml", AT_READ, EG_EINVAL,
     "bad/read-idf-extra-pin.yaml:11:5: idf_build.sha256.extra.bin: "
     "bad/../files/idf/flasher_args.json does not list this file"},
    {"read-idf-file-mismatch.yaml", AT_READ, EG_EMISMATCH,
     "bad/read-idf-file-mismatch.yaml:8:5: idf_build.sha256.hello.bin: "
     "'bad/../files/idf/hello.bin' has SHA-256 "
     "663666ead3c4b420e24416f320d5333009a132dcc6ac9a11de929c8e0bd19f3d, but the profile pins "
     "446ffed039d25403335a18bf2f9198f2ac9efc03ee8d79d016e6697eef558cfa"},
    {"read-idf-unpinned.yaml", AT_READ, EG_EINVAL,
     "bad/read-idf-unpinned.yaml:7:5: idf_build.sha256: bad/../files/idf/flasher_args.json lists "
     "'bootloader/bootloader.bin' (at 0x0), which has no pin"},
    {"read-pin-mismatch.yaml", AT_READ, EG_EMISMATCH,
     "bad/read-pin-mismatch.yaml:6:11: images.app: 'bad/../files/app.bin' has SHA-256 "
     "d3182e123c45f62348750778088a069454a13fc710e7a0a596bf16ea8d6394be, but the profile pins "
     "431ee9096e8186fe64b4d1952df6c27dc566e4671cba77899b8417a26b301254"},
    {"read-region-mismatch.yaml", AT_READ, EG_EMISMATCH,
     "bad/read-region-mismatch.yaml:10:32: images.regions[1]: 'bad/../files/fs.bin' has SHA-256 "
     "0cba194f454841d9b7d5fa03721ee3f67061aa9abbfc2870ab9b04c7973abe29, but the profile pins "
     "173887ffbe8c27f869116a8916e91f43bc89726bb6ed730e90ffa312e01713e6"},
    {"region-no-offset.yaml", AT_LOAD, EG_EINVAL,
     "bad/region-no-offset.yaml:9:7: images.regions[0].offset: missing: where the file goes in "
     "flash"},
    {"region-same-offset.yaml", AT_LOAD, EG_EINVAL,
     "bad/region-same-offset.yaml:10:7: images.regions[1]: offset 0x9000 is also "
     "images.regions[0]'s"},
    {"region-unaligned.yaml", AT_LOAD, EG_EINVAL,
     "bad/region-unaligned.yaml:9:16: images.regions[0].offset: 0x9100 is not 4 KiB aligned (a "
     "multiple of 0x1000)"},
    {"regions-map.yaml", AT_LOAD, EG_EINVAL,
     "bad/regions-map.yaml:9:5: images.regions: expected a list of {offset, file, sha256}, found a "
     "map"},
    {"retries-list.yaml", AT_LOAD, EG_EINVAL,
     "bad/retries-list.yaml:8:10: retries: expected a number or a map by step (write: 2), found a "
     "list"},
    {"retries-range.yaml", AT_LOAD, EG_EINVAL,
     "bad/retries-range.yaml:8:10: retries: 1000 is out of range (0 to 100)"},
    {"retries-step.yaml", AT_LOAD, EG_EINVAL,
     "bad/retries-step.yaml:10:3: retries.flash: unknown key (known: connect, identify, check, "
     "erase, write, verify, finish)"},
    {"security-unknown.yaml", AT_LOAD, EG_EINVAL,
     "bad/security-unknown.yaml:10:3: security.allow_jtag: unknown key (known: allow_secure_boot, "
     "allow_flash_encryption, allow_secure_download)"},
    {"sha256-accent.yaml", AT_LOAD, EG_EINVAL,
     "bad/sha256-accent.yaml:7:13: images.app.sha256: expected 64 hex digits (character 11 is not "
     "one)"},
    {"sha256-missing.yaml", AT_LOAD, EG_EINVAL,
     "bad/sha256-missing.yaml:6:5: images.app.sha256: missing: every input file is pinned by its "
     "SHA-256 (sha256sum FILE prints it)"},
    {"sha256-not-hex.yaml", AT_LOAD, EG_EINVAL,
     "bad/sha256-not-hex.yaml:7:13: images.app.sha256: expected 64 hex digits ('g' is not one)"},
    {"sha256-number.yaml", AT_LOAD, EG_EINVAL,
     "bad/sha256-number.yaml:7:13: images.app.sha256: expected 64 hex digits, found a list"},
    {"sha256-short.yaml", AT_LOAD, EG_EINVAL,
     "bad/sha256-short.yaml:7:13: images.app.sha256: expected 64 hex digits, found 63"},
    {"stub-yes.yaml", AT_LOAD, EG_EINVAL,
     "bad/stub-yes.yaml:9:9: connection.stub: expected true or false, found 'yes'"},
    {"syntax-flow.yaml", AT_LOAD, EG_EINVAL,
     "bad/syntax-flow.yaml:5:7: not valid YAML: did not find expected ',' or ']' (while parsing a "
     "flow sequence at 4:10)"},
    {"syntax-indent.yaml", AT_LOAD, EG_EINVAL,
     "bad/syntax-indent.yaml:7:4: not valid YAML: did not find expected key (while parsing a block "
     "mapping at 5:3)"},
    {"tab-after-colon.yaml", AT_LOAD, EG_EINVAL,
     "bad/tab-after-colon.yaml:2:6: a tab character: a profile is indented and spaced with spaces "
     "only"},
    {"tab.yaml", AT_LOAD, EG_EINVAL,
     "bad/tab.yaml:5:1: a tab character: a profile is indented and spaced with spaces only"},
    {"table-offset-text.yaml", AT_LOAD, EG_EINVAL,
     "bad/table-offset-text.yaml:8:27: images.partition_table_offset: expected an offset (0x9000, "
     "36864 or 36k), found \"0x8000\" in quotes"},
    {"table-offset.yaml", AT_LOAD, EG_EINVAL,
     "bad/table-offset.yaml:8:27: images.partition_table_offset: 0x1000 is not after the "
     "bootloader, which ESP32 starts at 0x1000"},
    {"tag.yaml", AT_LOAD, EG_EINVAL,
     "bad/tag.yaml:9:9: connection.baud: a tag (tag:yaml.org,2002:int): a profile takes no YAML "
     "tags"},
    {"target-too-long.yaml", AT_LOAD, EG_EINVAL,
     "bad/target-too-long.yaml:8:25: images.target_app_partition: longer than 15 characters"},
    {"timeout-long.yaml", AT_LOAD, EG_EINVAL,
     "bad/timeout-long.yaml:9:10: timeouts.erase: 1441m is more than a day"},
    {"timeout-no-unit.yaml", AT_LOAD, EG_EINVAL,
     "bad/timeout-no-unit.yaml:9:10: timeouts.write: expected a duration (500ms, 10s or 2m), found "
     "'10'"},
    {"timeout-zero.yaml", AT_LOAD, EG_EINVAL,
     "bad/timeout-zero.yaml:9:12: timeouts.connect: a deadline of zero: leave the step out to give "
     "it none"},
    {"timeouts-scalar.yaml", AT_LOAD, EG_EINVAL,
     "bad/timeouts-scalar.yaml:8:11: timeouts: expected a map by step name (write: 2m), found "
     "'10s'"},
    {"too-deep.yaml", AT_LOAD, EG_EINVAL, "bad/too-deep.yaml:8:42: nested deeper than 32 levels"},
    {"top-anchor.yaml", AT_LOAD, EG_EINVAL,
     "bad/top-anchor.yaml:1:5: an anchor (&profile): a profile writes each value out, without "
     "anchors or aliases"},
    {"top-list.yaml", AT_LOAD, EG_EINVAL,
     "bad/top-list.yaml:1:1: expected a map of keys (version: 1, name: ...), found a list"},
    {"top-scalar.yaml", AT_LOAD, EG_EINVAL,
     "bad/top-scalar.yaml:1:1: expected a map of keys (version: 1, name: ...), found 'just some "
     "words'"},
    {"two-documents.yaml", AT_LOAD, EG_EINVAL,
     "bad/two-documents.yaml:8:1: a second YAML document: a profile is one document"},
    {"unknown-key.yaml", AT_LOAD, EG_EINVAL,
     "bad/unknown-key.yaml:8:1: flash_mode: unknown key (known: version, name, chip, min_revision, "
     "flash, connection, images, idf_build, erase, verify, skip_unchanged, security, after, "
     "retries, timeouts, database, boot_check, serial, nvs)"},
    {"unknown-nested.yaml", AT_LOAD, EG_EINVAL,
     "bad/unknown-nested.yaml:5:3: images.bootlodaer: unknown key (known: bootloader, "
     "partition_table, partition_table_offset, app, target_app_partition, regions)"},
    {"utf16.yaml", AT_LOAD, EG_EINVAL,
     "bad/utf16.yaml:1:1: not UTF-8 text (invalid leading UTF-8 octet 0xff)"},
    {"verify-bool.yaml", AT_LOAD, EG_EINVAL,
     "bad/verify-bool.yaml:8:9: verify: expected a map, found 'true'"},
    {"verify-unknown.yaml", AT_LOAD, EG_EINVAL,
     "bad/verify-unknown.yaml:10:3: verify.crc: unknown key (known: md5, readback)"},
    {"version-2.yaml", AT_LOAD, EG_EINVAL,
     "bad/version-2.yaml:1:10: version: profile version 2: this espgang reads profile version 1"},
    {"version-missing.yaml", AT_LOAD, EG_EINVAL,
     "bad/version-missing.yaml:1:1: version: missing: a profile starts with 'version: 1', the "
     "format it is written in"},
    {"version-text.yaml", AT_LOAD, EG_EINVAL,
     "bad/version-text.yaml:1:10: version: expected a whole number, found 'one'"},
};

#define N_BAD (sizeof(BAD) / sizeof(BAD[0]))

static eg_profile *load_ok(const char *path)
{
    eg_profile *p = SENTINEL;
    int rc = eg_profile_load(&p, path);
    if (rc != 0)
        fail_msg("'%s' refused (%d): %s", path, rc, eg_error_msg());
    assert_non_null(p);
    assert_ptr_not_equal(p, SENTINEL);
    return p;
}

static void read_ok(eg_profile *p)
{
    int rc = eg_profile_read_inputs(p);
    if (rc != 0)
        fail_msg("inputs of '%s' refused (%d): %s", p->path, rc, eg_error_msg());
}

/* The file's bytes equal data. */
static void assert_file_data(const char *path, const eg_buf *data)
{
    eg_buf want = EG_BUF_INIT;
    assert_int_equal(eg_buf_read_file(&want, path), 0);
    assert_int_equal(data->len, want.len);
    assert_memory_equal(data->data, want.data, want.len);
    eg_buf_release(&want);
}

static void assert_pin(const eg_profile_file *f, const char *hex)
{
    char got[65];
    eg_hex(got, f->sha256, 32);
    assert_string_equal(got, hex);
}

/* After a failed eg_profile_read_inputs(): no bytes kept anywhere. */
static void assert_no_inputs(const eg_profile *p)
{
    assert_int_equal(p->bootloader.data.len, 0);
    assert_null(p->bootloader.data.data);
    assert_null(p->partition_table.data.data);
    assert_null(p->app.data.data);
    for (size_t i = 0; i < p->n_regions; i++)
        assert_null(p->regions[i].file.data.data);
    assert_null(p->idf_args.data.data);
    for (size_t i = 0; i < p->n_idf_files; i++)
        assert_null(p->idf_files[i].data.data);
    assert_null(p->idf);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void make_temp_dir(char *dst, size_t len)
{
    snprintf(dst, len, "/tmp/eg_profile_XXXXXX");
    assert_non_null(mkdtemp(dst));
}

static void remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Messages name paths as given: the tests load "good/x.yaml" from the corpus. */
static int setup(void **state)
{
    (void)state;
    return chdir(EG_PROFILE_CORPUS);
}

/* ---- the bad corpus ------------------------------------------------------------------ */

static void test_bad_corpus(void **state)
{
    char path[256];
    (void)state;

    for (size_t i = 0; i < N_BAD; i++) {
        const bad_case *b = &BAD[i];
        eg_profile *p = SENTINEL;
        int rc;

        snprintf(path, sizeof(path), "bad/%s", b->file);
        eg_error_clear();
        rc = eg_profile_load(&p, path);
        if (b->stage == AT_READ) {
            if (rc != 0)
                fail_msg("%s: refused when loading (%d): %s", b->file, rc, eg_error_msg());
            rc = eg_profile_read_inputs(p);
        } else {
            assert_null(p);
        }
        if (rc != b->code)
            fail_msg("%s: code %d, expected %d (%s)", b->file, rc, b->code, eg_error_msg());
        if (strcmp(eg_error_msg(), b->msg) != 0)
            fail_msg("%s:\n  got      '%s'\n  expected '%s'", b->file, eg_error_msg(), b->msg);
        if (b->stage == AT_READ) {
            assert_no_inputs(p);
            eg_profile_free(p);
        }
    }
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Every profile in bad/ has its row, and every row its profile. */
static void test_bad_corpus_complete(void **state)
{
    DIR *d = opendir("bad");
    struct dirent *e;
    size_t files = 0, loading = 0;
    (void)state;

    assert_non_null(d);
    while ((e = readdir(d))) {
        size_t i = 0;
        if (!ends_with(e->d_name, ".yaml"))
            continue;
        while (i < N_BAD && strcmp(BAD[i].file, e->d_name) != 0)
            i++;
        if (i == N_BAD)
            fail_msg("bad/%s has no row in BAD[]", e->d_name);
        files++;
    }
    closedir(d);
    assert_int_equal(files, N_BAD);
    for (size_t i = 0; i < N_BAD; i++)
        loading += BAD[i].stage == AT_LOAD;
    assert_true(loading >= 30);
}

/* ---- good profiles --------------------------------------------------------------------- */

static void test_good_full(void **state)
{
    eg_profile *p = load_ok("good/full.yaml");
    eg_buf text = EG_BUF_INIT;
    uint8_t sha[32];
    (void)state;

    assert_string_equal(p->path, "good/full.yaml");
    assert_int_equal(eg_buf_read_file(&text, "good/full.yaml"), 0);
    assert_int_equal(eg_sha256(sha, text.data, text.len), 0);
    assert_memory_equal(p->sha256, sha, 32);
    eg_buf_release(&text);

    assert_int_equal(p->version, 1);
    assert_string_equal(p->name, "sensor-v2 line 3");
    assert_ptr_equal(p->chip, eg_chip_by_name("esp32c3"));
    assert_int_equal(p->min_rev_full, 4);
    assert_string_equal(p->flash_mode, "qio");
    assert_string_equal(p->flash_size, "8MB");
    assert_int_equal(p->flash_size_bytes, 8u << 20);
    assert_string_equal(p->flash_freq, "40m");
    assert_int_equal(p->baud, 460800);
    assert_int_equal(p->no_stub, 1);
    assert_int_equal(p->no_fast_connect, 1);
    assert_int_equal(p->connect_attempts, 3);

    /* Paths joined to the profile's folder; the pins in either case. */
    assert_string_equal(p->bootloader.given, "../files/boot.bin");
    assert_string_equal(p->bootloader.path, "good/../files/boot.bin");
    assert_pin(&p->bootloader, "431ee9096e8186fe64b4d1952df6c27dc566e4671cba77899b8417a26b301254");
    assert_int_equal(p->bootloader.line, 21);
    assert_int_equal(p->bootloader.column, 11);
    assert_string_equal(p->partition_table.path, "good/../files/partitions.csv");
    assert_pin(&p->partition_table,
               "fe8bf4fe147ead5d92a330bcbf4740a05600d8b15c8ed9213c89a735569a5c3d");
    assert_int_equal(p->partition_table_offset, 0x9000);
    assert_string_equal(p->app.path, "good/../files/app.bin");
    assert_pin(&p->app, "d3182e123c45f62348750778088a069454a13fc710e7a0a596bf16ea8d6394be");
    assert_int_equal(p->app.line, 27);
    assert_int_equal(p->app.column, 15);
    assert_string_equal(p->target_app_partition, "ota_0");
    assert_int_equal(p->n_regions, 2);
    assert_int_equal(p->regions[0].offset, 0xA000);
    assert_string_equal(p->regions[0].file.path, "good/../files/nvs.bin");
    assert_int_equal(p->regions[1].offset, 0x100000);
    assert_string_equal(p->regions[1].file.given, "../files/fs.bin");
    assert_pin(&p->regions[1].file,
               "0cba194f454841d9b7d5fa03721ee3f67061aa9abbfc2870ab9b04c7973abe29");
    assert_null(p->idf_build);
    assert_int_equal(p->n_idf_files, 0);

    assert_int_equal(p->policy.erase, EG_ERASE_ALL);
    assert_int_equal(p->policy.verify_md5, 0);
    assert_int_equal(p->policy.verify_readback, 1);
    assert_int_equal(p->policy.skip_same, 0);
    assert_int_equal(p->policy.allow_secure_boot, 1);
    assert_int_equal(p->policy.allow_flash_encryption, 1);
    assert_int_equal(p->policy.allow_secure_download, 1);
    assert_int_equal(p->policy.before, EG_BEFORE_USB_RESET);
    assert_int_equal(p->policy.after, EG_AFTER_WATCHDOG_RESET);
    const unsigned retries[EG_STEP_COUNT] = {[EG_STEP_CONNECT] = 3, [EG_STEP_WRITE] = 1};
    const unsigned timeouts[EG_STEP_COUNT] = {
        [EG_STEP_CONNECT] = 500, [EG_STEP_ERASE] = 120000, [EG_STEP_WRITE] = 90000};
    assert_memory_equal(p->policy.retries, retries, sizeof(retries));
    assert_memory_equal(p->policy.timeout_ms, timeouts, sizeof(timeouts));
    assert_string_equal(p->database, "good/records/line3.db");

    /* Not read until asked; then each file's bytes. */
    assert_null(p->app.data.data);
    read_ok(p);
    assert_file_data("files/boot.bin", &p->bootloader.data);
    assert_file_data("files/partitions.csv", &p->partition_table.data);
    assert_file_data("files/app.bin", &p->app.data);
    assert_file_data("files/nvs.bin", &p->regions[0].file.data);
    assert_file_data("files/fs.bin", &p->regions[1].file.data);
    /* Reading again reads the same again. */
    read_ok(p);
    assert_file_data("files/app.bin", &p->app.data);
    eg_profile_free(p);
}

/* Only what is required: everything else takes its default. */
static void test_good_minimal(void **state)
{
    eg_profile *p = load_ok("good/minimal.yaml");
    eg_policy def;
    (void)state;

    assert_string_equal(p->name, "minimal");
    assert_ptr_equal(p->chip, eg_chip_by_name("ESP32"));
    assert_int_equal(p->min_rev_full, 0);
    assert_null(p->flash_mode);
    assert_null(p->flash_size);
    assert_null(p->flash_freq);
    assert_int_equal(p->flash_size_bytes, 0);
    assert_int_equal(p->baud, 921600);
    assert_int_equal(p->no_stub, 0);
    assert_int_equal(p->no_fast_connect, 0);
    assert_int_equal(p->connect_attempts, 0);
    assert_null(p->bootloader.path);
    assert_null(p->partition_table.path);
    assert_int_equal(p->partition_table_offset, 0x8000);
    assert_string_equal(p->app.path, "good/../files/app.bin");
    assert_null(p->target_app_partition);
    assert_int_equal(p->n_regions, 0);
    assert_null(p->idf_build);
    assert_null(p->database);
    eg_policy_default(&def);
    assert_memory_equal(&p->policy, &def, sizeof(def));
    read_ok(p);
    assert_null(p->bootloader.data.data);
    assert_file_data("files/app.bin", &p->app.data);
    eg_profile_free(p);
}

/* An ELF app with the flash size its image needs, a quoted revision, an empty list
 * of regions. */
static void test_good_elf(void **state)
{
    eg_profile *p = load_ok("good/elf.yaml");
    (void)state;

    assert_ptr_equal(p->chip, eg_chip_by_name("esp32s3"));
    assert_int_equal(p->min_rev_full, 110);
    assert_int_equal(p->flash_size_bytes, 16u << 20);
    assert_string_equal(p->flash_freq, "80M");
    assert_int_equal(p->n_regions, 0);
    read_ok(p);
    assert_memory_equal(p->app.data.data, "\177ELF", 4);
    eg_profile_free(p);
}

static void test_good_idf(void **state)
{
    eg_profile *p = load_ok("good/idf.yaml");
    static const char *const order[] = {"bootloader/bootloader.bin",
                                        "partition_table/partition-table.bin", "hello.bin"};
    static const uint32_t addr[] = {0x0, 0x8000, 0x10000};
    char path[128];
    (void)state;

    assert_string_equal(p->idf_build, "good/../files/idf");
    assert_string_equal(p->idf_args.given, "flasher_args.json");
    assert_string_equal(p->idf_args.path, "good/../files/idf/flasher_args.json");
    assert_int_equal(p->idf_args.line, 11);
    assert_int_equal(p->idf_args.column, 5);
    assert_int_equal(p->n_idf_files, 3);
    assert_string_equal(p->idf_files[0].given, "hello.bin"); /* the profile's order */
    assert_null(p->idf);
    assert_int_equal(p->flash_size_bytes, 4u << 20);
    for (unsigned s = 0; s < EG_STEP_BOOT; s++)
        assert_int_equal(p->policy.retries[s], 2);
    assert_int_equal(p->policy.retries[EG_STEP_BOOT], 0); /* never tried again */
    assert_int_equal(p->policy.after, EG_AFTER_NO_RESET);

    read_ok(p);
    assert_non_null(p->idf);
    assert_int_equal(p->idf->n_files, 3);
    assert_int_equal(p->n_idf_files, 3);
    assert_file_data("files/idf/flasher_args.json", &p->idf_args.data);
    for (size_t i = 0; i < 3; i++) {
        /* The build's order now, the bytes here and not in the build. */
        assert_int_equal(p->idf->files[i].addr, addr[i]);
        assert_string_equal(p->idf->files[i].path, order[i]);
        assert_string_equal(p->idf_files[i].given, order[i]);
        snprintf(path, sizeof(path), "good/../files/idf/%s", order[i]);
        assert_string_equal(p->idf_files[i].path, path);
        snprintf(path, sizeof(path), "files/idf/%s", order[i]);
        assert_file_data(path, &p->idf_files[i].data);
        assert_int_equal(p->idf->files[i].data.len, 0);
    }
    assert_pin(&p->idf_files[2],
               "663666ead3c4b420e24416f320d5333009a132dcc6ac9a11de929c8e0bd19f3d");
    assert_string_equal(p->idf->chip, "esp32c3");
    assert_int_equal(p->idf->app_offset, 0x10000);
    /* Again: the pins are found by name whatever their order. */
    read_ok(p);
    assert_non_null(p->idf);
    assert_file_data("files/idf/hello.bin", &p->idf_files[2].data);
    eg_profile_free(p);
}

/* The profile names its files relative to its own folder, wherever it is loaded from. */
static void test_paths(void **state)
{
    char cwd[512], abs[600];
    eg_profile *p;
    (void)state;

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(abs, sizeof(abs), "%s/good/minimal.yaml", cwd);
    p = load_ok(abs);
    snprintf(abs, sizeof(abs), "%s/good/../files/app.bin", cwd);
    assert_string_equal(p->app.path, abs);
    read_ok(p);
    eg_profile_free(p);

    assert_int_equal(chdir("good"), 0);
    p = load_ok("minimal.yaml");
    assert_string_equal(p->app.path, "../files/app.bin");
    read_ok(p);
    eg_profile_free(p);
    assert_int_equal(chdir(cwd), 0);
}

/* ---- inputs that change ---------------------------------------------------------------- */

static void test_changed_after_load(void **state)
{
    char dir[64], path[128], prof[128], text[512], pin[65], other[65];
    uint8_t sha[32];
    eg_profile *p;
    int rc;
    (void)state;

    make_temp_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/app.bin", dir);
    write_file(path, "version one", 11);
    assert_int_equal(eg_sha256(sha, "version one", 11), 0);
    eg_hex(pin, sha, 32);
    assert_int_equal(eg_sha256(sha, "version two", 11), 0);
    eg_hex(other, sha, 32);
    snprintf(prof, sizeof(prof), "%s/p.yaml", dir);
    snprintf(text, sizeof(text),
             "version: 1\nname: t\nchip: esp32c6\nimages:\n  app: {file: app.bin, sha256: %s}\n",
             pin);
    write_file(prof, text, strlen(text));

    p = load_ok(prof);
    read_ok(p);
    assert_memory_equal(p->app.data.data, "version one", 11);

    /* Changed: refused, naming the file, what it hashes to and the pin. */
    write_file(path, "version two", 11);
    rc = eg_profile_read_inputs(p);
    assert_int_equal(rc, EG_EMISMATCH);
    snprintf(text, sizeof(text),
             "%s:5:15: images.app: '%s' has SHA-256 %s, but the profile pins %s", prof, path, other,
             pin);
    assert_string_equal(eg_error_msg(), text);
    assert_no_inputs(p);

    /* Gone: refused, naming the key and the path. */
    assert_int_equal(unlink(path), 0);
    rc = eg_profile_read_inputs(p);
    assert_int_equal(rc, EG_ENOTFOUND);
    snprintf(text, sizeof(text), "%s:5:15: images.app: cannot open '%s'", prof, path);
    assert_int_equal(strncmp(eg_error_msg(), text, strlen(text)), 0);
    assert_no_inputs(p);

    /* Back as it was: read again. */
    write_file(path, "version one", 11);
    read_ok(p);
    assert_memory_equal(p->app.data.data, "version one", 11);
    eg_profile_free(p);
    remove_tree(dir);
}

/* ---- the profile file itself ----------------------------------------------------------- */

static void test_profile_unreadable(void **state)
{
    eg_profile *p = SENTINEL;
    (void)state;

    assert_int_equal(eg_profile_load(&p, "bad/no-such-profile.yaml"), EG_ENOTFOUND);
    assert_null(p);
    assert_string_equal(eg_error_msg(),
                        "cannot open 'bad/no-such-profile.yaml': No such file or directory");
    p = SENTINEL;
    assert_int_equal(eg_profile_load(&p, "good"), EG_EIO);
    assert_null(p);
}

static void test_profile_too_large(void **state)
{
    char dir[64], path[128];
    size_t len = (1u << 20) + 1;
    char *text = malloc(len);
    eg_profile *p = SENTINEL;
    (void)state;

    assert_non_null(text);
    memset(text, '#', len);
    text[len - 1] = '\n';
    make_temp_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/big.yaml", dir);
    write_file(path, text, len);
    assert_int_equal(eg_profile_load(&p, path), EG_EINVAL);
    assert_null(p);
    snprintf(text, 256, "%s: 1048577 bytes is too large for a profile (at most 1048576)", path);
    assert_string_equal(eg_error_msg(), text);
    free(text);
    remove_tree(dir);
}

static void test_free_null(void **state)
{
    (void)state;
    eg_profile_free(NULL);
}

/* profiles/example.yaml, in a folder with the files it names (whose bytes are not the
 * real firmware its pins are for). */
static void test_example(void **state)
{
    static const char *const names[] = {"firmware/bootloader.bin", "firmware/partitions.csv",
                                        "firmware/thermostat.elf", "firmware/nvs-defaults.bin",
                                        "firmware/www.littlefs"};
    eg_buf text = EG_BUF_INIT;
    char dir[64], path[160];
    eg_profile *p;
    (void)state;

    make_temp_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/firmware", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        write_file(path, "x", 1);
    }
    assert_int_equal(eg_buf_read_file(&text, EG_PROFILE_EXAMPLE), 0);
    snprintf(path, sizeof(path), "%s/example.yaml", dir);
    write_file(path, text.data, text.len);
    eg_buf_release(&text);

    p = load_ok(path);
    assert_string_equal(p->name, "thermostat-v3 mainboard");
    assert_ptr_equal(p->chip, eg_chip_by_name("esp32c3"));
    assert_int_equal(p->min_rev_full, 4);
    assert_int_equal(p->flash_size_bytes, 4u << 20);
    assert_non_null(p->bootloader.path);
    assert_non_null(p->partition_table.path);
    assert_non_null(p->app.path);
    assert_int_equal(p->n_regions, 2);
    assert_string_equal(p->target_app_partition, "factory");
    assert_int_equal(p->policy.erase, EG_ERASE_NONE);
    assert_int_equal(p->policy.verify_md5, 1);
    assert_int_equal(p->policy.timeout_ms[EG_STEP_WRITE], 120000);
    snprintf(path, sizeof(path), "%s/records/thermostat.db", dir);
    assert_string_equal(p->database, path);
    /* Its pins are for the real firmware, not these bytes. */
    assert_int_equal(eg_profile_read_inputs(p), EG_EMISMATCH);
    assert_no_inputs(p);
    eg_profile_free(p);
    remove_tree(dir);
}

/* ---- names ------------------------------------------------------------------------- */

static void test_policy_names(void **state)
{
    eg_step step;
    eg_erase_policy erase;
    eg_policy pol;
    (void)state;

    for (unsigned s = 0; s < EG_STEP_COUNT; s++) {
        assert_int_equal(eg_step_parse(&step, eg_step_name((eg_step)s)), 0);
        assert_int_equal(step, s);
    }
    assert_string_equal(eg_step_name(EG_STEP_CONNECT), "connect");
    assert_string_equal(eg_step_name(EG_STEP_FINISH), "finish");
    assert_string_equal(eg_step_name(EG_STEP_COUNT), "?");
    step = EG_STEP_WRITE;
    assert_int_equal(eg_step_parse(&step, "flash"), EG_EINVAL);
    assert_int_equal(step, EG_STEP_WRITE);
    assert_string_equal(eg_error_msg(), "unknown step 'flash' (connect, identify, check, erase, "
                                        "write, verify, finish, boot)");
    assert_int_equal(eg_step_parse(&step, "Connect"), EG_EINVAL);

    assert_int_equal(eg_erase_policy_parse(&erase, "regions"), 0);
    assert_int_equal(erase, EG_ERASE_REGIONS);
    assert_int_equal(eg_erase_policy_parse(&erase, "all"), 0);
    assert_int_equal(erase, EG_ERASE_ALL);
    assert_string_equal(eg_erase_policy_name(EG_ERASE_NONE), "none");
    assert_string_equal(eg_erase_policy_name((eg_erase_policy)3), "?");
    assert_int_equal(eg_erase_policy_parse(&erase, "some"), EG_EINVAL);
    assert_int_equal(erase, EG_ERASE_ALL);
    assert_string_equal(eg_error_msg(), "unknown erase policy 'some' (none, regions or all)");

    memset(&pol, 0xA5, sizeof(pol));
    eg_policy_default(&pol);
    assert_int_equal(pol.erase, EG_ERASE_NONE);
    assert_int_equal(pol.verify_md5, 1);
    assert_int_equal(pol.verify_readback, 0);
    assert_int_equal(pol.skip_same, 1);
    assert_int_equal(pol.allow_secure_boot + pol.allow_flash_encryption + pol.allow_secure_download,
                     0);
    assert_int_equal(pol.before, EG_BEFORE_DEFAULT_RESET);
    assert_int_equal(pol.after, EG_AFTER_HARD_RESET);
    for (unsigned s = 0; s < EG_STEP_COUNT; s++) {
        assert_int_equal(pol.retries[s], 0);
        assert_int_equal(pol.timeout_ms[s], 0);
    }
}

static void test_mode_names(void **state)
{
    eg_before b = EG_BEFORE_NO_RESET;
    eg_after a = EG_AFTER_NO_RESET;
    (void)state;

    for (int i = 0; i < 4; i++) {
        assert_int_equal(eg_before_parse(&b, eg_before_name((eg_before)i)), 0);
        assert_int_equal(b, i);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(eg_after_parse(&a, eg_after_name((eg_after)i)), 0);
        assert_int_equal(a, i);
    }
    assert_int_equal(eg_before_parse(&b, "no_reset_no_sync"), 0);
    assert_int_equal(b, EG_BEFORE_NO_RESET_NO_SYNC);
    assert_int_equal(eg_after_parse(&a, "hard_reset"), 0);
    assert_int_equal(a, EG_AFTER_HARD_RESET);
    assert_int_equal(eg_before_parse(&b, "no-reset-"), EG_EINVAL);
    assert_int_equal(b, EG_BEFORE_NO_RESET_NO_SYNC);
    assert_int_equal(eg_after_parse(&a, ""), EG_EINVAL);
    assert_int_equal(a, EG_AFTER_HARD_RESET);
    assert_string_equal(eg_before_name((eg_before)4), "?");
    assert_int_equal(eg_after_parse(&a, "no_reset_no_stub"), 0);
    assert_int_equal(a, EG_AFTER_NO_RESET_NO_STUB);
    assert_string_equal(eg_after_name(a), "no-reset-no-stub");
    assert_true(eg_after_stays(EG_AFTER_NO_RESET) && eg_after_stays(EG_AFTER_NO_RESET_NO_STUB));
    assert_false(eg_after_stays(EG_AFTER_HARD_RESET) || eg_after_stays(EG_AFTER_WATCHDOG_RESET));
    assert_string_equal(eg_after_name((eg_after)4), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_corpus),
        cmocka_unit_test(test_bad_corpus_complete),
        cmocka_unit_test(test_good_full),
        cmocka_unit_test(test_good_minimal),
        cmocka_unit_test(test_good_elf),
        cmocka_unit_test(test_good_idf),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_changed_after_load),
        cmocka_unit_test(test_profile_unreadable),
        cmocka_unit_test(test_profile_too_large),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_mode_names),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
