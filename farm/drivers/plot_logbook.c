/* plot_logbook.c — a logbook's CSV read into plot points, and the plot
 * drawn from a results directory; see plot_logbook.h. */
#include "plot_logbook.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_files.h"
#include "util/names.h"

enum column { COLUMN_GEN, COLUMN_NEVALS, COLUMN_MIN, COLUMN_SIGMA, COLUMN_RESTART, COLUMNS };
static const char *const column_names[COLUMNS] = {"gen", "nevals", "min", "sigma", "restart"};

#define MAX_FIELDS 256

/* Where the columns the plot uses are: index[c] is a field number or -1. */
struct layout {
    size_t fields;
    long index[COLUMNS];
};

/* What a line is read against, and where the points go. */
struct reader {
    const char *path;
    size_t line;
    struct layout layout;
    double evaluations; /* the sum of nevals so far */
    struct evo_plot_point *points;
    size_t count, cap;
    char *err;
    size_t err_size;
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') { /* a quoted name, as some CSV writers put it */
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/* Splits line at commas in place into at most MAX_FIELDS trimmed fields;
 * MAX_FIELDS + 1 when there are more. */
static size_t split(char *line, char **fields)
{
    size_t n = 0;
    for (char *p = line;; p++) {
        char *comma = strchr(p, ',');
        if (n == MAX_FIELDS)
            return MAX_FIELDS + 1;
        if (comma)
            *comma = '\0';
        fields[n++] = trim(p);
        if (comma == NULL)
            return n;
        p = comma;
    }
}

/* text as it may be quoted in a message: at most 40 bytes, anything but
 * printable ASCII as '?'. */
static const char *quoted(char *buf, size_t size, const char *text)
{
    size_t i = 0;
    for (; text[i] && i + 1 < size && i < 40; i++)
        buf[i] = text[i] >= 0x20 && text[i] < 0x7F ? text[i] : '?';
    buf[i] = '\0';
    return buf;
}

static int bad(struct reader *r, const char *what, const char *text)
{
    char shown[48];
    snprintf(r->err, r->err_size, "%s:%zu: %s%s%s%s", r->path, r->line, what, text ? " '" : "",
             text ? quoted(shown, sizeof shown, text) : "", text ? "'" : "");
    return -1;
}

static int parse_header(struct reader *r, char *line)
{
    char *fields[MAX_FIELDS];
    struct layout *l = &r->layout;
    l->fields = split(line, fields);
    if (l->fields > MAX_FIELDS)
        return bad(r, "more than 256 columns in the header", NULL);
    for (int c = 0; c < COLUMNS; c++)
        l->index[c] = -1;
    for (size_t i = 0; i < l->fields; i++)
        for (int c = 0; c < COLUMNS; c++)
            if (l->index[c] < 0 && strcasecmp(fields[i], column_names[c]) == 0)
                l->index[c] = (long)i;
    if (l->index[COLUMN_MIN] < 0 || (l->index[COLUMN_NEVALS] < 0 && l->index[COLUMN_GEN] < 0)) {
        snprintf(r->err, r->err_size,
                 "%s:1: the header names no %s column (the plot needs min, and nevals or gen, e.g. "
                 "gen,nevals,avg,std,min,max)",
                 r->path, l->index[COLUMN_MIN] < 0 ? "min" : "nevals or gen");
        return -1;
    }
    return 0;
}

/* A field as a number: inf and nan are numbers, an empty field is NaN.
 * 0, or -1 when it is something else. */
static int number(const char *field, double *v)
{
    char *end;
    if (*field == '\0') {
        *v = NAN;
        return 0;
    }
    *v = strtod(field, &end); /* out of range: +-inf or a denormal, numbers all the same */
    return end != field && *end == '\0' ? 0 : -1;
}

/* The x of a row: evaluations so far (nevals summed) or its generation. */
static int row_x(struct reader *r, char **fields, struct evo_plot_point *pt)
{
    long at = r->layout.index[COLUMN_NEVALS];
    int by_nevals = at >= 0;
    const char *name = by_nevals ? "nevals" : "gen";
    double v;
    if (!by_nevals)
        at = r->layout.index[COLUMN_GEN];
    if (number(fields[at], &v) < 0 || !isfinite(v) || v < 0) {
        char what[64];
        snprintf(what, sizeof what, "%s is not a count:", name);
        return bad(r, what, fields[at]);
    }
    pt->lambda = by_nevals ? v : NAN;
    pt->x = by_nevals ? (r->evaluations += v) : v;
    return 0;
}

static int parse_row(struct reader *r, char *line, struct evo_plot_point *pt)
{
    char *fields[MAX_FIELDS];
    size_t n = split(line, fields);
    const long *at = r->layout.index;
    if (n != r->layout.fields) {
        snprintf(r->err, r->err_size, "%s:%zu: %s%zu fields, but the header names %zu", r->path, r->line,
                 n > MAX_FIELDS ? "more than " : "", n > MAX_FIELDS ? (size_t)MAX_FIELDS : n, r->layout.fields);
        return -1;
    }
    double restart = NAN;
    if (number(fields[at[COLUMN_MIN]], &pt->best) < 0)
        return bad(r, "min is not a number:", fields[at[COLUMN_MIN]]);
    pt->sigma = NAN;
    if (at[COLUMN_SIGMA] >= 0 && number(fields[at[COLUMN_SIGMA]], &pt->sigma) < 0)
        return bad(r, "sigma is not a number:", fields[at[COLUMN_SIGMA]]);
    if (at[COLUMN_RESTART] >= 0 &&
        (number(fields[at[COLUMN_RESTART]], &restart) < 0 ||
         (!isnan(restart) && !(restart >= 0 && restart < 1e15 && restart == floor(restart)))))
        return bad(r, "restart is not a count:", fields[at[COLUMN_RESTART]]);
    pt->restart = isnan(restart) ? -1 : (long)restart;
    return row_x(r, fields, pt);
}

/* One line (its newline removed): the header, a row, or blank. */
static int parse_line(struct reader *r, char *line, size_t length)
{
    if (strlen(line) != length)
        return bad(r, "a NUL byte in the line", NULL);
    if (r->line == 1)
        return parse_header(r, line);
    if (line[strspn(line, " \t")] == '\0')
        return 0;
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        struct evo_plot_point *bigger = realloc(r->points, cap * sizeof *bigger);
        if (bigger == NULL)
            return bad(r, "out of memory", NULL);
        r->points = bigger, r->cap = cap;
    }
    if (parse_row(r, line, &r->points[r->count]) < 0)
        return -1;
    r->count++;
    return 0;
}

int evo_plot_parse_logbook(FILE *in, const char *path, struct evo_plot *plot, char *err, size_t err_size)
{
    struct reader r = {.path = path, .err = err, .err_size = err_size};
    char *line = NULL;
    size_t size = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &size, in)) >= 0) {
        r.line++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        rc = parse_line(&r, line, (size_t)n);
    }
    free(line);
    if (rc == 0 && ferror(in))
        rc = -1, snprintf(err, err_size, "%s: %s", path, strerror(errno));
    else if (rc == 0 && r.line == 0)
        rc = -1, snprintf(err, err_size, "%s: empty (no header line)", path);
    if (rc < 0) {
        free(r.points);
        return -1;
    }
    plot->points = r.points;
    plot->count = r.count;
    plot->x_is_evaluations = r.layout.index[COLUMN_NEVALS] >= 0;
    return 0;
}

void evo_plot_clear(struct evo_plot *plot)
{
    free(plot->points);
    plot->points = NULL;
    plot->count = 0;
}

/* logbook.csv in dir_fd for reading: a regular file, not through a link. */
static FILE *open_logbook(int dir_fd, const char *path, char *err, size_t err_size)
{
    struct stat st;
    int fd = openat(dir_fd, "logbook.csv", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_size, "%s: %s", path, evo_file_error(errno));
        return NULL;
    }
    int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    FILE *in = regular ? fdopen(fd, "r") : NULL;
    if (in == NULL) {
        snprintf(err, err_size, "%s: %s", path, regular ? strerror(errno) : "not a regular file");
        close(fd);
    }
    return in;
}

char *evo_plot_draw(int dir_fd, const char *dir, const char *title, char *err, size_t err_size)
{
    char path[EVO_PATH_MAX], default_title[EVO_PATH_MAX + 32];
    struct evo_plot plot = {0};
    snprintf(path, sizeof path, "%s/logbook.csv", dir);
    FILE *in = open_logbook(dir_fd, path, err, err_size);
    if (in == NULL)
        return NULL;
    int rc = evo_plot_parse_logbook(in, path, &plot, err, err_size);
    fclose(in);
    if (rc < 0)
        return NULL;
    snprintf(default_title, sizeof default_title, "Convergence of %s", dir);
    plot.title = title ? title : default_title;
    char *svg = evo_plot_svg(&plot);
    evo_plot_clear(&plot);
    if (svg == NULL)
        snprintf(err, err_size, "cannot draw the plot of %s: out of memory", path);
    return svg;
}
