/* plot.c — `evo-farm plot DIR`; see plot.h. */
#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/plot_logbook.h"
#include "drivers/run_files.h"
#include "util/names.h"

struct plot_options {
    const char *dir, *output, *title; /* output: NULL for DIR/convergence.svg, "-" for stdout */
};

static int usage(const char *what, const char *arg)
{
    fprintf(stderr, "evo-farm: plot: %s%s%s\nTry 'evo-farm --help'.\n", what, arg ? " " : "", arg ? arg : "");
    return 2;
}

/* 0, or the exit status of a bad command line. */
static int parse(int argc, char **argv, struct plot_options *o)
{
    for (int i = 1; i < argc; i++) {
        int valued = strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0 || strcmp(argv[i], "--title") == 0;
        if (valued && (i + 1 == argc || argv[i + 1][0] == '\0'))
            return usage(argv[i], "needs a value");
        if (valued && strcmp(argv[i], "--title") == 0)
            o->title = argv[++i];
        else if (valued)
            o->output = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return usage("unknown option", argv[i]);
        else if (o->dir == NULL)
            o->dir = argv[i];
        else
            return usage("takes one results DIR; unexpected", argv[i]);
    }
    return o->dir ? 0 : usage("needs the results DIR that holds logbook.csv", NULL);
}

/* FILE written atomically beside itself (evo_write_file in its directory).
 * 0, or -1 after saying why. */
static int write_output(const char *file, const char *svg)
{
    char *copy_dir = strdup(file), *copy_name = strdup(file);
    int fd = copy_dir ? open(dirname(copy_dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    int rc = fd >= 0 && copy_name ? evo_write_file(fd, basename(copy_name), svg, 0) : -1;
    if (rc < 0)
        fprintf(stderr, "evo-farm: plot: cannot write %s: %s\n", file, evo_file_error(errno));
    if (fd >= 0)
        close(fd);
    free(copy_dir);
    free(copy_name);
    return rc;
}

/* DIR for reading, and for writing convergence.svg into it when no other
 * output is named: then checked as the driver checks it (run_files.h).
 * A descriptor, or -1 after saying why. */
static int open_dir(const struct plot_options *o)
{
    char err[EVO_ERROR_MAX];
    struct stat st;
    int found = stat(o->dir, &st) == 0;
    if (!found || !S_ISDIR(st.st_mode)) { /* never created, unlike a run's */
        fprintf(stderr, "evo-farm: plot: %s: %s\n", o->dir,
                found ? "not a directory (name the results directory that holds logbook.csv)" : strerror(errno));
        return -1;
    }
    if (o->output) {
        int fd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            fprintf(stderr, "evo-farm: plot: %s: %s\n", o->dir, strerror(errno));
        return fd;
    }
    int fd = evo_results_dir_open(o->dir, 0755, err, sizeof err);
    if (fd < 0)
        fprintf(stderr, "evo-farm: plot: %s (-o FILE writes the plot elsewhere)\n", err);
    return fd;
}

int evo_plot_main(int argc, char **argv)
{
    char err[EVO_ERROR_MAX];
    struct plot_options o = {0};
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    int dir_fd = open_dir(&o);
    if (dir_fd < 0)
        return 1;
    char *svg = evo_plot_draw(dir_fd, o.dir, o.title, err, sizeof err);
    if (svg == NULL)
        fprintf(stderr, "evo-farm: plot: %s\n", err);
    else if (o.output && strcmp(o.output, "-") == 0)
        rc = fputs(svg, stdout) < 0 || fflush(stdout) != 0 ? 1 : 0;
    else if (o.output)
        rc = write_output(o.output, svg) < 0 ? 1 : 0;
    else if (evo_write_file(dir_fd, "convergence.svg", svg, 0) < 0)
        rc = 1, fprintf(stderr, "evo-farm: plot: cannot write %s/convergence.svg: %s\n", o.dir, evo_file_error(errno));
    close(dir_fd);
    free(svg);
    return svg == NULL ? 1 : rc;
}
