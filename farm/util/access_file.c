/* access_file.c — reading farm.access, farm records and join credentials;
 * see access_file.h. */
#include "access_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int evo_join_credential_find(const char *records_dir, const char *farm, char *out, size_t size)
{
    static const char *const forms[] = {"%s/%s.join", "%s/%s.0.join"}; /* an id; a job's first step */
    if (farm[0] == '\0' || strchr(farm, '/') || farm[0] == '.')
        return -1;
    for (size_t i = 0; i < 2; i++) {
        int n = snprintf(out, size, forms[i], records_dir, farm);
        if (n > 0 && (size_t)n < size && access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}
