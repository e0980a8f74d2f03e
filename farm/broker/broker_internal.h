/* broker_internal.h — state shared by broker.c (messages, peers, liveness)
 * and broker_dispatch.c (scheduling and result delivery). */
#ifndef EVO_BROKER_INTERNAL_H
#define EVO_BROKER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "util/buf.h"
#include "id_queue.h"
#include "task_table.h"
#include "wire/stream.h"
#include "wire/zap.h"

#define EVO_IDENTITY_MAX 256

struct broker_peer {
    unsigned char identity[EVO_IDENTITY_MAX];
    size_t identity_size;
    uint32_t serial; /* 0 = free slot */
    uint8_t role;
    uint32_t pid;
    char host[EVO_PROTO_MAX_HOST + 1];
    int64_t last_recv_ms;
    int64_t last_send_ms;
    unsigned batches_in_flight;
    int blocked; /* a worker whose evaluation waits on other tasks: gets no work */
};

/* A constant every worker gets once (SHARE). */
struct broker_share {
    char name[EVO_PROTO_MAX_NAME + 1];
    unsigned char *value;
    size_t size;
};

/* A member on this machine, over the Unix socket (wire/stream.h). Its
 * routing id, made up here, cannot be a ZeroMQ one (those are 5 bytes). */
#define BROKER_STREAM_ID 7
struct broker_stream {
    struct evo_stream *stream;
    unsigned char id[BROKER_STREAM_ID];
};

/* Results waiting to be sent to one driver. */
struct broker_outbox {
    uint32_t driver;
    uint32_t count;
    struct evo_buf buf;
};

struct evo_broker {
    struct evo_broker_options options;
    void *context;
    void *router;
    struct evo_zap *zap;
    struct broker_peer *peers;
    size_t npeers; /* slots in use or free (serial 0) */
    uint32_t next_serial;
    size_t dispatch_cursor; /* round-robin start among peers */
    struct evo_task_table tasks;
    struct evo_id_queue queue;
    struct broker_outbox *outboxes;
    size_t noutboxes;
    struct evo_buf scratch;
    double ns_per_task;        /* EWMA of evaluation time, 0 = unknown */
    struct evo_stats counters; /* running totals (queued etc. are derived) */
    uint64_t in_flight;
    int64_t rate_mark_ms;
    uint64_t rate_mark_done;
    int64_t next_housekeeping_ms;
    int shutting_down;     /* evo_broker_shut_down was called: BYE to everyone */
    unsigned workers_seen; /* worker HELLOs from new peers, ever */
    struct broker_share *shares;
    size_t nshares;
    uint64_t share_bytes_sent; /* constants' bytes sent to workers, ever */
    int local_fd;              /* the Unix socket members of this machine connect to, or -1 */
    char local_path[EVO_PATH_MAX];
    struct broker_stream *streams;
    size_t nstreams;
    uint32_t next_stream;
    zmq_pollitem_t *items; /* evo_broker_step's, sized to the streams */
    size_t items_cap;
};

/* broker.c */
/* A received message (evo_*_recv returned rc, 0 or 1): routed, or counted
 * as malformed; closed either way. */
void broker_take(struct evo_broker *b, struct evo_message *msg, int rc);
/* Room for n poll items in b->items (kept). 0, or -1. */
int broker_items_reserve(struct evo_broker *b, size_t n);
/* Drops the peer with this routing id, if any. */
void broker_peer_lost(struct evo_broker *b, const void *identity, size_t identity_size, const char *why);
/* Sends to a routing id, a ZeroMQ one or a stream's. 0, or -1 with
 * errno EHOSTUNREACH when that peer is gone. */
int broker_send_to(struct evo_broker *b, const void *identity, size_t identity_size, enum evo_msg_type type,
                   const struct evo_buf *body);
struct broker_peer *broker_peer_by_serial(struct evo_broker *b, uint32_t serial);
/* Sends a message to a peer; on EHOSTUNREACH the peer is dropped. 0 / -1. */
int broker_send(struct evo_broker *b, struct broker_peer *peer, enum evo_msg_type type, const struct evo_buf *body);
void broker_drop_peer(struct evo_broker *b, struct broker_peer *peer, const char *why);

/* broker_dispatch.c */
/* Hands queued tasks to workers with credit. */
void broker_dispatch(struct evo_broker *b);
/* Takes a SUBMIT from a driver. 0, or -1 if the body is malformed. */
int broker_accept_submit(struct evo_broker *b, struct broker_peer *driver, const void *body, size_t size);
/* Takes a RESULTS from a worker. 0, or -1 if malformed. */
int broker_accept_results(struct evo_broker *b, struct broker_peer *worker, const void *body, size_t size);
/* Requeues every task a worker holds. */
void broker_requeue_worker(struct evo_broker *b, struct broker_peer *worker);
/* Forgets every task of a driver. */
void broker_forget_driver(struct evo_broker *b, uint32_t driver);
/* Sends the pending DONE messages. */
void broker_flush_outboxes(struct evo_broker *b);
/* Takes a WITHDRAW from a driver: each of its tags still queued is removed
 * and answered WITHDRAWN. 0, or -1 if malformed. */
int broker_accept_withdraw(struct evo_broker *b, struct broker_peer *driver, const void *body, size_t size);
/* Takes a BLOCKED from a worker: sets whether it gets work, requeues what
 * it gives back (no attempt counted). 0, or -1 if malformed. */
int broker_accept_blocked(struct evo_broker *b, struct broker_peer *worker, const void *body, size_t size);

/* broker_local.c */
/* Adds the Unix socket and every stream to the poll set from items[at]:
 * the number of items added. -1 when out of memory. */
int broker_local_poll_items(struct evo_broker *b, size_t at);
/* After the poll: accepts, reads and writes what the items say, from
 * items[at]; drops the peers of the streams that closed. */
void broker_local_serve(struct evo_broker *b, size_t at);
/* Whether the routing id is a stream's; sends to it (queued). */
int broker_local_is_stream(const void *identity, size_t size);
int broker_local_send(struct evo_broker *b, const void *identity, enum evo_msg_type type, const struct evo_buf *body);
void broker_local_close(struct evo_broker *b);

/* broker_share.c */
/* Takes a SHARE from a driver: kept, and sent to every worker now and to
 * every worker that joins later. 0, or -1 if malformed. */
int broker_accept_share(struct evo_broker *b, const void *body, size_t size);
/* Sends every constant to a worker that has just been welcomed. */
void broker_share_all(struct evo_broker *b, struct broker_peer *worker);
void broker_shares_free(struct evo_broker *b);

#endif
