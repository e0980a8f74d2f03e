/* driver_map.c — the built-in `map` driver (see driver_map.h). */
#include "driver_map.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_files.h"
#include "util/clock.h"
#include "evofarm/client.h"
#include "util/log.h"
#include "util/names.h"

#define MAP_CHUNK 10000 /* vectors per map call: bounds memory, paces progress */

/* Parses one line into values; returns the count, or -1. */
static long parse_row(char *line, double **row, size_t *cap)
{
    long n = 0;
    for (char *p = line;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            return n;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || (*end && !isspace((unsigned char)*end)) || errno == ERANGE)
            return -1;
        if ((size_t)n == *cap) {
            size_t c = *cap ? *cap * 2 : 16;
            double *r = realloc(*row, c * sizeof *r);
            if (r == NULL)
                return -1;
            *row = r;
            *cap = c;
        }
        (*row)[n++] = v;
        p = end;
    }
}

int evo_read_vectors(const char *path, unsigned dimension, double **values, size_t *count, size_t *dim, char *err,
                     size_t err_size)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t line_cap = 0, row_cap = 0, n = 0, cap = 0, lineno = 0;
    double *row = NULL, *all = NULL;
    int rc = -1;
    *dim = dimension;
    if (f == NULL) {
        snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    while (getline(&line, &line_cap, f) >= 0) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        long k = parse_row(p, &row, &row_cap);
        if (k <= 0) {
            snprintf(err, err_size, "%s:%zu: not a list of numbers", path, lineno);
            goto out;
        }
        if (*dim == 0)
            *dim = (size_t)k;
        if ((size_t)k != *dim) {
            snprintf(err, err_size, "%s:%zu: %ld values, expected %zu", path, lineno, k, *dim);
            goto out;
        }
        if ((n + 1) * *dim > cap) {
            size_t c = cap ? cap * 2 : *dim * 1024;
            double *a = realloc(all, c * sizeof *a);
            if (a == NULL) {
                snprintf(err, err_size, "%s: out of memory", path);
                goto out;
            }
            all = a;
            cap = c;
        }
        memcpy(all + n * *dim, row, *dim * sizeof *row);
        n++;
    }
    if (n == 0) {
        snprintf(err, err_size, "%s: no vectors", path);
        goto out;
    }
    *values = all;
    *count = n;
    all = NULL;
    rc = 0;
out:
    free(all);
    free(row);
    free(line);
    fclose(f);
    return rc;
}

static void write_result(FILE *out, const struct evo_result *r)
{
    if (!r->ok) {
        fprintf(out, "error: %s\n", r->error);
        return;
    }
    for (unsigned k = 0; k < r->n; k++)
        fprintf(out, k ? " %.17g" : "%.17g", r->objectives[k]);
    fputc('\n', out);
}

/* results.txt in the checked output directory, emptied. NULL after
 * saying why. */
static FILE *open_output(const struct evo_config *c, char *path, size_t path_size)
{
    char err[EVO_ERROR_MAX], dir[PATH_MAX];
    FILE *out = NULL;
    if (evo_run_dir(c, dir, sizeof dir) < 0)
        return NULL;
    int dir_fd = evo_results_dir_open(dir, 0755, err, sizeof err);
    int fd = dir_fd < 0 ? -1 : evo_results_file_open(dir_fd, dir, "results.txt", O_WRONLY | O_CREAT, err, sizeof err);
    snprintf(path, path_size, "%s/results.txt", dir);
    if (fd >= 0 && (ftruncate(fd, 0) < 0 || (out = fdopen(fd, "w")) == NULL))
        snprintf(err, sizeof err, "cannot write %s: %s", path, evo_file_error(errno));
    if (out == NULL) {
        evo_error("%s", err);
        if (fd >= 0)
            close(fd);
    }
    if (dir_fd >= 0)
        close(dir_fd);
    return out;
}

/* Flushes, fsyncs and closes out. 0, or -1 with errno. */
static int close_output(FILE *out)
{
    int failed = fflush(out) != 0 || fsync(fileno(out)) < 0;
    int saved = errno;
    if (fclose(out) != 0 && !failed)
        return -1;
    errno = saved;
    return failed ? -1 : 0;
}

/* Maps in chunks with a progress line; returns failures or -1. */
static long map_all(struct evo_client *client, const double *x, size_t n, size_t dim, FILE *out)
{
    struct evo_result *results = malloc(MAP_CHUNK * sizeof *results);
    long failed = 0;
    int64_t start = evo_now_ms();
    int tty = isatty(2);
    if (results == NULL)
        return -1;
    for (size_t at = 0; at < n; at += MAP_CHUNK) {
        size_t k = n - at < MAP_CHUNK ? n - at : MAP_CHUNK;
        long bad = evo_client_map(client, x + at * dim, k, dim, results);
        if (bad < 0) {
            evo_error("%s", evo_client_last_error(client));
            failed = -1;
            break;
        }
        failed += bad;
        for (size_t i = 0; i < k; i++)
            write_result(out, &results[i]);
        double seconds = (double)(evo_now_ms() - start) / 1000.0;
        fprintf(stderr, "%smap: %zu/%zu evaluated, %ld failed, %.0f evaluations/s%s", tty ? "\r" : "", at + k, n,
                failed, (double)(at + k) / (seconds > 0 ? seconds : 1e-3), tty ? "" : "\n");
    }
    if (tty)
        fputc('\n', stderr);
    free(results);
    return failed;
}

int evo_driver_map_main(const struct evo_config *c)
{
    char err[EVO_ERROR_MAX], path[EVO_PATH_MAX];
    double *x = NULL;
    size_t n, dim;
    int rc = 1;
    if (evo_read_vectors(c->optimize.input, c->optimize.dimension, &x, &n, &dim, err, sizeof err) < 0) {
        evo_error("%s", err);
        return 2;
    }
    struct evo_client *client = evo_client_open(err, sizeof err);
    FILE *out = client ? open_output(c, path, sizeof path) : NULL;
    if (client == NULL)
        evo_error("%s", err);
    if (out != NULL) {
        long failed = map_all(client, x, n, dim, out);
        if (close_output(out) < 0) {
            evo_error("cannot write %s: %s", path, evo_file_error(errno));
            failed = -1;
        } else if (failed >= 0)
            fprintf(stderr, "map: results of %zu vectors in %s%s\n", n, path, failed ? " (some failed)" : "");
        rc = failed < 0 ? 1 : failed > 0 ? 3 : 0;
    }
    evo_client_close(client);
    free(x);
    return rc;
}
