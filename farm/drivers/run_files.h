/* run_files.h — the results directory's own files (docs/results.md):
 * logbook.csv, and through util/files.h the directory itself and the
 * atomic replacement that result.json, checkpoints and convergence.svg
 * go through. The files by which a running farm is found from outside
 * (farm.access, progress.json, the records) are the registry's
 * (registry/registry.h). */
#ifndef EVO_RUN_FILES_H
#define EVO_RUN_FILES_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/files.h" /* the directory, its files, the atomic replacement */

/* Where this run writes: output.dir with its job patterns expanded from
 * SLURM_JOB_ID, SLURM_ARRAY_JOB_ID and SLURM_ARRAY_TASK_ID
 * (evo_output_dir_expand). 0, or -1 after saying why. */
struct evo_config;
int evo_run_dir(const struct evo_config *c, char *out, size_t size);

/* One logbook row: DEAP's columns, then the CMA-ES step size the
 * generation was sampled with and which restart it belongs to (0: before
 * the first). */
struct evo_log_row {
    unsigned long long gen, nevals;
    double avg, std, min, max;
    double sigma; /* NaN: not known (written nan) */
    unsigned restart;
};

/* Fills a row from the fitness values of one generation; sigma NaN and
 * restart 0, for the caller to set. */
void evo_log_row_of(struct evo_log_row *row, unsigned long long gen, const double *fitness, size_t count);

/* Opens logbook.csv in dir_fd (named dir, for messages) for appending
 * rows; fresh (header only) when keep_rows is 0, else truncated to its
 * header and first keep_rows rows (a resumed run). A resumed logbook of
 * an evo-farm that logged no sigma and restart (header
 * gen,nevals,avg,std,min,max) is first replaced, atomically, by the same
 * rows with those two fields empty, so that every row matches the header.
 * NULL with a message in err. */
FILE *evo_logbook_open(int dir_fd, const char *dir, unsigned long long keep_rows, char *err, size_t err_size);
/* Appends and flushes one row (a killed driver loses none). 0, or -1 with
 * errno (a full disk). */
int evo_logbook_append(FILE *logbook, const struct evo_log_row *row);
/* Flushes the logbook and fsyncs it: called before each checkpoint, so a
 * checkpoint on disk never counts more generations than the logbook on
 * disk. 0, or -1 with errno. */
int evo_logbook_sync(FILE *logbook);

#endif
