/* test_dealer.c — the member's side of the conversation (wire/dealer.h)
 * against a broker scripted by the test: HELLO on join, the WELCOME's
 * heartbeat and liveness taken, heartbeats when due and not before,
 * silence measured from the last message, BYE on leave; and the poll
 * timeout that keeps heartbeats on time. */
#include "unit.h"
#include "unit_wire.h"

#include <string.h>
#include <unistd.h>

#include "wire/dealer.h"

static struct unit_router broker;

static int setup(void **state)
{
    (void)state;
    return unit_router_open(&broker);
}

static int teardown(void **state)
{
    (void)state;
    unit_router_close(&broker);
    return 0;
}

/* The next message the broker receives: must be of type (heartbeats
 * skipped unless type is HEARTBEAT); its routing id into id. */
static void broker_expects(int type, unsigned char *id, size_t *id_size, struct evo_buf *body)
{
    for (int64_t until = evo_now_ms() + 2000; evo_now_ms() < until;) {
        struct evo_message m;
        if (unit_router_receive(&broker, 10, &m) < 0)
            continue;
        size_t n;
        const void *identity = evo_message_identity(&m, &n);
        if (id && identity && n <= 256) {
            memcpy(id, identity, n);
            *id_size = n;
        }
        if (type == EVO_MSG_HEARTBEAT ? m.type == type && (evo_message_close(&m), 1)
                                      : unit_take(&m, type, body, " from the member"))
            return;
    }
    fail_msg("no message of type %d within 2 s", type);
}

static void join_take_beat_leave(void **state)
{
    (void)state;
    struct evo_dealer d = {.heartbeat_ms = 5000, .liveness = 3};
    struct evo_buf scratch = {0}, body = {0};
    unsigned char id[256];
    size_t id_size = 0;
    char err[256];
    void *context = zmq_ctx_new();
    assert_int_equal(evo_dealer_join(&d, context, &broker.creds, EVO_PEER_WORKER, &scratch, err, sizeof err), 0);
    assert_false(d.welcomed);
    broker_expects(EVO_MSG_HELLO, id, &id_size, &body);
    struct evo_hello hello;
    assert_int_equal(evo_proto_get_hello(body.data, body.len, &hello), 0);
    assert_int_equal(hello.kind, EVO_PEER_WORKER);
    assert_int_equal(hello.pid, (uint32_t)getpid());
    /* WELCOME: the broker's heartbeat and liveness replace the guess */
    struct evo_welcome w = {50, 4, 9};
    evo_buf_reset(&body);
    evo_proto_put_welcome(&body, &w);
    assert_int_equal(evo_message_send(broker.router, id, id_size, EVO_MSG_WELCOME, &body), 0);
    struct evo_message m;
    int took = 0;
    for (int64_t until = evo_now_ms() + 2000; !took && evo_now_ms() < until;)
        if (evo_message_recv(d.socket, 0, &m) == 0) {
            took = evo_dealer_take(&d, &m);
            evo_message_close(&m);
        }
    assert_true(took);
    assert_true(d.welcomed);
    assert_int_equal(d.heartbeat_ms, 50);
    assert_int_equal(d.liveness, 4);
    assert_int_equal(d.serial, 9);
    /* a heartbeat leaves only when one is due */
    int64_t now = evo_now_ms();
    d.last_send_ms = now;
    assert_int_equal(evo_dealer_beat(&d, now + 10), 0);
    assert_int_equal(d.last_send_ms, now); /* not due: nothing sent */
    d.last_send_ms = now - 50;             /* one heartbeat ago: due */
    assert_int_equal(evo_dealer_beat(&d, now), 0);
    assert_true(d.last_send_ms >= now); /* sent */
    broker_expects(EVO_MSG_HEARTBEAT, NULL, NULL, NULL);
    /* leaving says BYE, twice is fine */
    evo_dealer_leave(&d, 1);
    broker_expects(EVO_MSG_BYE, NULL, NULL, NULL);
    assert_null(d.socket);
    evo_dealer_leave(&d, 1);
    evo_buf_free(&scratch);
    evo_buf_free(&body);
    zmq_ctx_term(context);
}

static void poll_waits_until_the_next_beat_and_silence_expires(void **state)
{
    (void)state;
    struct evo_dealer d = {.heartbeat_ms = 100, .liveness = 3, .last_send_ms = 1000, .last_recv_ms = 1000};
    assert_int_equal(evo_dealer_poll_ms(&d, -1, 1050), 50); /* forever: until the next beat */
    assert_int_equal(evo_dealer_poll_ms(&d, 20, 1050), 20);
    assert_int_equal(evo_dealer_poll_ms(&d, 80, 1050), 50);
    assert_int_equal(evo_dealer_poll_ms(&d, 80, 1200), 0); /* a beat is late: no waiting */
    assert_false(evo_dealer_silent(&d, 1300));             /* heartbeat x liveness */
    assert_true(evo_dealer_silent(&d, 1301));
    struct evo_stream stream = {.fd = -1, .last_byte_ms = 1250}; /* bytes of a big message arriving */
    d.stream = &stream;
    assert_false(evo_dealer_silent(&d, 1301));
    assert_false(evo_dealer_silent(&d, 1550));
    assert_true(evo_dealer_silent(&d, 1551));
    d.stream = NULL;
}

static void join_fails_in_one_line(void **state)
{
    (void)state;
    struct evo_dealer d = {.heartbeat_ms = 100, .liveness = 3};
    struct evo_credentials bad = broker.creds;
    struct evo_buf scratch = {0};
    char err[256];
    void *context = zmq_ctx_new();
    strcpy(bad.endpoint, "not-an-endpoint");
    assert_int_equal(evo_dealer_join(&d, context, &bad, EVO_PEER_DRIVER, &scratch, err, sizeof err), -1);
    assert_null(d.socket);
    assert_true(err[0] != '\0');
    assert_null(strchr(err, '\n'));
    evo_dealer_leave(&d, 1); /* never joined: nothing to do */
    evo_buf_free(&scratch);
    zmq_ctx_term(context);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(join_take_beat_leave, setup, teardown),
        cmocka_unit_test(poll_waits_until_the_next_beat_and_silence_expires),
        cmocka_unit_test_setup_teardown(join_fails_in_one_line, setup, teardown),
    };
    return EVO_RUN_TESTS(tests);
}
