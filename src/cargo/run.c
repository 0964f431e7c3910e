/* Running `cargo build`: its standard output (the JSON messages) read line by line as
 * it comes; its standard error (progress, and the diagnostics it renders itself with
 * json-render-diagnostics) and standard input are the caller's. */
#include "cargo/cargo.h"

#include "core/error.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int eg_cargo_run(eg_cargo_build *b, int *status, const char *program, char *const argv[],
                 eg_cargo_text_fn text, void *ctx)
{
    posix_spawn_file_actions_t fa;
    int fds[2] = {-1, -1}, rc = 0, err, wst = 0;
    pid_t pid;
    FILE *in = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    *status = 1;
    if (pipe(fds) < 0)
        return eg_error_set(EG_EIO, "cannot make a pipe for %s: %s", program, eg_strerror(errno));
    if ((err = posix_spawn_file_actions_init(&fa)) != 0) {
        close(fds[0]);
        close(fds[1]);
        return eg_error_set(EG_ENOMEM, "out of memory");
    }
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    err = posix_spawnp(&pid, program, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        return eg_error_set(EG_EIO, "cannot run '%s': %s%s", program, eg_strerror(err),
                            err == ENOENT ? " (is Rust's cargo installed and on PATH?)" : "");
    }
    if (!(in = fdopen(fds[0], "r"))) {
        rc = eg_error_set(EG_EIO, "cannot read from %s: %s", program, eg_strerror(errno));
        close(fds[0]);
    } else {
        /* Read to the end even after an error, so cargo never blocks on a full pipe. */
        while ((n = getline(&line, &cap, in)) > 0) {
            if (line[n - 1] == '\n')
                n--;
            if (rc == 0)
                rc = eg_cargo_feed(b, line, (size_t)n, text, ctx);
        }
        if (ferror(in) && rc == 0)
            rc = eg_error_set(EG_EIO, "reading what %s wrote: %s", program, eg_strerror(errno));
        fclose(in);
    }
    free(line);
    while (waitpid(pid, &wst, 0) < 0) {
        if (errno != EINTR) {
            return rc < 0 ? rc
                          : eg_error_set(EG_EIO, "waiting for %s: %s", program, eg_strerror(errno));
        }
    }
    if (WIFEXITED(wst))
        *status = WEXITSTATUS(wst);
    else if (WIFSIGNALED(wst))
        *status = 128 + WTERMSIG(wst);
    if (rc < 0)
        return rc;
    if (WIFSIGNALED(wst))
        return eg_error_set(EG_EINVAL, "'%s %s' was ended by signal %d", argv[0],
                            argv[1] ? argv[1] : "", WTERMSIG(wst));
    if (*status != 0)
        return eg_error_set(EG_EINVAL, "'%s %s' failed (exit status %d)", argv[0],
                            argv[1] ? argv[1] : "", *status);
    return 0;
}
