/* plot_logbook.h — a logbook read for the convergence plot, and the plot
 * written: what the built-in CMA-ES driver does at the end of a run and
 * `evo-farm plot DIR` does for any run with a logbook.csv.
 *
 * The logbook is CSV whose first line names the columns; they may come in
 * any order and columns the plot does not use are ignored. It needs `min`
 * (a generation's best) and `nevals` (x = evaluations so far) or, without
 * it, `gen` (x = the generation); it uses `sigma` and `restart` when they
 * are there (the built-in driver writes gen,nevals,avg,std,min,max,sigma,
 * restart; a DEAP logbook saved as CSV has the first six). A field may be
 * a number, inf or nan; an empty one is unknown. Blank lines are skipped. */
#ifndef EVO_PLOT_LOGBOOK_H
#define EVO_PLOT_LOGBOOK_H

#include <stddef.h>
#include <stdio.h>

#include "plot_svg.h"

/* Reads a whole logbook from in (named path in messages) into plot:
 * points (the caller releases them with evo_plot_clear) and
 * x_is_evaluations; the title is left as it was. 0, or -1 with one line
 * "PATH:LINE: what is wrong" in err (a header without the columns needed,
 * a row with another number of fields than the header, a field that is
 * not a number, a negative count, a read error) and plot unchanged. */
int evo_plot_parse_logbook(FILE *in, const char *path, struct evo_plot *plot, char *err, size_t err_size);

/* Frees plot's points; plot may be all zeros. */
void evo_plot_clear(struct evo_plot *plot);

/* Reads logbook.csv in dir_fd (the directory named dir, for messages;
 * never through a symbolic link, only a regular file) and draws it, titled
 * title (NULL: "Convergence of DIR"). The SVG text, which the caller frees
 * (and writes: evo_write_file makes a reader never see half a plot), or
 * NULL with a one-line message naming the file, and the line, in err. */
char *evo_plot_draw(int dir_fd, const char *dir, const char *title, char *err, size_t err_size);

#endif
