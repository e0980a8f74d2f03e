/* test_broker.c — the broker's guarantees, driven step by step: real
 * libzmq sockets with CURVE on loopback, and peers scripted by the test so
 * every interleaving is deterministic. */
#include "unit.h"
#include "unit_wire.h"
#include "unit_results.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/broker_internal.h" /* to look at the outboxes */
#include "util/clock.h"
#include "wire/proto.h"
#include "wire/stream.h"
#include "wire/transport.h"

struct fixture {
    struct evo_credentials creds;
    struct evo_broker *broker;
    void *context;
};

static struct fixture fx;
/* What start() gives the broker: with liveness 2, a test peer that says
 * nothing for 2 s is expired. Only lost_worker_exactly_once wants that
 * soon (50 ms); a loaded machine stalls a test longer than 100 ms. */
static unsigned heartbeat_ms = 1000;
static unsigned driver_quota; /* and this (0: the default) */

static void start(enum evo_scheduling scheduling, unsigned batch, unsigned prefetch, unsigned retries)
{
    char err[256];
    struct evo_broker_options o = {"tcp://127.0.0.1:*", scheduling, batch,        prefetch, retries,
                                   heartbeat_ms,        2,          driver_quota, NULL,     EVO_TASKS_ANY};
    assert_int_equal(evo_credentials_generate(&fx.creds), 0);
    fx.broker = evo_broker_create(&o, &fx.creds, err, sizeof err);
    if (fx.broker == NULL)
        fail_msg("%s", err);
    assert_int_equal(evo_broker_admit(fx.broker, EVO_KEY_ALL, fx.creds.client_public), 0);
    fx.context = zmq_ctx_new();
}

static void stop_broker(void)
{
    evo_broker_destroy(fx.broker);
    zmq_ctx_term(fx.context);
}

static void *peer(void)
{
    char err[256];
    void *s = evo_socket_connect_dealer(fx.context, &fx.creds, err, sizeof err);
    assert_non_null(s);
    return s;
}

static void say(void *s, enum evo_msg_type type, struct evo_buf *body)
{
    assert_int_equal(evo_message_send_patiently(s, type, body, 2000), 0);
}

/* HELLO from `host` in Slurm step `job` ("" outside Slurm). */
static void hello_from(void *s, uint8_t role, uint32_t pid, const char *host, const char *job)
{
    struct evo_buf b = {0};
    struct evo_hello h = {.kind = role, .pid = pid};
    snprintf(h.host, sizeof h.host, "%s", host);
    snprintf(h.job, sizeof h.job, "%s", job);
    evo_proto_put_hello(&b, &h);
    say(s, EVO_MSG_HELLO, &b);
    evo_buf_free(&b);
}

static void hello(void *s, uint8_t role, uint32_t pid)
{
    struct evo_buf b = {0};
    struct evo_hello h = {.kind = role, .pid = pid};
    strcpy(h.host, "testhost");
    evo_proto_put_hello(&b, &h);
    say(s, EVO_MSG_HELLO, &b);
    evo_buf_free(&b);
}

/* Steps the broker until `s` receives a message of `type` (heartbeats
 * skipped); its body is copied into *body. Fails after 3 s. */
static void expect(void *s, int type, struct evo_buf *body)
{
    int64_t deadline = evo_now_ms() + 3000;
    while (evo_now_ms() < deadline) {
        struct evo_message m;
        evo_broker_step(fx.broker, -1, 5);
        if (evo_message_recv(s, 0, &m) == 0 && unit_take(&m, type, body, ""))
            return;
    }
    fail_msg("no message of type %d within 3 s", type);
}

/* Steps the broker for ms milliseconds, draining (and ignoring) what the
 * given sockets receive. */
static void idle(int ms, void *a, void *b)
{
    int64_t until = evo_now_ms() + ms;
    while (evo_now_ms() < until) {
        struct evo_message m;
        evo_broker_step(fx.broker, -1, 5);
        for (void **s = (void *[]){a, b, NULL}; *s; s++)
            while (evo_message_recv(*s, 0, &m) >= 0)
                evo_message_close(&m);
    }
}

static void submit(void *driver, size_t n)
{
    struct evo_buf b = {0};
    evo_proto_begin_inputs(&b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        double x = (double)i + 0.5;
        evo_proto_put_vector(&b, i, 1, &x);
    }
    say(driver, EVO_MSG_SUBMIT, &b);
    evo_buf_free(&b);
}

/* Answers a TASKS body: f = x[0], or a failed attempt with `why`. */
static void answer(void *worker, const struct evo_buf *tasks, const char *why)
{
    struct evo_input_list l;
    struct evo_buf b = {0};
    assert_int_equal(evo_proto_get_inputs(tasks->data, tasks->len, &l), 0);
    evo_buf_put_u64(&b, 1000);
    evo_proto_begin_results(&b, (uint32_t)l.count);
    for (size_t i = 0; i < l.count; i++) {
        if (why)
            evo_proto_put_result_error(&b, l.id[i], EVO_RESULT_ATTEMPT_FAILED, why);
        else
            evo_proto_put_result_ok(&b, l.id[i], 1, &l.values[l.offset[i]]);
    }
    say(worker, EVO_MSG_RESULTS, &b);
    evo_input_list_free(&l);
    evo_buf_free(&b);
}

/* Collects DONE items until `n` arrived; checks each tag once and value. */
static void collect(void *driver, size_t n, int *seen)
{
    struct evo_buf b = {0};
    size_t got = 0;
    while (got < n) {
        struct unit_results l;
        expect(driver, EVO_MSG_DONE, &b);
        assert_int_equal(unit_get_results(b.data, b.len, 0, EVO_RESULT_ERROR, &l), 0);
        for (size_t i = 0; i < l.count; i++) {
            assert_true(l.items[i].id < n);
            assert_int_equal(seen[l.items[i].id]++, 0);
            assert_int_equal(l.items[i].status, EVO_RESULT_OK);
            assert_true(l.items[i].objectives[0] == (double)l.items[i].id + 0.5);
        }
        got += l.count;
        unit_results_free(&l);
    }
    evo_buf_free(&b);
}

static size_t batch_count(const struct evo_buf *tasks, uint64_t *first)
{
    struct evo_input_list l;
    assert_int_equal(evo_proto_get_inputs(tasks->data, tasks->len, &l), 0);
    size_t n = l.count;
    for (size_t i = 1; i < n; i++)
        assert_int_equal(l.id[i], l.id[0] + i); /* contiguous */
    *first = l.id[0];
    evo_input_list_free(&l);
    return n;
}

/* A worker goes silent holding tasks: they move to another worker, its
 * late results are refused or dropped, and the driver gets each once. */
static void lost_worker_exactly_once(void **state)
{
    (void)state;
    struct evo_buf held = {0}, tasks = {0};
    struct evo_stats s;
    int seen[8] = {0};
    uint64_t first;
    heartbeat_ms = 50;
    start(EVO_SCHEDULING_DYNAMIC, 4, 1, 2);
    heartbeat_ms = 1000;
    void *driver = peer(), *a = peer(), *b = peer();
    hello(driver, EVO_PEER_DRIVER, 1);
    expect(driver, EVO_MSG_WELCOME, NULL);
    hello(a, EVO_PEER_WORKER, 2);
    expect(a, EVO_MSG_WELCOME, NULL);
    submit(driver, 8);
    expect(a, EVO_MSG_TASKS, &held);
    assert_int_equal(batch_count(&held, &first), 4);
    idle(300, driver, NULL); /* a says nothing: expired after 2 x 50 ms */
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.workers, 0);
    assert_int_equal(s.requeued, 4);
    hello(b, EVO_PEER_WORKER, 3);
    expect(b, EVO_MSG_WELCOME, NULL);
    expect(b, EVO_MSG_TASKS, &tasks);
    assert_int_equal(batch_count(&tasks, &first), 4);
    assert_int_equal(first, 1); /* the requeued ones come first */
    answer(b, &tasks, NULL);
    expect(b, EVO_MSG_TASKS, &tasks);
    answer(b, &tasks, NULL);
    collect(driver, 8, seen);
    /* Late: first as a forgotten peer (RESET), then after a new HELLO. */
    answer(a, &held, NULL);
    expect(a, EVO_MSG_RESET, NULL);
    hello(a, EVO_PEER_WORKER, 2);
    expect(a, EVO_MSG_WELCOME, NULL);
    answer(a, &held, NULL);
    idle(50, driver, a);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.late_dropped, 4);
    assert_int_equal(s.done, 8);
    assert_int_equal(s.queued + s.in_flight, 0);
    struct evo_message m;
    assert_int_equal(evo_message_recv(driver, 0, &m), -1); /* nothing more */
    zmq_close(driver), zmq_close(a), zmq_close(b);
    evo_buf_free(&held), evo_buf_free(&tasks);
    stop_broker();
}

static void static_scheduling_cuts_the_queue_in_chunks(void **state)
{
    (void)state;
    struct evo_buf t1 = {0}, t2 = {0};
    uint64_t f1, f2;
    int seen[10] = {0};
    start(EVO_SCHEDULING_STATIC, 0, 2, 2);
    void *driver = peer(), *a = peer(), *b = peer();
    hello(a, EVO_PEER_WORKER, 2);
    expect(a, EVO_MSG_WELCOME, NULL);
    hello(b, EVO_PEER_WORKER, 3);
    expect(b, EVO_MSG_WELCOME, NULL);
    hello(driver, EVO_PEER_DRIVER, 1);
    expect(driver, EVO_MSG_WELCOME, NULL);
    submit(driver, 10);
    expect(a, EVO_MSG_TASKS, &t1);
    expect(b, EVO_MSG_TASKS, &t2);
    assert_int_equal(batch_count(&t1, &f1), 5);
    assert_int_equal(batch_count(&t2, &f2), 5);
    assert_true((f1 == 1 && f2 == 6) || (f1 == 6 && f2 == 1));
    answer(a, &t1, NULL);
    answer(b, &t2, NULL);
    collect(driver, 10, seen);
    zmq_close(driver), zmq_close(a), zmq_close(b);
    evo_buf_free(&t1), evo_buf_free(&t2);
    stop_broker();
}

/* However many tasks wait, one TASKS holds at most 65,536 of them (the
 * protocol allows 1,048,576; a bigger one would be dropped by the worker
 * as malformed while the broker counts it in flight): static scheduling of
 * 70,000 tasks on one worker goes in two batches. */
static void static_chunks_capped(void **state)
{
    (void)state;
    struct evo_buf t = {0};
    uint64_t first;
    int *seen = calloc(70000, sizeof *seen);
    heartbeat_ms = 2000; /* answering 65,536 tasks takes a while under ASan: no expiry meanwhile */
    start(EVO_SCHEDULING_STATIC, 0, 2, 2);
    heartbeat_ms = 1000;
    void *driver = peer(), *w = peer();
    hello(w, EVO_PEER_WORKER, 2);
    expect(w, EVO_MSG_WELCOME, NULL);
    hello(driver, EVO_PEER_DRIVER, 1);
    expect(driver, EVO_MSG_WELCOME, NULL);
    submit(driver, 70000);
    expect(w, EVO_MSG_TASKS, &t);
    assert_int_equal(batch_count(&t, &first), 65536);
    answer(w, &t, NULL);
    expect(w, EVO_MSG_TASKS, &t);
    assert_int_equal(batch_count(&t, &first), 70000 - 65536);
    answer(w, &t, NULL);
    collect(driver, 70000, seen);
    zmq_close(driver), zmq_close(w);
    evo_buf_free(&t);
    free(seen);
    stop_broker();
}

/* A driver that leaves takes its outbox's memory with it: 40 drivers one
 * after the other leave one slot, without a buffer once its driver is
 * gone. */
static void outboxes_go_with_their_drivers(void **state)
{
    (void)state;
    struct evo_buf t = {0};
    start(EVO_SCHEDULING_DYNAMIC, 0, 1, 0);
    void *w = peer();
    hello(w, EVO_PEER_WORKER, 2);
    expect(w, EVO_MSG_WELCOME, NULL);
    for (int i = 0; i < 40; i++) {
        int seen[1] = {0};
        void *d = peer();
        hello(d, EVO_PEER_DRIVER, 100 + (uint32_t)i);
        expect(d, EVO_MSG_WELCOME, NULL);
        submit(d, 1);
        expect(w, EVO_MSG_TASKS, &t);
        answer(w, &t, NULL);
        collect(d, 1, seen);
        say(d, EVO_MSG_BYE, NULL);
        idle(20, d, w);
        zmq_close(d);
    }
    /* one slot for the worker, one reused by each driver in turn; a gone
     * driver's results buffer freed with it */
    assert_int_equal(fx.broker->npeers, 2);
    assert_null(fx.broker->outboxes);
    for (size_t i = 0; i < fx.broker->npeers; i++)
        if (fx.broker->peers[i]->serial == 0)
            assert_null(fx.broker->peers[i]->outbox.data);
    zmq_close(w);
    evo_buf_free(&t);
    stop_broker();
}

static void retries_then_error(void **state)
{
    (void)state;
    struct evo_buf t = {0}, done = {0};
    struct unit_results l;
    struct evo_stats s;
    start(EVO_SCHEDULING_DYNAMIC, 1, 1, 2);
    void *driver = peer(), *w = peer();
    hello(driver, EVO_PEER_DRIVER, 1);
    expect(driver, EVO_MSG_WELCOME, NULL);
    hello(w, EVO_PEER_WORKER, 2);
    expect(w, EVO_MSG_WELCOME, NULL);
    submit(driver, 1);
    for (int attempt = 0; attempt < 3; attempt++) {
        expect(w, EVO_MSG_TASKS, &t);
        answer(w, &t, "evaluator killed by signal 9");
    }
    expect(driver, EVO_MSG_DONE, &done);
    assert_int_equal(unit_get_results(done.data, done.len, 0, EVO_RESULT_ERROR, &l), 0);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.items[0].status, EVO_RESULT_ERROR);
    assert_string_equal(l.items[0].text, "task 0 failed after 3 attempts: evaluator killed by signal 9");
    unit_results_free(&l);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.retried, 2);
    zmq_close(driver), zmq_close(w);
    evo_buf_free(&t), evo_buf_free(&done);
    stop_broker();
}

/* A driver beyond its quota gets an error for each task over it, at once;
 * finished tasks give their room back. */
static void driver_quota_refuses_the_excess(void **state)
{
    (void)state;
    struct evo_buf t = {0}, done = {0};
    struct unit_results l;
    struct evo_stats s;
    driver_quota = 5;
    start(EVO_SCHEDULING_DYNAMIC, 8, 1, 0);
    driver_quota = 0;
    void *driver = peer(), *w = peer();
    hello(driver, EVO_PEER_DRIVER, 1);
    expect(driver, EVO_MSG_WELCOME, NULL);
    submit(driver, 8);
    expect(driver, EVO_MSG_DONE, &done);
    assert_int_equal(unit_get_results(done.data, done.len, 0, EVO_RESULT_ERROR, &l), 0);
    assert_int_equal(l.count, 3);
    for (size_t i = 0; i < l.count; i++) {
        assert_int_equal(l.items[i].id, 5 + i);
        assert_int_equal(l.items[i].status, EVO_RESULT_ERROR);
        assert_non_null(strstr(l.items[i].text, "quota"));
    }
    unit_results_free(&l);
    hello(w, EVO_PEER_WORKER, 2);
    expect(w, EVO_MSG_WELCOME, NULL);
    for (int round = 0; round < 2; round++) { /* the second: room given back */
        int seen[5] = {0};
        expect(w, EVO_MSG_TASKS, &t);
        assert_int_equal(batch_count(&t, &(uint64_t){0}), 5);
        answer(w, &t, NULL);
        collect(driver, 5, seen);
        if (round == 0)
            submit(driver, 5);
    }
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.failed, 3);
    assert_int_equal(s.done, 10);
    zmq_close(driver), zmq_close(w);
    evo_buf_free(&t), evo_buf_free(&done);
    stop_broker();
}

/* A peer connecting with the farm's key for `role` (admitted now). */
static void *peer_as(const struct evo_role_keys *keys, enum evo_key_role role)
{
    char err[256];
    struct evo_credentials c = fx.creds;
    memcpy(c.client_public, keys->public_key[role], EVO_KEY_TEXT);
    memcpy(c.client_secret, keys->secret[role], EVO_KEY_TEXT);
    void *s = evo_socket_connect_dealer(fx.context, &c, err, sizeof err);
    assert_non_null(s);
    return s;
}

/* A SUBMIT of 2 from `s` is answered with an error per task naming `key`. */
static void submit_refused(void *s, const char *key)
{
    struct evo_buf done = {0};
    struct unit_results l;
    submit(s, 2);
    expect(s, EVO_MSG_DONE, &done);
    assert_int_equal(unit_get_results(done.data, done.len, 0, EVO_RESULT_ERROR, &l), 0);
    assert_int_equal(l.count, 2);
    for (size_t i = 0; i < l.count; i++) {
        assert_int_equal(l.items[i].status, EVO_RESULT_ERROR);
        assert_non_null(strstr(l.items[i].text, key));
    }
    unit_results_free(&l);
    evo_buf_free(&done);
}

/* A DEALER holding the farm's key for `role` that chooses its own routing
 * id, as any ZeroMQ client may (ZMQ_ROUTING_ID). */
static void *peer_with_id(const struct evo_role_keys *keys, enum evo_key_role role, const void *id, size_t size)
{
    int zero = 0;
    void *s = zmq_socket(fx.context, ZMQ_DEALER);
    assert_non_null(s);
    assert_int_equal(zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, fx.creds.server_public, EVO_KEY_TEXT - 1), 0);
    assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, keys->public_key[role], EVO_KEY_TEXT - 1), 0);
    assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, keys->secret[role], EVO_KEY_TEXT - 1), 0);
    assert_int_equal(zmq_setsockopt(s, ZMQ_ROUTING_ID, id, size), 0);
    assert_int_equal(zmq_connect(s, fx.creds.endpoint), 0);
    return s;
}

/* The broker listens on a Unix socket, `broker` in a fresh directory made
 * from the template dir; its path in path. */
static void listen_locally(char *dir, char *path, size_t size)
{
    char err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, size, "%s/broker", dir);
    assert_int_equal(evo_broker_listen_unix(fx.broker, path, err, sizeof err), 0);
}

/* A member on the broker's Unix socket at path says HELLO as `kind`
 * holding `key` (NULL: none); the first WELCOME or BYE it hears (0: none
 * within 3 s) in *answer. */
static struct evo_stream *local_member(const char *path, uint8_t kind, const char *key, int *answer)
{
    char err[256];
    struct evo_message m;
    struct evo_stream *local = evo_stream_connect(path, err, sizeof err);
    assert_non_null(local);
    struct evo_buf b = {0};
    struct evo_hello h = {.kind = kind, .pid = 1};
    strcpy(h.host, "testhost");
    snprintf(h.key, sizeof h.key, "%s", key ? key : "");
    evo_proto_put_hello(&b, &h);
    assert_int_equal(evo_stream_send(local, EVO_MSG_HELLO, &b, 1000), 0);
    evo_buf_free(&b);
    *answer = 0;
    for (int i = 0; i < 3000 && *answer == 0; i++) {
        evo_broker_step(fx.broker, -1, 1);
        if (evo_stream_recv(local, &m, NULL, 0) == 0) {
            *answer = m.type == EVO_MSG_WELCOME || m.type == EVO_MSG_BYE ? m.type : 0;
            evo_message_close(&m);
        }
    }
    return local;
}

/* A member on the broker's Unix socket (the driver of `evo-farm run`, of
 * rank 0) has a routing id the broker makes up. A ZeroMQ peer holding only
 * the status key that takes that id gets none of the member's rights: its
 * SUBMIT is refused and counted, nothing is queued, no RESET reaches the
 * member, and the member's own SUBMIT is still taken. */
static void a_local_members_routing_id_cannot_be_taken(void **state)
{
    (void)state;
    char dir[] = "/tmp/evo-test-forge-XXXXXX", path[64];
    struct evo_role_keys keys;
    struct evo_stats s;
    struct evo_message m;
    int answer;
    start(EVO_SCHEDULING_DYNAMIC, 8, 1, 0);
    assert_int_equal(evo_role_keys_generate(&keys), 0);
    assert_int_equal(evo_broker_admit(fx.broker, EVO_KEY_STATUS, keys.public_key[EVO_KEY_STATUS]), 0);
    assert_int_equal(evo_broker_admit(fx.broker, EVO_KEY_DRIVER, keys.public_key[EVO_KEY_DRIVER]), 0);
    listen_locally(dir, path, sizeof path);
    struct evo_stream *local = local_member(path, EVO_PEER_DRIVER, keys.public_key[EVO_KEY_DRIVER], &answer);
    assert_int_equal(answer, EVO_MSG_WELCOME);
    struct evo_buf b = {0};
    const unsigned char first_stream[] = {0, 0xff, 'S', 1, 0, 0, 0};
    void *forger = peer_with_id(&keys, EVO_KEY_STATUS, first_stream, sizeof first_stream);
    submit(forger, 2);
    idle(500, forger, NULL);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.queued, 0);
    assert_int_equal(s.auth_refused, 1);
    while (evo_stream_recv(local, &m, NULL, 0) == 0) { /* heartbeats only */
        assert_int_equal(m.type, EVO_MSG_HEARTBEAT);
        evo_message_close(&m);
    }
    evo_buf_reset(&b);
    evo_proto_begin_inputs(&b, 1);
    evo_proto_put_vector(&b, 0, 1, &(double){0.5});
    assert_int_equal(evo_stream_send(local, EVO_MSG_SUBMIT, &b, 1000), 0);
    idle(200, forger, NULL);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.queued, 1);
    evo_buf_free(&b);
    zmq_close(forger);
    evo_stream_close(local);
    stop_broker();
    unlink(path);
    rmdir(dir);
}

/* No CURVE on the Unix socket: a member there names in its HELLO the key
 * it holds and gets that key's role, as over ZeroMQ. Without one of the
 * farm's keys it is refused; the nested key (every evaluator's) may submit
 * but not take work; the status key may not submit. */
static void a_local_member_has_its_keys_role(void **state)
{
    (void)state;
    char dir[] = "/tmp/evo-test-role-XXXXXX", path[64];
    struct evo_role_keys keys, strangers;
    struct evo_stats s;
    struct evo_message m;
    int answer;
    start(EVO_SCHEDULING_DYNAMIC, 8, 1, 0);
    assert_int_equal(evo_role_keys_generate(&keys), 0);
    assert_int_equal(evo_role_keys_generate(&strangers), 0);
    assert_int_equal(evo_broker_admit(fx.broker, EVO_KEY_STATUS, keys.public_key[EVO_KEY_STATUS]), 0);
    assert_int_equal(evo_broker_admit(fx.broker, EVO_KEY_NESTED, keys.public_key[EVO_KEY_NESTED]), 0);
    listen_locally(dir, path, sizeof path);
    struct evo_stream *none = local_member(path, EVO_PEER_DRIVER, NULL, &answer);
    assert_int_equal(answer, EVO_MSG_BYE);
    struct evo_stream *stranger = local_member(path, EVO_PEER_DRIVER, strangers.public_key[EVO_KEY_NESTED], &answer);
    assert_int_equal(answer, EVO_MSG_BYE);
    struct evo_stream *evaluator = local_member(path, EVO_PEER_WORKER, keys.public_key[EVO_KEY_NESTED], &answer);
    assert_int_equal(answer, EVO_MSG_BYE); /* an evaluator takes no work */
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.auth_refused, 3);
    assert_int_equal(s.workers, 0);
    struct evo_stream *nested = local_member(path, EVO_PEER_DRIVER, keys.public_key[EVO_KEY_NESTED], &answer);
    assert_int_equal(answer, EVO_MSG_WELCOME);
    struct evo_stream *status = local_member(path, EVO_PEER_DRIVER, keys.public_key[EVO_KEY_STATUS], &answer);
    assert_int_equal(answer, EVO_MSG_WELCOME);
    struct evo_buf b = {0};
    evo_proto_begin_inputs(&b, 1);
    evo_proto_put_vector(&b, 0, 1, &(double){0.5});
    assert_int_equal(evo_stream_send(status, EVO_MSG_SUBMIT, &b, 1000), 0);
    assert_int_equal(evo_stream_send(nested, EVO_MSG_SUBMIT, &b, 1000), 0);
    int refused = 0;
    for (int i = 0; i < 3000 && !refused; i++) {
        evo_broker_step(fx.broker, -1, 1);
        if (evo_stream_recv(status, &m, NULL, 0) == 0) {
            refused = m.type == EVO_MSG_DONE;
            evo_message_close(&m);
        }
    }
    assert_true(refused);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.queued, 1); /* the nested member's */
    assert_int_equal(s.auth_refused, 4);
    evo_buf_free(&b);
    evo_stream_close(none);
    evo_stream_close(stranger);
    evo_stream_close(evaluator);
    evo_stream_close(nested);
    evo_stream_close(status);
    stop_broker();
    unlink(path);
    rmdir(dir);
}

/* Each key may do what its role allows and nothing else (wire/credentials.h):
 * the worker and status keys cannot submit, the driver, nested and status
 * keys cannot take work; each refusal is counted; the driver's and the
 * nested work are done by a worker-key worker. */
static void keys_by_role(void **state)
{
    (void)state;
    struct evo_role_keys keys;
    struct evo_buf t = {0};
    struct evo_stats s;
    start(EVO_SCHEDULING_DYNAMIC, 8, 1, 0);
    assert_int_equal(evo_role_keys_generate(&keys), 0);
    for (int r = 0; r < EVO_KEY_ROLES; r++)
        assert_int_equal(evo_broker_admit(fx.broker, (enum evo_key_role)r, keys.public_key[r]), 0);
    void *as_worker = peer_as(&keys, EVO_KEY_WORKER), *as_status = peer_as(&keys, EVO_KEY_STATUS);
    void *as_nested = peer_as(&keys, EVO_KEY_NESTED), *as_driver = peer_as(&keys, EVO_KEY_DRIVER);
    hello(as_worker, EVO_PEER_DRIVER, 1); /* admitted, but only to read statistics */
    expect(as_worker, EVO_MSG_WELCOME, NULL);
    submit_refused(as_worker, "the farm's worker key, which may only take work and return results");
    hello(as_status, EVO_PEER_DRIVER, 2);
    expect(as_status, EVO_MSG_WELCOME, NULL);
    submit_refused(as_status, "the farm's status key, which may only read statistics");
    struct evo_buf drain = {0};
    evo_proto_put_drain(&drain, "testhost");
    say(as_status, EVO_MSG_DRAIN, &drain); /* a status key may not drain: dropped and counted */
    say(as_worker, EVO_MSG_DRAIN, &drain);
    evo_buf_free(&drain);
    hello(as_status, EVO_PEER_WORKER, 2);
    expect(as_status, EVO_MSG_BYE, NULL);
    hello(as_nested, EVO_PEER_WORKER, 3);
    expect(as_nested, EVO_MSG_BYE, NULL);
    hello(as_driver, EVO_PEER_WORKER, 4);
    expect(as_driver, EVO_MSG_BYE, NULL);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.auth_refused, 7);
    assert_int_equal(s.workers, 0);
    assert_int_equal(s.queued, 0);
    hello(as_driver, EVO_PEER_DRIVER, 4);
    expect(as_driver, EVO_MSG_WELCOME, NULL);
    hello(as_nested, EVO_PEER_DRIVER, 3);
    expect(as_nested, EVO_MSG_WELCOME, NULL);
    hello(as_worker, EVO_PEER_WORKER, 1); /* the same connection, now as what its key is for */
    expect(as_worker, EVO_MSG_WELCOME, NULL);
    submit(as_driver, 2);
    submit(as_nested, 3);
    for (int got = 0; got < 5;) {
        expect(as_worker, EVO_MSG_TASKS, &t);
        got += (int)batch_count(&t, &(uint64_t){0});
        answer(as_worker, &t, NULL);
    }
    int seen_driver[2] = {0}, seen_nested[3] = {0};
    collect(as_driver, 2, seen_driver);
    collect(as_nested, 3, seen_nested);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.done, 5);
    assert_int_equal(s.auth_refused, 7);
    assert_int_equal(s.drivers, 2);
    zmq_close(as_worker), zmq_close(as_status), zmq_close(as_nested), zmq_close(as_driver);
    evo_buf_free(&t);
    stop_broker();
}

/* DRAIN by Slurm job: the worker of job 77 gets no more work, returns what
 * it holds and is told BYE; nothing it held is requeued; the other worker
 * does the rest; a later worker of job 77 is sent away at once; then a
 * drain by host sends the other away. A control key may drain. */
static void drain_lets_workers_finish(void **state)
{
    (void)state;
    struct evo_buf t = {0}, held = {0}, body = {0};
    struct evo_role_keys keys;
    struct evo_stats s;
    int seen[8] = {0};
    uint32_t count = 0;
    start(EVO_SCHEDULING_DYNAMIC, 2, 1, 0);
    assert_int_equal(evo_role_keys_generate(&keys), 0);
    assert_int_equal(evo_broker_admit(fx.broker, EVO_KEY_CONTROL, keys.public_key[EVO_KEY_CONTROL]), 0);
    void *driver = peer(), *a = peer(), *b = peer(), *late = peer(), *ctl = peer_as(&keys, EVO_KEY_CONTROL);
    hello(driver, EVO_PEER_DRIVER, 1);
    expect(driver, EVO_MSG_WELCOME, NULL);
    hello_from(a, EVO_PEER_WORKER, 2, "node2", "77.0");
    expect(a, EVO_MSG_WELCOME, NULL);
    submit(driver, 8);
    expect(a, EVO_MSG_TASKS, &held);
    hello_from(b, EVO_PEER_WORKER, 3, "node1", "76.0");
    expect(b, EVO_MSG_WELCOME, NULL);
    hello(ctl, EVO_PEER_DRIVER, 4);
    expect(ctl, EVO_MSG_WELCOME, NULL);
    evo_proto_put_drain(&body, "77");
    say(ctl, EVO_MSG_DRAIN, &body);
    expect(ctl, EVO_MSG_DRAINED, &body);
    assert_int_equal(evo_proto_get_drained(body.data, body.len, &count), 0);
    assert_int_equal(count, 1);
    answer(a, &held, NULL);
    expect(a, EVO_MSG_BYE, NULL);
    for (int got = (int)batch_count(&held, &(uint64_t){0}); got < 8;) {
        expect(b, EVO_MSG_TASKS, &t);
        got += (int)batch_count(&t, &(uint64_t){0});
        answer(b, &t, NULL);
    }
    collect(driver, 8, seen);
    hello_from(late, EVO_PEER_WORKER, 5, "node2", "77.1");
    expect(late, EVO_MSG_BYE, NULL);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.done, 8);
    assert_int_equal(s.requeued, 0);
    assert_int_equal(s.workers, 1);
    assert_int_equal(s.drivers, 1);
    evo_buf_reset(&body); /* by host: the other worker, holding nothing, is told BYE at once */
    evo_proto_put_drain(&body, "node1");
    say(ctl, EVO_MSG_DRAIN, &body);
    expect(ctl, EVO_MSG_DRAINED, &body);
    assert_int_equal(evo_proto_get_drained(body.data, body.len, &count), 0);
    assert_int_equal(count, 1);
    expect(b, EVO_MSG_BYE, NULL);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.workers, 0);
    zmq_close(driver), zmq_close(a), zmq_close(b), zmq_close(late), zmq_close(ctl);
    evo_buf_free(&t), evo_buf_free(&held), evo_buf_free(&body);
    stop_broker();
}

/* Protocol breakers are counted and dropped; strangers get RESET. */
static void malformed_and_strangers(void **state)
{
    (void)state;
    struct evo_stats s;
    start(EVO_SCHEDULING_DYNAMIC, 0, 2, 2);
    void *x = peer();
    say(x, EVO_MSG_HEARTBEAT, NULL);
    expect(x, EVO_MSG_RESET, NULL);
    zmq_send(x, "EF\x07\x04", 4, ZMQ_SNDMORE); /* TASKS towards the broker */
    zmq_send(x, "zz", 2, 0);
    expect(x, EVO_MSG_RESET, NULL);
    zmq_send(x, "EF", 2, 0);
    hello(x, EVO_PEER_DRIVER, 9);
    expect(x, EVO_MSG_WELCOME, NULL);
    zmq_send(x, "EF\x07\x05", 4, ZMQ_SNDMORE); /* RESULTS from a driver */
    zmq_send(x, "12345678\x01\x00\x00\x00", 12, 0);
    zmq_send(x, "EF\x07\x06", 4, ZMQ_SNDMORE); /* SUBMIT with a lying count */
    zmq_send(x, "\x05\x00\x00\x00", 4, 0);
    idle(50, x, NULL);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.malformed, 3); /* the TASKS from a stranger got RESET */
    assert_int_equal(s.drivers, 1);
    zmq_close(x);
    stop_broker();
}

/* WITHDRAW: a driver's queued tasks come back WITHDRAWN (never sent to a
 * worker), the ones a worker holds are left alone; another driver's tags
 * are not touched. */
static void withdraw_takes_back_only_queued(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    struct evo_input_list l;
    struct unit_results r;
    start(EVO_SCHEDULING_DYNAMIC, 1, 1, 0);
    void *w = peer(), *d = peer(), *other = peer();
    hello(w, EVO_PEER_WORKER, 1);
    expect(w, EVO_MSG_WELCOME, NULL);
    hello(d, EVO_PEER_DRIVER, 2);
    expect(d, EVO_MSG_WELCOME, NULL);
    hello(other, EVO_PEER_DRIVER, 3);
    expect(other, EVO_MSG_WELCOME, NULL);
    submit(d, 3); /* tag 0 goes to the worker, 1 and 2 wait */
    expect(w, EVO_MSG_TASKS, &b);
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), 0);
    assert_int_equal(l.count, 1);
    evo_input_list_free(&l);
    struct evo_buf saved = {0};
    evo_buf_put(&saved, b.data, b.len);
    uint64_t tags[] = {0, 2, 7};
    evo_buf_reset(&b);
    evo_proto_put_ids(&b, tags, 3);
    say(other, EVO_MSG_WITHDRAW, &b); /* not its tasks: nothing happens */
    say(d, EVO_MSG_WITHDRAW, &b);
    expect(d, EVO_MSG_DONE, &b);
    assert_int_equal(unit_get_results(b.data, b.len, 0, EVO_RESULT_ERROR, &r), 0);
    assert_int_equal(r.count, 1); /* 2 only: 0 is held, 7 unknown */
    assert_int_equal(r.items[0].id, 2);
    assert_int_equal(r.items[0].status, EVO_RESULT_WITHDRAWN);
    unit_results_free(&r);
    answer(w, &saved, NULL); /* tag 0 done; then tag 1 is sent, tag 2 never */
    expect(w, EVO_MSG_TASKS, &b);
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), 0);
    assert_true(l.count == 1);
    evo_input_list_free(&l);
    answer(w, &b, NULL);
    int seen[3] = {0};
    collect(d, 2, seen);
    assert_true(seen[0] == 1 && seen[1] == 1 && seen[2] == 0);
    struct evo_stats s;
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.queued + s.in_flight, 0);
    evo_buf_free(&b);
    evo_buf_free(&saved);
    zmq_close(w);
    zmq_close(d);
    zmq_close(other);
    stop_broker();
}

/* BLOCKED: the batches a worker gives back go to another worker without an
 * attempt counted, the blocked worker gets nothing until it resumes. */
static void blocked_worker_gives_back(void **state)
{
    (void)state;
    struct evo_buf b = {0}, first = {0}, second = {0};
    struct evo_input_list l;
    start(EVO_SCHEDULING_DYNAMIC, 1, 2, 0);
    void *w1 = peer(), *d = peer(), *w2 = peer();
    hello(w1, EVO_PEER_WORKER, 1);
    expect(w1, EVO_MSG_WELCOME, NULL);
    hello(d, EVO_PEER_DRIVER, 2);
    expect(d, EVO_MSG_WELCOME, NULL);
    submit(d, 3);
    expect(w1, EVO_MSG_TASKS, &first);  /* tag 0: evaluating, blocked */
    expect(w1, EVO_MSG_TASKS, &second); /* tag 1: prefetched */
    assert_int_equal(evo_proto_get_inputs(second.data, second.len, &l), 0);
    evo_proto_put_blocked(&b, 1, 1, l.id, (uint32_t)l.count);
    evo_input_list_free(&l);
    say(w1, EVO_MSG_BLOCKED, &b);
    hello(w2, EVO_PEER_WORKER, 3);
    expect(w2, EVO_MSG_WELCOME, NULL);
    say(w1, EVO_MSG_HEARTBEAT, NULL);
    expect(w2, EVO_MSG_TASKS, &b); /* the given-back tag 1 (and 2), none to w1 */
    answer(w2, &b, NULL);
    say(w1, EVO_MSG_HEARTBEAT, NULL);
    expect(w2, EVO_MSG_TASKS, &b);
    answer(w2, &b, NULL);
    struct evo_message m;
    for (int i = 0; i < 5; i++) { /* w1 stays alive (it beats) and gets nothing */
        say(w1, EVO_MSG_HEARTBEAT, NULL);
        idle(20, w2, NULL);
    }
    int tasks = 0;
    while (evo_message_recv(w1, 0, &m) >= 0) {
        tasks += m.type == EVO_MSG_TASKS;
        evo_message_close(&m);
    }
    assert_int_equal(tasks, 0);
    evo_buf_reset(&b);
    evo_proto_put_blocked(&b, 0, 0, NULL, 0);
    say(w1, EVO_MSG_BLOCKED, &b);
    answer(w1, &first, NULL);
    int seen[3] = {0};
    collect(d, 3, seen);
    struct evo_stats s;
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.retried, 0);
    assert_int_equal(s.requeued, 1);
    evo_buf_free(&b);
    evo_buf_free(&first);
    evo_buf_free(&second);
    zmq_close(w1);
    zmq_close(w2);
    zmq_close(d);
    stop_broker();
}

/* One SHARE piece of `name` (total bytes, value) from offset, of size bytes. */
static void put_piece(struct evo_buf *b, const char *name, const unsigned char *value, size_t total, size_t offset,
                      size_t size)
{
    struct evo_share piece = {.value = value + offset, .size = size, .total = total, .offset = offset};
    snprintf(piece.name, sizeof piece.name, "%s", name);
    evo_buf_reset(b);
    evo_proto_put_share(b, &piece);
}

/* Receives the constant `name` (total bytes) on s, piece by piece, and
 * checks it is `value`. */
static void expect_constant(void *s, const char *name, const unsigned char *value, size_t total)
{
    struct evo_buf b = {0};
    struct evo_share sh;
    size_t got = 0;
    do {
        expect(s, EVO_MSG_SHARE, &b);
        assert_int_equal(evo_proto_get_share(b.data, b.len, &sh), 0);
        assert_string_equal(sh.name, name);
        assert_true(sh.total == total && sh.offset == got && sh.size <= EVO_PROTO_SHARE_PIECE);
        assert_memory_equal(sh.value, value + got, sh.size);
        got += sh.size;
    } while (got < total);
    evo_buf_free(&b);
}

/* SHARE: each constant reaches the workers connected now and each one
 * that joins later (right after its WELCOME), once, in pieces of at most
 * EVO_PROTO_SHARE_PIECE whatever pieces the driver sent; a second value
 * for a name is ignored; a worker may not share, nor a bad name pass; a
 * piece out of order is malformed and drops the constant begun. */
static void shared_constants_reach_every_worker(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    struct evo_stats s;
    size_t total = EVO_PROTO_SHARE_PIECE * 5 / 2;
    unsigned char *value = malloc(total);
    for (size_t i = 0; i < total; i++)
        value[i] = (unsigned char)(i * 7 + i / 4099);
    heartbeat_ms = 2000; /* megabytes copied under ASan: no expiry meanwhile (these peers never beat) */
    start(EVO_SCHEDULING_DYNAMIC, 0, 2, 0);
    heartbeat_ms = 1000;
    void *w1 = peer(), *d = peer(), *w2 = peer();
    hello(w1, EVO_PEER_WORKER, 1);
    expect(w1, EVO_MSG_WELCOME, NULL);
    hello(d, EVO_PEER_DRIVER, 2);
    expect(d, EVO_MSG_WELCOME, NULL);
    put_piece(&b, "lost", value, total, 0, 1000);
    say(d, EVO_MSG_SHARE, &b);
    put_piece(&b, "lost", value, total, 2000, 1000); /* a gap: malformed, "lost" is dropped */
    say(d, EVO_MSG_SHARE, &b);
    put_piece(&b, "lost", value, total, 1000, 1000); /* continues nothing now: malformed */
    say(d, EVO_MSG_SHARE, &b);
    for (size_t at = 0; at < total; at += 700000) { /* pieces of the driver's own size */
        put_piece(&b, "table", value, total, at, total - at < 700000 ? total - at : 700000);
        say(d, EVO_MSG_SHARE, &b);
    }
    expect_constant(w1, "table", value, total);
    put_piece(&b, "table", (const unsigned char *)"other", 5, 0, 5);
    say(d, EVO_MSG_SHARE, &b);  /* ignored */
    say(w1, EVO_MSG_SHARE, &b); /* from a worker: malformed */
    evo_buf_reset(&b);
    evo_buf_put_u8(&b, 5);
    evo_buf_put(&b, "../x1", 5);
    evo_buf_put_u32(&b, 0);
    evo_buf_put_u32(&b, 0);
    say(d, EVO_MSG_SHARE, &b); /* a name that is a path: malformed */
    put_piece(&b, "empty", value, 0, 0, 0);
    say(d, EVO_MSG_SHARE, &b);
    expect_constant(w1, "empty", value, 0);
    hello(w2, EVO_PEER_WORKER, 3);
    expect(w2, EVO_MSG_WELCOME, NULL);
    expect_constant(w2, "table", value, total);
    expect_constant(w2, "empty", value, 0);
    struct evo_message m;
    idle(100, NULL, NULL);
    int more = 0;
    while (evo_message_recv(w1, 0, &m) >= 0) {
        more += m.type == EVO_MSG_SHARE;
        evo_message_close(&m);
    }
    assert_int_equal(more, 0);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.malformed, 4);
    free(value);
    evo_buf_free(&b);
    zmq_close(w1);
    zmq_close(w2);
    zmq_close(d);
    stop_broker();
}

/* After close: connected workers get BYE, latecomers get BYE instead of a
 * WELCOME, and every worker HELLO is counted once. */
static void close_sends_latecomers_away(void **state)
{
    (void)state;
    struct evo_stats s;
    start(EVO_SCHEDULING_DYNAMIC, 0, 2, 2);
    void *early = peer(), *late = peer();
    hello(early, EVO_PEER_WORKER, 1);
    expect(early, EVO_MSG_WELCOME, NULL);
    hello(early, EVO_PEER_WORKER, 1); /* again on the same connection */
    expect(early, EVO_MSG_WELCOME, NULL);
    assert_int_equal(evo_broker_workers_seen(fx.broker), 1);
    evo_broker_shut_down(fx.broker);
    expect(early, EVO_MSG_BYE, NULL);
    hello(late, EVO_PEER_WORKER, 2);
    expect(late, EVO_MSG_BYE, NULL);
    assert_int_equal(evo_broker_workers_seen(fx.broker), 2);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.workers, 0);
    zmq_close(early);
    zmq_close(late);
    stop_broker();
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(lost_worker_exactly_once),
                                       cmocka_unit_test(static_scheduling_cuts_the_queue_in_chunks),
                                       cmocka_unit_test(static_chunks_capped),
                                       cmocka_unit_test(outboxes_go_with_their_drivers),
                                       cmocka_unit_test(retries_then_error),
                                       cmocka_unit_test(keys_by_role),
                                       cmocka_unit_test(a_local_members_routing_id_cannot_be_taken),
                                       cmocka_unit_test(a_local_member_has_its_keys_role),
                                       cmocka_unit_test(drain_lets_workers_finish),
                                       cmocka_unit_test(malformed_and_strangers),
                                       cmocka_unit_test(close_sends_latecomers_away),
                                       cmocka_unit_test(withdraw_takes_back_only_queued),
                                       cmocka_unit_test(blocked_worker_gives_back),
                                       cmocka_unit_test(shared_constants_reach_every_worker),
                                       cmocka_unit_test(driver_quota_refuses_the_excess)};
    return EVO_RUN_TESTS(tests);
}
