/* client.c — the driver side of the protocol (include/evofarm/client.h).
 * Results of a map in progress go straight into the caller's array; other
 * results wait in a FIFO for evo_client_wait. Error strings handed to the
 * caller live until the next map/wait call. */
#include "evofarm/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/names.h"
#include "util/parse.h"
#include "wire/dealer.h"
#include "wire/proto.h"
#include "wire/share_pieces.h"
#include "wire/transport.h"
#include "util/trace.h"

#define SUBMIT_CHUNK 4096       /* items per SUBMIT message at most, */
#define SUBMIT_BYTES (8u << 20) /* and about this many bytes */
#define WINDOW       65536      /* tasks in the farm at once, by default (EVO_FARM_WINDOW) */
#define WINDOW_MAX   (1u << 20) /* the broker's quota per driver (EVO_BROKER_DRIVER_QUOTA) */

struct evo_client {
    void *context;
    struct evo_dealer dealer;
    struct evo_credentials creds;
    uint64_t next_tag;
    size_t in_flight;         /* submitted, no result received yet */
    size_t window;            /* in_flight never goes above it */
    struct evo_result *ready; /* FIFO ring for wait() */
    size_t ready_head, ready_len, ready_cap;
    char **handed; /* strings given to the caller */
    size_t nhanded, handed_cap;
    uint64_t map_base;
    size_t map_count, map_got;
    struct evo_result *map_results;
    struct evo_stats *stats;
    int stats_ready;
    struct evo_buf buf;
    int wake_fd; /* an eventfd: evo_client_wake from another thread */
    int woken;
    char error[EVO_ERROR_MAX];
};

static int fail(struct evo_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct evo_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
    return -1;
}

const char *evo_client_last_error(const struct evo_client *c)
{
    return c->error;
}

size_t evo_client_outstanding(const struct evo_client *c)
{
    return c->in_flight + c->ready_len;
}

/* Why talking to the broker failed: the Unix socket closed (the broker
 * is gone), or what ZeroMQ said about a send. */
static int connection_failed(struct evo_client *c)
{
    if (c->dealer.lost)
        return fail(c, "lost the broker at %s: its connection closed", c->creds.unix_socket);
    return fail(c, "cannot send to the broker at %s: %s", c->dealer.stream ? c->creds.unix_socket : c->creds.endpoint,
                zmq_strerror(zmq_errno()));
}

static int send_message(struct evo_client *c, enum evo_msg_type type, const struct evo_buf *body)
{
    return evo_dealer_send(&c->dealer, type, body) < 0 ? connection_failed(c) : 0;
}

static void free_handed(struct evo_client *c)
{
    for (size_t i = 0; i < c->nhanded; i++)
        free(c->handed[i]);
    c->nhanded = 0;
}

/* Keeps p (malloc'd) until the next call. 0, or -1 after freeing it. */
static int hand_over(struct evo_client *c, void *p)
{
    if (c->nhanded == c->handed_cap) {
        size_t cap = c->handed_cap ? c->handed_cap * 2 : 64;
        char **h = realloc(c->handed, cap * sizeof *h);
        if (h == NULL) {
            free(p);
            return -1;
        }
        c->handed = h;
        c->handed_cap = cap;
    }
    c->handed[c->nhanded++] = p;
    return 0;
}

/* Hands a result's text and payload to the caller until the next call. */
static void keep(struct evo_client *c, struct evo_result *r)
{
    if (r->error && hand_over(c, (char *)r->error) < 0)
        r->error = "error text lost: out of memory";
    if (r->payload && hand_over(c, (void *)r->payload) < 0) {
        r->payload = NULL;
        r->ok = 0;
        r->error = "the answer was lost: out of memory in the driver";
    }
    if (r->ok == 0 && r->error == NULL) /* see on_done */
        r->error = "the answer was lost: out of memory in the driver";
}

static int push_ready(struct evo_client *c, const struct evo_result *r)
{
    if (c->ready_len == c->ready_cap) {
        size_t cap = c->ready_cap ? c->ready_cap * 2 : 256;
        struct evo_result *ring = malloc(cap * sizeof *ring);
        if (ring == NULL)
            return -1;
        for (size_t i = 0; i < c->ready_len; i++)
            ring[i] = c->ready[(c->ready_head + i) % c->ready_cap];
        free(c->ready);
        c->ready = ring;
        c->ready_head = 0;
        c->ready_cap = cap;
    }
    c->ready[(c->ready_head + c->ready_len++) % c->ready_cap] = *r;
    return 0;
}

/* A copy of an item's text (NUL-terminated) or payload for the caller;
 * NULL when it has none, or when out of memory (*lost set). */
static void *copy_out(const void *data, size_t size, int text, int *lost)
{
    if (data == NULL)
        return NULL;
    char *p = malloc(size + (text ? 1 : 0) + (size == 0));
    if (p == NULL) {
        *lost = 1;
        return NULL;
    }
    memcpy(p, data, size);
    if (text)
        p[size] = '\0';
    return p;
}

static void on_done(struct evo_client *c, const void *body, size_t size)
{
    struct evo_results_reader list;
    struct evo_result_item item;
    EVO_TRACE("client.done");
    if (evo_proto_results_open(body, size, 0, EVO_RESULT_ERROR, &list) < 0) {
        fail(c, "malformed DONE from the broker dropped");
        return;
    }
    while (evo_proto_results_next(&list, &item)) {
        int lost = 0;
        struct evo_result r = {
            .tag = item.id, .ok = item.status == EVO_RESULT_OK || item.status == EVO_RESULT_OK_PAYLOAD, .n = item.n};
        if (item.status == EVO_RESULT_WITHDRAWN)
            r.ok = EVO_CLIENT_WITHDRAWN;
        memcpy(r.objectives, item.objectives, sizeof r.objectives);
        /* The result owns copies of the text and the payload (freed via
         * handed once the caller has had them). */
        r.error = copy_out(item.text, item.text_size, 1, &lost);
        r.payload = copy_out(item.payload, item.payload_size, 0, &lost);
        r.payload_size = item.payload_size;
        if (lost) {
            free((void *)r.payload);
            free((char *)r.error);
            r = (struct evo_result){.tag = item.id}; /* keep() says why */
        }
        if (c->in_flight)
            c->in_flight--;
        if (c->map_results && r.tag >= c->map_base && r.tag - c->map_base < c->map_count) {
            r.tag -= c->map_base;
            keep(c, &r);
            c->map_results[r.tag] = r;
            c->map_got++;
        } else if (push_ready(c, &r) < 0) {
            free((char *)r.error);
            free((void *)r.payload);
        }
    }
}

static int on_message(struct evo_client *c, struct evo_message *msg)
{
    size_t size;
    const void *body = evo_message_body(msg, &size);
    if (evo_dealer_take(&c->dealer, msg))
        return 0;
    switch (msg->type) {
    case EVO_MSG_DONE:
        on_done(c, body, size);
        return 0;
    case EVO_MSG_STATS:
        if (c->stats && evo_proto_get_stats(body, size, c->stats) == 0)
            c->stats_ready = 1;
        return 0;
    case EVO_MSG_RESET:
        return fail(c, "the broker no longer knows this driver (it was restarted?); outstanding work is lost");
    case EVO_MSG_BYE:
        return fail(c, "the farm is shutting down");
    default:
        return 0;
    }
}

/* Waits up to wait_ms for messages and handles them; keeps the heartbeat.
 * 0, or -1 when the broker is lost. */
static int pump(struct evo_client *c, int wait_ms)
{
    zmq_pollitem_t items[2] = {evo_dealer_pollitem(&c->dealer), {NULL, c->wake_fd, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, c->wake_fd >= 0 ? 2 : 1, evo_dealer_poll_ms(&c->dealer, wait_ms, evo_now_ms())) < 0 &&
        zmq_errno() != EINTR)
        return fail(c, "poll: %s", zmq_strerror(zmq_errno()));
    uint64_t wakes;
    if (c->wake_fd >= 0 && (items[1].revents & ZMQ_POLLIN) && read(c->wake_fd, &wakes, sizeof wakes) > 0)
        c->woken = 1;
    struct evo_message msg;
    int rc, status = 0;
    while (status == 0 && (rc = evo_dealer_recv(&c->dealer, &msg)) >= 0) {
        if (rc == 0)
            status = on_message(c, &msg);
        evo_message_close(&msg);
    }
    int64_t now = evo_now_ms();
    if (status == 0 && evo_dealer_beat(&c->dealer, now) < 0)
        status = connection_failed(c);
    if (status == 0 && c->dealer.lost)
        status = connection_failed(c);
    if (status == 0 && c->dealer.welcomed && evo_dealer_silent(&c->dealer, now))
        status = fail(c, "lost the broker at %s: silent for %lld ms", c->creds.endpoint,
                      (long long)(now - c->dealer.last_recv_ms));
    return status;
}

static int connect_timeout_ms(void)
{
    return (int)evo_parse_env_unsigned(EVO_VAR_CONNECT_TIMEOUT, 3600, 10) * 1000;
}

static struct evo_client *client_start(struct evo_client *c, char *err, size_t err_size)
{
    evo_trace_init();
    if ((c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        goto error;
    c->window = evo_parse_env_unsigned(EVO_VAR_WINDOW, WINDOW_MAX, WINDOW);
    c->dealer.heartbeat_ms = 1000; /* until the WELCOME says */
    c->dealer.liveness = 3;
    if ((c->context = zmq_ctx_new()) == NULL)
        goto error;
    if (evo_dealer_join(&c->dealer, c->context, &c->creds, EVO_PEER_DRIVER, &c->buf, c->error, sizeof c->error) < 0) {
        if (evo_dealer_joined(&c->dealer))
            connection_failed(c);
        goto error;
    }
    int64_t deadline = evo_now_ms() + connect_timeout_ms();
    while (!c->dealer.welcomed && evo_now_ms() < deadline)
        if (pump(c, 100) < 0)
            goto error;
    if (!c->dealer.welcomed) {
        fail(c, "no answer from the broker at %s within %d s (is the farm running, and are these its credentials?)",
             c->creds.endpoint, connect_timeout_ms() / 1000);
        goto error;
    }
    c->dealer.last_recv_ms = evo_now_ms();
    return c;
error:
    snprintf(err, err_size, "%s", c->error[0] ? c->error : strerror(errno));
    evo_client_close(c);
    return NULL;
}

struct evo_client *evo_client_open(char *err, size_t err_size)
{
    struct evo_client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (evo_credentials_from_env(&c->creds, err, err_size) < 0) {
        free(c);
        return NULL;
    }
    return client_start(c, err, err_size);
}

struct evo_client *evo_client_connect(const char *endpoint, const char *server_public, const char *client_public,
                                      const char *client_secret, char *err, size_t err_size)
{
    struct evo_client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (strlen(endpoint) >= EVO_ENDPOINT_MAX || strlen(server_public) != EVO_KEY_TEXT - 1 ||
        strlen(client_public) != EVO_KEY_TEXT - 1 || strlen(client_secret) != EVO_KEY_TEXT - 1) {
        snprintf(err, err_size, "invalid endpoint or key length");
        free(c);
        return NULL;
    }
    strcpy(c->creds.endpoint, endpoint);
    strcpy(c->creds.server_public, server_public);
    strcpy(c->creds.client_public, client_public);
    strcpy(c->creds.client_secret, client_secret);
    return client_start(c, err, err_size);
}

/* Item i of a submission: its data and size (dimension or bytes). */
struct inputs {
    const double *x; /* vectors: row-major, dim each */
    size_t dim;
    const void *const *data; /* payloads */
    const size_t *sizes;
};

static const void *input_at(const struct inputs *in, size_t i, uint32_t *size)
{
    if (in->data) {
        *size = (uint32_t)in->sizes[i];
        return in->data[i];
    }
    *size = (uint32_t)in->dim;
    return in->x + i * in->dim;
}

/* Sends `count` inputs of one kind as SUBMIT messages of at most
 * SUBMIT_CHUNK items or about 8 MiB, tagged from c->next_tag, never more
 * than the window in the farm at once: while it is full, results are
 * received (into the map's array, or kept for evo_client_wait). */
static int submit_inputs(struct evo_client *c, enum evo_input_kind kind, const struct inputs *in, size_t count,
                         uint64_t *first_tag)
{
    if (first_tag)
        *first_tag = c->next_tag;
    for (size_t start = 0; start < count;) {
        size_t n = 0, most = c->window < SUBMIT_CHUNK ? c->window : SUBMIT_CHUNK;
        while (c->in_flight > c->window - most)
            if (pump(c, 1000) < 0)
                return -1;
        evo_buf_reset(&c->buf);
        evo_proto_begin_inputs(&c->buf, 0);
        while (start + n < count && n < most && (n == 0 || c->buf.len < SUBMIT_BYTES)) {
            uint32_t size;
            const void *data = input_at(in, start + n, &size);
            if (n > 0 && c->buf.len + evo_proto_input_bytes(kind, size) > EVO_PROTO_MAX_MESSAGE)
                break; /* no SUBMIT passes it: the next one starts with this input */
            evo_proto_put_input(&c->buf, c->next_tag + n, kind, size, data);
            n++;
        }
        evo_buf_patch_u32(&c->buf, 0, (uint32_t)n);
        EVO_TRACE("client.submit");
        if (send_message(c, EVO_MSG_SUBMIT, &c->buf) < 0)
            return -1;
        c->next_tag += n;
        c->in_flight += n;
        start += n;
    }
    return 0;
}

int evo_client_submit(struct evo_client *c, const double *x, size_t count, size_t dim, uint64_t *first_tag)
{
    struct inputs in = {.x = x, .dim = dim};
    if (dim == 0 || dim > EVO_MAX_DIMENSION)
        return fail(c, "dimension %zu is out of range (1..%u)", dim, EVO_MAX_DIMENSION);
    return submit_inputs(c, EVO_INPUT_VECTOR, &in, count, first_tag);
}

int evo_client_submit_payloads(struct evo_client *c, const void *const *data, const size_t *sizes, size_t count,
                               uint64_t *first_tag)
{
    struct inputs in = {.data = data, .sizes = sizes};
    for (size_t i = 0; i < count; i++)
        if (sizes[i] > EVO_PROTO_MAX_PAYLOAD)
            return fail(c, "payload %zu has %zu bytes (at most %u)", i, sizes[i], EVO_PROTO_MAX_PAYLOAD);
    return submit_inputs(c, EVO_INPUT_PAYLOAD, &in, count, first_tag);
}

long evo_client_map(struct evo_client *c, const double *x, size_t count, size_t dim, struct evo_result *results)
{
    long failed = 0;
    free_handed(c);
    for (size_t i = 0; i < count; i++)
        results[i] = (struct evo_result){.tag = i, .ok = 0, .error = "not evaluated"};
    c->map_results = results;
    c->map_count = count;
    c->map_got = 0;
    int rc = evo_client_submit(c, x, count, dim, &c->map_base);
    while (rc == 0 && c->map_got < count) {
        rc = pump(c, -1);
        if (rc == 0 && c->woken && c->map_got < count) { /* evo_client_wake: a signal handler, say */
            c->woken = 0;
            rc = fail(c, "interrupted");
        }
    }
    c->map_results = NULL;
    for (size_t i = 0; i < count; i++)
        failed += !results[i].ok;
    return rc < 0 ? -1 : failed;
}

int evo_client_wait(struct evo_client *c, struct evo_result *out, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : evo_now_ms() + timeout_ms;
    free_handed(c);
    while (c->ready_len == 0) {
        if (c->in_flight == 0)
            return fail(c, "nothing is outstanding");
        /* Always read what has arrived, even with no time left (timeout 0
         * is a poll, not a no-op). */
        int64_t left = deadline - evo_now_ms();
        if (pump(c, left <= 0 ? 0 : left > 1000 ? 1000 : (int)left) < 0)
            return -1;
        if (c->woken && c->ready_len == 0) {
            c->woken = 0;
            return 0;
        }
        if (c->ready_len == 0 && deadline - evo_now_ms() <= 0)
            return 0;
    }
    *out = c->ready[c->ready_head];
    c->ready_head = (c->ready_head + 1) % c->ready_cap;
    c->ready_len--;
    keep(c, out);
    return 1;
}

int evo_client_stats(struct evo_client *c, struct evo_stats *out)
{
    c->stats = out;
    c->stats_ready = 0;
    int64_t deadline = evo_now_ms() + connect_timeout_ms();
    int rc = send_message(c, EVO_MSG_STATS_REQUEST, NULL);
    while (rc == 0 && !c->stats_ready && evo_now_ms() < deadline)
        rc = pump(c, 100);
    c->stats = NULL;
    if (rc == 0 && !c->stats_ready)
        rc = fail(c, "the broker did not answer a stats request");
    return rc;
}

void evo_client_close(struct evo_client *c)
{
    if (c == NULL)
        return;
    evo_dealer_leave(&c->dealer, c->dealer.welcomed);
    if (c->context)
        zmq_ctx_term(c->context);
    free_handed(c);
    free(c->handed);
    for (size_t i = 0; i < c->ready_len; i++) {
        struct evo_result *r = &c->ready[(c->ready_head + i) % c->ready_cap];
        free((char *)r->error);
        free((void *)r->payload);
    }
    free(c->ready);
    evo_buf_free(&c->buf);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    free(c);
}

int evo_client_withdraw(struct evo_client *c, const uint64_t *tags, size_t count)
{
    for (size_t at = 0; at < count; at += SUBMIT_CHUNK) {
        size_t n = count - at < SUBMIT_CHUNK ? count - at : SUBMIT_CHUNK;
        evo_buf_reset(&c->buf);
        evo_proto_put_ids(&c->buf, tags + at, (uint32_t)n);
        if (send_message(c, EVO_MSG_WITHDRAW, &c->buf) < 0)
            return -1;
    }
    return 0;
}

/* evo_share_send's sender: one SHARE piece to the broker. */
static int send_share_piece(void *arg, const struct evo_buf *body)
{
    return send_message(arg, EVO_MSG_SHARE, body);
}

int evo_client_share(struct evo_client *c, const char *name, const void *value, size_t size)
{
    if (!evo_proto_share_name_ok(name, strlen(name)))
        return fail(c, "'%s' is not a constant name (1..%d letters, digits or _, not starting with a digit)", name,
                    EVO_PROTO_MAX_NAME);
    if (size > EVO_PROTO_MAX_SHARE)
        return fail(c, "constant '%s' is %zu bytes: at most %u can be shared", name, size, EVO_PROTO_MAX_SHARE);
    if (evo_share_send(&c->buf, name, value, size, send_share_piece, c) == 0)
        return 0;
    return c->buf.failed ? fail(c, "out of memory sharing '%s'", name) : -1; /* else said by send_message */
}

void evo_client_wake(struct evo_client *c)
{
    uint64_t one = 1;
    if (c && c->wake_fd >= 0 && write(c->wake_fd, &one, sizeof one) < 0)
        return; /* the counter is full: a wake is pending anyway */
}
