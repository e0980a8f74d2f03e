/* registry_access.c — the access lines every registry file begins with
 * (read here for all of them) and DIR/farm.access; see registry.h. */
#include "registry_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/files.h"
#include "util/log.h"
#include "util/names.h"

FILE *registry_open_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
    if (f == NULL && fd >= 0)
        close(fd);
    return f;
}

static const char access_format[] = "endpoints %s%s%s\nserver %s\npublic %s\nsecret %s\n";

int registry_access_text(char *text, size_t size, int worker)
{
    const char *endpoints = getenv(EVO_VAR_ENDPOINTS), *local = getenv(EVO_VAR_ENDPOINT);
    const char *server = getenv(EVO_VAR_SERVER_KEY);
    const char *public_key = getenv(worker ? EVO_VAR_CLIENT_PUBLIC : EVO_VAR_STATUS_PUBLIC);
    const char *secret = getenv(worker ? EVO_VAR_CLIENT_SECRET : EVO_VAR_STATUS_SECRET);
    const char *nested_public = getenv(EVO_VAR_NESTED_PUBLIC), *nested_secret = getenv(EVO_VAR_NESTED_SECRET);
    if (server == NULL || public_key == NULL || secret == NULL || (local == NULL && endpoints == NULL))
        return -1;
    int n = snprintf(text, size, access_format, endpoints ? endpoints : "", endpoints && local ? "," : "",
                     local ? local : "", server, public_key, secret);
    if (worker && nested_public && nested_secret && n > 0 && (size_t)n < size)
        snprintf(text + n, size - (size_t)n, "nested_public %s\nnested_secret %s\n", nested_public, nested_secret);
    return 0;
}

/* One "key value" line of a record into a (unknown keys ignored). */
static void record_line(struct evo_access *a, const char *key, const char *value)
{
    struct {
        const char *key;
        char *field;
        size_t size;
    } text[] = {{"id", a->id, sizeof a->id},
                {"kind", a->kind, sizeof a->kind},
                {"host", a->host, sizeof a->host},
                {"dir", a->dir, sizeof a->dir},
                {"command", a->command, sizeof a->command},
                {"nested_public", a->nested_public, sizeof a->nested_public},
                {"nested_secret", a->nested_secret, sizeof a->nested_secret},
                {"control_public", a->control_public, sizeof a->control_public},
                {"control_secret", a->control_secret, sizeof a->control_secret}};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (strcmp(key, text[i].key) == 0)
            snprintf(text[i].field, text[i].size, "%s", value);
    if (strcmp(key, "pid") == 0)
        a->pid = atoll(value);
    if (strcmp(key, "started") == 0)
        a->started = atoll(value);
}

/* The whole file (NUL-terminated, malloc'd) with its length, or NULL with
 * errno: not a regular file of this user's only, or too large. */
static char *read_private(const char *path, size_t *length, char *err, size_t err_size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), saved;
    char *text = NULL;
    if (fd < 0 || fstat(fd, &st) < 0) {
        saved = errno;
        snprintf(err, err_size, "%.300s: %s", path,
                 errno == ELOOP ? "is a symbolic link; refusing it" : strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > EVO_ACCESS_FILE_MAX) {
        saved = EINVAL;
        snprintf(err, err_size, "%.300s: not an evo-farm access file", path);
        goto fail;
    }
    if ((st.st_mode & 077) || st.st_uid != geteuid()) {
        saved = EACCES;
        snprintf(err, err_size, "%.300s: %s (mode %03o); refusing to use leaked keys", path,
                 st.st_uid != geteuid() ? "another user's" : "readable by others", (unsigned)(st.st_mode & 0777));
        goto fail;
    }
    if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
        saved = errno;
        snprintf(err, err_size, "%.300s: out of memory", path);
        goto fail;
    }
    ssize_t n = read(fd, text, (size_t)st.st_size + 1);
    if (n < 0 || n > st.st_size) { /* it grew while read: not a finished file */
        saved = n < 0 ? errno : EINVAL;
        snprintf(err, err_size, "%.300s: %s", path, n < 0 ? strerror(errno) : "changed while read");
        goto fail;
    }
    text[n] = '\0';
    *length = (size_t)n;
    close(fd);
    return text;
fail:
    free(text);
    if (fd >= 0)
        close(fd);
    errno = saved;
    return NULL;
}

int evo_access_read_file(const char *path, struct evo_access *a, char **config_text, char *err, size_t err_size)
{
    size_t n;
    memset(a, 0, sizeof *a);
    if (config_text)
        *config_text = NULL;
    char *text = read_private(path, &n, err, err_size);
    if (text == NULL)
        return -1;
    /* A NUL byte (which scanf would keep inside a word, cutting it short)
     * makes it no access file; a join credential's access lines end where
     * its configuration begins. */
    int has_nul = memchr(text, '\0', n) != NULL;
    char *config = has_nul ? NULL : strstr(text, "\nconfig\n");
    if (config)
        config[1] = '\0';
    int ok = !has_nul && sscanf(text, "endpoints %1023s server %63s public %63s secret %63s", a->endpoints, a->server,
                                a->public_key, a->secret) == 4;
    for (char *save = NULL, *line = ok ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
        char *space = strchr(line, ' ');
        if (space) {
            *space = '\0';
            record_line(a, line, space + 1);
        }
    }
    if (ok && config_text && config == NULL) {
        snprintf(err, err_size, "%.300s: not an evo-farm join credential (no configuration in it)", path);
        ok = 0;
    } else if (!ok) {
        snprintf(err, err_size, "%.300s: not an evo-farm access file", path);
    }
    if (ok && config_text) {
        size_t size = n - (size_t)(config + 8 - text);
        if ((*config_text = malloc(size + 1)) != NULL) {
            memcpy(*config_text, config + 8, size);
            (*config_text)[size] = '\0';
        } else {
            snprintf(err, err_size, "%.300s: out of memory", path);
            ok = 0;
        }
    }
    explicit_bzero(text, n);
    free(text);
    if (!ok)
        errno = EINVAL;
    return ok ? 0 : -1;
}

void evo_access_write(int dir_fd, const char *dir)
{
    char text[2048];
    if (registry_access_text(text, sizeof text, 0) < 0) {
        evo_warn("not inside a farm: no %s/farm.access (evo-farm status will not reach this run)", dir);
        return;
    }
    if (evo_write_file(dir_fd, "farm.access", text, 1) < 0)
        evo_warn("cannot write %s/farm.access (evo-farm status will not reach this run): %s", dir,
                 evo_file_error(errno));
    evo_job_record_write(dir);
}

int evo_access_read(const char *dir, struct evo_access *a, char *err, size_t err_size)
{
    char path[EVO_PATH_MAX];
    snprintf(path, sizeof path, "%s/farm.access", dir);
    int rc = evo_access_read_file(path, a, NULL, err, err_size);
    if (rc < 0 && errno == ENOENT)
        snprintf(err, err_size, "%.300s: %s (is DIR the results directory of a running cma-es farm?)", path,
                 strerror(ENOENT));
    return rc;
}
