/* shared_dir.c — see shared_dir.h. */
#include "shared_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/io.h"
#include "util/log.h"

static const char *tmp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    return tmp && tmp[0] == '/' ? tmp : "/tmp";
}

int evo_shared_dir_name(const char *farm_key, char *out, size_t size)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a: a name, not a secret (the directory's owner is checked) */
    for (const char *c = farm_key; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    if ((size_t)snprintf(out, size, "%s/evo-farm-shared-%u-%016llx", tmp_dir(), (unsigned)getuid(),
                         (unsigned long long)h) < size)
        return 0;
    errno = ENAMETOOLONG;
    return -1;
}

/* The directory at path, ours, 0700 and no link: its descriptor, or -1. */
static int open_owned(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 07777) != 0700) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

/* The farm's directory on the node, its lock held shared. 0, or -1. */
static int open_node_dir(struct evo_shared_dir *dir, const char *farm_key)
{
    char path[EVO_PATH_MAX];
    struct stat now, held;
    if (evo_shared_dir_name(farm_key, path, sizeof path) < 0)
        return -1;
    for (int attempt = 0; attempt < 3; attempt++) { /* the last worker may be removing it */
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return -1;
        int dfd = open_owned(path);
        if (dfd < 0)
            return -1;
        int lock = openat(dfd, ".lock", O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        int ok = lock >= 0 && flock(lock, LOCK_SH) == 0 && fstat(dfd, &held) == 0 && held.st_nlink > 0 &&
                 lstat(path, &now) == 0 && now.st_ino == held.st_ino && now.st_dev == held.st_dev;
        close(dfd);
        if (ok) {
            memcpy(dir->path, path, sizeof dir->path);
            dir->lock_fd = lock + 1;
            return 0;
        }
        if (lock >= 0)
            close(lock);
    }
    errno = EAGAIN;
    return -1;
}

int evo_shared_dir_create(struct evo_shared_dir *dir, const char *farm_key)
{
    char path[EVO_PATH_MAX];
    dir->lock_fd = 0;
    if (farm_key && farm_key[0] && open_node_dir(dir, farm_key) == 0)
        return setenv(EVO_VAR_SHARED_DIR, dir->path, 1);
    if (farm_key && farm_key[0])
        evo_warn("shared constants: cannot use this node's directory of the farm (%s): a private one instead",
                 strerror(errno));
    if ((size_t)snprintf(path, sizeof path, "%s/evo-farm-shared-XXXXXX", tmp_dir()) >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (mkdtemp(path) == NULL)
        return -1;
    memcpy(dir->path, path, sizeof dir->path);
    return setenv(EVO_VAR_SHARED_DIR, dir->path, 1);
}

static int part_path(const struct evo_shared_dir *dir, const char *name, char *out, size_t size)
{
    if ((size_t)snprintf(out, size, "%s/.%s.part.%ld", dir->path, name, (long)getpid()) < size)
        return 0;
    errno = ENAMETOOLONG;
    return -1;
}

void evo_shared_dir_abandon(struct evo_shared_dir *dir)
{
    char tmp[EVO_PATH_MAX];
    dir->skipping = 0;
    if (dir->part_fd == 0)
        return;
    close(dir->part_fd - 1);
    dir->part_fd = 0;
    if (part_path(dir, dir->part_name, tmp, sizeof tmp) == 0)
        unlink(tmp);
}

int evo_shared_dir_begin(struct evo_shared_dir *dir, const char *name)
{
    char tmp[EVO_PATH_MAX], final[EVO_PATH_MAX];
    evo_shared_dir_abandon(dir);
    if (dir->path[0] == '\0') {
        errno = ENOENT;
        return -1;
    }
    if (strlen(name) >= sizeof dir->part_name || part_path(dir, name, tmp, sizeof tmp) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(dir->part_name, sizeof dir->part_name, "%s", name);
    if (dir->lock_fd && (size_t)snprintf(final, sizeof final, "%s/%s", dir->path, name) < sizeof final &&
        access(final, F_OK) == 0) {
        dir->skipping = 1; /* another worker of the farm put it here */
        return 0;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    dir->part_fd = fd + 1;
    return 0;
}

int evo_shared_dir_writing(const struct evo_shared_dir *dir)
{
    return dir->part_fd != 0 || dir->skipping;
}

/* Abandons the constant begun, keeping errno. -1. */
static int abandon_failed(struct evo_shared_dir *dir)
{
    int saved = errno;
    evo_shared_dir_abandon(dir);
    errno = saved;
    return -1;
}

int evo_shared_dir_write(struct evo_shared_dir *dir, const void *data, size_t size)
{
    if (dir->skipping)
        return 0;
    if (dir->part_fd == 0) {
        errno = ENOENT;
        return -1;
    }
    return evo_write_all(dir->part_fd - 1, data, size) == 0 ? 0 : abandon_failed(dir);
}

int evo_shared_dir_commit(struct evo_shared_dir *dir)
{
    char tmp[EVO_PATH_MAX], final[EVO_PATH_MAX];
    if (dir->skipping) {
        dir->skipping = 0;
        return 0;
    }
    if (dir->part_fd == 0) {
        errno = ENOENT;
        return -1;
    }
    int fd = dir->part_fd - 1;
    dir->part_fd = 0;
    int rc = close(fd);
    if (part_path(dir, dir->part_name, tmp, sizeof tmp) < 0) /* checked when begun */
        return -1;
    if ((size_t)snprintf(final, sizeof final, "%s/%s", dir->path, dir->part_name) >= sizeof final) {
        rc = -1; /* shorter than tmp: cannot happen */
        errno = ENAMETOOLONG;
    }
    if (rc == 0 && rename(tmp, final) == 0)
        return 0;
    int saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
}

int evo_shared_dir_put(struct evo_shared_dir *dir, const char *name, const void *value, size_t size)
{
    if (evo_shared_dir_begin(dir, name) < 0 || evo_shared_dir_write(dir, value, size) < 0)
        return -1;
    return evo_shared_dir_commit(dir);
}

/* Removes the files of the directory at dfd, then path itself. */
static void remove_tree(int dfd, const char *path)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(path);
}

/* Removes the node's directory at path when its lock can be taken
 * exclusively: nobody else holds it. lock: our descriptor of it, or -1. */
static void remove_if_last(const char *path, int lock)
{
    int dfd = open_owned(path);
    if (dfd < 0) {
        if (lock >= 0)
            close(lock);
        return;
    }
    if (lock < 0)
        lock = openat(dfd, ".lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
        remove_tree(dfd, path); /* the lock file goes with it: a worker that opened it meanwhile tries again */
    else
        close(dfd);
    if (lock >= 0)
        close(lock);
}

void evo_shared_dir_remove(struct evo_shared_dir *dir)
{
    evo_shared_dir_abandon(dir);
    if (dir->path[0] == '\0')
        return;
    if (dir->lock_fd) {
        remove_if_last(dir->path, dir->lock_fd - 1);
        dir->lock_fd = 0;
    } else {
        int dfd = open(dir->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd >= 0)
            remove_tree(dfd, dir->path);
    }
    dir->path[0] = '\0';
}

void evo_shared_dir_remove_unused(const char *farm_key)
{
    char path[EVO_PATH_MAX];
    if (farm_key && farm_key[0] && evo_shared_dir_name(farm_key, path, sizeof path) == 0)
        remove_if_last(path, -1);
}
