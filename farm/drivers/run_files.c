/* run_files.c — results-directory files of the built-in optimiser; see
 * run_files.h. */
#include "run_files.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config/config.h"
#include "util/io.h"
#include "util/log.h"
#include "util/names.h"

void evo_log_row_of(struct evo_log_row *row, unsigned long long gen, const double *f, size_t n)
{
    double sum = 0, sq = 0;
    row->gen = gen;
    row->nevals = n;
    row->min = row->max = f[0];
    for (size_t i = 0; i < n; i++) {
        sum += f[i];
        row->min = fmin(row->min, f[i]);
        row->max = fmax(row->max, f[i]);
    }
    row->avg = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (f[i] - row->avg) * (f[i] - row->avg);
    row->std = sqrt(sq / (double)n); /* numpy.std: population */
    row->sigma = NAN;
    row->restart = 0;
}

static const char header[] = "gen,nevals,avg,std,min,max,sigma,restart\n";
static const char header_without_sigma[] = "gen,nevals,avg,std,min,max\n"; /* before sigma was logged */

/* Cuts f after its header and keep_rows rows and leaves it positioned
 * there; *old_header says whether the header is header_without_sigma.
 * 0, or -1 (errno, or 0 when it has fewer rows). */
static int keep_logbook_rows(FILE *f, unsigned long long keep_rows, int *old_header)
{
    char line[1024];
    unsigned long long lines = 0;
    long keep = -1;
    while (keep < 0 && fgets(line, sizeof line, f)) {
        if (++lines == 1)
            *old_header = strcmp(line, header_without_sigma) == 0;
        if (lines == keep_rows + 1)
            keep = ftell(f);
    }
    if (keep < 0) {
        errno = 0;
        return -1;
    }
    return ftruncate(fileno(f), keep) < 0 || fseek(f, keep, SEEK_SET) < 0 ? -1 : 0;
}

/* The kept rows of f (an old header's) with today's header and empty
 * sigma and restart fields, in a buffer the caller frees; NULL with errno. */
static char *rows_with_sigma(FILE *f)
{
    char *text = NULL, *line = NULL;
    size_t size = 0, cap = 0;
    ssize_t n;
    FILE *out = open_memstream(&text, &size);
    if (out == NULL)
        return NULL;
    rewind(f);
    fputs(header, out);
    for (int first = 1; (n = getline(&line, &cap, f)) > 0; first = 0)
        if (!first)
            fprintf(out, "%.*s,,\n", (int)(line[n - 1] == '\n' ? n - 1 : n), line);
    int failed = ferror(f);
    free(line);
    if (fclose(out) != 0 || failed) {
        free(text);
        errno = failed ? EIO : ENOMEM;
        return NULL;
    }
    return text;
}

/* Replaces a resumed logbook of the old header (f, closed here) by its rows
 * under today's header, atomically, and opens that for appending. */
static FILE *add_sigma_columns(int dir_fd, const char *dir, FILE *f, char *err, size_t err_size)
{
    char *text = rows_with_sigma(f);
    fclose(f);
    if (text == NULL || evo_write_file(dir_fd, "logbook.csv", text, 0) < 0) {
        snprintf(err, err_size, "%s/logbook.csv: cannot add the sigma and restart columns: %s", dir,
                 evo_file_error(errno));
        free(text);
        return NULL;
    }
    free(text);
    int fd = evo_results_file_open(dir_fd, dir, "logbook.csv", O_RDWR, err, err_size);
    f = fd < 0 ? NULL : fdopen(fd, "a");
    if (f == NULL && fd >= 0) {
        snprintf(err, err_size, "%s/logbook.csv: %s", dir, strerror(errno));
        close(fd);
    }
    return f;
}

FILE *evo_logbook_open(int dir_fd, const char *dir, unsigned long long keep_rows, char *err, size_t err_size)
{
    int fd = evo_results_file_open(dir_fd, dir, "logbook.csv", O_RDWR | (keep_rows ? 0 : O_CREAT), err, err_size);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "r+");
    if (fd < 0)
        return NULL;
    int failed = f == NULL, old_header = 0;
    if (!failed && keep_rows == 0) /* the header on disk at once */
        failed = ftruncate(fd, 0) < 0 || fputs(header, f) < 0 || fflush(f) != 0;
    else if (!failed)
        failed = keep_logbook_rows(f, keep_rows, &old_header) < 0;
    if (failed) {
        snprintf(err, err_size, "%s/logbook.csv: %s", dir,
                 errno == 0 ? "has fewer rows than the checkpoint" : strerror(errno));
        if (f)
            fclose(f);
        else
            close(fd);
        return NULL;
    }
    return old_header ? add_sigma_columns(dir_fd, dir, f, err, err_size) : f;
}

int evo_logbook_append(FILE *logbook, const struct evo_log_row *r)
{
    if (fprintf(logbook, "%llu,%llu,%.17g,%.17g,%.17g,%.17g,%.17g,%u\n", r->gen, r->nevals, r->avg, r->std, r->min,
                r->max, r->sigma, r->restart) < 0)
        return -1;
    return fflush(logbook) == 0 ? 0 : -1;
}

int evo_logbook_sync(FILE *logbook)
{
    return fflush(logbook) == 0 && fsync(fileno(logbook)) == 0 ? 0 : -1;
}

int evo_run_dir(const struct evo_config *c, char *out, size_t size)
{
    struct evo_job_names job = {getenv("SLURM_JOB_ID"), getenv("SLURM_ARRAY_JOB_ID"), getenv("SLURM_ARRAY_TASK_ID")};
    if (evo_output_dir_expand(c->output.dir, &job, out, size) < 0) {
        evo_error("output.dir %s: too long once its patterns are expanded", c->output.dir);
        return -1;
    }
    if (strcmp(out, c->output.dir) != 0)
        evo_info("results go to %s (output.dir %s)", out, c->output.dir);
    return 0;
}
