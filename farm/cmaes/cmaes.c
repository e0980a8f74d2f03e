/* cmaes.c — CMA-ES after Hansen's tutorial (arXiv:1604.00772): default
 * strategy parameters (Table 1 there, positive weights), sampling,
 * recombination, CSA, rank-one + rank-mu update, lazy eigendecomposition
 * with LAPACKE_dsyev, and the tutorial's stopping criteria. */
#include "cmaes.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HIST_CAP 20000

static double *alloc(size_t n)
{
    return calloc(n ? n : 1, sizeof(double));
}

static void set_parameters(struct evo_cmaes *es)
{
    double n = es->n, sum = 0, sum2 = 0;
    for (unsigned i = 0; i < es->mu; i++) {
        es->weights[i] = log((es->lambda + 1) / 2.0) - log(i + 1.0);
        sum += es->weights[i];
    }
    for (unsigned i = 0; i < es->mu; i++) {
        es->weights[i] /= sum;
        sum2 += es->weights[i] * es->weights[i];
    }
    es->mueff = 1.0 / sum2;
    es->cc = (4 + es->mueff / n) / (n + 4 + 2 * es->mueff / n);
    es->cs = (es->mueff + 2) / (n + es->mueff + 5);
    es->c1 = 2 / ((n + 1.3) * (n + 1.3) + es->mueff);
    es->cmu = fmin(1 - es->c1, 2 * (es->mueff - 2 + 1 / es->mueff) / ((n + 2) * (n + 2) + es->mueff));
    es->damps = 1 + 2 * fmax(0, sqrt((es->mueff - 1) / (n + 1)) - 1) + es->cs;
    es->chin = sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
}

struct evo_cmaes *evo_cmaes_create(const struct evo_cmaes_params *p, char *err, size_t err_size)
{
    if (p->n < 1 || !(p->sigma > 0) || (p->lambda != 0 && p->lambda < 2)) {
        snprintf(err, err_size, "CMA-ES needs dimension >= 1, sigma > 0 and lambda >= 2");
        return NULL;
    }
    struct evo_cmaes *es = calloc(1, sizeof *es);
    if (es == NULL)
        goto oom;
    unsigned n = p->n;
    es->n = n;
    es->lambda = p->lambda ? p->lambda : 4 + (unsigned)floor(3 * log((double)n));
    es->mu = es->lambda / 2;
    es->sigma = es->sigma0 = p->sigma;
    es->target = p->target;
    es->tolfun = p->tolfun;
    es->tolx = p->tolx * p->sigma;
    es->hist_cap = HIST_CAP;
    es->weights = alloc(es->mu);
    es->mean = alloc(n), es->pc = alloc(n), es->ps = alloc(n), es->D = alloc(n);
    es->C = alloc((size_t)n * n), es->B = alloc((size_t)n * n);
    es->X = alloc((size_t)es->lambda * n), es->Y = alloc((size_t)es->lambda * n);
    es->fitness = alloc(es->lambda);
    es->order = calloc(es->lambda, sizeof *es->order);
    es->best_hist = alloc(HIST_CAP), es->median_hist = alloc(HIST_CAP);
    if (!es->weights || !es->mean || !es->pc || !es->ps || !es->D || !es->C || !es->B || !es->X || !es->Y ||
        !es->fitness || !es->order || !es->best_hist || !es->median_hist)
        goto oom;
    if (p->lower) {
        es->lower = alloc(n), es->upper = alloc(n);
        if (!es->lower || !es->upper)
            goto oom;
        memcpy(es->lower, p->lower, n * sizeof(double));
        memcpy(es->upper, p->upper, n * sizeof(double));
    }
    memcpy(es->mean, p->centroid, n * sizeof(double));
    for (unsigned i = 0; i < n; i++) {
        es->C[(size_t)i * n + i] = es->B[(size_t)i * n + i] = es->D[i] = 1.0;
    }
    set_parameters(es);
    return es;
oom:
    snprintf(err, err_size, "out of memory for CMA-ES of dimension %u", p->n);
    evo_cmaes_destroy(es);
    return NULL;
}

void evo_cmaes_destroy(struct evo_cmaes *es)
{
    if (es == NULL)
        return;
    double *arrays[] = {es->weights, es->lower, es->upper, es->mean, es->pc,      es->ps,        es->C,
                        es->B,       es->D,     es->X,     es->Y,    es->fitness, es->best_hist, es->median_hist};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        free(arrays[i]);
    free(es->order);
    free(es);
}

/* y = B * (D .* z), x = mean + sigma * y; 1 if x is inside the box. */
static int sample_one(struct evo_cmaes *es, struct evo_rng *rng, double *x, double *y, double *z)
{
    unsigned n = es->n;
    int inside = 1;
    for (unsigned i = 0; i < n; i++)
        z[i] = es->D[i] * evo_rng_normal(rng);
    for (unsigned i = 0; i < n; i++) {
        double s = 0;
        for (unsigned j = 0; j < n; j++)
            s += es->B[(size_t)i * n + j] * z[j];
        y[i] = s;
        x[i] = es->mean[i] + es->sigma * s;
        if (es->lower && (x[i] < es->lower[i] || x[i] > es->upper[i]))
            inside = 0;
    }
    return inside;
}

void evo_cmaes_ask(struct evo_cmaes *es, struct evo_rng *rng)
{
    unsigned n = es->n;
    double z[n];
    for (unsigned k = 0; k < es->lambda; k++) {
        double *x = es->X + (size_t)k * n, *y = es->Y + (size_t)k * n;
        int tries = 0;
        while (!sample_one(es, rng, x, y, z) && ++tries < 100)
            ;
        if (tries == 100) /* clip, and keep y consistent with the clipped x */
            for (unsigned i = 0; i < n; i++) {
                x[i] = fmin(fmax(x[i], es->lower[i]), es->upper[i]);
                y[i] = (x[i] - es->mean[i]) / es->sigma;
            }
    }
}

static int by_fitness(const void *a, const void *b, void *arg)
{
    const double *f = arg;
    unsigned i = *(const unsigned *)a, j = *(const unsigned *)b;
    if (f[i] != f[j])
        return f[i] < f[j] ? -1 : 1;
    return (i > j) - (i < j); /* ties by index: a total, reproducible order */
}

static void update_eigen(struct evo_cmaes *es)
{
    unsigned n = es->n;
    for (unsigned i = 0; i < n; i++) /* symmetric from the upper triangle */
        for (unsigned j = 0; j <= i; j++)
            es->B[(size_t)i * n + j] = es->B[(size_t)j * n + i] = es->C[(size_t)j * n + i];
    if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)n, es->B, (lapack_int)n, es->D) != 0) {
        for (unsigned i = 0; i < n; i++) /* cannot happen for a finite C; keep going isotropically */
            for (unsigned j = 0; j < n; j++)
                es->B[(size_t)i * n + j] = i == j;
        for (unsigned i = 0; i < n; i++)
            es->D[i] = 1;
        return;
    }
    for (unsigned i = 0; i < n; i++)
        es->D[i] = sqrt(fmax(es->D[i], 1e-300));
    es->eigen_at = es->evaluations;
}

static void remember(struct evo_cmaes *es)
{
    unsigned l = es->lambda;
    double best = es->fitness[es->order[0]];
    double median =
        l % 2 ? es->fitness[es->order[l / 2]] : (es->fitness[es->order[l / 2 - 1]] + es->fitness[es->order[l / 2]]) / 2;
    size_t slot = (size_t)(es->generation % es->hist_cap);
    es->best_hist[slot] = best;
    es->median_hist[slot] = median;
    if (es->hist_len < es->hist_cap)
        es->hist_len++;
}

void evo_cmaes_tell(struct evo_cmaes *es, const double *fitness)
{
    unsigned n = es->n, lambda = es->lambda;
    double ymean[n], cinv_y[n], t[n];
    for (unsigned k = 0; k < lambda; k++) {
        es->fitness[k] = isnan(fitness[k]) ? INFINITY : fitness[k];
        es->order[k] = k;
    }
    qsort_r(es->order, lambda, sizeof *es->order, by_fitness, es->fitness);
    es->evaluations += lambda;
    /* recombination: ymean = sum w_i y_i:lambda, mean += sigma * ymean */
    for (unsigned i = 0; i < n; i++) {
        double s = 0;
        for (unsigned r = 0; r < es->mu; r++)
            s += es->weights[r] * es->Y[(size_t)es->order[r] * n + i];
        ymean[i] = s;
        es->mean[i] += es->sigma * s;
    }
    /* C^(-1/2) ymean = B D^-1 B^T ymean */
    for (unsigned j = 0; j < n; j++) {
        double s = 0;
        for (unsigned i = 0; i < n; i++)
            s += es->B[(size_t)i * n + j] * ymean[i];
        t[j] = s / es->D[j];
    }
    for (unsigned i = 0; i < n; i++) {
        double s = 0;
        for (unsigned j = 0; j < n; j++)
            s += es->B[(size_t)i * n + j] * t[j];
        cinv_y[i] = s;
    }
    double norm_ps = 0, csn = sqrt(es->cs * (2 - es->cs) * es->mueff);
    for (unsigned i = 0; i < n; i++) {
        es->ps[i] = (1 - es->cs) * es->ps[i] + csn * cinv_y[i];
        norm_ps += es->ps[i] * es->ps[i];
    }
    norm_ps = sqrt(norm_ps);
    double gen = (double)es->generation + 1;
    int hsig = norm_ps / sqrt(1 - pow(1 - es->cs, 2 * gen)) / es->chin < 1.4 + 2 / ((double)n + 1);
    double ccn = sqrt(es->cc * (2 - es->cc) * es->mueff);
    for (unsigned i = 0; i < n; i++)
        es->pc[i] = (1 - es->cc) * es->pc[i] + (hsig ? ccn * ymean[i] : 0);
    double c1a = es->c1 * (1 - (1 - hsig) * es->cc * (2 - es->cc)); /* tutorial (47) */
    double keep = 1 - c1a - es->cmu;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i; j < n; j++) { /* upper triangle only */
            double rank_mu = 0;
            for (unsigned r = 0; r < es->mu; r++) {
                const double *y = es->Y + (size_t)es->order[r] * n;
                rank_mu += es->weights[r] * y[i] * y[j];
            }
            double *c = &es->C[(size_t)i * n + j];
            *c = keep * *c + es->c1 * es->pc[i] * es->pc[j] + es->cmu * rank_mu;
        }
    es->sigma *= exp(fmin(1.0, (es->cs / es->damps) * (norm_ps / es->chin - 1)));
    if ((double)(es->evaluations - es->eigen_at) > lambda / (es->c1 + es->cmu) / n / 10)
        update_eigen(es);
    remember(es);
    es->generation++;
}

static double hist(const struct evo_cmaes *es, const double *h, size_t back) /* back = 0: latest */
{
    return h[(size_t)((es->generation - 1 - back) % es->hist_cap)];
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of h over generations back..back+count-1 before the latest. */
static double hist_median(const struct evo_cmaes *es, const double *h, size_t back, size_t count)
{
    double *v = malloc(count * sizeof *v), m;
    if (v == NULL)
        return NAN;
    for (size_t i = 0; i < count; i++)
        v[i] = hist(es, h, back + i);
    qsort(v, count, sizeof *v, compare_double);
    m = count % 2 ? v[count / 2] : (v[count / 2 - 1] + v[count / 2]) / 2;
    free(v);
    return m;
}

static int stagnated(const struct evo_cmaes *es)
{
    size_t least = 120 + (size_t)(30.0 * es->n / es->lambda);
    size_t window = (size_t)(0.2 * (double)es->generation);
    if (window < least)
        window = least;
    if (es->hist_len < window)
        return 0;
    size_t part = (size_t)(0.3 * (double)window);
    for (int which = 0; which < 2; which++) {
        const double *h = which ? es->median_hist : es->best_hist;
        if (!(hist_median(es, h, 0, part) >= hist_median(es, h, window - part, part)))
            return 0;
    }
    return 1;
}

enum evo_cmaes_stop evo_cmaes_stop_reason(const struct evo_cmaes *es)
{
    unsigned n = es->n;
    if (es->generation == 0)
        return EVO_CMAES_RUNNING;
    if (es->fitness[es->order[0]] <= es->target)
        return EVO_CMAES_TARGET;
    size_t k = 10 + (size_t)ceil(30.0 * n / es->lambda);
    if (es->hist_len >= k) {
        double lo = es->fitness[es->order[0]], hi = es->fitness[es->order[es->lambda - 1]];
        for (size_t i = 0; i < k; i++) {
            lo = fmin(lo, hist(es, es->best_hist, i));
            hi = fmax(hi, hist(es, es->best_hist, i));
        }
        if (hi - lo < es->tolfun)
            return EVO_CMAES_TOLFUN;
    }
    int small = 1;
    for (unsigned i = 0; i < n && small; i++)
        small = es->sigma * sqrt(es->C[(size_t)i * n + i]) < es->tolx && es->sigma * fabs(es->pc[i]) < es->tolx;
    if (small)
        return EVO_CMAES_TOLX;
    double dmax = es->D[0], dmin = es->D[0];
    for (unsigned i = 1; i < n; i++)
        dmax = fmax(dmax, es->D[i]), dmin = fmin(dmin, es->D[i]);
    if (dmax > 1e7 * dmin)
        return EVO_CMAES_CONDITIONCOV;
    return stagnated(es) ? EVO_CMAES_STAGNATION : EVO_CMAES_RUNNING;
}

const char *evo_cmaes_stop_name(enum evo_cmaes_stop reason)
{
    static const char *names[] = {"running", "target", "tolfun", "tolx", "stagnation", "conditioncov"};
    return reason <= EVO_CMAES_CONDITIONCOV ? names[reason] : "unknown";
}
