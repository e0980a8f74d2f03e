/* bootstrap.c — picks the wire-up service a task was started with (PMIx
 * first, then Slurm's PMI-2, as flux-core's upmi tries its methods in turn)
 * and forwards put / fence / get to it (see bootstrap.h). */
#include "bootstrap.h"

#include <stdio.h>
#include <stdlib.h>

#include "bootstrap_internal.h"

struct evo_bootstrap {
    const struct evo_bootstrap_ops *ops;
    void *impl;
    unsigned rank, size;
};

static const struct evo_bootstrap_ops *const services[] = {&evo_bootstrap_pmix, &evo_bootstrap_pmi2};

struct evo_bootstrap *evo_bootstrap_open(char *err, size_t err_size)
{
    const struct evo_bootstrap_ops *ops = NULL;
    for (size_t i = 0; i < sizeof services / sizeof services[0] && ops == NULL; i++)
        if (services[i]->present())
            ops = services[i];
    if (ops == NULL) {
        snprintf(err, err_size,
                 "this task has no wire-up service (neither PMIx nor PMI-2): run it under "
                 "`srun --evo-farm=FILE`, or give srun --mpi=pmix or --mpi=pmi2");
        return NULL;
    }
    struct evo_bootstrap *b = calloc(1, sizeof *b);
    if (b == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    b->ops = ops;
    if ((b->impl = ops->open(&b->rank, &b->size, err, err_size)) == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

const char *evo_bootstrap_name(const struct evo_bootstrap *b)
{
    return b->ops->name;
}

unsigned evo_bootstrap_rank(const struct evo_bootstrap *b)
{
    return b->rank;
}

unsigned evo_bootstrap_size(const struct evo_bootstrap *b)
{
    return b->size;
}

int evo_bootstrap_put(struct evo_bootstrap *b, const char *key, const char *value, char *err, size_t err_size)
{
    return b->ops->put(b->impl, key, value, err, err_size);
}

int evo_bootstrap_fence(struct evo_bootstrap *b, unsigned timeout_s, char *err, size_t err_size)
{
    return b->ops->fence(b->impl, timeout_s, err, err_size);
}

int evo_bootstrap_get(struct evo_bootstrap *b, unsigned rank, const char *key, char *out, size_t size, char *err,
                      size_t err_size)
{
    return b->ops->get(b->impl, rank, key, out, size, err, err_size);
}

void evo_bootstrap_close(struct evo_bootstrap *b)
{
    if (b == NULL)
        return;
    b->ops->close(b->impl);
    free(b);
}
