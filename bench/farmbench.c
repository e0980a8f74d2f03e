/* farmbench.c — benchmark driver, run inside a farm by bench/run.sh:
 *   farmbench throughput N DIM   map N random vectors, print evaluations/s
 *   farmbench latency COUNT DIM  COUNT one-vector maps, print median/p99 µs
 *   farmbench efficiency N DIM W map N vectors through a 1 ms evaluator on
 *                                W workers, print the fraction of ideal
 *   farmbench startup T0 DIM     one one-vector map; print the milliseconds
 *                                from T0 (CLOCK_REALTIME ns, taken by the
 *                                caller just before srun) to its result
 *   farmbench serial LIB FN N DIM call FN of LIB N times in this process
 *                                (no farm): the real cost of one "1 ms"
 *                                evaluation, which bounds the efficiency
 * One line of figures on stdout, prefixed with the mode. */
#include <dlfcn.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "evofarm/client.h"
#include "evofarm/evaluator.h"
#include "util/names.h"

static int compare(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double *vectors(size_t n, size_t dim)
{
    double *x = malloc(n * dim * sizeof *x);
    srand(1);
    for (size_t i = 0; x && i < n * dim; i++)
        x[i] = 10.24 * rand() / RAND_MAX - 5.12;
    return x;
}

static int map_timed(struct evo_client *c, size_t n, size_t dim, double *seconds)
{
    double *x = vectors(n, dim);
    struct evo_result *r = malloc(n * sizeof *r);
    if (x == NULL || r == NULL)
        return -1;
    int64_t start = evo_now_ns();
    long failed = evo_client_map(c, x, n, dim, r);
    *seconds = (double)(evo_now_ns() - start) / 1e9;
    free(x);
    free(r);
    if (failed != 0)
        fprintf(stderr, "farmbench: %ld failed: %s\n", failed, failed < 0 ? evo_client_last_error(c) : "");
    return failed == 0 ? 0 : -1;
}

static int latency(struct evo_client *c, size_t count, size_t dim)
{
    double *x = vectors(1, dim);
    int64_t *t = malloc(count * sizeof *t);
    struct evo_result r;
    for (size_t i = 0; i < 100 + count; i++) { /* 100 warm-up round trips */
        int64_t start = evo_now_ns();
        if (evo_client_map(c, x, 1, dim, &r) != 0)
            return 1;
        if (i >= 100)
            t[i - 100] = evo_now_ns() - start;
    }
    qsort(t, count, sizeof *t, compare);
    printf("latency: one-item map round trip median %.1f us, p99 %.1f us (%zu samples)\n", t[count / 2] / 1e3,
           t[count * 99 / 100] / 1e3, count);
    free(t);
    free(x);
    return 0;
}

static int serial(const char *lib, const char *fn, size_t n, size_t dim)
{
    void *handle = dlopen(lib, RTLD_NOW);
    evo_evaluate_fn *f = handle ? (evo_evaluate_fn *)dlsym(handle, fn) : NULL;
    double *x = vectors(1, dim), objectives[EVO_EVALUATOR_MAX_OBJECTIVES];
    if (f == NULL || x == NULL)
        return fprintf(stderr, "farmbench: %s\n", dlerror()), 1;
    int64_t start = evo_now_ns();
    for (size_t i = 0; i < n; i++)
        f(x, dim, objectives, EVO_EVALUATOR_MAX_OBJECTIVES);
    double us = (double)(evo_now_ns() - start) / 1e3 / (double)n;
    printf("serial: one call of %s = %.1f us here, so at most %.1f%% of the 1 ms ideal is reachable\n", fn, us,
           100.0 * 1000.0 / us);
    free(x);
    dlclose(handle);
    return 0;
}

/* The farm is up when a first evaluation has come back through it. */
static int startup(struct evo_client *c, long long t0, size_t dim)
{
    double *x = vectors(1, dim);
    struct evo_result r;
    struct timespec now;
    int rc = x && evo_client_map(c, x, 1, dim, &r) == 0 ? 0 : 1;
    clock_gettime(CLOCK_REALTIME, &now);
    printf("startup: first result %.1f ms after srun started\n",
           ((double)now.tv_sec * 1e9 + (double)now.tv_nsec - (double)t0) / 1e6);
    free(x);
    return rc;
}

int main(int argc, char **argv)
{
    char err[EVO_ERROR_MAX];
    double seconds;
    if (argc == 6 && strcmp(argv[1], "serial") == 0)
        return serial(argv[2], argv[3], strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10));
    if (argc < 4)
        return fprintf(stderr, "usage: see bench/farmbench.c\n"), 2;
    size_t n = strtoul(argv[2], NULL, 10), dim = strtoul(argv[3], NULL, 10);
    struct evo_client *c = evo_client_open(err, sizeof err);
    if (c == NULL)
        return fprintf(stderr, "farmbench: %s\n", err), 1;
    int rc = 0;
    if (strcmp(argv[1], "throughput") == 0) {
        map_timed(c, 1000, dim, &seconds); /* warm-up: lets batch: auto measure */
        rc = map_timed(c, n, dim, &seconds);
        printf("throughput: %zu evaluations in %.3f s = %.0f evaluations/s\n", n, seconds, n / seconds);
    } else if (strcmp(argv[1], "startup") == 0) {
        rc = startup(c, strtoll(argv[2], NULL, 10), dim);
    } else if (strcmp(argv[1], "latency") == 0) {
        rc = latency(c, n, dim);
    } else if (strcmp(argv[1], "efficiency") == 0 && argc == 5) {
        double workers = atof(argv[4]), ideal = (double)n * 1e-3 / workers;
        rc = map_timed(c, n, dim, &seconds);
        printf("efficiency: %zu x 1 ms on %.0f workers in %.3f s (ideal %.3f s) = %.1f%% of ideal\n", n, workers,
               seconds, ideal, 100.0 * ideal / seconds);
    } else {
        rc = 2;
    }
    evo_client_close(c);
    return rc ? 1 : 0;
}
