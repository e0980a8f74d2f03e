/* broker.h — the farm's broker: owns the ROUTER socket, the task queue and
 * the workers' bookkeeping (docs/protocol.md, docs/ARCHITECTURE.md). It is a
 * single-threaded state machine driven by evo_broker_step(), so the caller
 * (`evo-farm run`, or rank 0 under Slurm) can wait on its own fds too. */
#ifndef EVO_BROKER_H
#define EVO_BROKER_H

#include <stdint.h>

#include "config/config.h"
#include "journal.h"
#include "evofarm/stats.h"
#include "wire/transport.h"

struct evo_broker_options {
    const char *bind; /* e.g. "tcp://127.0.0.1:*" */
    enum evo_scheduling scheduling;
    unsigned batch; /* 0 = auto */
    unsigned prefetch;
    unsigned retries;
    unsigned heartbeat_ms;
    unsigned liveness;
    /* Tasks one driver may have outstanding (queued or in flight): a
     * submission beyond it is answered with an error per task, so no
     * driver can take the broker down by memory. 0 = the default,
     * EVO_BROKER_DRIVER_QUOTA; inputs are also limited to
     * EVO_BROKER_DRIVER_QUOTA_BYTES per driver. */
    unsigned driver_quota;
    /* When not NULL (not owned): inputs already in it are answered from it
     * without evaluating, every successful evaluation is recorded in it
     * (broker/journal.h). */
    struct evo_journal *journal;
    /* What the farm's tasks are, from evaluate: (EVO_TASKS_ANY: either).
     * A worker whose HELLO says its evaluator reads the other kind is sent
     * away (BYE) before it is handed one, and counted in auth_refused. */
    enum evo_broker_tasks { EVO_TASKS_ANY = 0, EVO_TASKS_VECTORS, EVO_TASKS_PAYLOADS } tasks;
};

#define EVO_BROKER_DRIVER_QUOTA       (1u << 20)
#define EVO_BROKER_DRIVER_QUOTA_BYTES (1ull << 30)

struct evo_broker;

/* Fills options from a loaded config. */
void evo_broker_options_from_config(struct evo_broker_options *options, const struct evo_config *config);

/* Starts a broker with the farm's credentials (the server pair must be
 * set; the client pair is not used: evo_broker_admit says who may connect;
 * creds->endpoint is overwritten with the bound endpoint). NULL with a
 * message in err. */
struct evo_broker *evo_broker_create(const struct evo_broker_options *options, struct evo_credentials *creds, char *err,
                                     size_t err_size);

/* Also listens on a Unix socket at `path` (which must not exist; its
 * directory should be the farm user's alone) for members of this machine:
 * they connect there instead of over ZeroMQ (EVO_FARM_UNIX_SOCKET,
 * wire/stream.h); only connections of this process's uid are accepted. The
 * socket is removed by evo_broker_destroy. 0, or -1 with err. */
int evo_broker_listen_unix(struct evo_broker *broker, const char *path, char *err, size_t err_size);

/* Runs one round: waits up to max_wait_ms (shortened to the next internal
 * deadline) for messages on the broker's sockets or for `extra_fd` (-1 for
 * none) to become readable, then handles everything pending. Returns 1 when
 * extra_fd is readable, 0 otherwise, -1 on a fatal socket error. */
int evo_broker_step(struct evo_broker *broker, int extra_fd, int max_wait_ms);

/* Tells the broker that the worker process `pid` on `host` is gone (its
 * launcher saw it exit), so its tasks are requeued now rather than after
 * the heartbeat expiry. Unknown pids are ignored. */
void evo_broker_worker_exited(struct evo_broker *broker, const char *host, uint32_t pid);

/* Current counters. */
void evo_broker_stats(const struct evo_broker *broker, struct evo_stats *out);

/* Writes "HOST N, HOST N" for the workers connected now (truncated to
 * size) and returns how many there are. */
int evo_broker_hosts(const struct evo_broker *broker, char *out, size_t size);

/* Starts the end of the farm: says BYE to every peer and forgets them;
 * from now on every HELLO is answered with BYE (a worker that starts late
 * then exits at once instead of waiting for a broker that is gone). Keep
 * calling evo_broker_step to serve those. */
void evo_broker_shut_down(struct evo_broker *broker);

/* Answers every task still waiting for a worker with an error saying
 * `reason` (each to its driver, as if its attempts were used up): for when
 * no worker is left to run them. In-flight tasks are left to their
 * workers. */
void evo_broker_fail_queued(struct evo_broker *broker, const char *reason);

/* Admits CURVE clients with `public_key` (Z85) in `role`
 * (wire/credentials.h): a driver or nested key may submit, withdraw and
 * share; a worker key may take work and return results; a status key may
 * only read statistics; a control key may read statistics and drain
 * workers (DRAIN); the key of role "all" (tests, benchmarks) may do all. Every
 * key may read statistics. What a key does not allow is refused and
 * counted in auth_refused: a HELLO as a worker is answered BYE, a SUBMIT
 * with an error per task naming the key, anything else dropped. The
 * broker admits nobody over ZeroMQ until this is called; members on its
 * Unix socket (same uid) may do all. At most 8 keys. 0, or -1 (a bad key,
 * or too many). */
int evo_broker_admit(struct evo_broker *broker, enum evo_key_role role, const char *public_key);

/* How many submitted inputs were answered from the journal. */
uint64_t evo_broker_journal_hits(const struct evo_broker *broker);

/* How many workers have said HELLO since the broker started (a worker
 * that said it again on the same connection counts once). */
unsigned evo_broker_workers_seen(const struct evo_broker *broker);

/* Says BYE to every peer and frees everything; NULL is fine. */
void evo_broker_destroy(struct evo_broker *broker);

#endif
