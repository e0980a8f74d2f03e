/* run_files.h — the results directory's own files (docs/results.md):
 * logbook.csv, convergence.svg, and the atomic replacement every rewritten
 * file goes through (written beside, then renamed), which result.json and
 * checkpoints use. The files `evo-farm status` reads (farm.access,
 * progress.json, the job record) are farm_access.h's, each writer beside
 * its reader. */
#ifndef EVO_RUN_FILES_H
#define EVO_RUN_FILES_H

#include <stddef.h>
#include <stdio.h>

/* One logbook row, DEAP's columns. */
struct evo_log_row {
    unsigned long long gen, nevals;
    double avg, std, min, max;
};

/* Fills a row from the fitness values of one generation. */
void evo_log_row_of(struct evo_log_row *row, unsigned long long gen, const double *fitness, size_t count);

/* Opens DIR/logbook.csv for appending rows; fresh (header only) when
 * keep_rows is 0, else truncated to its header and first keep_rows rows
 * (a resumed run). NULL with a message in err. */
FILE *evo_logbook_open(const char *dir, unsigned long long keep_rows, char *err, size_t err_size);
void evo_logbook_append(FILE *logbook, const struct evo_log_row *row);

/* Writes DIR/convergence.svg from DIR/logbook.csv: best (min) and average
 * per generation, log scale when every value is positive. 0 or -1. */
int evo_convergence_svg(const char *dir);

/* Atomically replaces DIR/NAME with text (mode 0644, or 0600 when
 * private). 0, or -1 with errno. */
int evo_write_file(const char *dir, const char *name, const char *text, int private_file);

#endif
