/* plot.h — `evo-farm plot DIR [-o FILE] [--title TEXT]`: redraws the
 * convergence plot of any run that has a DIR/logbook.csv (the built-in
 * CMA-ES driver's, or any CSV logbook with min and nevals or gen columns;
 * farm/drivers/plot_logbook.h) into DIR/convergence.svg, or FILE ("-":
 * standard output), replacing it atomically. */
#ifndef EVO_PLOT_H
#define EVO_PLOT_H

/* argv[0] is "plot". Exit status 0, 1 (no such directory, a logbook that
 * cannot be read or parsed, a plot that cannot be written: one line on
 * stderr naming the file, and the line), 2 (bad arguments). */
int evo_plot_main(int argc, char **argv);

#endif
