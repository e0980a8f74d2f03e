/* evofarm/evaluator.h — the C ABI of a `library` evaluator.
 *
 * evolution.yaml names a shared object and a function:
 *
 *     evaluate: {library: ./librastrigin.so, function: rastrigin}
 *
 * Each worker runs the function in a supervised child process (so a crash or
 * a hang costs one attempt, never the worker), calling it once per candidate.
 *
 * Required, with NAME the configured function:
 *
 *     int NAME(const double *x, size_t dim, double *objectives, size_t capacity);
 *
 *   x          the candidate, dim values (read only, valid during the call)
 *   objectives where to write the objective values; room for `capacity`
 *              (EVO_EVALUATOR_MAX_OBJECTIVES) values
 *   returns    the number of objectives written, which must equal the
 *              config's evaluate.objectives (default 1); 0 or a negative
 *              value means "this evaluation failed" (the attempt is retried
 *              up to farm.retries times, then reported to the driver).
 *
 * Optional, looked up by name:
 *
 *     int NAME_init(void);           once per child before the first call;
 *                                    non-zero means the evaluator cannot run
 *     void NAME_finalize(void);      once when the child ends normally
 *     const char *NAME_error(void);  text for the last failed call or init
 *
 * The function may keep state between calls (it runs in a long-lived
 * process) and must not write to standard output: the child redirects it to
 * standard error, which the farm passes through.
 */
#ifndef EVOFARM_EVALUATOR_H
#define EVOFARM_EVALUATOR_H

#include <stddef.h>

#define EVO_EVALUATOR_MAX_OBJECTIVES 16

typedef int evo_evaluate_fn(const double *x, size_t dim, double *objectives, size_t capacity);
typedef int evo_evaluator_init_fn(void);
typedef void evo_evaluator_finalize_fn(void);
typedef const char *evo_evaluator_error_fn(void);

#endif
