/* evofarm/client.h — the driver's side of a farm: connect, map vectors
 * through the workers, submit/wait, statistics.
 *
 * A driver runs inside a farm (`evo-farm run FILE -- DRIVER...`, or rank 0
 * under `srun --evo-farm`), which puts the endpoint and credentials in its
 * environment; evo_client_open() reads them. Link with `pkg-config --libs
 * evofarm`. A client is used by one thread at a time.
 *
 * Every submitted vector yields exactly one evo_result: either its
 * objectives or an error saying why (attempts exhausted, broker lost).
 */
#ifndef EVOFARM_CLIENT_H
#define EVOFARM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "evofarm/evaluator.h"
#include "evofarm/stats.h"

struct evo_client;

#define EVO_CLIENT_WITHDRAWN (-1) /* evo_result.ok of a withdrawn task */

struct evo_result {
    uint64_t tag; /* map: the vector's index; submit: the tag it returned */
    int ok;       /* 1: objectives[0..n) are valid; 0: see error;
                     EVO_CLIENT_WITHDRAWN: taken back by evo_client_withdraw
                     before any worker had it: never evaluated */
    unsigned n;
    double objectives[EVO_EVALUATOR_MAX_OBJECTIVES];
    const char *error;   /* when !ok: owned by the client, valid until the next
                            evo_client_map / evo_client_wait / close */
    const void *payload; /* the answer to a payload task (n is then 0): owned
                            by the client, valid as long as `error` would be */
    size_t payload_size;
};

/* Connects using EVO_FARM_ENDPOINT, EVO_FARM_SERVER_KEY,
 * EVO_FARM_CLIENT_PUBLIC and EVO_FARM_CLIENT_SECRET and waits (up to
 * EVO_FARM_CONNECT_TIMEOUT seconds, default 10) for the broker's welcome.
 * NULL with a one-line reason in err. */
struct evo_client *evo_client_open(char *err, size_t err_size);

/* The same with explicit credentials (Z85 keys). */
struct evo_client *evo_client_connect(const char *endpoint, const char *server_public, const char *client_public,
                                      const char *client_secret, char *err, size_t err_size);

/* Evaluates `count` vectors of `dim` values (row-major in x) and blocks
 * until all are back; results[i] belongs to vector i. At most the window
 * (see evo_client_submit) is in the farm at once. Returns the number of
 * vectors that failed (0: all ok), or -1 if the farm itself failed or
 * evo_client_wake interrupted it (see evo_client_last_error; results are
 * then incomplete, and the vectors not back are still in the farm: close
 * the client). */
long evo_client_map(struct evo_client *client, const double *x, size_t count, size_t dim, struct evo_result *results);

/* Queues vectors for evaluation; the first gets tag *first_tag, the next
 * ones consecutive tags. Returns once all are sent: at once, unless that
 * would put more than the window in the farm (EVO_FARM_WINDOW, default
 * 65,536 vectors outstanding): then it first receives results, kept for
 * evo_client_wait, until there is room. So the farm's memory stays bounded
 * whatever a driver submits; to keep the driver's bounded too, submit in
 * pieces and collect results between them. 0, or -1 (see last_error). */
int evo_client_submit(struct evo_client *client, const double *x, size_t count, size_t dim, uint64_t *first_tag);

/* Queues opaque payloads (e.g. pickled calls) for a farm whose evaluator
 * reads payloads (`evaluate: {python: ...}`); payload i is sizes[i] bytes at
 * data[i] (at most 16 MiB each). Tags as for evo_client_submit; each answer
 * comes back through evo_client_wait with `payload` set. 0, or -1. */
int evo_client_submit_payloads(struct evo_client *client, const void *const *data, const size_t *sizes, size_t count,
                               uint64_t *first_tag);

/* Waits up to timeout_ms (-1: forever) for the next result of a submitted
 * vector, in completion order. 1 with *out filled, 0 on timeout, -1 if the
 * farm failed or nothing is outstanding (see last_error). */
int evo_client_wait(struct evo_client *client, struct evo_result *out, int timeout_ms);

/* Asks the broker to take back submitted tasks that no worker holds yet
 * (still queued): each of those comes back through evo_client_wait with ok
 * == EVO_CLIENT_WITHDRAWN and is never evaluated; the others (held by a
 * worker, or done) come back as usual. Returns at once: 0, or -1. */
int evo_client_withdraw(struct evo_client *client, const uint64_t *tags, size_t count);

/* Shares a named constant with every worker of the farm, present and
 * future: each worker process receives it once (before any task submitted
 * after this call) and its evaluators find it as the file NAME in the
 * directory $EVO_FARM_SHARED_DIR. name: 1..64 of [A-Za-z0-9_], not
 * starting with a digit; at most 1 GiB. A name already shared keeps its
 * first value. 0, or -1 (bad name or size; see last_error). */
int evo_client_share(struct evo_client *client, const char *name, const void *value, size_t size);

/* Makes an evo_client_wait that is blocked in another thread return 0 at
 * once (as on a timeout); a wait that starts later returns 0 at once too,
 * once. An evo_client_map in progress returns -1 ("interrupted"). The
 * only call that may be made from another thread, or from a signal
 * handler (it is one write(2) to an eventfd). */
void evo_client_wake(struct evo_client *client);

/* Vectors submitted whose results have not been returned yet. */
size_t evo_client_outstanding(const struct evo_client *client);

/* Asks the broker for its counters. 0, or -1. */
int evo_client_stats(struct evo_client *client, struct evo_stats *out);

/* Why the last call failed. */
const char *evo_client_last_error(const struct evo_client *client);

/* Says goodbye and frees; NULL is fine. */
void evo_client_close(struct evo_client *client);

#endif
