/* test_client.c — the driver's library (evofarm/client.h) against a broker
 * scripted by the test: a real CURVE ROUTER with the farm's ZAP handler on
 * loopback. While the client blocks (connect, map, stats) a helper thread
 * plays the broker; otherwise the test sends each broker message itself, so
 * every interleaving is deterministic. */
#include "unit.h"
#include "unit_wire.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evofarm/client.h"
#include "util/clock.h"
#include "wire/proto.h"
#include "wire/transport.h"
#include "wire/zap.h"

/* The scripted broker. Only the helper thread touches router and zap
 * while it runs; the test thread takes them over after joining it. */
static struct {
    struct unit_router r;
    pthread_t thread;
    atomic_int stop;
    int answer;                      /* the thread also answers SUBMIT and STATS_REQUEST */
    unsigned heartbeat_ms, liveness; /* what its WELCOME announces */
    unsigned char identity[256];     /* the driver's routing id, from its HELLO */
    size_t identity_size;
    struct evo_hello hello;
    int hellos;
    char trouble[256]; /* what went wrong in the thread (asserted on join) */
    int hold;          /* answer SUBMITs only once none came for 50 ms */
    uint64_t held_id[1024];
    double held_x[1024];
    size_t held, most_held;
    int64_t last_submit_ms;
} fx;

static int setup(void **state)
{
    (void)state;
    memset(&fx, 0, sizeof fx);
    fx.heartbeat_ms = 1000;
    fx.liveness = 3;
    return unit_router_open(&fx.r);
}

static int teardown(void **state)
{
    (void)state;
    unit_router_close(&fx.r);
    return 0;
}

static int broker_receive(int wait_ms, struct evo_message *m)
{
    return unit_router_receive(&fx.r, wait_ms, m);
}

static int broker_send(enum evo_msg_type type, const struct evo_buf *body)
{
    return evo_message_send(fx.r.router, fx.identity, fx.identity_size, type, body);
}

static void welcome(struct evo_message *m)
{
    size_t id_size, size;
    const void *id = evo_message_identity(m, &id_size), *body = evo_message_body(m, &size);
    struct evo_buf b = {0};
    struct evo_welcome w = {fx.heartbeat_ms, fx.liveness, 7};
    if (id == NULL || id_size > sizeof fx.identity) {
        snprintf(fx.trouble, sizeof fx.trouble, "HELLO without a usable routing id");
        return;
    }
    memcpy(fx.identity, id, id_size);
    fx.identity_size = id_size;
    if (evo_proto_get_hello(body, size, &fx.hello) < 0)
        snprintf(fx.trouble, sizeof fx.trouble, "malformed HELLO");
    fx.hellos++;
    evo_proto_put_welcome(&b, &w);
    if (broker_send(EVO_MSG_WELCOME, &b) < 0)
        snprintf(fx.trouble, sizeof fx.trouble, "cannot send WELCOME");
    evo_buf_free(&b);
}

/* The helper's answer to a SUBMIT: one DONE with the items in reverse
 * order, f = 2 x[0], or an error "negative" when x[0] < 0. */
static void answer_submit(struct evo_message *m)
{
    size_t size;
    const void *body = evo_message_body(m, &size);
    struct evo_input_list l;
    struct evo_buf b = {0};
    if (evo_proto_get_inputs(body, size, &l) < 0) {
        snprintf(fx.trouble, sizeof fx.trouble, "malformed SUBMIT");
        return;
    }
    evo_proto_begin_results(&b, (uint32_t)l.count);
    for (size_t i = l.count; i-- > 0;) {
        double f = 2 * l.values[l.offset[i]];
        if (f < 0)
            evo_proto_put_result_error(&b, l.id[i], EVO_RESULT_ERROR, "negative");
        else
            evo_proto_put_result_ok(&b, l.id[i], 1, &f);
    }
    if (broker_send(EVO_MSG_DONE, &b) < 0)
        snprintf(fx.trouble, sizeof fx.trouble, "cannot send DONE");
    evo_input_list_free(&l);
    evo_buf_free(&b);
}

/* hold: keeps a SUBMIT's vectors (f = 2 x[0] later, in answer_held). */
static void hold_submit(struct evo_message *m)
{
    size_t size;
    const void *body = evo_message_body(m, &size);
    struct evo_input_list l;
    if (evo_proto_get_inputs(body, size, &l) < 0) {
        snprintf(fx.trouble, sizeof fx.trouble, "malformed SUBMIT");
        return;
    }
    for (size_t i = 0; i < l.count && fx.held < 1024; i++) {
        fx.held_id[fx.held] = l.id[i];
        fx.held_x[fx.held++] = l.values[l.offset[i]];
    }
    fx.most_held = fx.held > fx.most_held ? fx.held : fx.most_held;
    fx.last_submit_ms = evo_now_ms();
    evo_input_list_free(&l);
}

static void answer_held(void)
{
    struct evo_buf b = {0};
    if (fx.held == 0 || evo_now_ms() - fx.last_submit_ms < 50)
        return;
    evo_proto_begin_results(&b, (uint32_t)fx.held);
    for (size_t i = 0; i < fx.held; i++)
        evo_proto_put_result_ok(&b, fx.held_id[i], 1, &(double){2 * fx.held_x[i]});
    if (broker_send(EVO_MSG_DONE, &b) < 0)
        snprintf(fx.trouble, sizeof fx.trouble, "cannot send DONE");
    fx.held = 0;
    evo_buf_free(&b);
}

static void *serve(void *arg)
{
    (void)arg;
    while (!atomic_load(&fx.stop)) {
        struct evo_message m;
        if (fx.hold)
            answer_held();
        if (broker_receive(5, &m) < 0)
            continue;
        if (m.type == EVO_MSG_HELLO) {
            welcome(&m);
        } else if (fx.answer && fx.hold && m.type == EVO_MSG_SUBMIT) {
            hold_submit(&m);
        } else if (fx.answer && m.type == EVO_MSG_SUBMIT) {
            answer_submit(&m);
        } else if (fx.answer && m.type == EVO_MSG_STATS_REQUEST) {
            struct evo_buf b = {0};
            struct evo_stats s = {.workers = 3, .done = 42, .hosts = 1, .host = {{"node7", 3}}};
            evo_proto_put_stats(&b, &s);
            broker_send(EVO_MSG_STATS, &b);
            evo_buf_free(&b);
        }
        evo_message_close(&m);
    }
    return NULL;
}

static void serve_start(int answer)
{
    fx.answer = answer;
    atomic_store(&fx.stop, 0);
    assert_int_equal(pthread_create(&fx.thread, NULL, serve, NULL), 0);
}

static void serve_stop(void)
{
    atomic_store(&fx.stop, 1);
    assert_int_equal(pthread_join(fx.thread, NULL), 0);
    if (fx.trouble[0])
        fail_msg("scripted broker: %s", fx.trouble);
}

/* A client welcomed by the helper, which then stops (answer = 0) or keeps
 * serving (answer = 1; call serve_stop when done). */
static struct evo_client *connected(int answer)
{
    char err[512];
    serve_start(answer);
    struct evo_client *c = evo_client_connect(fx.r.creds.endpoint, fx.r.creds.server_public, fx.r.creds.client_public,
                                              fx.r.creds.client_secret, err, sizeof err);
    if (!answer || c == NULL)
        serve_stop();
    if (c == NULL)
        fail_msg("connect: %s", err);
    return c;
}

/* The next message from the driver, heartbeats skipped; must be `type`.
 * Its body is copied into *body when body is not NULL. */
static void expect(int type, struct evo_buf *body)
{
    int64_t deadline = evo_now_ms() + 2000;
    while (evo_now_ms() < deadline) {
        struct evo_message m;
        if (broker_receive(10, &m) == 0 && unit_take(&m, type, body, " from the driver"))
            return;
    }
    fail_msg("no message of type %d from the driver within 2 s", type);
}

/* Nothing but heartbeats from the driver for ms milliseconds. */
static void expect_quiet(int ms)
{
    struct evo_message m;
    int64_t until = evo_now_ms() + ms;
    while (evo_now_ms() < until)
        if (broker_receive(10, &m) == 0) {
            int got = m.type;
            evo_message_close(&m);
            if (got != EVO_MSG_HEARTBEAT)
                fail_msg("unexpected message type %d from the driver", got);
        }
}

static void send_body(enum evo_msg_type type, struct evo_buf *b)
{
    assert_int_equal(broker_send(type, b), 0);
    evo_buf_free(b);
}

/* A DONE body of `count` items, begun; the caller puts them. */
static struct evo_buf done_body(uint32_t count)
{
    struct evo_buf b = {0};
    evo_proto_begin_results(&b, count);
    return b;
}

static void connect_is_welcomed(void **state)
{
    (void)state;
    struct evo_result r;
    struct evo_client *c = connected(0);
    assert_int_equal(fx.hellos, 1);
    assert_int_equal(fx.hello.kind, EVO_PEER_DRIVER);
    assert_int_equal(fx.hello.pid, (uint32_t)getpid());
    assert_true(fx.hello.host[0] != '\0');
    assert_int_equal(fx.r.refused, 0);
    assert_int_equal(evo_client_outstanding(c), 0);
    assert_int_equal(evo_client_wait(c, &r, 100), -1);
    assert_string_equal(evo_client_last_error(c), "nothing is outstanding");
    /* Closing says goodbye to the broker. */
    evo_client_close(c);
    expect(EVO_MSG_BYE, NULL);
    evo_client_close(NULL);
}

/* Connecting fails within EVO_FARM_CONNECT_TIMEOUT (1 s here), with one
 * line saying why; nothing reaches the broker. */
static void check_connect_fails(const char *endpoint, const char *server, const char *client_public,
                                const char *client_secret)
{
    char err[512], expected[512];
    int64_t start = evo_now_ms();
    serve_start(0);
    struct evo_client *c = evo_client_connect(endpoint, server, client_public, client_secret, err, sizeof err);
    int64_t took = evo_now_ms() - start;
    serve_stop();
    assert_null(c);
    assert_true(took >= 900 && took < 3000);
    snprintf(expected, sizeof expected, "no answer from the broker at %s within 1 s", endpoint);
    assert_int_equal(strncmp(err, expected, strlen(expected)), 0);
    assert_null(strchr(err, '\n'));
    assert_int_equal(fx.hellos, 0);
}

/* Another farm's server key: the CURVE handshake fails. */
static void connect_wrong_server_key(void **state)
{
    (void)state;
    struct evo_credentials other;
    assert_int_equal(evo_credentials_generate(&other), 0);
    check_connect_fails(fx.r.creds.endpoint, other.server_public, fx.r.creds.client_public, fx.r.creds.client_secret);
}

/* Not a key of this farm's: the ZAP handler refuses it. */
static void connect_wrong_member_key(void **state)
{
    (void)state;
    struct evo_credentials other;
    assert_int_equal(evo_credentials_generate(&other), 0);
    check_connect_fails(fx.r.creds.endpoint, fx.r.creds.server_public, other.client_public, other.client_secret);
    assert_true(fx.r.refused >= 1);
}

static void connect_nobody_listening(void **state)
{
    (void)state;
    char err[512];
    check_connect_fails("tcp://127.0.0.1:1", fx.r.creds.server_public, fx.r.creds.client_public,
                        fx.r.creds.client_secret);
    /* Keys that are no keys are refused at once. */
    assert_null(evo_client_connect(fx.r.creds.endpoint, "short", fx.r.creds.client_public, fx.r.creds.client_secret,
                                   err, sizeof err));
    assert_string_equal(err, "invalid endpoint or key length");
}

/* evo_client_open takes the endpoint and keys from the environment. */
static void open_from_environment(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(evo_credentials_to_env(&fx.r.creds), 0);
    serve_start(0);
    struct evo_client *c = evo_client_open(err, sizeof err);
    serve_stop();
    if (c == NULL)
        fail_msg("open: %s", err);
    assert_int_equal(fx.hellos, 1);
    evo_client_close(c);
    unsetenv("EVO_FARM_SERVER_KEY");
    assert_null(evo_client_open(err, sizeof err));
    assert_non_null(strstr(err, "EVO_FARM_SERVER_KEY is not set"));
    setenv("EVO_FARM_SERVER_KEY", "not a key", 1);
    assert_null(evo_client_open(err, sizeof err));
    assert_string_equal(err, "EVO_FARM_SERVER_KEY is not a valid Z85 CURVE key");
}

/* Results come back in completion order with their tags, and a vector is
 * outstanding until wait has returned its result. */
static void submit_and_wait(void **state)
{
    (void)state;
    struct evo_client *c = connected(0);
    struct evo_buf body = {0};
    struct evo_input_list l;
    struct evo_result r;
    const double x[] = {1, 2, 3, 4, 5, 6};
    uint64_t first = 99;
    assert_int_equal(evo_client_submit(c, x, 3, 2, &first), 0);
    assert_int_equal(first, 0);
    assert_int_equal(evo_client_outstanding(c), 3);
    expect(EVO_MSG_SUBMIT, &body);
    assert_int_equal(evo_proto_get_inputs(body.data, body.len, &l), 0);
    assert_int_equal(l.count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(l.id[i], i);
        assert_int_equal(l.kind[i], EVO_INPUT_VECTOR);
        assert_int_equal(l.size[i], 2);
        assert_memory_equal(&l.values[l.offset[i]], &x[2 * i], 2 * sizeof(double));
    }
    evo_input_list_free(&l);
    /* Tags 2 and 0 complete (in that order, one DONE); 1 is still out. */
    struct evo_buf b = done_body(2);
    evo_proto_put_result_ok(&b, 2, 2, (const double[]){2.5, -1});
    evo_proto_put_result_ok(&b, 0, 1, (const double[]){0.5});
    send_body(EVO_MSG_DONE, &b);
    assert_int_equal(evo_client_wait(c, &r, 2000), 1);
    assert_int_equal(r.tag, 2);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.n, 2);
    assert_true(r.objectives[0] == 2.5 && r.objectives[1] == -1);
    assert_int_equal(evo_client_outstanding(c), 2); /* 0 arrived but was not returned yet */
    assert_int_equal(evo_client_wait(c, &r, 2000), 1);
    assert_int_equal(r.tag, 0);
    assert_true(r.objectives[0] == 0.5);
    assert_int_equal(evo_client_outstanding(c), 1);
    int64_t start = evo_now_ms();
    assert_int_equal(evo_client_wait(c, &r, 100), 0); /* a timeout */
    assert_true(evo_now_ms() - start >= 90);
    assert_int_equal(evo_client_outstanding(c), 1);
    b = done_body(1);
    evo_proto_put_result_ok(&b, 1, 1, (const double[]){7});
    send_body(EVO_MSG_DONE, &b);
    assert_int_equal(evo_client_wait(c, &r, 2000), 1);
    assert_int_equal(r.tag, 1);
    assert_int_equal(evo_client_outstanding(c), 0);
    assert_int_equal(evo_client_wait(c, &r, 100), -1);
    /* Tags go on from where the last submission ended. */
    assert_int_equal(evo_client_submit(c, x, 1, 6, &first), 0);
    assert_int_equal(first, 3);
    expect(EVO_MSG_SUBMIT, &body);
    evo_buf_free(&body);
    evo_client_close(c);
}

/* An error result carries its text; a payload result carries its bytes. */
static void error_and_payload_results(void **state)
{
    (void)state;
    struct evo_client *c = connected(0);
    struct evo_buf body = {0};
    struct evo_input_list l;
    struct evo_result r;
    const char *why = "task 0 failed after 3 attempts: evaluator killed by signal 9";
    const unsigned char call[] = "\x80\x04pickled call", answer[] = {0, 1, 2, 0, 'o', 'k'};
    const void *data[] = {call, "second"};
    const size_t sizes[] = {sizeof call, 6};
    uint64_t first;
    assert_int_equal(evo_client_submit(c, (const double[]){1}, 1, 1, &first), 0);
    assert_int_equal(evo_client_submit_payloads(c, data, sizes, 2, &first), 0);
    assert_int_equal(first, 1);
    assert_int_equal(evo_client_outstanding(c), 3);
    expect(EVO_MSG_SUBMIT, NULL);
    expect(EVO_MSG_SUBMIT, &body);
    assert_int_equal(evo_proto_get_inputs(body.data, body.len, &l), 0);
    assert_int_equal(l.count, 2);
    assert_int_equal(l.id[0], 1);
    assert_int_equal(l.kind[0], EVO_INPUT_PAYLOAD);
    assert_int_equal(l.size[0], sizeof call);
    assert_memory_equal(evo_input_list_data(&l, 0), call, sizeof call);
    assert_memory_equal(evo_input_list_data(&l, 1), "second", 6);
    evo_input_list_free(&l);
    evo_buf_free(&body);
    struct evo_buf b = done_body(3);
    evo_proto_put_result_error(&b, 0, EVO_RESULT_ERROR, why);
    evo_proto_put_result_payload(&b, 2, sizeof answer, answer);
    evo_proto_put_result_payload(&b, 1, 0, "");
    send_body(EVO_MSG_DONE, &b);
    assert_int_equal(evo_client_wait(c, &r, 2000), 1);
    assert_int_equal(r.tag, 0);
    assert_int_equal(r.ok, 0);
    assert_string_equal(r.error, why);
    assert_null(r.payload);
    assert_int_equal(evo_client_wait(c, &r, 2000), 1);
    assert_int_equal(r.tag, 2);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.n, 0);
    assert_null(r.error);
    assert_int_equal(r.payload_size, sizeof answer);
    assert_memory_equal(r.payload, answer, sizeof answer);
    assert_int_equal(evo_client_wait(c, &r, 2000), 1);
    assert_int_equal(r.tag, 1);
    assert_int_equal(r.ok, 1);
    assert_int_equal(r.payload_size, 0);
    assert_int_equal(evo_client_outstanding(c), 0);
    evo_client_close(c);
}

/* A result already waiting on the socket is returned by a zero timeout
 * (wait(0) polls), and payloads still queued are freed by close (the
 * leak check of the ASan suite and valgrind would see them otherwise). */
static void zero_timeout_polls_and_close_frees(void **state)
{
    (void)state;
    struct evo_client *c = connected(0);
    struct evo_result r;
    const void *data[] = {"a", "b"};
    const size_t sizes[] = {1, 1};
    uint64_t first;
    assert_int_equal(evo_client_submit_payloads(c, data, sizes, 2, &first), 0);
    expect(EVO_MSG_SUBMIT, NULL);
    struct evo_buf b = done_body(2);
    evo_proto_put_result_payload(&b, first, 3, "one");
    evo_proto_put_result_payload(&b, first + 1, 3, "two");
    send_body(EVO_MSG_DONE, &b);
    int got = 0;
    for (int64_t until = evo_now_ms() + 2000; got == 0 && evo_now_ms() < until;)
        got = evo_client_wait(c, &r, 0);
    assert_int_equal(got, 1);
    assert_memory_equal(r.payload, "one", 3);
    assert_int_equal(evo_client_outstanding(c), 1); /* the second waits in the client */
    evo_client_close(c);
}

/* BYE or RESET from the broker: wait fails with the reason. */
static void broker_ends_wait(enum evo_msg_type type, const char *reason)
{
    struct evo_client *c = connected(0);
    struct evo_result r;
    assert_int_equal(evo_client_submit(c, (const double[]){1, 2}, 1, 2, NULL), 0);
    expect(EVO_MSG_SUBMIT, NULL);
    assert_int_equal(broker_send(type, NULL), 0);
    assert_int_equal(evo_client_wait(c, &r, 2000), -1);
    assert_string_equal(evo_client_last_error(c), reason);
    evo_client_close(c);
}

static void bye_ends_wait(void **state)
{
    (void)state;
    broker_ends_wait(EVO_MSG_BYE, "the farm is shutting down");
}

static void reset_ends_wait(void **state)
{
    (void)state;
    broker_ends_wait(EVO_MSG_RESET,
                     "the broker no longer knows this driver (it was restarted?); outstanding work is lost");
}

/* A broker silent for longer than heartbeat x liveness is lost. */
static void silent_broker_is_lost(void **state)
{
    (void)state;
    char expected[512];
    struct evo_result r;
    fx.heartbeat_ms = 50;
    fx.liveness = 2;
    struct evo_client *c = connected(0);
    assert_int_equal(evo_client_submit(c, (const double[]){1}, 1, 1, NULL), 0);
    int64_t start = evo_now_ms();
    assert_int_equal(evo_client_wait(c, &r, 2000), -1);
    assert_true(evo_now_ms() - start < 1000);
    snprintf(expected, sizeof expected, "lost the broker at %s: silent for ", fx.r.creds.endpoint);
    assert_int_equal(strncmp(evo_client_last_error(c), expected, strlen(expected)), 0);
    /* It heartbeated meanwhile, as the WELCOME asked. */
    expect(EVO_MSG_SUBMIT, NULL);
    expect(EVO_MSG_HEARTBEAT, NULL);
    evo_client_close(c);
}

static void bad_submissions_refused(void **state)
{
    (void)state;
    struct evo_client *c = connected(0);
    const double x[2] = {1, 2};
    const void *data[] = {x};
    const size_t sizes[] = {(16u << 20) + 1};
    assert_int_equal(evo_client_submit(c, x, 1, 0, NULL), -1);
    assert_string_equal(evo_client_last_error(c), "dimension 0 is out of range (1..65536)");
    assert_int_equal(evo_client_submit(c, x, 1, 65537, NULL), -1);
    assert_string_equal(evo_client_last_error(c), "dimension 65537 is out of range (1..65536)");
    assert_int_equal(evo_client_submit_payloads(c, data, sizes, 1, NULL), -1);
    assert_string_equal(evo_client_last_error(c), "payload 0 has 16777217 bytes (at most 16777216)");
    assert_int_equal(evo_client_outstanding(c), 0);
    expect_quiet(100);
    evo_client_close(c);
}

static void *wake_later(void *arg)
{
    usleep(100 * 1000);
    evo_client_wake(arg);
    return NULL;
}

/* withdraw sends the tags; a WITHDRAWN item comes back with ok ==
 * EVO_CLIENT_WITHDRAWN and counts as returned; share sends name and bytes
 * and refuses bad names; wake from another thread ends a wait at once. */
static void withdraw_share_wake(void **state)
{
    (void)state;
    struct evo_client *c = connected(0);
    struct evo_buf body = {0};
    struct evo_result r;
    uint64_t first, *ids;
    size_t n;
    assert_int_equal(evo_client_submit(c, (const double[]){1, 2}, 2, 1, &first), 0);
    expect(EVO_MSG_SUBMIT, NULL);
    assert_int_equal(evo_client_withdraw(c, (const uint64_t[]){first + 1}, 1), 0);
    expect(EVO_MSG_WITHDRAW, &body);
    assert_int_equal(evo_proto_get_ids(body.data, body.len, &ids, &n), 0);
    assert_true(n == 1 && ids[0] == first + 1);
    free(ids);
    struct evo_buf b = done_body(1);
    evo_proto_put_result_withdrawn(&b, first + 1);
    send_body(EVO_MSG_DONE, &b);
    assert_int_equal(evo_client_wait(c, &r, 2000), 1);
    assert_int_equal(r.ok, EVO_CLIENT_WITHDRAWN);
    assert_int_equal(r.tag, first + 1);
    assert_int_equal(evo_client_outstanding(c), 1);

    size_t total = 2 * EVO_PROTO_SHARE_PIECE + 3; /* three pieces, in order */
    unsigned char *value = malloc(total);
    for (size_t i = 0; i < total; i++)
        value[i] = (unsigned char)(i % 251);
    assert_int_equal(evo_client_share(c, "big_table", value, total), 0);
    struct evo_share sh;
    for (size_t at = 0, k = 0; k < 3; k++, at += sh.size) {
        expect(EVO_MSG_SHARE, &body);
        assert_int_equal(evo_proto_get_share(body.data, body.len, &sh), 0);
        assert_string_equal(sh.name, "big_table");
        assert_true(sh.total == total && sh.offset == at && sh.size == (k < 2 ? EVO_PROTO_SHARE_PIECE : 3));
        assert_memory_equal(sh.value, value + at, sh.size);
    }
    free(value);
    assert_int_equal(evo_client_share(c, "../etc/passwd", "x", 1), -1);
    assert_string_equal(evo_client_last_error(c), "'../etc/passwd' is not a constant name (1..64 letters, digits "
                                                  "or _, not starting with a digit)");

    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wake_later, c), 0);
    int64_t start = evo_now_ms();
    assert_int_equal(evo_client_wait(c, &r, 5000), 0); /* woken, not timed out */
    assert_true(evo_now_ms() - start < 2000);
    pthread_join(t, NULL);
    evo_client_wake(c); /* before a wait: the next one returns at once, once */
    assert_int_equal(evo_client_wait(c, &r, 5000), 0);
    start = evo_now_ms();
    assert_int_equal(evo_client_wait(c, &r, 100), 0);
    assert_true(evo_now_ms() - start >= 90);
    evo_buf_free(&body);
    evo_client_close(c);
}

/* map blocks until every vector is back, puts each result at its index
 * whatever the completion order, and counts the failures; stats asks. */
static void map_and_stats(void **state)
{
    (void)state;
    struct evo_client *c = connected(1);
    struct evo_result results[4];
    struct evo_stats s;
    const double x[] = {1, -1, 3, 4};
    long failed = evo_client_map(c, x, 4, 1, results);
    int stats = evo_client_stats(c, &s);
    serve_stop();
    assert_int_equal(failed, 1);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(results[i].tag, i);
    assert_int_equal(results[0].ok, 1);
    assert_true(results[0].objectives[0] == 2);
    assert_int_equal(results[1].ok, 0);
    assert_string_equal(results[1].error, "negative");
    assert_true(results[3].objectives[0] == 8);
    assert_int_equal(evo_client_outstanding(c), 0);
    assert_int_equal(stats, 0);
    assert_int_equal(s.workers, 3);
    assert_int_equal(s.done, 42);
    assert_int_equal(s.hosts, 1);
    assert_string_equal(s.host[0].name, "node7");
    evo_client_close(c);
}

/* No more than EVO_FARM_WINDOW vectors are in the farm at once: a map and
 * a submit of more wait for results before sending the rest (the scripted
 * broker holds every vector until none has come for 50 ms). */
static void window_bounds_what_is_sent(void **state)
{
    (void)state;
    double x[25];
    struct evo_result results[25], r;
    uint64_t first;
    for (int i = 0; i < 25; i++)
        x[i] = i;
    setenv("EVO_FARM_WINDOW", "10", 1);
    fx.hold = 1;
    struct evo_client *c = connected(1);
    unsetenv("EVO_FARM_WINDOW");
    assert_int_equal(evo_client_map(c, x, 25, 1, results), 0);
    for (int i = 0; i < 25; i++)
        assert_true(results[i].ok && results[i].objectives[0] == 2 * i);
    assert_int_equal(evo_client_submit(c, x, 25, 1, &first), 0); /* returns with the last 5 sent */
    size_t got = 0;
    double sum = 0;
    while (evo_client_outstanding(c) > 0 && evo_client_wait(c, &r, 2000) == 1) {
        assert_true(r.ok && r.tag - first < 25);
        sum += r.objectives[0];
        got++;
    }
    serve_stop();
    assert_int_equal(got, 25);
    assert_true(sum == 2 * 300);
    assert_int_equal(fx.most_held, 10);
    evo_client_close(c);
}

int main(void)
{
    setenv("EVO_FARM_CONNECT_TIMEOUT", "1", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(connect_is_welcomed, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_wrong_server_key, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_wrong_member_key, setup, teardown),
        cmocka_unit_test_setup_teardown(connect_nobody_listening, setup, teardown),
        cmocka_unit_test_setup_teardown(open_from_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(submit_and_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(error_and_payload_results, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_timeout_polls_and_close_frees, setup, teardown),
        cmocka_unit_test_setup_teardown(bye_ends_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(reset_ends_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(silent_broker_is_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_submissions_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(map_and_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(withdraw_share_wake, setup, teardown),
        cmocka_unit_test_setup_teardown(window_bounds_what_is_sent, setup, teardown)};
    return EVO_RUN_TESTS(tests);
}
