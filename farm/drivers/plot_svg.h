/* plot_svg.h — the convergence plot: SVG text drawn from the rows of a
 * logbook, a pure function (numbers in, text out, no files). What it shows:
 * the best fitness so far and each generation's best against evaluations
 * (or generations) on a log-scale axis with a labelled tick per decade
 * (exactly 0 on its bottom edge, a decade below the rest; a linear axis,
 * said so in its label, when some value is negative), the step size sigma
 * on a second log axis at the right, a
 * dashed vertical line at each restart, a title, a one-line summary and a
 * legend. The document is standalone SVG 1.1 in UTF-8: no scripts, no
 * external resources, every text escaped. plot_logbook.h reads a logbook
 * into the struct below and writes the file. */
#ifndef EVO_PLOT_SVG_H
#define EVO_PLOT_SVG_H

#include <stddef.h>

/* One logbook row as the plot reads it. */
struct evo_plot_point {
    double x;      /* where it is drawn: evaluations so far, with this row's, or its generation */
    double best;   /* the row's best (min) fitness; NaN or infinite: none (not drawn) */
    double sigma;  /* the step size; NaN (not in the logbook), <= 0 or infinite: not drawn */
    double lambda; /* evaluations of the row (nevals), named in a restart's label; NaN: unknown */
    long restart;  /* which restart the row belongs to (0: the first run); -1: unknown */
};

struct evo_plot {
    const char *title;             /* any bytes (invalid UTF-8 is replaced); NULL: "Convergence" */
    int x_is_evaluations;          /* 1: x counts evaluations; 0: x is the generation */
    struct evo_plot_point *points; /* count rows in logbook order; owned by whoever filled it */
    size_t count;
};

/* The plot as a NUL-terminated SVG document that the caller frees. A plot
 * with no finite fitness (no rows, or every evaluation failed) is a valid
 * document that says "no data" and why. A restart is marked where a row's
 * restart is above the row before's (both known). NULL with errno ENOMEM. */
char *evo_plot_svg(const struct evo_plot *plot);

#endif
