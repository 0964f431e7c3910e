/* Runs a fuzz target over files and folders of inputs (tests/fuzz/corpus/NAME and the
 * test data that seeds it), as libFuzzer would run one input: exits non-zero when none
 * was found; a crash is the sanitizers' to report. */
#define _DEFAULT_SOURCE /* DT_DIR */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long len;

    if (!f) {
        fprintf(stderr, "replay: cannot open '%s'\n", path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(data = malloc(len ? (size_t)len : 1)) || fread(data, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "replay: cannot read '%s'\n", path);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)len);
    free(data);
    return 1;
}

/* Replays path, a file or (recursively) a folder; the number of inputs, or -1. */
static long replay(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    long n = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such input '%s'\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path);
    if (!(d = opendir(path)))
        return -1;
    while ((e = readdir(d))) {
        char sub[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        long k = replay(sub);
        if (k < 0) {
            closedir(d);
            return -1;
        }
        n += k;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    long total = 0;

    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        long n = replay(argv[i]);
        if (n < 0)
            return 1;
        total += n;
    }
    printf("replayed %ld inputs\n", total);
    return total > 0 ? 0 : 1;
}
