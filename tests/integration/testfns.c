/* testfns.c — library evaluators for the integration tests and benchmarks
 * (include/evofarm/evaluator.h). Each misbehaves in one documented way. */
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "evofarm/evaluator.h"

int sphere(const double *x, size_t dim, double *f, size_t cap);
int rastrigin(const double *x, size_t dim, double *f, size_t cap);
int slow_sphere(const double *x, size_t dim, double *f, size_t cap);
int slow_rastrigin(const double *x, size_t dim, double *f, size_t cap);
int sleep_1ms(const double *x, size_t dim, double *f, size_t cap);
int busy_1ms(const double *x, size_t dim, double *f, size_t cap);
int hang_if_negative(const double *x, size_t dim, double *f, size_t cap);
int crash_if_negative(const double *x, size_t dim, double *f, size_t cap);
int fail_if_negative(const double *x, size_t dim, double *f, size_t cap);
const char *fail_if_negative_error(void);
int two_objectives(const double *x, size_t dim, double *f, size_t cap);
int wrong_count(const double *x, size_t dim, double *f, size_t cap);
int finalized_sphere(const double *x, size_t dim, double *f, size_t cap);
void finalized_sphere_finalize(void);
int nan_first(const double *x, size_t dim, double *f, size_t cap);

int sphere(const double *x, size_t dim, double *f, size_t cap)
{
    double s = 0;
    (void)cap;
    for (size_t i = 0; i < dim; i++)
        s += x[i] * x[i];
    f[0] = s;
    return 1;
}

int rastrigin(const double *x, size_t dim, double *f, size_t cap)
{
    double s = 10.0 * (double)dim;
    (void)cap;
    for (size_t i = 0; i < dim; i++)
        s += x[i] * x[i] - 10.0 * cos(2.0 * M_PI * x[i]);
    f[0] = s;
    return 1;
}

/* sphere after 1.5 ms of sleep: long enough for kill tests to land mid-map */
int slow_sphere(const double *x, size_t dim, double *f, size_t cap)
{
    usleep(1500);
    return sphere(x, dim, f, cap);
}

int slow_rastrigin(const double *x, size_t dim, double *f, size_t cap)
{
    usleep(1000);
    return rastrigin(x, dim, f, cap);
}

int sleep_1ms(const double *x, size_t dim, double *f, size_t cap)
{
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    return sphere(x, dim, f, cap);
}

int busy_1ms(const double *x, size_t dim, double *f, size_t cap)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do
        clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 1000000L);
    return sphere(x, dim, f, cap);
}

int hang_if_negative(const double *x, size_t dim, double *f, size_t cap)
{
    while (x[0] < 0)
        pause();
    return sphere(x, dim, f, cap);
}

int crash_if_negative(const double *x, size_t dim, double *f, size_t cap)
{
    if (x[0] < 0)
        raise(SIGSEGV);
    return sphere(x, dim, f, cap);
}

int fail_if_negative(const double *x, size_t dim, double *f, size_t cap)
{
    if (x[0] < 0)
        return -1;
    return sphere(x, dim, f, cap);
}

const char *fail_if_negative_error(void)
{
    return "x[0] is negative";
}

int two_objectives(const double *x, size_t dim, double *f, size_t cap)
{
    sphere(x, dim, f, cap);
    f[1] = x[0];
    return 2;
}

int wrong_count(const double *x, size_t dim, double *f, size_t cap)
{
    sphere(x, dim, f, cap);
    f[1] = 0;
    return 2; /* the config says 1 */
}

/* sphere whose NAME_finalize leaves a line in $EVO_TEST_FINALIZED, to show
 * that the library child calls it when it ends normally. */
int finalized_sphere(const double *x, size_t dim, double *f, size_t cap)
{
    return sphere(x, dim, f, cap);
}

void finalized_sphere_finalize(void)
{
    const char *path = getenv("EVO_TEST_FINALIZED");
    FILE *out = path ? fopen(path, "a") : NULL;
    if (out) {
        fprintf(out, "finalized %d\n", (int)getpid());
        fclose(out);
    }
}

/* sphere, but NaN for the first evaluation of each evaluator process (with
 * one worker: the run's first candidate) */
int nan_first(const double *x, size_t dim, double *f, size_t cap)
{
    static int calls;
    int rc = sphere(x, dim, f, cap);
    if (calls++ == 0)
        f[0] = NAN;
    return rc;
}
