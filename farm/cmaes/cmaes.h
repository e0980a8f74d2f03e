/* cmaes.h — CMA-ES, the (mu/mu_w, lambda) evolution strategy with
 * cumulative step-size adaptation and rank-one + rank-mu covariance update,
 * as in N. Hansen, "The CMA Evolution Strategy: A Tutorial"
 * (arXiv:1604.00772), with its default parameters. The eigendecomposition
 * is LAPACK's dsyev (through LAPACKE). Pure computation: no I/O, no farm;
 * the driver asks for candidates, evaluates them and tells the fitness. */
#ifndef EVO_CMAES_H
#define EVO_CMAES_H

#include <stddef.h>
#include <stdio.h>

#include "rng.h"

enum evo_cmaes_stop {
    EVO_CMAES_RUNNING = 0,
    EVO_CMAES_TARGET,       /* best fitness <= target */
    EVO_CMAES_TOLFUN,       /* fitness range below tolfun for a while */
    EVO_CMAES_TOLX,         /* all steps below tolx */
    EVO_CMAES_STAGNATION,   /* median fitness stopped improving */
    EVO_CMAES_CONDITIONCOV, /* covariance condition number above 1e14 */
};

struct evo_cmaes_params {
    unsigned n;             /* dimension */
    const double *centroid; /* n values */
    double sigma;           /* > 0 */
    unsigned lambda;        /* >= 2; 0 = 4 + floor(3 ln n) */
    const double *lower;    /* n values or NULL: no box */
    const double *upper;
    double target;       /* -INFINITY: none */
    double tolfun, tolx; /* tolx is relative to the initial sigma */
};

struct evo_cmaes {
    unsigned n, lambda, mu;
    double mueff, cc, cs, c1, cmu, damps, chin, sigma0;
    double *weights;       /* mu */
    double *lower, *upper; /* n each, NULL without a box */
    double target, tolfun, tolx;
    /* state */
    double sigma;
    double *mean, *pc, *ps; /* n */
    double *C, *B;          /* n*n, row-major; B's columns are eigenvectors */
    double *D;              /* n: square roots of the eigenvalues */
    double *X, *Y;          /* lambda*n: candidates, and their (x - mean)/sigma */
    double *fitness;        /* lambda */
    unsigned *order;        /* lambda: indices sorted by fitness */
    unsigned long long generation, evaluations, eigen_at;
    double *best_hist, *median_hist; /* per generation, ring of hist_cap */
    size_t hist_cap, hist_len;
};

/* Allocates and starts a strategy. NULL with a message in err (bad
 * parameters, out of memory). */
struct evo_cmaes *evo_cmaes_create(const struct evo_cmaes_params *params, char *err, size_t err_size);
void evo_cmaes_destroy(struct evo_cmaes *es);

/* Samples the generation's lambda candidates into es->X (row k is
 * candidate k); inside the box when there is one (resampled up to 100
 * times, then clipped). */
void evo_cmaes_ask(struct evo_cmaes *es, struct evo_rng *rng);

/* Takes the fitness of the candidates of the last ask (lower is better;
 * NaN counts as +inf) and updates the distribution. */
void evo_cmaes_tell(struct evo_cmaes *es, const double *fitness);

/* Why the strategy should stop now, or EVO_CMAES_RUNNING. */
enum evo_cmaes_stop evo_cmaes_stop_reason(const struct evo_cmaes *es);
const char *evo_cmaes_stop_name(enum evo_cmaes_stop reason);

/* Exact text snapshot of the whole state (hex floats) / its inverse on a
 * strategy created with the same parameters. 0, or -1 (load: malformed or
 * a different shape). */
int evo_cmaes_save(const struct evo_cmaes *es, FILE *out);
int evo_cmaes_load(struct evo_cmaes *es, FILE *in);

#endif
