/* cargo espgang's pieces without cargo: the build flags told apart from espgang's
 * options (every flag, every spelling, every fault), package ids in cargo's forms,
 * cargo's JSON messages (artifacts, esp-idf-sys's out dir, diagnostics, lines that are
 * not messages) and the choice of the executable. The real run is
 * tests/integration/test_cargo.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "cargo/cargo.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Splits the space-separated words of line; checks cargo's and espgang's shares. */
static void split_ok(const char *line, const char *want_build, const char *want_rest)
{
    char *copy = strdup(line), *argv[64];
    char got[1024] = "";
    int argc = 0;
    eg_cargo_args a;

    for (char *w = copy; *w;) {
        char *sp = strchr(w, ' ');
        argv[argc++] = w;
        if (!sp)
            break;
        *sp = '\0';
        w = sp + 1;
    }
    assert_int_equal(eg_cargo_args_split(&a, argc, argv), 0);
    for (size_t i = 0; i < a.nbuild; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "", a.build[i]);
    assert_null(a.build[a.nbuild]);
    assert_string_equal(got, want_build);
    got[0] = '\0';
    for (size_t i = 0; i < a.nrest; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "", a.rest[i]);
    assert_null(a.rest[a.nrest]);
    assert_string_equal(got, want_rest);
    eg_cargo_args_release(&a);
    free(copy);
}

static void split_fails(int argc, char **argv, const char *want)
{
    eg_cargo_args a;
    assert_int_equal(eg_cargo_args_split(&a, argc, argv), EG_EINVAL);
    assert_non_null(strstr(eg_error_msg(), want));
    assert_null(a.build);
    assert_null(a.rest);
}

#define B "build --message-format=json-render-diagnostics"

static void test_split(void **state)
{
    (void)state;
    split_ok("", B, "");
    split_ok("-p socket://x:1 --after no-reset", B, "-p socket://x:1 --after no-reset");
    /* Every flag, handed on in cargo-espflash's order whatever the order given. */
    split_ok("-Z build-std=core --features a,b --no-default-features --package app --bin app "
             "--example ex --frozen --locked --release --target-dir /t --target riscv32imc "
             "-Zbuild-std-features=panic_immediate_abort --features c",
             B " --target riscv32imc --target-dir /t --release --locked --frozen --example ex "
               "--bin app --package app --no-default-features --features a,b,c -Z build-std=core "
               "-Z build-std-features=panic_immediate_abort",
             "");
    /* --flag=VALUE; espgang's options and positionals stay in order around them. */
    split_ok("-c esp32c3 --bin=app -M --target=xtensa-esp32-none-elf OUT.bin --release",
             B " --target xtensa-esp32-none-elf --release --bin app", "-c esp32c3 -M OUT.bin");
    /* -S / --skip-update-check go nowhere; a flag given twice is passed once. */
    split_ok("-S --release --skip-update-check --release", B " --release", "");
    /* From "--" on everything is espgang's. */
    split_ok("--release -- --bin x", B " --release", "-- --bin x");
    /* Options of espgang that start like build flags are espgang's. */
    split_ok("--target-app-partition ota_0 --binary --features-x", B,
             "--target-app-partition ota_0 --binary --features-x");
}

static void test_split_faults(void **state)
{
    char *missing[] = {"--release", "--bin"};
    char *flagged[] = {"--bin", "--release"};
    char *empty[] = {"--bin="};
    char *twice[] = {"--bin", "a", "--bin=b"};
    char *valued[] = {"--release=yes"};
    char *z[] = {"-Z"};
    (void)state;
    split_fails(2, missing, "--bin needs a value (NAME)");
    split_fails(2, flagged, "--bin needs a value (NAME)");
    split_fails(1, empty, "--bin needs a value (NAME), not an empty one");
    split_fails(3, twice, "--bin given twice ('a' and 'b')");
    split_fails(1, valued, "--release takes no value (got '--release=yes')");
    split_fails(1, z, "-Z needs a value (FLAG)");
}

static void name_ok(const char *id, const char *want)
{
    char name[64];
    assert_int_equal(eg_cargo_package_name(name, sizeof(name), id), 0);
    assert_string_equal(name, want);
}

static void test_package_name(void **state)
{
    char small[4];
    (void)state;
    name_ok("registry+https://github.com/rust-lang/crates.io-index#esp-idf-sys@0.36.1",
            "esp-idf-sys");
    /* A path or git source whose last segment is the name leaves the name out. */
    name_ok("path+file:///home/u/src/esp-idf-sys#0.36.1", "esp-idf-sys");
    name_ok("path+file:///home/u/vendor/sys#esp-idf-sys@0.36.1", "esp-idf-sys");
    name_ok("git+https://github.com/esp-rs/esp-idf-sys?branch=master#0.36.1", "esp-idf-sys");
    name_ok("git+https://github.com/esp-rs/esp-idf-sys.git?rev=abc#esp-idf-sys@0.36.1",
            "esp-idf-sys");
    name_ok("path+file:///home/u/app/#0.1.0", "app");
    /* Before cargo 1.77. */
    name_ok("esp-idf-sys 0.33.7 (registry+https://github.com/rust-lang/crates.io-index)",
            "esp-idf-sys");
    name_ok("app 0.1.0 (path+file:///home/u/app)", "app");
    /* ... with a git source, whose '#' is the commit's, from a fork of another name. */
    name_ok("esp-idf-sys 0.33.7 (git+https://github.com/me/my-fork?branch=x#abc123)",
            "esp-idf-sys");
    assert_int_equal(eg_cargo_package_name(small, sizeof(small), "esp-idf-sys 1 (x)"), EG_EINVAL);
    assert_int_equal(eg_cargo_package_name(small, sizeof(small), "esp-idf-sys"), EG_EINVAL);
    assert_int_equal(eg_cargo_package_name(small, sizeof(small), "#0.1.0"), EG_EINVAL);
    assert_int_equal(eg_cargo_package_name(small, sizeof(small), ""), EG_EINVAL);
}

/* What the text callback got, concatenated. */
static char text_seen[4096];
static void text(void *ctx, const char *t, size_t len)
{
    (void)ctx;
    strncat(text_seen, t,
            len < sizeof(text_seen) - strlen(text_seen) - 1
                ? len
                : sizeof(text_seen) - strlen(text_seen) - 1);
}

static void feed(eg_cargo_build *b, const char *line)
{
    assert_int_equal(eg_cargo_feed(b, line, strlen(line), text, NULL), 0);
}

#define ARTIFACT(kind, name, exe)                                                                  \
    "{\"reason\":\"compiler-artifact\",\"package_id\":\"path+file:///w/app#0.1.0\","               \
    "\"manifest_path\":\"/w/app/Cargo.toml\",\"target\":{\"kind\":[\"" kind "\"],"                 \
    "\"crate_types\":[\"bin\"],\"name\":\"" name "\",\"src_path\":\"/w/app/src/main.rs\","         \
    "\"edition\":\"2021\",\"doc\":true,\"doctest\":false,\"test\":true},\"profile\":{"             \
    "\"opt_level\":\"s\",\"debuginfo\":2,\"debug_assertions\":false,\"overflow_checks\":false,"    \
    "\"test\":false},\"features\":[],\"filenames\":[\"" exe "\"],\"executable\":\"" exe            \
    "\",\"fresh\":false}"

static void test_messages(void **state)
{
    eg_cargo_build b = EG_CARGO_BUILD_INIT;
    const eg_cargo_exe *e;
    (void)state;
    text_seen[0] = '\0';
    /* A build script and a library: nothing to flash. */
    feed(&b, "{\"reason\":\"compiler-artifact\",\"package_id\":\"path+file:///w/dep#0.1.0\","
             "\"target\":{\"kind\":[\"custom-build\"],\"name\":\"build-script-build\"},"
             "\"filenames\":[\"/w/t/build/dep-1/build-script-build\"],\"executable\":null,"
             "\"fresh\":true}");
    feed(&b, "{\"reason\":\"compiler-artifact\",\"target\":{\"kind\":[\"lib\"],\"name\":\"dep\"},"
             "\"filenames\":[\"/w/t/libdep.rlib\"],\"executable\":null,\"fresh\":true}");
    assert_int_equal(b.nexes, 0);
    assert_int_equal(eg_cargo_pick(&e, &b, NULL, NULL), EG_ENOTFOUND);
    assert_null(e);
    assert_non_null(strstr(eg_error_msg(), "cargo built no executable"));
    assert_non_null(strstr(eg_error_msg(), "--example NAME"));
    /* A diagnostic's rendered text and lines that are not JSON go to text. */
    feed(&b, "{\"reason\":\"compiler-message\",\"package_id\":\"path+file:///w/app#0.1.0\","
             "\"message\":{\"rendered\":\"warning: unused variable: `x`\\n\",\"level\":"
             "\"warning\",\"children\":[],\"spans\":[]}}");
    feed(&b, "   Compiling app v0.1.0");
    assert_int_equal(eg_cargo_feed(&b, "bad\r", 4, text, NULL), 0);
    assert_string_equal(text_seen, "warning: unused variable: `x`\n   Compiling app v0.1.0\nbad\n");
    assert_int_equal(b.text_lines, 2);
    /* Broken JSON is text; JSON of other shapes is skipped. */
    feed(&b, "{\"reason\":\"compiler-artifact\",");
    feed(&b, "{\"reason\":\"compiler-artifact\",\"target\":{\"kind\":[\"bin\"],\"name\":\"x\"},"
             "\"executable\":5}");
    feed(&b, "{\"reason\":\"compiler-artifact\",\"target\":{\"kind\":\"bin\",\"name\":\"x\"},"
             "\"executable\":\"/x\"}");
    feed(&b, "{\"reason\":\"compiler-artifact\",\"executable\":\"/x\"}");
    feed(&b, "{\"reason\":7}");
    feed(&b, "{\"reason\":\"timings-info\",\"duration\":0.1}");
    feed(&b, "[1,2]");
    feed(&b, "");
    assert_int_equal(b.nexes, 0);
    assert_int_equal(b.text_lines, 5);
    /* The app. */
    feed(&b, ARTIFACT("bin", "app", "/w/t/riscv32imc-unknown-none-elf/release/app"));
    feed(&b, ARTIFACT("bin", "app", "/w/t/riscv32imc-unknown-none-elf/release/app"));
    assert_int_equal(b.nexes, 1);
    assert_int_equal(eg_cargo_pick(&e, &b, NULL, NULL), 0);
    assert_string_equal(e->path, "/w/t/riscv32imc-unknown-none-elf/release/app");
    assert_string_equal(e->name, "app");
    assert_string_equal(e->kind, "bin");
    assert_int_equal(eg_cargo_pick(&e, &b, "app", NULL), 0);
    assert_int_equal(eg_cargo_pick(&e, &b, NULL, "app"), EG_ENOTFOUND);
    assert_string_equal(eg_error_msg(), "cargo built no example 'app' (it built bin 'app')");
    /* Two executables: one must be chosen. */
    feed(&b, ARTIFACT("bin", "other", "/w/t/riscv32imc-unknown-none-elf/release/other"));
    feed(&b, ARTIFACT("example", "ex", "/w/t/riscv32imc-unknown-none-elf/release/examples/ex"));
    assert_int_equal(eg_cargo_pick(&e, &b, NULL, NULL), EG_EINVAL);
    assert_null(e);
    assert_string_equal(eg_error_msg(),
                        "cargo built 3 executables: bin 'app' "
                        "(/w/t/riscv32imc-unknown-none-elf/release/app), bin 'other' "
                        "(/w/t/riscv32imc-unknown-none-elf/release/other), example 'ex' "
                        "(/w/t/riscv32imc-unknown-none-elf/release/examples/ex); say which one "
                        "to flash with --bin NAME (or --example NAME)");
    assert_int_equal(eg_cargo_pick(&e, &b, "other", NULL), 0);
    assert_string_equal(e->name, "other");
    assert_int_equal(eg_cargo_pick(&e, &b, NULL, "ex"), 0);
    assert_string_equal(e->kind, "example");
    assert_int_equal(eg_cargo_pick(&e, &b, "ex", NULL), EG_ENOTFOUND);
    assert_string_equal(eg_error_msg(),
                        "cargo built no bin 'ex' (it built bin 'app', bin 'other', example 'ex')");
    assert_int_equal(eg_cargo_pick(&e, &b, "other", "ex"), EG_EINVAL);
    assert_int_equal(eg_cargo_pick(&e, &b, "nope", "nada"), EG_ENOTFOUND);
    assert_non_null(strstr(eg_error_msg(), "no bin 'nope' and no example 'nada'"));
    assert_int_equal(b.finished, 0);
    feed(&b, "{\"reason\":\"build-finished\",\"success\":true}");
    assert_int_equal(b.finished, 1);
    assert_int_equal(b.success, 1);
    eg_cargo_build_release(&b);
    assert_null(b.exes);
    assert_int_equal(b.nexes, 0);
    eg_cargo_build_release(&b);
}

static void write_file(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x", f);
    fclose(f);
}

static void script(eg_cargo_build *b, const char *id, const char *out_dir)
{
    char line[1024];
    snprintf(line, sizeof(line),
             "{\"reason\":\"build-script-executed\",\"package_id\":\"%s\",\"linked_libs\":[],"
             "\"linked_paths\":[],\"cfgs\":[\"esp_idf\"],\"env\":[[\"K\",\"V\"]],"
             "\"out_dir\":\"%s\"}",
             id, out_dir);
    feed(b, line);
}

static void test_esp_idf_sys(void **state)
{
    char dir[] = "/tmp/eg-cargo-XXXXXX", p[256], want[256];
    eg_cargo_build b = EG_CARGO_BUILD_INIT;
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof(p), "%s/sys/build/bootloader", dir);
    snprintf(want, sizeof(want), "%s/sys", dir);
    assert_int_equal(mkdir(want, 0700), 0);
    snprintf(want, sizeof(want), "%s/sys/build", dir);
    assert_int_equal(mkdir(want, 0700), 0);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/sys/build/bootloader/bootloader.bin", dir);
    write_file(p);
    /* Another package's build script, with the same files: not esp-idf-sys. */
    snprintf(want, sizeof(want), "%s/sys", dir);
    script(&b, "registry+https://github.com/rust-lang/crates.io-index#esp-idf-hal@0.45.2", want);
    assert_null(b.idf_out_dir);
    assert_null(b.bootloader);
    /* esp-idf-sys with a bootloader and no partition table yet. */
    script(&b, "path+file:///w/esp-idf-sys#0.36.1", want);
    assert_string_equal(b.idf_out_dir, want);
    assert_string_equal(b.bootloader, p);
    assert_null(b.partition_table);
    /* The table comes; a later out dir without files keeps what was found. */
    snprintf(p, sizeof(p), "%s/sys/build/partition_table", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/sys/build/partition_table/partition-table.bin", dir);
    write_file(p);
    script(&b, "esp-idf-sys 0.33.7 (registry+https://github.com/rust-lang/crates.io-index)", want);
    assert_string_equal(b.partition_table, p);
    script(&b, "registry+https://github.com/rust-lang/crates.io-index#esp-idf-sys@0.36.1",
           "/nonexistent/out");
    assert_string_equal(b.idf_out_dir, "/nonexistent/out");
    assert_string_equal(b.partition_table, p);
    assert_non_null(b.bootloader);
    eg_cargo_build_release(&b);
    unlink(p);
    snprintf(p, sizeof(p), "%s/sys/build/bootloader/bootloader.bin", dir);
    unlink(p);
    snprintf(p, sizeof(p), "rm -r '%s'", dir);
    assert_int_equal(system(p), 0);
}

/* eg_cargo_run on /bin/sh scripts: lines as they come, the exit status, signals. */
static void test_run(void **state)
{
    eg_cargo_build b = EG_CARGO_BUILD_INIT;
    char *ok[] = {
        "sh", "-c",
        "printf '%s\\n' '" ARTIFACT(
            "bin", "app", "/w/app") "' 'plain'; "
                                    "printf '{\"reason\":\"build-finished\",\"success\":true}'",
        NULL};
    char *failing[] = {"sh", "-c",
                       "echo '{\"reason\":\"build-finished\",\"success\":false}'; exit 101", NULL};
    char *killed[] = {"sh", "-c", "kill -9 $$", NULL};
    int status;
    (void)state;
    text_seen[0] = '\0';
    assert_int_equal(eg_cargo_run(&b, &status, "sh", ok, text, NULL), 0);
    assert_int_equal(status, 0);
    assert_int_equal(b.nexes, 1);
    assert_int_equal(b.finished, 1); /* the last line has no newline */
    assert_string_equal(text_seen, "plain\n");
    eg_cargo_build_release(&b);
    assert_int_equal(eg_cargo_run(&b, &status, "sh", failing, text, NULL), EG_EINVAL);
    assert_int_equal(status, 101);
    assert_string_equal(eg_error_msg(), "'sh -c' failed (exit status 101)");
    assert_int_equal(b.finished, 1);
    assert_int_equal(b.success, 0);
    eg_cargo_build_release(&b);
    assert_int_equal(eg_cargo_run(&b, &status, "sh", killed, text, NULL), EG_EINVAL);
    assert_int_equal(status, 128 + 9);
    assert_string_equal(eg_error_msg(), "'sh -c' was ended by signal 9");
    assert_int_equal(eg_cargo_run(&b, &status, "/nonexistent/cargo", killed, text, NULL), EG_EIO);
    assert_non_null(strstr(eg_error_msg(), "cannot run '/nonexistent/cargo'"));
    eg_cargo_build_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),        cmocka_unit_test(test_split_faults),
        cmocka_unit_test(test_package_name), cmocka_unit_test(test_messages),
        cmocka_unit_test(test_esp_idf_sys),  cmocka_unit_test(test_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
