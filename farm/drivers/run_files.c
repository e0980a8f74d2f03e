/* run_files.c — results-directory files of the built-in optimiser. */
#include "run_files.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
}

static const char header[] = "gen,nevals,avg,std,min,max\n";

FILE *evo_logbook_open(const char *dir, unsigned long long keep_rows, char *err, size_t err_size)
{
    char path[EVO_PATH_MAX];
    snprintf(path, sizeof path, "%s/logbook.csv", dir);
    if (keep_rows == 0) {
        FILE *f = fopen(path, "w");
        if (f == NULL || fputs(header, f) < 0 || fflush(f) != 0) { /* the header on disk at once */
            snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
            if (f)
                fclose(f);
            return NULL;
        }
        return f;
    }
    FILE *f = fopen(path, "r+");
    char line[1024];
    unsigned long long lines = 0;
    long keep = -1;
    while (f && fgets(line, sizeof line, f))
        if (++lines == keep_rows + 1) {
            keep = ftell(f);
            break;
        }
    if (f == NULL || keep < 0 || ftruncate(fileno(f), keep) < 0 || fseek(f, keep, SEEK_SET) < 0) {
        snprintf(err, err_size, "%s: %s", path, f && keep < 0 ? "has fewer rows than the checkpoint" : strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    return f;
}

void evo_logbook_append(FILE *logbook, const struct evo_log_row *r)
{
    fprintf(logbook, "%llu,%llu,%.17g,%.17g,%.17g,%.17g\n", r->gen, r->nevals, r->avg, r->std, r->min, r->max);
    fflush(logbook);
}

int evo_write_file(const char *dir, const char *name, const char *text, int private_file)
{
    char path[EVO_PATH_MAX], tmp[EVO_PATH_MAX + 32]; /* tmp: path + ".tmp.PID" */
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, private_file ? 0600 : 0644);
    if (fd < 0)
        return -1;
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            break;
        }
        done += (size_t)n;
    }
    int failed = done != len || fsync(fd) < 0;
    int saved = errno;
    if (close(fd) < 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (!failed && rename(tmp, path) < 0) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}

/* y in plot coordinates: top 20, bottom 300 */
static double y_of(double v, double lo, double hi, int logscale)
{
    if (logscale)
        v = log10(v), lo = log10(lo), hi = log10(hi);
    return hi > lo ? 300 - 280 * (v - lo) / (hi - lo) : 160;
}

int evo_convergence_svg(const char *dir)
{
    char path[EVO_PATH_MAX];
    snprintf(path, sizeof path, "%s/logbook.csv", dir);
    FILE *in = fopen(path, "r");
    size_t n = 0, cap = 0;
    struct point {
        double best, avg;
    } *p = NULL;
    double lo = INFINITY, hi = -INFINITY;
    char line[1024];
    int logscale = 1;
    if (in == NULL)
        return -1;
    while (fgets(line, sizeof line, in)) {
        struct evo_log_row r;
        if (sscanf(line, "%llu,%llu,%lf,%lf,%lf,%lf", &r.gen, &r.nevals, &r.avg, &r.std, &r.min, &r.max) != 6)
            continue; /* the header */
        if (n == cap) {
            struct point *bigger = realloc(p, (cap = cap ? 2 * cap : 256) * sizeof *p);
            if (bigger == NULL) {
                fclose(in);
                free(p);
                return -1;
            }
            p = bigger;
        }
        p[n].best = r.min;
        p[n].avg = isfinite(r.avg) ? r.avg : r.min;
        lo = fmin(lo, p[n].best);
        hi = fmax(hi, p[n].avg);
        logscale &= p[n].best > 0;
        n++;
    }
    fclose(in);
    char *svg = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&svg, &size);
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"360\" font-family=\"sans-serif\" "
            "font-size=\"12\">\n<rect width=\"640\" height=\"360\" fill=\"white\"/>\n"
            "<text x=\"320\" y=\"14\" text-anchor=\"middle\">Convergence (%s scale)</text>\n"
            "<line x1=\"60\" y1=\"300\" x2=\"620\" y2=\"300\" stroke=\"black\"/>\n"
            "<line x1=\"60\" y1=\"20\" x2=\"60\" y2=\"300\" stroke=\"black\"/>\n"
            "<text x=\"340\" y=\"330\" text-anchor=\"middle\">generation (0 to %zu)</text>\n"
            "<text x=\"4\" y=\"24\">%.3g</text><text x=\"4\" y=\"300\">%.3g</text>\n",
            logscale ? "log" : "linear", n ? n - 1 : 0, hi, lo);
    for (int which = 0; which < 2 && n > 0; which++) {
        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"",
                which ? "#d62728" : "#1f77b4", which ? " stroke-dasharray=\"4 3\"" : "");
        for (size_t i = 0; i < n; i++)
            fprintf(out, "%.1f,%.1f ", 60 + 560.0 * (double)i / (double)(n > 1 ? n - 1 : 1),
                    y_of(which ? p[i].avg : p[i].best, lo, hi, logscale));
        fputs("\"/>\n", out);
    }
    fputs("<text x=\"480\" y=\"40\" fill=\"#1f77b4\">best (min)</text>\n"
          "<text x=\"480\" y=\"56\" fill=\"#d62728\">average</text>\n</svg>\n",
          out);
    fclose(out);
    int rc = svg ? evo_write_file(dir, "convergence.svg", svg, 0) : -1;
    free(svg);
    free(p);
    return rc;
}
