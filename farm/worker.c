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

#include "clock.h"
#include "evaluator.h"
#include "log.h"

struct batch {
    struct evo_vector_list list;
    struct batch *next;
};

struct worker {
    const struct evo_config *config;
    const struct evo_credentials *creds;
    void *context;
    void *socket;
    struct evo_evaluator *evaluator;
    struct batch *head, *tail;
    unsigned heartbeat_ms;
    unsigned liveness;
    int64_t last_recv_ms, last_send_ms;
    int welcomed;
    int reset; /* the broker forgot us: abandon the batches */
    int bye;   /* the broker is shutting down */
    struct evo_buf buf;
};

void evo_host_name(char *out, size_t size)
{
    const char *name = getenv("EVO_FARM_HOST");
    if (name == NULL || !name[0])
        name = getenv("PMIX_HOSTNAME");
    if (name && name[0]) {
        snprintf(out, size, "%s", name);
        return;
    }
    if (gethostname(out, size) != 0)
        snprintf(out, size, "unknown");
    out[size - 1] = '\0';
}

static int send_message(struct worker *w, enum evo_msg_type type, const struct evo_buf *body)
{
    /* Waiting longer than the broker's patience is pointless: it will have
     * requeued our work by then. */
    int patience = type == EVO_MSG_HEARTBEAT ? 0 : (int)(w->heartbeat_ms * w->liveness);
    if (evo_message_send_patiently(w->socket, type, body, patience) < 0)
        return -1;
    w->last_send_ms = evo_now_ms();
    return 0;
}

static void drop_batches(struct worker *w)
{
    while (w->head) {
        struct batch *b = w->head;
        w->head = b->next;
        evo_vector_list_free(&b->list);
        free(b);
    }
    w->tail = NULL;
}

/* A fresh socket and a HELLO. */
static int join(struct worker *w)
{
    char err[256];
    struct evo_hello hello = {.role = EVO_ROLE_WORKER, .pid = (uint32_t)getpid()};
    if (w->socket)
        zmq_close(w->socket);
    drop_batches(w);
    w->welcomed = 0;
    w->socket = evo_socket_connect_dealer(w->context, w->creds, err, sizeof err);
    if (w->socket == NULL) {
        evo_error("%s", err);
        return -1;
    }
    evo_host_name(hello.host, sizeof hello.host);
    evo_buf_reset(&w->buf);
    evo_proto_put_hello(&w->buf, &hello);
    w->last_recv_ms = evo_now_ms();
    return send_message(w, EVO_MSG_HELLO, &w->buf);
}

static void on_tasks(struct worker *w, struct evo_message *msg)
{
    size_t size;
    const void *body = evo_message_body(msg, &size);
    struct batch *b = calloc(1, sizeof *b);
    if (b == NULL || evo_proto_get_vectors(body, size, &b->list) < 0) {
        evo_warn("malformed TASKS from the broker dropped");
        free(b);
        return;
    }
    if (w->tail)
        w->tail->next = b;
    else
        w->head = b;
    w->tail = b;
}

static void on_message(struct worker *w, struct evo_message *msg)
{
    size_t size;
    const void *body = evo_message_body(msg, &size);
    struct evo_welcome welcome;
    w->last_recv_ms = evo_now_ms();
    switch (msg->type) {
    case EVO_MSG_WELCOME:
        if (evo_proto_get_welcome(body, size, &welcome) == 0) {
            w->heartbeat_ms = welcome.heartbeat_ms;
            w->liveness = welcome.liveness;
            w->welcomed = 1;
            evo_debug("joined the farm as worker %u", welcome.serial);
        }
        break;
    case EVO_MSG_TASKS:
        on_tasks(w, msg);
        break;
    case EVO_MSG_RESET:
        w->reset = 1;
        break;
    case EVO_MSG_BYE:
        w->bye = 1;
        break;
    case EVO_MSG_HEARTBEAT:
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
    while ((rc = evo_message_recv(w->socket, 0, &msg)) >= 0) {
        if (rc == 0)
            on_message(w, &msg);
        else
            evo_warn("malformed message from the broker dropped: %s", msg.why);
        evo_message_close(&msg);
    }
    int64_t now = evo_now_ms();
    if (now - w->last_send_ms >= w->heartbeat_ms)
        send_message(w, EVO_MSG_HEARTBEAT, NULL);
    int silent = now - w->last_recv_ms > (int64_t)w->heartbeat_ms * w->liveness;
    return w->reset || w->bye || silent;
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
    int tick_ms = (int)(w->heartbeat_ms / 2 ? w->heartbeat_ms / 2 : 1);
    if (evo_evaluator_run(w->evaluator, &b->list, &w->buf, converse, w, tick_ms) == 0 && !w->reset && !w->buf.failed) {
        uint64_t elapsed = (uint64_t)(evo_now_ns() - start);
        /* elapsed_ns leads the RESULTS body (docs/protocol.md). */
        for (int i = 0; i < 8; i++)
            w->buf.data[i] = (unsigned char)(elapsed >> (8 * i));
        send_message(w, EVO_MSG_RESULTS, &w->buf);
    }
    evo_vector_list_free(&b->list);
    free(b);
}

/* Waits for the broker (at most one heartbeat) when there is no work. */
static void idle_wait(struct worker *w)
{
    zmq_pollitem_t item = {w->socket, 0, ZMQ_POLLIN, 0};
    int64_t wait = w->heartbeat_ms - (evo_now_ms() - w->last_send_ms);
    zmq_poll(&item, 1, wait < 0 ? 0 : (long)wait);
    converse(w);
}

static int give_up_ms(void)
{
    const char *value = getenv("EVO_FARM_GIVE_UP");
    unsigned seconds = 60;
    if (value && evo_parse_unsigned(value, 1, 86400, &seconds) < 0)
        seconds = 60;
    return (int)seconds * 1000;
}

/* The main loop; phases: (re)join with back-off, work, detect silence. */
static int worker_loop(struct worker *w)
{
    int64_t lost_since = 0;
    int backoff_ms = 100;
    if (join(w) < 0)
        return 1;
    while (!w->bye) {
        if (w->head && w->welcomed)
            run_batch(w);
        else
            idle_wait(w);
        int64_t now = evo_now_ms();
        if (w->reset || now - w->last_recv_ms > (int64_t)w->heartbeat_ms * w->liveness) {
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
        } else if (w->welcomed) {
            lost_since = 0;
            backoff_ms = 100;
        }
    }
    return 0;
}

int evo_worker_main(const struct evo_config *config, const struct evo_credentials *creds, const char *self)
{
    struct worker w = {.config = config, .creds = creds};
    int rc = 1;
    signal(SIGPIPE, SIG_IGN); /* a dead evaluator must be an EPIPE, not our death */
    w.heartbeat_ms = config->farm.heartbeat_ms;
    w.liveness = config->farm.liveness;
    w.context = zmq_ctx_new();
    w.evaluator = evo_evaluator_create(config, self);
    if (w.context == NULL || w.evaluator == NULL) {
        evo_error("cannot start the worker: %s", strerror(errno));
        goto out;
    }
    rc = worker_loop(&w);
    if (w.socket && !w.bye) {
        int linger = 200; /* let the BYE leave */
        send_message(&w, EVO_MSG_BYE, NULL);
        zmq_setsockopt(w.socket, ZMQ_LINGER, &linger, sizeof linger);
    }
out:
    drop_batches(&w);
    evo_evaluator_destroy(w.evaluator);
    if (w.socket)
        zmq_close(w.socket);
    if (w.context)
        zmq_ctx_term(w.context);
    evo_buf_free(&w.buf);
    return rc;
}
