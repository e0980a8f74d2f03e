/* bootstrap_pmi2.c — the bootstrap interface over Slurm's PMI-2
 * (`srun --mpi=pmi2`, built into every Slurm; libpmi2 from libpmi2-0-dev),
 * for the clusters whose Slurm has no PMIx plugin. A PMI-2 value holds at
 * most PMI2_MAX_VALLEN bytes, so a longer one is put in numbered chunks
 * under KEY.0, KEY.1, ... with KEY holding their count. */
#include "bootstrap_internal.h"

#include <slurm/pmi2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (PMI2_MAX_VALLEN - 1)

struct pmi2_state {
    char jobid[PMI2_MAX_VALLEN];
};

static int failed(char *err, size_t err_size, const char *call, int rc)
{
    snprintf(err, err_size, "%s: PMI-2 error %d", call, rc);
    return -1;
}

static int present(void)
{
    return getenv("PMI_FD") != NULL;
}

static void *pmi2_open(unsigned *rank, unsigned *size, char *err, size_t err_size)
{
    struct pmi2_state *s = calloc(1, sizeof *s);
    int spawned = 0, n = 0, r = 0, appnum = 0, rc;
    if (s == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if ((rc = PMI2_Init(&spawned, &n, &r, &appnum)) != PMI2_SUCCESS) {
        failed(err, err_size, "PMI2_Init", rc);
        free(s);
        return NULL;
    }
    if ((rc = PMI2_Job_GetId(s->jobid, sizeof s->jobid)) != PMI2_SUCCESS || n < 1 || r < 0 || r >= n) {
        failed(err, err_size, "PMI2_Job_GetId", rc);
        PMI2_Finalize();
        free(s);
        return NULL;
    }
    *rank = (unsigned)r;
    *size = (unsigned)n;
    return s;
}

static int chunk_key(char *out, const char *key, size_t i, char *err, size_t err_size)
{
    int n = snprintf(out, PMI2_MAX_KEYLEN, "%s.%zu", key, i);
    if (n < 0 || n >= PMI2_MAX_KEYLEN) {
        snprintf(err, err_size, "PMI-2 key %s is too long", key);
        return -1;
    }
    return 0;
}

static int pmi2_put(void *impl, const char *key, const char *value, char *err, size_t err_size)
{
    char name[PMI2_MAX_KEYLEN], piece[CHUNK + 1], count[32];
    size_t length = strlen(value), chunks = length / CHUNK + 1;
    int rc;
    (void)impl;
    for (size_t i = 0; i < chunks; i++) {
        size_t at = i * CHUNK, n = length - at < CHUNK ? length - at : CHUNK;
        memcpy(piece, value + at, n);
        piece[n] = '\0';
        if (chunk_key(name, key, i, err, err_size) < 0)
            return -1;
        if ((rc = PMI2_KVS_Put(name, piece)) != PMI2_SUCCESS)
            return failed(err, err_size, "PMI2_KVS_Put", rc);
    }
    snprintf(count, sizeof count, "%zu", chunks);
    if ((rc = PMI2_KVS_Put(key, count)) != PMI2_SUCCESS)
        return failed(err, err_size, "PMI2_KVS_Put", rc);
    return 0;
}

static int pmi2_fence(void *impl, unsigned timeout_s, char *err, size_t err_size)
{
    (void)impl;
    (void)timeout_s; /* PMI-2 has none: the step's own time limit applies */
    int rc = PMI2_KVS_Fence();
    return rc == PMI2_SUCCESS ? 0 : failed(err, err_size, "PMI2_KVS_Fence", rc);
}

static int pmi2_get(void *impl, unsigned rank, const char *key, char *out, size_t size, char *err, size_t err_size)
{
    struct pmi2_state *s = impl;
    char name[PMI2_MAX_KEYLEN], piece[PMI2_MAX_VALLEN], *end;
    int got = 0, rc;
    if ((rc = PMI2_KVS_Get(s->jobid, (int)rank, key, piece, sizeof piece, &got)) != PMI2_SUCCESS)
        return failed(err, err_size, "PMI2_KVS_Get", rc);
    unsigned long chunks = strtoul(piece, &end, 10);
    if (*end != '\0' || chunks == 0 || chunks > size / CHUNK + 1) {
        snprintf(err, err_size, "PMI2_KVS_Get(%s) of rank %u: not a value evo-farm put", key, rank);
        return -1;
    }
    size_t used = 0;
    for (unsigned long i = 0; i < chunks; i++) {
        if (chunk_key(name, key, i, err, err_size) < 0)
            return -1;
        if ((rc = PMI2_KVS_Get(s->jobid, (int)rank, name, piece, sizeof piece, &got)) != PMI2_SUCCESS)
            return failed(err, err_size, "PMI2_KVS_Get", rc);
        size_t n = strnlen(piece, sizeof piece);
        if (used + n >= size) {
            snprintf(err, err_size, "PMI2_KVS_Get(%s) of rank %u: longer than %zu bytes", key, rank, size - 1);
            return -1;
        }
        memcpy(out + used, piece, n);
        used += n;
    }
    out[used] = '\0';
    return 0;
}

static void pmi2_close(void *impl)
{
    PMI2_Finalize();
    free(impl);
}

const struct evo_bootstrap_ops evo_bootstrap_pmi2 = {
    "pmi2", present, pmi2_open, pmi2_put, pmi2_fence, pmi2_get, pmi2_close,
};
