/* Paths: the real path of a file, links followed. Written out rather than taken from
 * realpath(3), whose interposed form under umockdev's test beds (the device tests)
 * corrupts memory on device nodes; links are told by readlink(2), never lstat(2), which
 * umockdev 0.17 does not make safe for threads on device nodes. */
#ifndef EG_CORE_PATH_H
#define EG_CORE_PATH_H

#include <stddef.h>

/* Writes into dst (len bytes) the absolute path of path with every symbolic link
 * followed and no ".", ".." or repeated '/'. Like realpath(3): 0, or -1 with errno
 * (ENOENT when a part does not exist, ELOOP after 40 links, ENAMETOOLONG). Sets no
 * message: callers say what they were doing. */
int eg_path_resolve(char *dst, size_t len, const char *path);

/* Makes the folder path and the folders above it that are missing (mode 0777 less the
 * umask). EG_EIO naming the folder that cannot be made. */
int eg_path_mkdirs(const char *path);

#endif
