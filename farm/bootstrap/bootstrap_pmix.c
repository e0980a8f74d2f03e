/* bootstrap_pmix.c — the bootstrap interface over PMIx, as Slurm's
 * mpi/pmix plugin provides it to `srun --mpi=pmix` tasks. Every PMIx status
 * is checked and turned into a message naming the call. */
#include "bootstrap_internal.h"

#include <pmix.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pmix_state {
    pmix_proc_t self;
};

static int failed(char *err, size_t err_size, const char *call, pmix_status_t rc)
{
    snprintf(err, err_size, "%s: %s", call, PMIx_Error_string(rc));
    return -1;
}

static int present(void)
{
    return getenv("PMIX_NAMESPACE") != NULL || getenv("PMIX_SERVER_URI") != NULL || getenv("PMIX_SERVER_URI2") != NULL;
}

static void pmix_close(void *impl)
{
    PMIx_Finalize(NULL, 0);
    free(impl);
}

static void *pmix_open(unsigned *rank, unsigned *size, char *err, size_t err_size)
{
    struct pmix_state *b = calloc(1, sizeof *b);
    pmix_value_t *value = NULL;
    pmix_proc_t job;
    pmix_status_t rc;
    if (b == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if ((rc = PMIx_Init(&b->self, NULL, 0)) != PMIX_SUCCESS) {
        snprintf(err, err_size,
                 "PMIx_Init: %s: this task has no PMIx server; run the step with `srun --mpi=pmix` "
                 "(or set MpiDefault=pmix in slurm.conf)",
                 PMIx_Error_string(rc));
        free(b);
        return NULL;
    }
    PMIX_LOAD_PROCID(&job, b->self.nspace, PMIX_RANK_WILDCARD);
    if ((rc = PMIx_Get(&job, PMIX_JOB_SIZE, NULL, 0, &value)) != PMIX_SUCCESS || value->type != PMIX_UINT32) {
        failed(err, err_size, "PMIx_Get(PMIX_JOB_SIZE)", rc == PMIX_SUCCESS ? PMIX_ERR_TYPE_MISMATCH : rc);
        if (value)
            PMIX_VALUE_RELEASE(value);
        pmix_close(b);
        return NULL;
    }
    *size = value->data.uint32;
    *rank = (unsigned)b->self.rank;
    PMIX_VALUE_RELEASE(value);
    return b;
}

static int pmix_put(void *b, const char *key, const char *value, char *err, size_t err_size)
{
    pmix_value_t v;
    pmix_status_t rc;
    (void)b;
    PMIX_VALUE_LOAD(&v, value, PMIX_STRING);
    rc = PMIx_Put(PMIX_GLOBAL, key, &v);
    PMIX_VALUE_DESTRUCT(&v);
    if (rc != PMIX_SUCCESS)
        return failed(err, err_size, "PMIx_Put", rc);
    if ((rc = PMIx_Commit()) != PMIX_SUCCESS)
        return failed(err, err_size, "PMIx_Commit", rc);
    return 0;
}

static int pmix_fence(void *impl, unsigned timeout_s, char *err, size_t err_size)
{
    struct pmix_state *b = impl;
    pmix_proc_t job;
    pmix_info_t info[2];
    bool collect = true;
    int timeout = (int)timeout_s;
    pmix_status_t rc;
    PMIX_LOAD_PROCID(&job, b->self.nspace, PMIX_RANK_WILDCARD);
    PMIX_INFO_LOAD(&info[0], PMIX_COLLECT_DATA, &collect, PMIX_BOOL);
    PMIX_INFO_LOAD(&info[1], PMIX_TIMEOUT, &timeout, PMIX_INT);
    rc = PMIx_Fence(&job, 1, info, 2);
    PMIX_INFO_DESTRUCT(&info[0]);
    PMIX_INFO_DESTRUCT(&info[1]);
    return rc == PMIX_SUCCESS ? 0 : failed(err, err_size, "PMIx_Fence", rc);
}

static int pmix_get(void *impl, unsigned rank, const char *key, char *out, size_t size, char *err, size_t err_size)
{
    struct pmix_state *b = impl;
    pmix_proc_t proc;
    pmix_value_t *value = NULL;
    pmix_status_t rc;
    PMIX_LOAD_PROCID(&proc, b->self.nspace, rank);
    if ((rc = PMIx_Get(&proc, key, NULL, 0, &value)) != PMIX_SUCCESS)
        return failed(err, err_size, "PMIx_Get", rc);
    int ok = value->type == PMIX_STRING && value->data.string && strlen(value->data.string) < size;
    if (ok)
        strcpy(out, value->data.string);
    PMIX_VALUE_RELEASE(value);
    if (!ok)
        snprintf(err, err_size, "PMIx_Get(%s) of rank %u: not a string of at most %zu bytes", key, rank, size - 1);
    return ok ? 0 : -1;
}

const struct evo_bootstrap_ops evo_bootstrap_pmix = {
    "pmix", present, pmix_open, pmix_put, pmix_fence, pmix_get, pmix_close,
};
