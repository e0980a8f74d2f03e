/* test_broker.c — the broker's guarantees, driven step by step: real
 * libzmq sockets with CURVE on loopback, and peers scripted by the test so
 * every interleaving is deterministic. */
#include "unit.h"
#include "unit_wire.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/broker.h"
#include "util/clock.h"
#include "wire/proto.h"
#include "wire/transport.h"

struct fixture {
    struct evo_credentials creds;
    struct evo_broker *broker;
    void *context;
};

static struct fixture fx;

static void start(enum evo_scheduling scheduling, unsigned batch, unsigned prefetch, unsigned retries)
{
    char err[256];
    struct evo_broker_options o = {"tcp://127.0.0.1:*", scheduling, batch, prefetch, retries, 50, 2};
    assert_int_equal(evo_credentials_generate(&fx.creds), 0);
    fx.broker = evo_broker_create(&o, &fx.creds, err, sizeof err);
    if (fx.broker == NULL)
        fail_msg("%s", err);
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

static void hello(void *s, uint8_t role, uint32_t pid)
{
    struct evo_buf b = {0};
    struct evo_hello h = {.role = role, .pid = pid};
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
        struct evo_result_list l;
        expect(driver, EVO_MSG_DONE, &b);
        assert_int_equal(evo_proto_get_results(b.data, b.len, 0, EVO_RESULT_ERROR, &l), 0);
        for (size_t i = 0; i < l.count; i++) {
            assert_true(l.items[i].id < n);
            assert_int_equal(seen[l.items[i].id]++, 0);
            assert_int_equal(l.items[i].status, EVO_RESULT_OK);
            assert_true(l.items[i].objectives[0] == (double)l.items[i].id + 0.5);
        }
        got += l.count;
        evo_result_list_free(&l);
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
    start(EVO_SCHEDULING_DYNAMIC, 4, 1, 2);
    void *driver = peer(), *a = peer(), *b = peer();
    hello(driver, EVO_ROLE_DRIVER, 1);
    expect(driver, EVO_MSG_WELCOME, NULL);
    hello(a, EVO_ROLE_WORKER, 2);
    expect(a, EVO_MSG_WELCOME, NULL);
    submit(driver, 8);
    expect(a, EVO_MSG_TASKS, &held);
    assert_int_equal(batch_count(&held, &first), 4);
    idle(300, driver, NULL); /* a says nothing: expired after 2 x 50 ms */
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.workers, 0);
    assert_int_equal(s.requeued, 4);
    hello(b, EVO_ROLE_WORKER, 3);
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
    hello(a, EVO_ROLE_WORKER, 2);
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

static void static_chunks(void **state)
{
    (void)state;
    struct evo_buf t1 = {0}, t2 = {0};
    uint64_t f1, f2;
    int seen[10] = {0};
    start(EVO_SCHEDULING_STATIC, 0, 2, 2);
    void *driver = peer(), *a = peer(), *b = peer();
    hello(a, EVO_ROLE_WORKER, 2);
    expect(a, EVO_MSG_WELCOME, NULL);
    hello(b, EVO_ROLE_WORKER, 3);
    expect(b, EVO_MSG_WELCOME, NULL);
    hello(driver, EVO_ROLE_DRIVER, 1);
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

static void retries_then_error(void **state)
{
    (void)state;
    struct evo_buf t = {0}, done = {0};
    struct evo_result_list l;
    struct evo_stats s;
    start(EVO_SCHEDULING_DYNAMIC, 1, 1, 2);
    void *driver = peer(), *w = peer();
    hello(driver, EVO_ROLE_DRIVER, 1);
    expect(driver, EVO_MSG_WELCOME, NULL);
    hello(w, EVO_ROLE_WORKER, 2);
    expect(w, EVO_MSG_WELCOME, NULL);
    submit(driver, 1);
    for (int attempt = 0; attempt < 3; attempt++) {
        expect(w, EVO_MSG_TASKS, &t);
        answer(w, &t, "evaluator killed by signal 9");
    }
    expect(driver, EVO_MSG_DONE, &done);
    assert_int_equal(evo_proto_get_results(done.data, done.len, 0, EVO_RESULT_ERROR, &l), 0);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.items[0].status, EVO_RESULT_ERROR);
    assert_string_equal(l.items[0].text, "task 0 failed after 3 attempts: evaluator killed by signal 9");
    evo_result_list_free(&l);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.retried, 2);
    zmq_close(driver), zmq_close(w);
    evo_buf_free(&t), evo_buf_free(&done);
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
    zmq_send(x, "EF\x02\x04", 4, ZMQ_SNDMORE); /* TASKS towards the broker */
    zmq_send(x, "zz", 2, 0);
    expect(x, EVO_MSG_RESET, NULL);
    zmq_send(x, "EF", 2, 0);
    hello(x, EVO_ROLE_DRIVER, 9);
    expect(x, EVO_MSG_WELCOME, NULL);
    zmq_send(x, "EF\x02\x05", 4, ZMQ_SNDMORE); /* RESULTS from a driver */
    zmq_send(x, "12345678\x01\x00\x00\x00", 12, 0);
    zmq_send(x, "EF\x02\x06", 4, ZMQ_SNDMORE); /* SUBMIT with a lying count */
    zmq_send(x, "\x05\x00\x00\x00", 4, 0);
    idle(50, x, NULL);
    evo_broker_stats(fx.broker, &s);
    assert_int_equal(s.malformed, 3); /* the TASKS from a stranger got RESET */
    assert_int_equal(s.drivers, 1);
    zmq_close(x);
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
    hello(early, EVO_ROLE_WORKER, 1);
    expect(early, EVO_MSG_WELCOME, NULL);
    hello(early, EVO_ROLE_WORKER, 1); /* again on the same connection */
    expect(early, EVO_MSG_WELCOME, NULL);
    assert_int_equal(evo_broker_workers_seen(fx.broker), 1);
    evo_broker_shut_down(fx.broker);
    expect(early, EVO_MSG_BYE, NULL);
    hello(late, EVO_ROLE_WORKER, 2);
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
    const struct CMUnitTest tests[] = {cmocka_unit_test(lost_worker_exactly_once), cmocka_unit_test(static_chunks),
                                       cmocka_unit_test(retries_then_error), cmocka_unit_test(malformed_and_strangers),
                                       cmocka_unit_test(close_sends_latecomers_away)};
    return EVO_RUN_TESTS(tests);
}
