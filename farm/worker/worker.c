/* worker.c — the worker's conversation with the broker (see worker.h and
 * docs/protocol.md). Batches that arrive while one is being evaluated wait
 * in a local FIFO; the evaluator's tick keeps the conversation going. */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evaluator.h"
#include "shared_dir.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/names.h"
#include "util/parse.h"
#include "wire/dealer.h"
#include "wire/results_pieces.h"
#include "wire/share_pieces.h"
#include "util/trace.h"

/* SIGTERM or SIGINT (the launcher stopping a worker that has not heard
 * BYE): leave as on BYE, so the evaluator child ends normally. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct batch {
    struct evo_input_list list;
    struct batch *next;
};

struct worker {
    const struct evo_config *config;
    const struct evo_credentials *creds;
    void *context;
    struct evo_dealer dealer;
    struct evo_evaluator *evaluator;
    struct batch *head, *tail;
    int reset;                 /* the broker forgot us: abandon the batches */
    int bye;                   /* the broker is shutting down */
    int blocked;               /* the call in progress waits on other tasks (a Python call on its own futures) */
    struct evo_buf buf;        /* the RESULTS of the batch being evaluated */
    struct evo_buf notice_buf; /* BLOCKED messages, sent while `buf` fills */
    struct evo_buf piece_buf;  /* a piece of a RESULTS too big for one message */
    struct evo_shared_dir shared;
    struct evo_share_progress share_in; /* the constant arriving in pieces */
};

static void drop_batches(struct worker *w)
{
    while (w->head) {
        struct batch *b = w->head;
        w->head = b->next;
        evo_input_list_free(&b->list);
        free(b);
    }
    w->tail = NULL;
}

/* A fresh socket and a HELLO. */
static int join(struct worker *w)
{
    char err[EVO_ERROR_MAX] = "";
    drop_batches(w);
    w->dealer.reads = w->config->evaluate.kind == EVO_EVALUATOR_PYTHON ? EVO_INPUT_PAYLOAD : EVO_INPUT_VECTOR;
    if (evo_dealer_join(&w->dealer, w->context, w->creds, EVO_PEER_WORKER, &w->buf, err, sizeof err) < 0) {
        if (evo_dealer_joined(&w->dealer))
            return -1;
        if (w->dealer.serial == 0 && w->creds->unix_socket[0]) /* never welcomed: the farm ended before we came */
            evo_info("%s", err);
        else
            evo_error("%s", err);
        return -1;
    }
    return 0;
}

/* Tells the broker whether the call in progress waits on other tasks; when
 * it does, gives back every batch not started (the tasks it waits on may be
 * among them), and the broker sends no more until it resumes. */
static void say_blocked(struct worker *w, int blocked)
{
    size_t count = 0, batches = 0, at = 0;
    for (struct batch *b = blocked ? w->head : NULL; b; b = b->next, batches++)
        count += b->list.count;
    uint64_t *ids = count ? malloc(count * sizeof *ids) : NULL;
    if (count && ids == NULL) {
        evo_warn("out of memory: cannot give back the tasks waiting behind a blocked call");
        count = batches = 0;
    }
    for (struct batch *b = count ? w->head : NULL; b; b = b->next)
        for (size_t i = 0; i < b->list.count; i++)
            ids[at++] = b->list.id[i];
    evo_buf_reset(&w->notice_buf);
    evo_proto_put_blocked(&w->notice_buf, blocked, (uint32_t)batches, ids, (uint32_t)count);
    if (w->dealer.welcomed && !w->notice_buf.failed)
        evo_dealer_send(&w->dealer, EVO_MSG_BLOCKED, &w->notice_buf);
    if (batches)
        drop_batches(w);
    free(ids);
}

static void on_blocked(void *arg, int blocked)
{
    struct worker *w = arg;
    w->blocked = blocked;
    evo_debug("the call in progress %s", blocked ? "waits on other tasks" : "resumed");
    say_blocked(w, blocked);
}

/* One piece of a constant (SHARE): written aside, and put in place for the
 * evaluators once whole. A failure is said once per constant. */
static void on_share(struct worker *w, struct evo_message *msg)
{
    size_t size;
    const void *body = evo_message_body(msg, &size);
    struct evo_share share;
    if (evo_proto_get_share(body, size, &share) < 0) {
        evo_warn("malformed SHARE from the broker dropped");
        return;
    }
    enum evo_share_step step = evo_share_progress_take(&w->share_in, &share);
    if (step == EVO_SHARE_OUT_OF_ORDER) {
        evo_warn("a piece of the shared constant '%s' out of order dropped, and the constant with it", share.name);
        evo_shared_dir_abandon(&w->shared);
        return;
    }
    if (share.offset == 0 && evo_shared_dir_begin(&w->shared, share.name) < 0)
        goto failed;
    if (!evo_shared_dir_writing(&w->shared)) /* its beginning failed, and was said */
        return;
    if (evo_shared_dir_write(&w->shared, share.value, share.size) < 0 ||
        (step == EVO_SHARE_WHOLE && evo_shared_dir_commit(&w->shared) < 0))
        goto failed;
    if (step == EVO_SHARE_WHOLE)
        evo_debug("shared constant '%s' (%zu bytes) stored", share.name, share.total);
    return;
failed:
    evo_error("cannot store the shared constant '%s' (%zu bytes) in %s: %s", share.name, share.total,
              w->shared.path[0] ? w->shared.path : "(no directory)", strerror(errno));
}

static void on_tasks(struct worker *w, struct evo_message *msg)
{
    size_t size;
    const void *body = evo_message_body(msg, &size);
    EVO_TRACE("worker.tasks");
    struct batch *b = calloc(1, sizeof *b);
    if (b == NULL || evo_proto_get_inputs(body, size, &b->list) < 0) {
        evo_warn("malformed TASKS from the broker dropped");
        free(b);
        return;
    }
    if (w->tail)
        w->tail->next = b;
    else
        w->head = b;
    w->tail = b;
    if (w->blocked) /* sent before the broker knew: straight back */
        say_blocked(w, 1);
}

static void on_message(struct worker *w, struct evo_message *msg)
{
    if (evo_dealer_take(&w->dealer, msg)) {
        if (msg->type == EVO_MSG_WELCOME && w->dealer.welcomed)
            evo_debug("joined the farm as worker %u", w->dealer.serial);
        return;
    }
    switch (msg->type) {
    case EVO_MSG_TASKS:
        on_tasks(w, msg);
        break;
    case EVO_MSG_SHARE:
        on_share(w, msg);
        break;
    case EVO_MSG_RESET:
        w->reset = 1;
        break;
    case EVO_MSG_BYE:
        if (!w->dealer.welcomed)
            evo_warn("the farm sent this worker away before welcoming it: its driver had finished, this worker was "
                     "drained, or its evaluator cannot take the farm's tasks (the farm's log says which)");
        w->bye = 1;
        break;
    default:
        evo_warn("unexpected message type %d from the broker dropped", msg->type);
    }
}

/* Reads everything pending and keeps the heartbeat going. Returns non-zero
 * when the current batch must be abandoned. Used as the evaluator's tick. */
static int converse(void *arg)
{
    struct worker *w = arg;
    struct evo_message msg;
    int rc;
    while ((rc = evo_dealer_recv(&w->dealer, &msg)) >= 0) {
        if (rc == 0)
            on_message(w, &msg);
        else
            evo_warn("malformed message from the broker dropped: %s", msg.why);
        evo_message_close(&msg);
    }
    int64_t now = evo_now_ms();
    evo_dealer_beat(&w->dealer, now);
    if (stop_requested)
        w->bye = 1;
    return w->reset || w->bye || evo_dealer_silent(&w->dealer, now);
}

static int send_results(void *arg, enum evo_msg_type type, const struct evo_buf *body)
{
    struct worker *w = arg;
    return evo_dealer_send(&w->dealer, type, body);
}

static void run_batch(struct worker *w)
{
    struct batch *b = w->head;
    int64_t start = evo_now_ns();
    w->head = b->next;
    if (w->head == NULL)
        w->tail = NULL;
    evo_buf_reset(&w->buf);
    evo_buf_put_u64(&w->buf, 0);
    evo_proto_begin_results(&w->buf, (uint32_t)b->list.count);
    int tick_ms = (int)(w->dealer.heartbeat_ms / 2 ? w->dealer.heartbeat_ms / 2 : 1);
    zmq_pollitem_t broker = evo_dealer_pollitem(&w->dealer);
    if (evo_evaluator_run(w->evaluator, &b->list, &w->buf, converse, w, tick_ms, &broker) == 0 && !w->reset &&
        !w->buf.failed) {
        uint64_t elapsed = (uint64_t)(evo_now_ns() - start);
        /* elapsed_ns leads the RESULTS body (docs/protocol.md). */
        for (int i = 0; i < 8; i++)
            w->buf.data[i] = (unsigned char)(elapsed >> (8 * i));
        EVO_TRACE("worker.results");
        evo_results_send(&w->buf, EVO_PROTO_MAX_MESSAGE, &w->piece_buf, send_results, w);
    }
    evo_input_list_free(&b->list);
    free(b);
}

/* Waits for the broker (at most one heartbeat) when there is no work. */
static void idle_wait(struct worker *w)
{
    zmq_pollitem_t item = evo_dealer_pollitem(&w->dealer);
    zmq_poll(&item, 1, evo_dealer_poll_ms(&w->dealer, -1, evo_now_ms()));
    converse(w);
}

/* Before the broker is taken for gone: one more heartbeat's wait for what
 * may be on its way. A worker that was not running (stopped, its node
 * busy) heard nothing because it did not look, and on waking judges the
 * silence before ZeroMQ's thread has handed it what arrived meanwhile.
 * Whether the broker was heard. */
static int heard_after_all(struct worker *w)
{
    zmq_pollitem_t item = evo_dealer_pollitem(&w->dealer);
    int64_t until = evo_now_ms() + w->dealer.heartbeat_ms;
    for (int64_t now = evo_now_ms(); now < until; now = evo_now_ms()) {
        zmq_poll(&item, 1, (long)(until - now));
        converse(w);
        if (!evo_dealer_silent(&w->dealer, evo_now_ms()))
            return 1;
    }
    return 0;
}

static int give_up_ms(void)
{
    return (int)evo_parse_env_unsigned(EVO_VAR_GIVE_UP, 86400, 60) * 1000;
}

/* The main loop; phases: (re)join with back-off, work, detect silence. */
static int worker_loop(struct worker *w)
{
    int64_t lost_since = 0;
    int backoff_ms = 100;
    if (join(w) < 0)
        return 1;
    while (!w->bye && !stop_requested) {
        if (w->head && w->dealer.welcomed)
            run_batch(w);
        else
            idle_wait(w);
        if (w->bye || stop_requested) /* told to go: the connection closing after BYE is no loss */
            break;
        int64_t now = evo_now_ms();
        if (w->reset || evo_dealer_silent(&w->dealer, now)) {
            /* A broker that welcomed us and then said nothing for heartbeat
             * x liveness is gone (a farm's broker is never restarted: its
             * keys die with it): exit now rather than retry for minutes.
             * Retrying is for a broker not reached yet. A closed local
             * socket is found by the join below. One heartbeat more is
             * given first (heard_after_all): the silence may be ours. */
            if (!w->reset && w->dealer.welcomed && w->dealer.lost) {
                /* The broker closes a live member's local connection only
                 * as it ends: no new one to the path (another user may
                 * have made a socket there since). */
                evo_error("the broker is gone (its connection at %s closed)", w->creds->unix_socket);
                return 1;
            }
            if (!w->reset && w->dealer.welcomed && !w->dealer.lost) {
                if (heard_after_all(w))
                    continue;
                now = evo_now_ms();
                evo_error("the broker at %s has been silent for %lld ms (heartbeat x liveness): it is gone",
                          w->creds->endpoint, (long long)(now - w->dealer.last_recv_ms));
                return 1;
            }
            if (!w->reset) {
                lost_since = lost_since ? lost_since : now;
                if (now - lost_since > give_up_ms()) {
                    evo_error("the broker at %s has not answered for %d s; giving up", w->creds->endpoint,
                              give_up_ms() / 1000);
                    return 1;
                }
                evo_info("broker silent; reconnecting in %d ms", backoff_ms);
                usleep((useconds_t)backoff_ms * 1000);
                backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
            }
            w->reset = 0;
            if (join(w) < 0)
                return 1;
        } else if (w->dealer.welcomed) {
            lost_since = 0;
            backoff_ms = 100;
        }
    }
    return 0;
}

/* The evaluator's view of the farm, put in our environment before it
 * starts (it inherits it): the nested pair as its own, so that futures
 * submitted from inside a task reach this farm with a key that may only
 * submit, and never our worker pair; the broker as we reach it. Without a
 * nested pair the evaluator gets no key at all. */
static void evaluator_environment(const struct evo_credentials *creds)
{
    char public_key[EVO_KEY_TEXT], secret[EVO_KEY_TEXT], err[EVO_ERROR_MAX];
    int nested =
        evo_key_pair_from_env(EVO_VAR_NESTED_PUBLIC, EVO_VAR_NESTED_SECRET, public_key, secret, err, sizeof err) == 0;
    unsetenv(EVO_VAR_NESTED_PUBLIC);
    unsetenv(EVO_VAR_NESTED_SECRET);
    if (!nested || setenv(EVO_VAR_CLIENT_PUBLIC, public_key, 1) || setenv(EVO_VAR_CLIENT_SECRET, secret, 1)) {
        unsetenv(EVO_VAR_CLIENT_PUBLIC);
        unsetenv(EVO_VAR_CLIENT_SECRET);
    }
    if (creds->endpoint[0] &&
        (setenv(EVO_VAR_ENDPOINT, creds->endpoint, 1) || setenv(EVO_VAR_SERVER_KEY, creds->server_public, 1)))
        evo_warn("cannot tell the evaluator where the farm is: %s", strerror(errno));
    explicit_bzero(secret, sizeof secret);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv(EVO_VAR_MEMBER_PID, pid, 1);
}

int evo_worker_main(const struct evo_config *config, const struct evo_credentials *creds, const char *self)
{
    struct worker w = {.config = config, .creds = creds};
    int rc = 1;
    signal(SIGPIPE, SIG_IGN);                               /* a dead evaluator must be an EPIPE, not our death */
    struct sigaction stop = {.sa_handler = on_stop_signal}; /* no SA_RESTART: waits end early */
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);
    w.dealer.heartbeat_ms = config->farm.heartbeat_ms; /* until the WELCOME says */
    w.dealer.liveness = config->farm.liveness;
    w.context = zmq_ctx_new();
    w.evaluator = evo_evaluator_create(config, self);
    if (w.context == NULL || w.evaluator == NULL) {
        evo_error("cannot start the worker: %s", strerror(errno));
        goto out;
    }
    evo_evaluator_on_blocked(w.evaluator, on_blocked, &w);
    if (evo_shared_dir_create(&w.shared, creds->server_public) <
        0) /* first: its name goes into the evaluators' environment */
        evo_warn("cannot create a directory for shared constants: %s (they will not reach this worker)",
                 strerror(errno));
    evaluator_environment(creds);
    evo_evaluator_start(w.evaluator); /* warm while the farm starts; a failure is told at the first batch */
    rc = worker_loop(&w);
    evo_dealer_leave(&w.dealer, !w.bye);
out:
    drop_batches(&w);
    evo_evaluator_destroy(w.evaluator);
    evo_dealer_leave(&w.dealer, 0);
    if (w.context)
        zmq_ctx_term(w.context);
    evo_buf_free(&w.buf);
    evo_buf_free(&w.notice_buf);
    evo_buf_free(&w.piece_buf);
    evo_shared_dir_remove(&w.shared);
    return rc;
}
