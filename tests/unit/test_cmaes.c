/* test_cmaes.c — the CMA-ES core against published evaluation counts, its
 * reproducibility, and exact save/restore. Counts are medians over 10
 * seeds (the figures are printed, then compared with a stated factor). */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cmaes/cmaes.h"

#define N 10

static double sphere(const double *x)
{
    double s = 0;
    for (int i = 0; i < N; i++)
        s += x[i] * x[i];
    return s;
}

static double ellipsoid(const double *x) /* BBOB f2 without shift/rotation (CMA-ES is invariant to both) */
{
    double s = 0;
    for (int i = 0; i < N; i++)
        s += pow(1e6, i / (N - 1.0)) * x[i] * x[i];
    return s;
}

static double rosenbrock(const double *x)
{
    double s = 0;
    for (int i = 0; i < N - 1; i++)
        s += 100 * pow(x[i] * x[i] - x[i + 1], 2) + pow(x[i] - 1, 2);
    return s;
}

/* Evaluations until f < 1e-8 (or the budget), from x0 with sigma0. */
static unsigned long long solve(double (*f)(const double *), const double *x0, double sigma0, uint64_t seed,
                                unsigned long long budget, struct evo_cmaes **keep)
{
    char err[128];
    struct evo_rng rng;
    struct evo_cmaes_params p = {N, x0, sigma0, 0, NULL, NULL, 1e-8, 1e-15, 1e-15};
    struct evo_cmaes *es = evo_cmaes_create(&p, err, sizeof err);
    assert_non_null(es);
    evo_rng_seed(&rng, seed);
    double fit[64];
    while (es->evaluations < budget && evo_cmaes_stop_reason(es) == EVO_CMAES_RUNNING) {
        evo_cmaes_ask(es, &rng);
        for (unsigned k = 0; k < es->lambda; k++)
            fit[k] = f(es->X + (size_t)k * N);
        evo_cmaes_tell(es, fit);
    }
    unsigned long long used = es->evaluations;
    assert_int_equal(evo_cmaes_stop_reason(es), EVO_CMAES_TARGET);
    if (keep)
        *keep = es;
    else
        evo_cmaes_destroy(es);
    return used;
}

static int by_value(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
    return (x > y) - (x < y);
}

/* Median over seeds 1..10, printed; must be under published * factor. */
static void median_within(const char *name, double (*f)(const double *), double x0_value, int x0_random, double sigma0,
                          double published, double factor)
{
    unsigned long long used[10];
    for (int s = 0; s < 10; s++) {
        double x0[N];
        struct evo_rng r;
        evo_rng_seed(&r, 1000 + s);
        for (int i = 0; i < N; i++)
            x0[i] = x0_random ? 8 * evo_rng_uniform(&r) - 4 : x0_value;
        used[s] = solve(f, x0, sigma0, (uint64_t)s + 1, 100000, NULL);
    }
    qsort(used, 10, sizeof *used, by_value);
    double median = (used[4] + used[5]) / 2.0;
    printf("%s 10-D to 1e-8: median %.0f evaluations over 10 seeds (published %.0f, allowed x%.1f)\n", name, median,
           published, factor);
    assert_true(median <= published * factor);
}

static void sphere_solved_in_published_evaluations(void **state)
{
    (void)state;
    /* Hansen's tutorial / pycma: about 1.5e3 on the 10-D sphere with lambda = 10 */
    median_within("sphere", sphere, 0, 1, 2.0, 1500, 1.5);
}

static void ellipsoid_solved_in_published_evaluations(void **state)
{
    (void)state;
    /* BBOB-2009 BIPOP-CMA-ES, f2 in 10-D: about 6.1e3 evaluations to 1e-8 */
    median_within("ellipsoid", ellipsoid, 0, 1, 2.0, 6100, 1.5);
}

static void rosenbrock_solved_in_published_evaluations(void **state)
{
    (void)state;
    /* pycma's doctest: Rosenbrock 10-D from x0 = 0.1, sigma0 = 0.3 in < 8,000 */
    median_within("rosenbrock", rosenbrock, 0.1, 0, 0.3, 8000, 1.0);
}

/* The same seed gives the same run; a saved state continues identically. */
static void reproducible_and_restorable(void **state)
{
    (void)state;
    char err[128];
    double x0[N], fit[64];
    for (int i = 0; i < N; i++)
        x0[i] = 3;
    struct evo_cmaes_params p = {N, x0, 2.0, 12, NULL, NULL, -INFINITY, 1e-12, 1e-12};
    struct evo_cmaes *a = evo_cmaes_create(&p, err, sizeof err), *b = evo_cmaes_create(&p, err, sizeof err);
    struct evo_rng ra, rb;
    evo_rng_seed(&ra, 7);
    for (int g = 0; g < 30; g++) {
        evo_cmaes_ask(a, &ra);
        for (unsigned k = 0; k < a->lambda; k++)
            fit[k] = ellipsoid(a->X + (size_t)k * N);
        evo_cmaes_tell(a, fit);
    }
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    assert_int_equal(evo_cmaes_save(a, mem), 0);
    fclose(mem);
    mem = fmemopen(text, size, "r");
    assert_int_equal(evo_cmaes_load(b, mem), 0);
    fclose(mem);
    rb = ra;
    for (int g = 0; g < 40; g++) {
        evo_cmaes_ask(a, &ra);
        evo_cmaes_ask(b, &rb);
        assert_memory_equal(a->X, b->X, sizeof(double) * N * a->lambda);
        for (unsigned k = 0; k < a->lambda; k++)
            fit[k] = ellipsoid(a->X + (size_t)k * N);
        evo_cmaes_tell(a, fit);
        evo_cmaes_tell(b, fit);
    }
    assert_memory_equal(a->C, b->C, sizeof(double) * N * N);
    assert_true(a->sigma == b->sigma);
    /* a truncated snapshot is refused */
    mem = fmemopen(text, size / 2, "r");
    assert_int_equal(evo_cmaes_load(b, mem), -1);
    fclose(mem);
    free(text);
    evo_cmaes_destroy(a);
    evo_cmaes_destroy(b);
}

/* A box keeps every candidate inside it. */
static void bounds_keep_every_candidate_inside(void **state)
{
    (void)state;
    char err[128];
    double x0[N], lo[N], hi[N], fit[64];
    struct evo_rng r;
    for (int i = 0; i < N; i++)
        x0[i] = 0.5, lo[i] = 0, hi[i] = 1;
    struct evo_cmaes_params p = {N, x0, 5.0, 0, lo, hi, -INFINITY, 1e-12, 1e-12};
    struct evo_cmaes *es = evo_cmaes_create(&p, err, sizeof err);
    evo_rng_seed(&r, 3);
    for (int g = 0; g < 50; g++) {
        evo_cmaes_ask(es, &r);
        for (unsigned k = 0; k < es->lambda; k++) {
            for (int i = 0; i < N; i++)
                assert_true(es->X[(size_t)k * N + i] >= 0 && es->X[(size_t)k * N + i] <= 1);
            fit[k] = sphere(es->X + (size_t)k * N);
        }
        evo_cmaes_tell(es, fit);
    }
    evo_cmaes_destroy(es);
    struct evo_cmaes_params bad = {N, x0, -1.0, 0, NULL, NULL, 0, 0, 0};
    assert_null(evo_cmaes_create(&bad, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(sphere_solved_in_published_evaluations),
                                       cmocka_unit_test(ellipsoid_solved_in_published_evaluations),
                                       cmocka_unit_test(rosenbrock_solved_in_published_evaluations),
                                       cmocka_unit_test(reproducible_and_restorable),
                                       cmocka_unit_test(bounds_keep_every_candidate_inside)};
    return EVO_RUN_TESTS(tests);
}
