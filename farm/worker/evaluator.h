/* evaluator.h — a worker's supervised evaluator child. The child is
 * started on first use and restarted after it crashes, hangs past the
 * timeout, or answers with something that is not a result. Each of those
 * costs the candidate being evaluated one failed attempt; the other
 * candidates of the batch are evaluated again on the fresh child. */
#ifndef EVO_EVALUATOR_H
#define EVO_EVALUATOR_H

#include <stdint.h>
#include <zmq.h>

#include "util/buf.h"
#include "config/config.h"
#include "wire/proto.h"

struct evo_evaluator;

/* Prepares (does not start) the evaluator the config names. `self` is the
 * path of the evo-farm executable, used to run library evaluators in a
 * child. NULL with errno on allocation failure. */
struct evo_evaluator *evo_evaluator_create(const struct evo_config *config, const char *self);

/* Evaluates every vector of `batch` and appends one RESULTS item per vector
 * to `out` (status OK or ATTEMPT_FAILED with the reason). Between polls it
 * calls tick(arg) at least every tick_ms, and at once whenever `watch` (the
 * broker's connection, polled beside the child; NULL: none) has input, so
 * that what arrives during a long call (tasks a waiting call gives back)
 * is taken when it arrives; if tick returns non-zero the batch is
 * abandoned and -1 is returned (`out` is then partial). 0 on success. */
int evo_evaluator_run(struct evo_evaluator *ev, const struct evo_input_list *batch, struct evo_buf *out,
                      int (*tick)(void *arg), void *arg, int tick_ms, const zmq_pollitem_t *watch);

/* Starts the child now rather than at the first batch (a failure to start
 * is reported then, to the batch's first candidate). */
void evo_evaluator_start(struct evo_evaluator *ev);

/* Calls fn(arg, 1) when the call in progress says it waits on other tasks
 * (frames evaluators only: a Python call waiting on futures it submitted),
 * and fn(arg, 0) when it stops waiting, answers, or its child ends. While
 * it waits, its timeout does not run. */
void evo_evaluator_on_blocked(struct evo_evaluator *ev, void (*fn)(void *arg, int blocked), void *arg);

/* Stops the child (EOF, then SIGKILL after a grace period) and frees;
 * NULL is fine. */
void evo_evaluator_destroy(struct evo_evaluator *ev);

/* Main of the library evaluator child (`evo-farm __evaluate-library`):
 * reads binary candidates on stdin, answers on the original stdout. */
int evo_library_child_main(const char *library, const char *function);

#endif
