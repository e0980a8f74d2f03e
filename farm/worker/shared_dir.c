/* shared_dir.c — see shared_dir.h. */
#include "shared_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/io.h"

int evo_shared_dir_create(struct evo_shared_dir *dir)
{
    const char *tmp = getenv("TMPDIR");
    char path[EVO_PATH_MAX];
    if (tmp == NULL || tmp[0] != '/')
        tmp = "/tmp";
    if ((size_t)snprintf(path, sizeof path, "%s/evo-farm-shared-XXXXXX", tmp) >= sizeof path) {
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
    if ((size_t)snprintf(out, size, "%s/.%s.part", dir->path, name) < size)
        return 0;
    errno = ENAMETOOLONG;
    return -1;
}

void evo_shared_dir_abandon(struct evo_shared_dir *dir)
{
    char tmp[EVO_PATH_MAX];
    if (dir->part_fd == 0)
        return;
    close(dir->part_fd - 1);
    dir->part_fd = 0;
    if (part_path(dir, dir->part_name, tmp, sizeof tmp) == 0)
        unlink(tmp);
}

int evo_shared_dir_begin(struct evo_shared_dir *dir, const char *name)
{
    char tmp[EVO_PATH_MAX];
    evo_shared_dir_abandon(dir);
    if (dir->path[0] == '\0') {
        errno = ENOENT;
        return -1;
    }
    if (strlen(name) >= sizeof dir->part_name || part_path(dir, name, tmp, sizeof tmp) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    dir->part_fd = fd + 1;
    snprintf(dir->part_name, sizeof dir->part_name, "%s", name);
    return 0;
}

int evo_shared_dir_writing(const struct evo_shared_dir *dir)
{
    return dir->part_fd != 0;
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
    if (dir->part_fd == 0) {
        errno = ENOENT;
        return -1;
    }
    return evo_write_all(dir->part_fd - 1, data, size) == 0 ? 0 : abandon_failed(dir);
}

int evo_shared_dir_commit(struct evo_shared_dir *dir)
{
    char tmp[EVO_PATH_MAX], final[EVO_PATH_MAX];
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

void evo_shared_dir_remove(struct evo_shared_dir *dir)
{
    evo_shared_dir_abandon(dir);
    if (dir->path[0] == '\0')
        return;
    DIR *d = opendir(dir->path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(dirfd(d), e->d_name, 0);
        closedir(d);
    }
    rmdir(dir->path);
    dir->path[0] = '\0';
}
