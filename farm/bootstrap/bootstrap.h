/* bootstrap.h — how the tasks of a launcher-started step find each other:
 * a tiny put / fence / get interface (after flux-core's PMI layer) over
 * PMIx or Slurm's PMI-2, whichever the step has, so nothing else in the
 * runtime sees either. Each rank may put small string values; after a
 * fence every rank can get every other rank's values. */
#ifndef EVO_BOOTSTRAP_H
#define EVO_BOOTSTRAP_H

#include <stddef.h>

struct evo_bootstrap;

/* Joins the launcher's wire-up service: PMIx when the task has it, else
 * PMI-2. NULL with a one-line message in err when there is none (a step
 * launched with --mpi=none). */
struct evo_bootstrap *evo_bootstrap_open(char *err, size_t err_size);

/* "pmix" or "pmi2": the service in use. */
const char *evo_bootstrap_name(const struct evo_bootstrap *b);

/* This task's rank (0..size-1) and the number of tasks in the step. */
unsigned evo_bootstrap_rank(const struct evo_bootstrap *b);
unsigned evo_bootstrap_size(const struct evo_bootstrap *b);

/* Publishes key=value for every rank (visible after the next fence). 0, or
 * -1 with a message in err. */
int evo_bootstrap_put(struct evo_bootstrap *b, const char *key, const char *value, char *err, size_t err_size);

/* Waits until every rank reached the fence (at most timeout_s seconds
 * with PMIx; PMI-2 has no timeout and relies on the step's own); exchanges
 * what was put. 0, or -1 with a message in err. */
int evo_bootstrap_fence(struct evo_bootstrap *b, unsigned timeout_s, char *err, size_t err_size);

/* Copies rank's value for key into out. 0, or -1 with a message in err
 * (missing key, value too long). */
int evo_bootstrap_get(struct evo_bootstrap *b, unsigned rank, const char *key, char *out, size_t size, char *err,
                      size_t err_size);

/* Leaves the wire-up service; NULL is fine. */
void evo_bootstrap_close(struct evo_bootstrap *b);

#endif
