/* broker.c — the broker's socket loop: peers (HELLO, liveness, loss),
 * message validation and routing, stats. Scheduling lives in
 * broker_dispatch.c. */
#include "broker_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

void evo_broker_options_from_config(struct evo_broker_options *o, const struct evo_config *c)
{
    o->bind = c->farm.bind;
    o->scheduling = c->farm.scheduling;
    o->batch = c->farm.batch;
    o->prefetch = c->farm.prefetch;
    o->retries = c->farm.retries;
    o->heartbeat_ms = c->farm.heartbeat_ms;
    o->liveness = c->farm.liveness;
    o->tasks = c->evaluate.kind == EVO_EVALUATOR_PYTHON ? EVO_TASKS_PAYLOADS
               : c->evaluate.kind == EVO_EVALUATOR_NONE ? EVO_TASKS_ANY
                                                        : EVO_TASKS_VECTORS;
}

struct evo_broker *evo_broker_create(const struct evo_broker_options *options, struct evo_credentials *creds, char *err,
                                     size_t err_size)
{
    struct evo_broker *b = calloc(1, sizeof *b);
    if (b == NULL || (b->context = zmq_ctx_new()) == NULL) {
        snprintf(err, err_size, "cannot create the broker: %s", strerror(errno));
        goto error;
    }
    b->options = *options;
    b->next_serial = 1;
    b->unix_fd = -1;
    if (broker_peers_init(b) < 0) {
        snprintf(err, err_size, "cannot create the broker: out of memory");
        goto error;
    }
    /* The ZAP handler must be bound before the ROUTER accepts anyone. */
    if ((b->zap = evo_zap_create(b->context)) == NULL) {
        snprintf(err, err_size, "cannot start the authentication handler: %s", zmq_strerror(zmq_errno()));
        goto error;
    }
    if ((b->router = evo_socket_bind_router(b->context, options->bind, creds, err, err_size)) == NULL)
        goto error;
    b->rate_mark_ms = evo_now_ms();
    evo_info("broker listening on %s", creds->endpoint);
    return b;
error:
    evo_broker_destroy(b);
    return NULL;
}

int broker_send_to(struct evo_broker *b, const void *identity, size_t identity_size, enum evo_msg_type type,
                   const struct evo_buf *body)
{
    if (broker_unix_is_stream(identity, identity_size))
        return broker_unix_send(b, identity, type, body);
    return evo_message_send(b->router, identity, identity_size, type, body);
}

int broker_items_reserve(struct evo_broker *b, size_t n)
{
    if (n <= b->items_cap)
        return 0;
    zmq_pollitem_t *items = realloc(b->items, n * 2 * sizeof *items);
    if (items == NULL)
        return -1;
    b->items = items;
    b->items_cap = n * 2;
    return 0;
}

void broker_peer_lost(struct evo_broker *b, const void *identity, size_t identity_size, const char *why)
{
    struct broker_peer *peer = broker_peer_by_identity(b, identity, identity_size);
    if (peer)
        broker_drop_peer(b, peer, why);
}

int broker_send(struct evo_broker *b, struct broker_peer *peer, enum evo_msg_type type, const struct evo_buf *body)
{
    if (broker_send_to(b, peer->identity, peer->identity_size, type, body) == 0) {
        peer->last_send_ms = evo_now_ms();
        return 0;
    }
    if (zmq_errno() == EHOSTUNREACH)
        broker_drop_peer(b, peer, "unreachable");
    else
        evo_warn("cannot send to %s pid %u: %s", peer->host, peer->pid, zmq_strerror(zmq_errno()));
    return -1;
}

/* Removes a peer: a worker's tasks go back to the queue, a driver's tasks
 * are forgotten. */
void broker_drop_peer(struct evo_broker *b, struct broker_peer *peer, const char *why)
{
    uint32_t serial = peer->serial;
    if (serial == 0)
        return;
    evo_info("%s %u (%s pid %u) lost: %s", peer->kind == EVO_PEER_WORKER ? "worker" : "driver", serial, peer->host,
             peer->pid, why);
    if (peer->kind == EVO_PEER_WORKER) {
        broker_requeue_worker(b, peer);
        b->workers--;
    } else {
        broker_forget_driver(b, serial);
    }
    broker_peer_remove(b, peer);
}

/* What each key allows (wire/credentials.h) and, for the refusals, what
 * it is for. A member on a Unix stream (no CURVE, no User-Id) names the
 * key it holds in its HELLO and gets that key's role. */
static const struct {
    unsigned rights;
    const char *limits;
} keys[EVO_KEY_ALL + 1] = {
    [EVO_KEY_DRIVER] = {BROKER_MAY_SUBMIT, "which may only submit work"},
    [EVO_KEY_NESTED] = {BROKER_MAY_SUBMIT, "which may only submit work"},
    [EVO_KEY_WORKER] = {BROKER_MAY_WORK, "which may only take work and return results"},
    [EVO_KEY_STATUS] = {0, "which may only read statistics"},
    [EVO_KEY_CONTROL] = {BROKER_MAY_CONTROL, "which may only read statistics and drain workers"},
    [EVO_KEY_ROLES] = {0, "which this farm does not know"},
    [EVO_KEY_ALL] = {BROKER_MAY_WORK | BROKER_MAY_SUBMIT | BROKER_MAY_CONTROL, ""},
};

static int may(const struct broker_peer *peer, unsigned right)
{
    return (keys[peer->key].rights & right) != 0;
}

/* A refusal naming the peer's key, into out. */
static void refusal(const struct broker_peer *peer, char *out, size_t size)
{
    snprintf(out, size, "refused: this connection has the farm's %s key, %s", evo_key_role_name(peer->key),
             keys[peer->key].limits);
}

static void on_hello(struct evo_broker *b, struct broker_peer *known, const void *identity, size_t identity_size,
                     const void *body, size_t size, const char *user)
{
    struct evo_hello hello;
    struct broker_peer asked = {.key = EVO_KEY_ROLES};
    char why[160];
    if (evo_proto_get_hello(body, size, &hello) < 0 || identity_size > EVO_IDENTITY_MAX) {
        b->counters.malformed++;
        return;
    }
    if (user == NULL) { /* a Unix stream (every ZeroMQ peer has a User-Id): the key its member holds */
        user = evo_zap_user_of(b->zap, hello.key);
        if (user == NULL) {
            b->counters.auth_refused++;
            evo_warn("refused a local member from %s pid %u: it holds none of the farm's keys", hello.host, hello.pid);
            broker_send_to(b, identity, identity_size, EVO_MSG_BYE, NULL);
            return;
        }
    }
    asked.key = evo_key_role_of(user);
    if (hello.kind == EVO_PEER_WORKER && !may(&asked, BROKER_MAY_WORK)) {
        b->counters.auth_refused++;
        refusal(&asked, why, sizeof why);
        evo_info("%s (a worker from %s pid %u)", why, hello.host, hello.pid);
        broker_send_to(b, identity, identity_size, EVO_MSG_BYE, NULL);
        return;
    }
    int wanted = b->options.tasks == EVO_TASKS_PAYLOADS ? EVO_INPUT_PAYLOAD : EVO_INPUT_VECTOR;
    if (hello.kind == EVO_PEER_WORKER && b->options.tasks != EVO_TASKS_ANY && hello.reads != wanted) {
        static const char *const what[] = {"vectors", "Python calls"};
        b->counters.auth_refused++;
        evo_warn("a worker from %s pid %u%s%s refused: its evaluator reads %s but this farm's tasks are %s (it was "
                 "started with another configuration)",
                 hello.host, hello.pid, hello.job[0] ? ", job " : "", hello.job, what[hello.reads], what[wanted]);
        broker_send_to(b, identity, identity_size, EVO_MSG_BYE, NULL);
        return;
    }
    if (known)
        broker_drop_peer(b, known, "said HELLO again");
    else if (hello.kind == EVO_PEER_WORKER)
        b->workers_seen++;
    int drained = hello.kind == EVO_PEER_WORKER && broker_drained(b, hello.host, hello.job);
    if (drained)
        evo_info("a worker from %s pid %u%s%s sent away: drained", hello.host, hello.pid, hello.job[0] ? ", job " : "",
                 hello.job);
    if (b->shutting_down || drained) { /* a latecomer, or one of a drained set: it may exit */
        broker_send_to(b, identity, identity_size, EVO_MSG_BYE, NULL);
        return;
    }
    struct broker_peer *peer = broker_peer_add(b, identity, identity_size);
    if (peer == NULL) {
        evo_warn("out of memory: ignoring a HELLO from %s", hello.host);
        return;
    }
    peer->kind = hello.kind;
    peer->key = asked.key;
    peer->pid = hello.pid;
    memcpy(peer->host, hello.host, sizeof peer->host);
    memcpy(peer->job, hello.job, sizeof peer->job);
    peer->last_recv_ms = evo_now_ms();
    evo_info("%s %u joined from %s pid %u", hello.kind == EVO_PEER_WORKER ? "worker" : "driver", peer->serial,
             peer->host, peer->pid);
    struct evo_welcome welcome = {b->options.heartbeat_ms, b->options.liveness, peer->serial};
    evo_buf_reset(&b->scratch);
    evo_proto_put_welcome(&b->scratch, &welcome);
    broker_send(b, peer, EVO_MSG_WELCOME, &b->scratch);
    if (peer->kind == EVO_PEER_WORKER) {
        b->workers++;
        broker_share_all(b, peer); /* before it is ready: constants first */
        broker_peer_ready(b, peer);
    }
}

static void on_stats_request(struct evo_broker *b, struct broker_peer *peer)
{
    struct evo_stats *stats = malloc(sizeof *stats);
    if (stats == NULL)
        return;
    evo_broker_stats(b, stats);
    evo_buf_reset(&b->scratch);
    evo_proto_put_stats(&b->scratch, stats);
    free(stats);
    broker_send(b, peer, EVO_MSG_STATS, &b->scratch);
}

/* Routes one valid message from a registered peer; -1 if its body is
 * malformed or the type is not allowed for the peer's role. */
static int on_peer_message(struct evo_broker *b, struct broker_peer *peer, int type, const void *body, size_t size)
{
    int worker = peer->kind == EVO_PEER_WORKER;
    int submits = type == EVO_MSG_SUBMIT || type == EVO_MSG_WITHDRAW || type == EVO_MSG_SHARE;
    if (!worker && submits && !may(peer, BROKER_MAY_SUBMIT)) {
        char reason[160];
        b->counters.auth_refused++; /* a worker, status or control key may not submit, withdraw or share */
        refusal(peer, reason, sizeof reason);
        evo_info("%s (message type %d from %s pid %u)", reason, type, peer->host, peer->pid);
        if (type == EVO_MSG_SUBMIT)
            broker_refuse_submit(b, peer, body, size, reason);
        return 0;
    }
    switch (type) {
    case EVO_MSG_HEARTBEAT:
        return 0;
    case EVO_MSG_BYE:
        broker_drop_peer(b, peer, "said BYE");
        return 0;
    case EVO_MSG_RESULTS_PART:
        return worker ? broker_accept_results(b, peer, body, size, 0) : -1;
    case EVO_MSG_RESULTS:
        if (!worker || broker_accept_results(b, peer, body, size, 1) < 0)
            return -1;
        broker_drain_done(b, peer); /* a draining worker that holds nothing now leaves */
        return 0;
    case EVO_MSG_DRAIN:
        if (worker)
            return -1;
        if (!may(peer, BROKER_MAY_CONTROL)) {
            b->counters.auth_refused++;
            evo_info("refused a DRAIN from %s pid %u: its key may not drain workers", peer->host, peer->pid);
            return 0;
        }
        return broker_accept_drain(b, peer, body, size);
    case EVO_MSG_SUBMIT:
        return worker ? -1 : broker_accept_submit(b, peer, body, size);
    case EVO_MSG_WITHDRAW:
        return worker ? -1 : broker_accept_withdraw(b, peer, body, size);
    case EVO_MSG_SHARE:
        return worker ? -1 : broker_accept_share(b, peer, body, size);
    case EVO_MSG_BLOCKED:
        if (!worker || broker_accept_blocked(b, peer, body, size) < 0)
            return -1;
        broker_drain_done(b, peer);
        return 0;
    case EVO_MSG_STATS_REQUEST:
        on_stats_request(b, peer);
        return 0;
    default:
        return -1;
    }
}

static void on_message(struct evo_broker *b, struct evo_message *msg)
{
    size_t identity_size, size;
    const void *identity = evo_message_identity(msg, &identity_size);
    const void *body = evo_message_body(msg, &size);
    struct broker_peer *peer = broker_peer_by_identity(b, identity, identity_size);
    if (msg->type == EVO_MSG_HELLO) {
        on_hello(b, peer, identity, identity_size, body, size, evo_message_user_id(msg));
        return;
    }
    if (peer == NULL) {
        if (msg->type != EVO_MSG_BYE) /* tell a forgotten peer to start over */
            broker_send_to(b, identity, identity_size, EVO_MSG_RESET, NULL);
        return;
    }
    peer->last_recv_ms = evo_now_ms();
    if (on_peer_message(b, peer, msg->type, body, size) < 0) {
        b->counters.malformed++;
        evo_debug("malformed message type %d from %s pid %u dropped", msg->type, peer->host, peer->pid);
    }
}

void broker_take(struct evo_broker *b, struct evo_message *msg, int rc)
{
    if (rc == 1) {
        b->counters.malformed++;
        evo_debug("malformed message dropped: %s", msg->why);
    } else {
        on_message(b, msg);
    }
    evo_message_close(msg);
}

/* Whether a message off the ROUTER claims a routing id of the broker's
 * Unix-socket members: any ZeroMQ peer may choose its own id
 * (ZMQ_ROUTING_ID), and one that took a local member's would act, and be
 * answered, as that member. Such a message is refused and counted. */
static int claims_a_local_id(struct evo_broker *b, struct evo_message *msg)
{
    size_t size;
    const void *identity = evo_message_identity(msg, &size);
    if (!broker_unix_is_stream(identity, size))
        return 0;
    b->counters.auth_refused++;
    evo_debug("a ZeroMQ peer (key %s) claimed a local member's routing id: refused",
              evo_key_role_name(evo_key_role_of(evo_message_user_id(msg))));
    evo_message_close(msg);
    return 1;
}

static void drain_router(struct evo_broker *b)
{
    /* Bounded so that heartbeats and dispatch still happen under a flood. */
    for (int i = 0; i < 4096; i++) {
        struct evo_message msg;
        int rc = evo_message_recv(b->router, 1, &msg);
        if (rc < 0)
            return;
        if (!claims_a_local_id(b, &msg))
            broker_take(b, &msg, rc);
    }
}

/* Heartbeats out, silent workers expired, the rate sampled. */
static void housekeeping(struct evo_broker *b, int64_t now)
{
    int64_t expiry = (int64_t)b->options.heartbeat_ms * b->options.liveness;
    for (size_t i = 0; i < b->npeers; i++) {
        struct broker_peer *peer = b->peers[i];
        if (peer->serial == 0)
            continue;
        if (peer->kind == EVO_PEER_WORKER && now - peer->last_recv_ms > expiry) {
            broker_drop_peer(b, peer, "silent for too long");
            continue;
        }
        if (now - peer->last_send_ms >= b->options.heartbeat_ms)
            broker_send(b, peer, EVO_MSG_HEARTBEAT, NULL);
    }
    if (now - b->rate_mark_ms >= 2000) {
        uint64_t done = b->counters.done + b->counters.failed;
        b->counters.evaluations_per_second =
            (double)(done - b->rate_mark_done) * 1000.0 / (double)(now - b->rate_mark_ms);
        b->rate_mark_ms = now;
        b->rate_mark_done = done;
    }
    b->next_housekeeping_ms = now + (b->options.heartbeat_ms + 3) / 4;
}

int evo_broker_step(struct evo_broker *b, int extra_fd, int max_wait_ms)
{
    int64_t now = evo_now_ms();
    int wait = (int)(b->next_housekeeping_ms - now);
    if (wait < 0)
        wait = 0;
    if (max_wait_ms >= 0 && max_wait_ms < wait)
        wait = max_wait_ms;
    if (b->share_pumped) /* constants on their way: no waiting between their pieces */
        wait = 0;
    size_t fixed = extra_fd >= 0 ? 3 : 2; /* the ROUTER, ZAP, the caller's fd; then the Unix members */
    if (broker_items_reserve(b, 3) < 0)
        return -1;
    zmq_pollitem_t *items = b->items;
    items[0] = (zmq_pollitem_t){b->router, 0, ZMQ_POLLIN, 0};
    items[1] = (zmq_pollitem_t){evo_zap_socket(b->zap), 0, ZMQ_POLLIN, 0};
    items[2] = (zmq_pollitem_t){NULL, extra_fd, ZMQ_POLLIN, 0};
    int local = broker_unix_poll_items(b, fixed);
    if (local < 0)
        return -1;
    items = b->items; /* may have moved */
    int rc = zmq_poll(items, (int)fixed + local, wait);
    if (rc < 0 && zmq_errno() != EINTR) {
        evo_error("broker poll failed: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    int extra_ready = rc > 0 && extra_fd >= 0 && (items[2].revents & ZMQ_POLLIN);
    if (rc > 0 && (items[1].revents & ZMQ_POLLIN))
        evo_zap_handle(b->zap, &b->counters.auth_refused);
    if (rc > 0 && (items[0].revents & ZMQ_POLLIN))
        drain_router(b);
    if (rc > 0 && local > 0)
        broker_unix_serve(b, fixed);
    now = evo_now_ms();
    if (now >= b->next_housekeeping_ms)
        housekeeping(b, now);
    broker_share_pump(b);
    broker_dispatch(b);
    evo_journal_sync(b->options.journal); /* what the drivers are told is on disk first */
    broker_flush_outboxes(b);
    return extra_ready;
}

void evo_broker_worker_exited(struct evo_broker *b, const char *host, uint32_t pid)
{
    for (size_t i = 0; i < b->npeers; i++)
        if (b->peers[i]->serial && b->peers[i]->kind == EVO_PEER_WORKER && b->peers[i]->pid == pid &&
            strcmp(b->peers[i]->host, host) == 0)
            broker_drop_peer(b, b->peers[i], "process exited");
}

static void count_host(struct evo_stats *out, const char *host)
{
    for (unsigned h = 0; h < out->hosts; h++)
        if (strncmp(out->host[h].name, host, EVO_STATS_HOST_NAME - 1) == 0) {
            out->host[h].workers++;
            return;
        }
    if (out->hosts == EVO_STATS_MAX_HOSTS)
        return;
    size_t n = strnlen(host, EVO_STATS_HOST_NAME - 1); /* long names are truncated */
    memcpy(out->host[out->hosts].name, host, n);
    out->host[out->hosts].name[n] = '\0';
    out->host[out->hosts++].workers = 1;
}

void evo_broker_stats(const struct evo_broker *b, struct evo_stats *out)
{
    *out = b->counters;
    out->workers = out->drivers = out->hosts = 0;
    for (size_t i = 0; i < b->npeers; i++) {
        const struct broker_peer *peer = b->peers[i];
        if (peer->serial == 0)
            continue;
        if (peer->kind == EVO_PEER_DRIVER) {
            out->drivers += may(peer, BROKER_MAY_SUBMIT); /* a status reader (this one, say) is none */
            continue;
        }
        out->workers++;
        count_host(out, peer->host);
    }
    out->in_flight = b->in_flight;
    out->queued = b->tasks.count - b->in_flight;
}

void evo_broker_shut_down(struct evo_broker *b)
{
    for (size_t i = 0; i < b->npeers; i++)
        if (b->peers[i]->serial) {
            broker_send_to(b, b->peers[i]->identity, b->peers[i]->identity_size, EVO_MSG_BYE, NULL);
            if (b->peers[i]->kind == EVO_PEER_WORKER)
                b->workers--;
            broker_peer_remove(b, b->peers[i]);
        }
    b->shutting_down = 1;
}

int evo_broker_admit(struct evo_broker *b, enum evo_key_role role, const char *public_key)
{
    return evo_zap_admit(b->zap, public_key, evo_key_role_name(role));
}

uint64_t evo_broker_journal_hits(const struct evo_broker *b)
{
    return b->journal_hits;
}

unsigned evo_broker_workers_seen(const struct evo_broker *b)
{
    return b->workers_seen;
}

void evo_broker_destroy(struct evo_broker *b)
{
    if (b == NULL)
        return;
    if (b->router)
        evo_broker_shut_down(b);
    if (b->router) {
        int linger = 500; /* let the BYEs leave */
        zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(b->router);
    }
    broker_unix_close(b);
    evo_zap_destroy(b->zap);
    if (b->context)
        zmq_ctx_term(b->context);
    broker_shares_free(b);
    broker_peers_free(b);
    evo_task_table_free(&b->tasks);
    evo_id_queue_free(&b->queue);
    evo_buf_free(&b->scratch);
    free(b);
}

int evo_broker_hosts(const struct evo_broker *b, char *out, size_t size)
{
    struct evo_stats *stats = malloc(sizeof *stats);
    size_t used = 0;
    out[0] = '\0';
    if (stats == NULL)
        return (int)b->workers;
    evo_broker_stats(b, stats);
    for (unsigned h = 0; h < stats->hosts && used < size; h++) {
        int n =
            snprintf(out + used, size - used, "%s%s %u", used ? ", " : "", stats->host[h].name, stats->host[h].workers);
        used += n > 0 ? (size_t)n : 0;
    }
    int workers = (int)stats->workers;
    free(stats);
    return workers;
}
