/* espflash's configuration files: where they are looked for (current folder, its
 * parent, the global folder; each file on its own), every key read, espflash 3's
 * place for the port settings, the warnings for keys espflash ignores, every fault
 * with its place, and remembering a USB device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "config/espflash.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct bed {
    char root[64];
    char proj[96], sub[128], global[96];
} bed;

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int setup(void **state)
{
    bed *b = calloc(1, sizeof(*b));
    snprintf(b->root, sizeof(b->root), "/tmp/eg-espflash-XXXXXX");
    if (!mkdtemp(b->root))
        return -1;
    snprintf(b->proj, sizeof(b->proj), "%s/proj", b->root);
    snprintf(b->sub, sizeof(b->sub), "%s/proj/sub", b->root);
    snprintf(b->global, sizeof(b->global), "%s/home/.config/espflash", b->root);
    mkdir(b->proj, 0755);
    mkdir(b->sub, 0755);
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    bed *b = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->root);
    int rc = system(cmd);
    free(b);
    return rc == 0 ? 0 : -1;
}

static void make_global(bed *b)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", b->global);
    assert_int_equal(system(cmd), 0);
}

static eg_espflash_config *load_ok(bed *b)
{
    eg_espflash_config *c = NULL;
    if (eg_espflash_config_load(&c, b->sub, b->global) != 0)
        fail_msg("load failed: %s", eg_error_msg());
    assert_non_null(c);
    return c;
}

/* Loading fails with the message "<dir>/<file>:<want>". */
static void load_bad(bed *b, const char *dir, const char *file, const char *want)
{
    eg_espflash_config *c = (eg_espflash_config *)1;
    char full[700];
    snprintf(full, sizeof(full), "%s/%s:%s", dir, file, want);
    int rc = eg_espflash_config_load(&c, b->sub, b->global);
    if (rc != EG_EINVAL || strcmp(eg_error_msg(), full) != 0)
        fail_msg("rc %d, message\n  '%s'\nwanted\n  '%s'", rc, eg_error_msg(), full);
    assert_null(c);
}

static void project_bad(bed *b, const char *text, const char *want)
{
    write_file(b->sub, "espflash.toml", text);
    load_bad(b, b->sub, "espflash.toml", want);
}

static void ports_bad(bed *b, const char *text, const char *want)
{
    write_file(b->sub, "espflash_ports.toml", text);
    load_bad(b, b->sub, "espflash_ports.toml", want);
}

static void test_global_dir(void **state)
{
    char d[128];
    (void)state;
    eg_espflash_global_dir(d, sizeof(d), "/x/cfg", "/home/u");
    assert_string_equal(d, "/x/cfg/espflash");
    eg_espflash_global_dir(d, sizeof(d), "rel/cfg", "/home/u"); /* not absolute: ignored */
    assert_string_equal(d, "/home/u/.config/espflash");
    eg_espflash_global_dir(d, sizeof(d), "", "/home/u");
    assert_string_equal(d, "/home/u/.config/espflash");
    eg_espflash_global_dir(d, sizeof(d), NULL, NULL);
    assert_string_equal(d, "");
}

static void test_nothing(void **state)
{
    bed *b = *state;
    char want[256];
    eg_espflash_config *c = load_ok(b);
    assert_int_equal(c->project_found, 0);
    assert_int_equal(c->ports_found, 0);
    snprintf(want, sizeof(want), "%s/espflash_ports.toml", b->global);
    assert_string_equal(c->ports_path, want); /* where remembering would write */
    assert_int_equal(c->has_baudrate, 0);
    assert_null(c->serial);
    assert_null(c->bootloader);
    assert_int_equal(c->usb_count, 0);
    assert_int_equal(c->warning_count, 0);
    eg_espflash_config_free(c);
    eg_espflash_config_free(NULL);
}

static void test_lookup(void **state)
{
    bed *b = *state;
    char path[256], want[256];

    make_global(b);
    /* Global only. */
    write_file(b->global, "espflash.toml", "baudrate = 115200\n");
    assert_int_equal(eg_espflash_find(path, sizeof(path), "espflash.toml", b->sub, b->global), 1);
    snprintf(want, sizeof(want), "%s/espflash.toml", b->global);
    assert_string_equal(path, want);
    /* The parent beats it. */
    write_file(b->proj, "espflash.toml", "baudrate = 230400\n");
    assert_int_equal(eg_espflash_find(path, sizeof(path), "espflash.toml", b->sub, b->global), 1);
    snprintf(want, sizeof(want), "%s/espflash.toml", b->proj);
    assert_string_equal(path, want);
    /* The current folder beats both. */
    write_file(b->sub, "espflash.toml", "baudrate = 460800\n");
    eg_espflash_config *c = load_ok(b);
    assert_int_equal(c->has_baudrate, 1);
    assert_int_equal(c->baudrate, 460800);
    snprintf(want, sizeof(want), "%s/espflash.toml:1", b->sub);
    assert_string_equal(c->baudrate_at, want);
    eg_espflash_config_free(c);
    /* The grandparent is not looked at (espflash looks at one parent only). */
    char deeper[200];
    snprintf(deeper, sizeof(deeper), "%s/deeper", b->sub);
    mkdir(deeper, 0755);
    snprintf(path, sizeof(path), "%s/espflash.toml", b->sub);
    unlink(path);
    assert_int_equal(eg_espflash_find(path, sizeof(path), "espflash.toml", deeper, b->global), 1);
    snprintf(want, sizeof(want), "%s/espflash.toml", b->global);
    assert_string_equal(path, want);
    /* Without a global folder: not found, no path. */
    assert_int_equal(eg_espflash_find(path, sizeof(path), "nothing.toml", deeper, NULL), 0);
    assert_string_equal(path, "");
    /* The root folder has no parent. */
    assert_int_equal(eg_espflash_find(path, sizeof(path), "nothing.toml", "/", ""), 0);
}

static void test_each_file_on_its_own(void **state)
{
    bed *b = *state;
    char want[256];
    make_global(b);
    write_file(b->proj, "espflash.toml", "baudrate = 460800\n");
    write_file(b->global, "espflash_ports.toml", "[connection]\nserial = \"/dev/ttyUSB7\"\n");
    write_file(b->global, "espflash.toml", "baudrate = 9600\n");
    eg_espflash_config *c = load_ok(b);
    assert_int_equal(c->baudrate, 460800);
    assert_string_equal(c->serial, "/dev/ttyUSB7");
    snprintf(want, sizeof(want), "%s/espflash_ports.toml:2", b->global);
    assert_string_equal(c->serial_at, want);
    assert_int_equal(c->ports_found, 1);
    eg_espflash_config_free(c);
}

static void test_every_key(void **state)
{
    bed *b = *state;
    write_file(b->sub, "espflash.toml",
               "baudrate = 921_600\n"
               "format = \"EspIdf\"\n"
               "[idf]\n"
               "bootloader = \"build/bootloader.bin\"\n"
               "partition_table = 'partitions.csv'\n"
               "partition_table_offset = 0x9000\n"
               "target_app_partition = \"ota_0\"\n"
               "[flash]\n"
               "mode = \"qio\"\n"
               "size = \"16MB\"\n"
               "frequency = \"80MHz\"\n");
    write_file(b->sub, "espflash_ports.toml",
               "[connection]\n"
               "serial = \"socket://127.0.0.1:5555\"\n"
               "\n"
               "[[usb_device]]\n"
               "vid = \"303a\"\n"
               "pid = \"0x1001\"\n"
               "[[usb_device]]\n"
               "vid = \"10C4\"\n"
               "pid = \"ea60\"\n");
    eg_espflash_config *c = load_ok(b);
    assert_int_equal(c->baudrate, 921600);
    assert_string_equal(c->bootloader, "build/bootloader.bin");
    assert_string_equal(c->partition_table, "partitions.csv");
    assert_int_equal(c->has_table_offset, 1);
    assert_int_equal(c->table_offset, 0x9000);
    assert_string_equal(c->target_app_partition, "ota_0");
    assert_string_equal(c->flash_mode, "qio");
    assert_string_equal(c->flash_size, "16MB");
    assert_string_equal(c->flash_frequency, "80MHz");
    assert_string_equal(c->serial, "socket://127.0.0.1:5555");
    assert_int_equal(c->usb_count, 2);
    assert_int_equal(c->usb_devices[0].vid, 0x303a);
    assert_int_equal(c->usb_devices[0].pid, 0x1001);
    assert_int_equal(c->usb_devices[1].vid, 0x10c4);
    assert_int_equal(c->usb_devices[1].pid, 0xea60);
    char want[256];
    snprintf(want, sizeof(want), "%s/espflash_ports.toml:7", b->sub);
    assert_string_equal(c->usb_devices[1].at, want);
    assert_int_equal(c->warning_count, 0);
    eg_espflash_config_free(c);

    /* [idf_format_args], the section's own name, and dotted keys for a section. */
    write_file(b->sub, "espflash.toml",
               "idf_format_args.bootloader = \"b.bin\"\nflash.mode = \"dout\"\n");
    c = load_ok(b);
    assert_string_equal(c->bootloader, "b.bin");
    assert_string_equal(c->flash_mode, "dout");
    assert_int_equal(c->has_baudrate, 0);
    eg_espflash_config_free(c);
}

static void test_espflash3_ports(void **state)
{
    bed *b = *state;
    char want[600];
    /* No ports file: espflash.toml's [connection] and [[usb_device]] are read. */
    write_file(b->sub, "espflash.toml",
               "baudrate = 115200\n[connection]\nserial = \"/dev/ttyACM3\"\n"
               "[[usb_device]]\nvid = \"303a\"\npid = \"1001\"\n");
    eg_espflash_config *c = load_ok(b);
    assert_string_equal(c->serial, "/dev/ttyACM3");
    assert_int_equal(c->usb_count, 1);
    assert_int_equal(c->warning_count, 0);
    eg_espflash_config_free(c);
    /* A ports file: they are ignored there, with a warning. */
    write_file(b->proj, "espflash_ports.toml", "[connection]\nserial = \"/dev/ttyUSB1\"\n");
    c = load_ok(b);
    assert_string_equal(c->serial, "/dev/ttyUSB1");
    assert_int_equal(c->usb_count, 0);
    assert_int_equal(c->warning_count, 2);
    snprintf(want, sizeof(want),
             "%s/espflash.toml:2:2: 'connection' is ignored here: the port settings are read "
             "from '%s/espflash_ports.toml'",
             b->sub, b->proj);
    assert_string_equal(c->warnings[0], want);
    eg_espflash_config_free(c);
}

static void test_unknown_keys_warn(void **state)
{
    bed *b = *state;
    char want[600];
    write_file(b->sub, "espflash.toml",
               "baudrate = 115200\ncolour = \"red\"\n[flash]\nspeed = 3\n[idf]\nextra = true\n"
               "[mystery]\nx = 1\n");
    write_file(b->sub, "espflash_ports.toml",
               "[connection]\nserial = \"/dev/x\"\nbaud = 1\n[[usb_device]]\nvid = \"1\"\n"
               "pid = \"2\"\nname = \"board\"\nother = 1\n");
    eg_espflash_config *c = load_ok(b);
    assert_int_equal(c->baudrate, 115200);
    assert_int_equal(c->usb_devices[0].vid, 1);
    assert_int_equal(c->warning_count, 7);
    const char *const expect[] = {
        "espflash.toml:2:1: unknown key 'colour'",
        "espflash.toml:4:1: unknown key 'flash.speed'",
        "espflash.toml:6:1: unknown key 'idf.extra'",
        "espflash.toml:7:2: unknown key 'mystery'",
        "espflash_ports.toml:3:1: unknown key 'connection.baud'",
        "espflash_ports.toml:7:1: unknown key 'usb_device.name'",
        "espflash_ports.toml:8:1: unknown key 'usb_device.other'",
    };
    for (size_t i = 0; i < 7; i++) {
        snprintf(want, sizeof(want), "%s/%s, ignored (espflash ignores it too)", b->sub, expect[i]);
        assert_string_equal(c->warnings[i], want);
    }
    eg_espflash_config_free(c);
}

static void test_project_faults(void **state)
{
    bed *b = *state;
    project_bad(b, "bootloader = \"b.bin\"\n",
                "1:1: 'bootloader' belongs under [idf_format_args] (or [idf])");
    project_bad(b, "baudrate = 1\nsize = \"4MB\"\n", "2:1: 'size' belongs under [flash]");
    project_bad(b, "[flash]\npartition_table = \"p.csv\"\n",
                "2:1: 'flash.partition_table': 'partition_table' belongs under "
                "[idf_format_args] (or [idf])");
    project_bad(b, "[idf]\nmode = \"dio\"\n", "2:1: 'idf.mode': 'mode' belongs under [flash]");
    project_bad(b, "[connection]\nfrequency = \"40MHz\"\n",
                "2:1: 'connection.frequency': 'frequency' belongs under [flash]");
    project_bad(b, "[idf]\n[idf_format_args]\n",
                "2:2: [idf] and [idf_format_args] are the same section: keep one");
    project_bad(b, "baudrate = \"460800\"\n", "1:12: baudrate must be an integer, not a string");
    project_bad(b, "baudrate = 300\n", "1:12: baudrate: 300 is too low (9600 or more)");
    project_bad(b, "baudrate = 4294967296\n",
                "1:12: baudrate: 4294967296 is out of range (0 to 4294967295)");
    project_bad(b, "format = \"Elf\"\n",
                "1:10: format: 'Elf' is not an image format espflash knows (EspIdf)");
    project_bad(b, "idf = 1\n", "1:7: idf must be a table, not an integer");
    project_bad(b, "flash = [1]\n", "1:9: flash must be a table, not an array");
    project_bad(b, "[idf]\nbootloader = \"bootloader.elf\"\n",
                "2:14: idf.bootloader: 'bootloader.elf' is not a .bin file (a bootloader is "
                "given as its image, as espflash takes it)");
    project_bad(b, "[idf]\nbootloader = \".bin\"\n",
                "2:14: idf.bootloader: '.bin' is not a .bin file (a bootloader is given as its "
                "image, as espflash takes it)");
    project_bad(b, "[idf_format_args]\npartition_table = \"p.txt\"\n",
                "2:19: idf_format_args.partition_table: 'p.txt' is neither a .csv nor a .bin "
                "file (as espflash takes a partition table)");
    project_bad(b, "[idf]\npartition_table = 5\n",
                "2:19: idf.partition_table must be a string, not an integer");
    project_bad(b, "[idf]\npartition_table_offset = \"0x8000\"\n",
                "2:26: idf.partition_table_offset must be an integer, not a string");
    project_bad(b, "[idf]\npartition_table_offset = -1\n",
                "2:26: idf.partition_table_offset: -1 is out of range (0 to 4294967295)");
    project_bad(b, "[idf]\ntarget_app_partition = true\n",
                "2:24: idf.target_app_partition must be a string, not a boolean");
    project_bad(b, "[flash]\nmode = \"DIO\"\n",
                "2:8: flash.mode: 'DIO' is not one of qio, qout, dio, dout");
    project_bad(b, "[flash]\nsize = \"5MB\"\n",
                "2:8: flash.size: '5MB' is not one of 256KB, 512KB, 1MB, 2MB, 4MB, 8MB, 16MB, "
                "32MB, 64MB, 128MB, 256MB");
    project_bad(b, "[flash]\nfrequency = \"80m\"\n",
                "2:13: flash.frequency: '80m' is not one of 12MHz, 15MHz, 16MHz, 20MHz, 24MHz, "
                "26MHz, 30MHz, 40MHz, 48MHz, 60MHz, 80MHz");
    project_bad(b, "[flash]\nsize = 4\n", "2:8: flash.size must be a string, not an integer");
    project_bad(b, "baudrate = 460800\nbaudrate = 9600\n",
                "2:1: duplicate key 'baudrate' (first at line 1)");
    /* espflash 3's port settings in espflash.toml are checked when they are read. */
    project_bad(b, "[connection]\nserial = 5\n",
                "2:10: connection.serial must be a string, not an integer");
}

static void test_ports_faults(void **state)
{
    bed *b = *state;
    ports_bad(b, "[connection]\nserial = /dev/ttyUSB0\n",
              "2:10: expected a value (a string, an integer, true, false or an array), found "
              "'/': a string needs quotes");
    ports_bad(b, "connection = \"x\"\n", "1:14: connection must be a table, not a string");
    ports_bad(b, "[connection]\nserial = 1\n",
              "2:10: connection.serial must be a string, not an integer");
    ports_bad(b, "[[usb_device]]\nvid = 0x303a\npid = \"1001\"\n",
              "2:7: usb_device.vid must be a string of hex digits (\"303a\"), not an integer");
    ports_bad(b, "[[usb_device]]\nvid = \"303a\"\npid = \"xyz\"\n",
              "3:7: usb_device.pid: 'xyz' is not a hex number");
    ports_bad(b, "[[usb_device]]\nvid = \"303a\"\npid = \"10010\"\n",
              "3:7: usb_device.pid: '10010' is more than 16 bits (4 hex digits)");
    ports_bad(b, "[[usb_device]]\nvid = \"0x\"\npid = \"1\"\n",
              "2:7: usb_device.vid: '0x' has no hex digits");
    ports_bad(b, "[[usb_device]]\nvid = \"303a\"\n",
              "1:1: [[usb_device]] without its pid (both vid and pid, as hex strings: vid = "
              "\"303a\")");
    ports_bad(b, "[[usb_device]]\npid = \"1001\"\n",
              "1:1: [[usb_device]] without its vid (both vid and pid, as hex strings: vid = "
              "\"303a\")");
    ports_bad(b, "usb_device = \"303a:1001\"\n", "1:14: usb_device must be an array, not a string");
    ports_bad(b, "usb_device = [1]\n",
              "1:15: usb_device must be [[usb_device]] tables, not an integer");
    ports_bad(b, "[usb_device]\nvid = \"1\"\n", "1:1: usb_device must be an array, not a table");
}

static void test_unreadable(void **state)
{
    bed *b = *state;
    char path[256];
    eg_espflash_config *c = (eg_espflash_config *)1;
    snprintf(path, sizeof(path), "%s/espflash.toml", b->sub);
    assert_int_equal(mkdir(path, 0755), 0); /* there, but no file */
    assert_int_equal(eg_espflash_config_load(&c, b->sub, b->global), EG_EIO);
    assert_non_null(strstr(eg_error_msg(), path));
    assert_null(c);
}

static void test_remember(void **state)
{
    bed *b = *state;
    char path[256];

    /* No ports file anywhere: one is made in the global folder, folders and all. */
    eg_espflash_config *c = load_ok(b);
    assert_int_equal(eg_espflash_remember_usb(c, 0x303a, 0x1001), 0);
    eg_espflash_config_free(c);
    snprintf(path, sizeof(path), "%s/espflash_ports.toml", b->global);
    assert_string_equal(read_text(path), "[[usb_device]]\nvid = \"303a\"\npid = \"1001\"\n");
    /* It reads back, and another is added after it. */
    c = load_ok(b);
    assert_int_equal(c->ports_found, 1);
    assert_int_equal(c->usb_count, 1);
    assert_int_equal(eg_espflash_remember_usb(c, 0x10c4, 0xea60), 0);
    eg_espflash_config_free(c);
    assert_string_equal(read_text(path), "[[usb_device]]\nvid = \"303a\"\npid = \"1001\"\n\n"
                                         "[[usb_device]]\nvid = \"10c4\"\npid = \"ea60\"\n");

    /* A local file keeps its comments and settings; no newline at its end is fine. */
    write_file(b->proj, "espflash_ports.toml", "# my board\n[connection]\nserial = \"/dev/x\"");
    c = load_ok(b);
    assert_int_equal(eg_espflash_remember_usb(c, 0x1a86, 0x7523), 0);
    eg_espflash_config_free(c);
    snprintf(path, sizeof(path), "%s/espflash_ports.toml", b->proj);
    assert_string_equal(read_text(path), "# my board\n[connection]\nserial = \"/dev/x\"\n\n"
                                         "[[usb_device]]\nvid = \"1a86\"\npid = \"7523\"\n");
    c = load_ok(b);
    assert_string_equal(c->serial, "/dev/x");
    assert_int_equal(c->usb_count, 1);
    eg_espflash_config_free(c);
    unlink(path);
}

static void test_remember_espflash3(void **state)
{
    bed *b = *state;
    char path[256];
    /* The port settings in espflash.toml move into the new ports file. */
    write_file(b->sub, "espflash.toml",
               "baudrate = 460800\n[connection]\nserial = \"/dev/odd \\\"name\\\"\"\n"
               "[[usb_device]]\nvid = \"303a\"\npid = \"1001\"\n");
    eg_espflash_config *c = load_ok(b);
    assert_string_equal(c->serial, "/dev/odd \"name\"");
    assert_int_equal(eg_espflash_remember_usb(c, 0x0403, 0x6001), 0);
    eg_espflash_config_free(c);
    snprintf(path, sizeof(path), "%s/espflash_ports.toml", b->global);
    assert_string_equal(read_text(path), "[connection]\nserial = \"/dev/odd \\\"name\\\"\"\n\n"
                                         "[[usb_device]]\nvid = \"303a\"\npid = \"1001\"\n\n"
                                         "[[usb_device]]\nvid = \"0403\"\npid = \"6001\"\n");
    c = load_ok(b);
    assert_string_equal(c->serial, "/dev/odd \"name\"");
    assert_int_equal(c->usb_count, 2);
    assert_int_equal(c->warning_count, 2); /* espflash.toml's are now ignored, and said so */
    eg_espflash_config_free(c);
}

static void test_remember_refuses(void **state)
{
    bed *b = *state;
    char path[256];
    const char *text = "usb_device = []\n[connection]\nserial = \"/dev/x\"\n";
    write_file(b->sub, "espflash_ports.toml", text);
    eg_espflash_config *c = load_ok(b);
    write_file(b->sub, "espflash_ports.toml", "[connection\n"); /* broken since */
    assert_int_equal(eg_espflash_remember_usb(c, 1, 2), EG_EINVAL);
    snprintf(path, sizeof(path), "%s/espflash_ports.toml", b->sub);
    assert_non_null(strstr(eg_error_msg(), "espflash_ports.toml:1:12: expected ']'"));
    assert_string_equal(read_text(path), "[connection\n"); /* left alone */
    write_file(b->sub, "espflash_ports.toml", text);
    assert_int_equal(eg_espflash_remember_usb(c, 1, 2), EG_EINVAL);
    assert_non_null(strstr(eg_error_msg(), "espflash_ports.toml:1:1: usb_device is not a list of "
                                           "[[usb_device]] tables: cannot add one"));
    assert_string_equal(read_text(path), text);
    eg_espflash_config_free(c);
    /* No folder for the global file. */
    c = NULL;
    if (eg_espflash_config_load(&c, b->proj, "") != 0)
        fail_msg("%s", eg_error_msg());
    assert_string_equal(c->ports_path, "");
    assert_int_equal(eg_espflash_remember_usb(c, 1, 2), EG_ENOTFOUND);
    eg_espflash_config_free(c);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global_dir),
        T(test_nothing),
        T(test_lookup),
        T(test_each_file_on_its_own),
        T(test_every_key),
        T(test_espflash3_ports),
        T(test_unknown_keys_warn),
        T(test_project_faults),
        T(test_ports_faults),
        T(test_unreadable),
        T(test_remember),
        T(test_remember_espflash3),
        T(test_remember_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
