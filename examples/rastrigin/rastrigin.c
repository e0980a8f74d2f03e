/* rastrigin.c — the tutorial's fitness function as a `library` evaluator
 * (include/evofarm/evaluator.h): f(x) = 10 n + sum(x_i^2 - 10 cos(2 pi x_i)). */
#include <math.h>
#include <stddef.h>

#include "evofarm/evaluator.h"

int rastrigin(const double *x, size_t dim, double *objectives, size_t capacity);

int rastrigin(const double *x, size_t dim, double *objectives, size_t capacity)
{
    double sum = 10.0 * (double)dim;
    (void)capacity;
    for (size_t i = 0; i < dim; i++)
        sum += x[i] * x[i] - 10.0 * cos(2.0 * M_PI * x[i]);
    objectives[0] = sum;
    return 1;
}
