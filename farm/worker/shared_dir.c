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

int evo_shared_dir_put(struct evo_shared_dir *dir, const char *name, const void *value, size_t size)
{
    char tmp[EVO_PATH_MAX], final[EVO_PATH_MAX];
    if (dir->path[0] == '\0') {
        errno = ENOENT;
        return -1;
    }
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s.part", dir->path, name) >= sizeof tmp ||
        (size_t)snprintf(final, sizeof final, "%s/%s", dir->path, name) >= sizeof final) {
        errno = ENAMETOOLONG;
        return -1;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = evo_write_all(fd, value, size);
    int saved = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp, final) == 0)
        return 0;
    saved = rc == 0 ? errno : saved;
    unlink(tmp);
    errno = saved;
    return -1;
}

void evo_shared_dir_remove(struct evo_shared_dir *dir)
{
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
