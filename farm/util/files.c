/* files.c — see files.h. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"

/* mkdir -p: DIR's missing parents, then DIR. 0, or -1 with errno. */
static int make_dirs(const char *dir, mode_t mode)
{
    char path[EVO_PATH_MAX];
    if (mkdir(dir, mode) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return -1;
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int rc = mkdir(path, mode);
        *slash = '/';
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(dir, mode) == 0 || errno == EEXIST ? 0 : -1;
}

int evo_owned_dir_open(const char *dir, const char *what, mode_t mode, char *err, size_t err_size)
{
    struct stat st;
    if (make_dirs(dir, mode) < 0) {
        snprintf(err, err_size, "cannot create the %s %s: %s", what, dir, strerror(errno));
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int link = errno == ELOOP || (errno == ENOTDIR && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode));
        snprintf(err, err_size, "%s %s: %s", what, dir,
                 link ? "is a symbolic link (name the directory itself)" : strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, err_size, "%s %s: %s", what, dir, strerror(errno));
        close(fd);
        return -1;
    }
    if (evo_owned_refuse(&st, what, dir, err, err_size) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int evo_owned_refuse(const struct stat *st, const char *what, const char *path, char *err, size_t err_size)
{
    const char *wrong = st->st_uid != geteuid()             ? "is owned by another user"
                        : st->st_mode & (S_IWGRP | S_IWOTH) ? "may be written by group or others (chmod go-w it)"
                                                            : NULL;
    if (wrong == NULL)
        return 0;
    snprintf(err, err_size, "%s %s %s (owner uid %u, mode %04o; the farm runs as uid %u); refusing it", what, path,
             wrong, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777), (unsigned)geteuid());
    return -1;
}

int evo_results_dir_open(const char *dir, mode_t mode, char *err, size_t err_size)
{
    return evo_owned_dir_open(dir, "results directory", mode, err, err_size);
}

int evo_results_file_open(int dir_fd, const char *dir, const char *name, int flags, char *err, size_t err_size)
{
    struct stat st;
    int fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, err_size, "%s/%s: %s", dir, name, evo_file_error(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        snprintf(err, err_size, "%s/%s: not a regular file of uid %u; refusing it", dir, name, (unsigned)geteuid());
        close(fd);
        return -1;
    }
    return fd;
}

/* A fresh temporary NAME.tmp.RANDOM in dir_fd, its name in tmp. fd or -1. */
static int open_temporary(int dir_fd, const char *name, int private_file, char *tmp, size_t tmp_size)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        unsigned long long suffix;
        if (getrandom(&suffix, sizeof suffix, 0) != sizeof suffix)
            return -1;
        snprintf(tmp, tmp_size, "%s.tmp.%016llx", name, suffix);
        int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, private_file ? 0600 : 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Writes what build prints to fd through a stdio buffer (no copy of the
 * whole text in memory) and fsyncs it; fd is closed. 0, or -1 with errno. */
static int write_built(int fd, void (*build)(FILE *out, const void *arg), const void *arg)
{
    FILE *out = fdopen(fd, "w");
    if (out == NULL) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    build(out, arg);
    int failed = fflush(out) != 0 || ferror(out) || fsync(fd) < 0;
    int saved = errno;
    if (fclose(out) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    errno = saved;
    return failed ? -1 : 0;
}

static void put_text(FILE *out, const void *text)
{
    fputs(text, out);
}

/* 0 when NAME in dir_fd is missing or a regular file, else -1 with errno
 * (ELOOP for a symbolic link: it is refused, not replaced). */
static int replaceable(int dir_fd, const char *name)
{
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (S_ISREG(st.st_mode))
        return 0;
    errno = S_ISLNK(st.st_mode) ? ELOOP : S_ISDIR(st.st_mode) ? EISDIR : EEXIST;
    return -1;
}

/* Phases: refuse a link, write a temporary, fsync it, rename it over NAME
 * (or remove it), fsync the directory (the rename on disk). */
int evo_write_file_built(int dir_fd, const char *name, int private_file, void (*build)(FILE *out, const void *arg),
                         const void *arg)
{
    char tmp[EVO_PATH_MAX];
    if (replaceable(dir_fd, name) < 0)
        return -1;
    int fd = open_temporary(dir_fd, name, private_file, tmp, sizeof tmp);
    if (fd < 0)
        return -1;
    int failed = write_built(fd, build, arg) < 0;
    int saved = errno;
    if (!failed && renameat(dir_fd, tmp, dir_fd, name) < 0) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        unlinkat(dir_fd, tmp, 0);
        errno = saved;
        return -1;
    }
    return fsync(dir_fd);
}

int evo_write_file(int dir_fd, const char *name, const char *text, int private_file)
{
    return evo_write_file_built(dir_fd, name, private_file, put_text, text);
}

const char *evo_file_error(int errnum)
{
    return errnum == ELOOP ? "is a symbolic link; refusing it" : strerror(errnum);
}

const char *evo_json_number(char *buf, size_t size, double v)
{
    if (isfinite(v))
        snprintf(buf, size, "%.17g", v);
    else
        snprintf(buf, size, "null");
    return buf;
}

int evo_home_dir(char *out, size_t size)
{
    char buffer[4096];
    struct passwd pw, *found = NULL;
    const char *home = getenv("HOME");
    if ((home == NULL || home[0] != '/') && getpwuid_r(geteuid(), &pw, buffer, sizeof buffer, &found) == 0 && found)
        home = found->pw_dir;
    if (home == NULL || home[0] != '/')
        return -1;
    int n = snprintf(out, size, "%s", home);
    return n > 0 && (size_t)n < size ? 0 : -1;
}
