/* bootstrap_internal.h — what each wire-up service provides behind
 * bootstrap.h: PMIx (bootstrap_pmix.c) or Slurm's PMI-2 (bootstrap_pmi2.c).
 * bootstrap.c picks the one the launcher started for this task. */
#ifndef EVO_BOOTSTRAP_INTERNAL_H
#define EVO_BOOTSTRAP_INTERNAL_H

#include <stddef.h>

struct evo_bootstrap_ops {
    const char *name; /* "pmix", "pmi2": what --mpi= names */
    /* 1 when this task was started with the service (its variables are set). */
    int (*present)(void);
    /* The service's own state, rank and size; NULL with a message in err. */
    void *(*open)(unsigned *rank, unsigned *size, char *err, size_t err_size);
    int (*put)(void *impl, const char *key, const char *value, char *err, size_t err_size);
    int (*fence)(void *impl, unsigned timeout_s, char *err, size_t err_size);
    int (*get)(void *impl, unsigned rank, const char *key, char *out, size_t size, char *err, size_t err_size);
    void (*close)(void *impl);
};

extern const struct evo_bootstrap_ops evo_bootstrap_pmix;
extern const struct evo_bootstrap_ops evo_bootstrap_pmi2;

#endif
