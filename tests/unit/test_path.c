/* eg_path_resolve against realpath(3) on a tree of files, folders and links:
 * absolute and relative links, links to links, "." and "..", a missing part, a loop. */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the headers above first. */
#include <cmocka.h>

#include "core/path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

static void make(const char *rel, const char *link_to)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    if (link_to)
        assert_int_equal(symlink(link_to, p), 0);
    else if (rel[strlen(rel) - 1] == '/')
        assert_int_equal(mkdir(p, 0755), 0);
    else
        fclose(fopen(p, "w"));
}

static int setup(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/egpath.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    /* Through realpath: /tmp may itself be a link on some machines. */
    assert_non_null(realpath(tmpl, root));
    make("a/", NULL);
    make("a/b/", NULL);
    make("a/b/file", NULL);
    char target[PATH_MAX + 16];
    snprintf(target, sizeof(target), "%s/a/b/file", root);
    make("abs", target);     /* absolute link */
    make("a/rel", "b/file"); /* relative link */
    make("a/up", "../a/b");  /* link with .. */
    make("chain", "a/rel");  /* link to a link */
    make("dirlink", "a/b");  /* link to a folder, walked through */
    make("loop1", "loop2");
    make("loop2", "loop1");
    make("dangling", "nowhere");
    return 0;
}

static void same_as_realpath(const char *rel)
{
    char p[PATH_MAX + 64], want[PATH_MAX], got[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    assert_non_null(realpath(p, want));
    assert_int_equal(eg_path_resolve(got, sizeof(got), p), 0);
    assert_string_equal(got, want);
}

static void test_like_realpath(void **state)
{
    (void)state;
    const char *cases[] = {"a",
                           "a/b/file",
                           "abs",
                           "a/rel",
                           "a/up/file",
                           "chain",
                           "dirlink/file",
                           "a/./b/../b/file",
                           "a//b///file",
                           "dirlink/../b/file"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        same_as_realpath(cases[i]);
}

static void test_relative_to_cwd(void **state)
{
    (void)state;
    char here[PATH_MAX], got[PATH_MAX], want[PATH_MAX + 16];
    assert_non_null(getcwd(here, sizeof(here)));
    assert_int_equal(chdir(root), 0);
    assert_int_equal(eg_path_resolve(got, sizeof(got), "chain"), 0);
    snprintf(want, sizeof(want), "%s/a/b/file", root);
    assert_string_equal(got, want);
    assert_int_equal(chdir(here), 0);
}

static void test_failures(void **state)
{
    (void)state;
    char p[PATH_MAX + 64], got[PATH_MAX], small[8];
    snprintf(p, sizeof(p), "%s/loop1", root);
    assert_int_equal(eg_path_resolve(got, sizeof(got), p), -1);
    assert_int_equal(errno, ELOOP);
    snprintf(p, sizeof(p), "%s/dangling", root);
    assert_int_equal(eg_path_resolve(got, sizeof(got), p), -1);
    assert_int_equal(errno, ENOENT);
    snprintf(p, sizeof(p), "%s/a/missing/x", root);
    assert_int_equal(eg_path_resolve(got, sizeof(got), p), -1);
    assert_int_equal(errno, ENOENT);
    snprintf(p, sizeof(p), "%s/a/b/file", root);
    assert_int_equal(eg_path_resolve(small, sizeof(small), p), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    assert_int_equal(eg_path_resolve(got, sizeof(got), ""), -1);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_like_realpath),
        cmocka_unit_test(test_relative_to_cwd),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
