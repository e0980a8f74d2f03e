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
#include "wire/share_pieces.h"
#include "wire/stream.h"
#include "wire/zap.h"

/* uthash: an allocation that fails leaves the table as it was and marks
 * the peer (never exits the process, as uthash does by default). */
#define HASH_NONFATAL_OOM         1
#define uthash_nonfatal_oom(peer) ((peer)->hash_failed = 1)
#include <uthash.h>

#define EVO_IDENTITY_MAX 256

/* What a peer's key allows (wire/credentials.h, the table in broker.c);
 * every peer may read statistics, say HEARTBEAT and BYE. */
enum { BROKER_MAY_WORK = 1, BROKER_MAY_SUBMIT = 2, BROKER_MAY_CONTROL = 4 };

/* Drain choices kept (broker_drain.c): each selects workers by host or
 * Slurm job. */
#define BROKER_DRAINS 32

struct broker_peer {
    unsigned char identity[EVO_IDENTITY_MAX];
    size_t identity_size;
    uint32_t serial; /* 0 = free slot */
    uint8_t kind;    /* what it said it is in HELLO: enum evo_peer_kind */
    uint32_t pid;
    char host[EVO_PROTO_MAX_HOST + 1];
    char job[EVO_PROTO_MAX_JOB + 1]; /* its Slurm JOBID.STEP, or empty */
    int draining;                    /* a worker told to take no more work: BYE once it holds none */
    int64_t last_recv_ms;
    int64_t last_send_ms;
    unsigned batches_in_flight;
    int blocked;           /* a worker whose evaluation waits on other tasks: gets no work */
    enum evo_key_role key; /* the key it connected with (a Unix stream's: EVO_KEY_ALL); what it may do: broker.c */
    /* a driver's: its outstanding tasks (the quota), its results waiting */
    uint64_t tasks_held;
    uint64_t bytes_held;
    struct evo_buf outbox; /* a DONE body being filled */
    uint32_t outbox_count;
    int outbox_listed; /* in the broker's list of outboxes to send */
    struct broker_peer *outbox_prev, *outbox_next;
    /* a driver's constant arriving in pieces (broker_share.c) */
    struct evo_share_progress share_in;
    unsigned char *share_value;
    /* a worker's next piece of the constants: while it is receiving it is
     * sent pieces, paced, and gets no work (broker_share.c) */
    int share_receiving;
    size_t share_index, share_offset;
    /* the peer table's (broker_peers.c) */
    struct broker_peer *ready_prev, *ready_next;
    int ready_level; /* the ready list it is in (batches held), or -1 */
    struct broker_peer *next_free;
    int hash_failed;
    UT_hash_handle by_identity, by_serial;
};

/* Workers that hold `level` batches and may take one more, oldest first. */
struct broker_ready {
    struct broker_peer *head, *tail;
    size_t count;
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
    int hash_failed;
    UT_hash_handle by_id;
};

struct evo_broker {
    struct evo_broker_options options;
    void *context;
    void *router;
    struct evo_zap *zap;
    struct broker_peer **peers; /* every slot, in use or free (serial 0); they never move */
    size_t npeers, peers_cap;
    struct broker_peer *free_peers;
    struct broker_peer *by_identity, *by_serial; /* uthash tables */
    struct broker_ready *ready;                  /* credit lists */
    unsigned credit;                             /* batches a worker may hold */
    unsigned workers;                            /* workers connected now */
    uint32_t next_serial;
    struct broker_peer *outboxes; /* drivers with results waiting */
    struct evo_task_table tasks;
    struct evo_id_queue queue;
    struct evo_buf scratch;
    double ns_per_task;        /* EWMA of evaluation time, 0 = unknown */
    struct evo_stats counters; /* running totals (queued etc. are derived) */
    uint64_t in_flight;
    int64_t rate_mark_ms;
    uint64_t rate_mark_done;
    int64_t next_housekeeping_ms;
    int shutting_down;     /* evo_broker_shut_down was called: BYE to everyone */
    unsigned workers_seen; /* worker HELLOs from new peers, ever */
    uint64_t journal_hits; /* inputs answered from the journal */
    struct broker_share *shares;
    size_t nshares;
    uint64_t share_bytes_sent; /* constants' bytes sent to workers, ever */
    size_t share_receivers;    /* workers with constants still to receive */
    size_t share_pumped;       /* pieces sent by the last broker_share_pump */
    int unix_fd;               /* the Unix socket members of this machine connect to, or -1 */
    char unix_path[EVO_PATH_MAX];
    struct broker_stream **streams;     /* in poll order */
    struct broker_stream *stream_by_id; /* uthash table of the same */
    size_t nstreams, streams_cap;
    uint32_t next_stream;
    zmq_pollitem_t *items; /* evo_broker_step's, sized to the streams */
    size_t items_cap;
    char drains[BROKER_DRAINS][EVO_PROTO_MAX_HOST + 1]; /* DRAIN selectors, kept for latecomers */
    unsigned ndrains;
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
/* Sends a message to a peer; on EHOSTUNREACH the peer is dropped. 0 / -1. */
int broker_send(struct evo_broker *b, struct broker_peer *peer, enum evo_msg_type type, const struct evo_buf *body);
void broker_drop_peer(struct evo_broker *b, struct broker_peer *peer, const char *why);

/* broker_peers.c */
/* Sizes the credit lists from the options. 0, or -1 (out of memory). */
int broker_peers_init(struct evo_broker *b);
/* A new peer (zeroed, with this routing id and the next serial), found by
 * both lookups; NULL if out of memory. */
struct broker_peer *broker_peer_add(struct evo_broker *b, const void *identity, size_t identity_size);
/* Forgets a peer: unhashed, out of the credit lists, its outbox freed, its
 * slot (serial 0 from now on) kept for a later peer. */
void broker_peer_remove(struct evo_broker *b, struct broker_peer *peer);
/* NULL when no peer has it (serial 0 never does). */
struct broker_peer *broker_peer_by_serial(struct evo_broker *b, uint32_t serial);
struct broker_peer *broker_peer_by_identity(struct evo_broker *b, const void *identity, size_t size);
/* Puts a peer in the credit list its state says (none for a driver, a
 * blocked or full worker, a removed peer); call after every change of
 * batches_in_flight or blocked. */
void broker_peer_ready(struct evo_broker *b, struct broker_peer *peer);
/* Puts a driver in the list of outboxes to send (once). */
void broker_peer_list_outbox(struct evo_broker *b, struct broker_peer *driver);
/* Takes the next driver off that list, or NULL. */
struct broker_peer *broker_peer_next_outbox(struct evo_broker *b);
void broker_peers_free(struct evo_broker *b);

/* broker_dispatch.c */
/* Hands queued tasks to workers with credit. */
void broker_dispatch(struct evo_broker *b);
/* Takes a SUBMIT from a driver. 0, or -1 if the body is malformed. */
int broker_accept_submit(struct evo_broker *b, struct broker_peer *driver, const void *body, size_t size);
/* Answers every task of a SUBMIT with an error saying `reason`. */
void broker_refuse_submit(struct evo_broker *b, struct broker_peer *driver, const void *body, size_t size,
                          const char *reason);
/* Takes a RESULTS (last = 1: its batch is answered) or a RESULTS_PART (0:
 * more of the batch follows) from a worker. 0, or -1 if malformed. */
int broker_accept_results(struct evo_broker *b, struct broker_peer *worker, const void *body, size_t size, int last);
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

/* broker_unix.c */
/* Adds the Unix socket and every stream to the poll set from items[at]:
 * the number of items added. -1 when out of memory. */
int broker_unix_poll_items(struct evo_broker *b, size_t at);
/* After the poll: accepts, reads and writes what the items say, from
 * items[at]; drops the peers of the streams that closed. */
void broker_unix_serve(struct evo_broker *b, size_t at);
/* Whether the routing id is a stream's; sends to it (queued). */
int broker_unix_is_stream(const void *identity, size_t size);
/* Bytes queued for a Unix member and not yet written; 0 for a peer on
 * the ROUTER (ZeroMQ does not tell). */
size_t broker_unix_backlog(struct evo_broker *b, const void *identity, size_t size);
int broker_unix_send(struct evo_broker *b, const void *identity, enum evo_msg_type type, const struct evo_buf *body);
void broker_unix_close(struct evo_broker *b);

/* broker_drain.c */
/* Takes a DRAIN: every worker its selector names (a host, a Slurm JOBID or
 * JOBID.STEP) gets no more work and leaves once it holds none; the
 * selector is kept, so such a worker joining later is sent away. Answers
 * DRAINED with how many workers it names now. 0, or -1 if malformed. */
int broker_accept_drain(struct evo_broker *b, struct broker_peer *from, const void *body, size_t size);
/* Whether a kept selector names a worker that says HELLO from host, job. */
int broker_drained(const struct evo_broker *b, const char *host, const char *job);
/* A draining worker that holds nothing now is told BYE and forgotten. */
void broker_drain_done(struct evo_broker *b, struct broker_peer *worker);

/* broker_share.c */
/* Takes a piece of a driver's constant (SHARE); a whole constant is kept,
 * and sent to every worker now and to every worker that joins later. 0,
 * or -1 if malformed or out of order (what had arrived is abandoned). */
int broker_accept_share(struct evo_broker *b, struct broker_peer *driver, const void *body, size_t size);
/* A worker just welcomed is to receive every constant. */
void broker_share_all(struct evo_broker *b, struct broker_peer *worker);
/* Sends the workers their next pieces, a few each, and to a Unix member
 * only while little is queued for it: a constant never stalls the loop nor
 * sits whole in a send queue. A worker with all constants is ready again. */
void broker_share_pump(struct evo_broker *b);
/* What a peer leaving leaves of constants: a driver's one in progress, a
 * worker's place among the receivers. Safe twice. */
void broker_share_forget(struct evo_broker *b, struct broker_peer *peer);
void broker_shares_free(struct evo_broker *b);

#endif
