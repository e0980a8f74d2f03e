/* test_stream.c — the Unix-socket transport of a machine's members
 * (wire/stream.h): whole messages both ways whatever the socket's buffer
 * takes at once (a big one read a bounded amount at a time, its bytes a
 * sign of life), an oversized length or a header-only message of a type
 * with a body refused, the end of a peer seen, a peer of another uid
 * refused at accept. Real sockets in a private directory. */
#include "unit.h"
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/stream.h"

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/evo-test-stream-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/broker", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

/* Waits for the next whole message on s (5 s at most). */
static int next(struct evo_stream *s, struct evo_message *m, const void *id, size_t id_size)
{
    for (int i = 0; i < 5000; i++) {
        int rc = evo_stream_recv(s, m, id, id_size);
        if (rc >= 0 || s->closed)
            return rc;
        struct pollfd p = {s->fd, POLLIN, 0};
        poll(&p, 1, 1);
    }
    return -1;
}

static void whole_messages_both_ways(void **state)
{
    (void)state;
    char err[256];
    int refused;
    int lfd = evo_stream_listen(path, err, sizeof err);
    assert_true(lfd >= 0);
    struct evo_stream *member = evo_stream_connect(path, err, sizeof err);
    assert_non_null(member);
    struct evo_stream *broker = evo_stream_accept(lfd, geteuid(), &refused);
    assert_non_null(broker);
    assert_int_equal(refused, 0);

    struct evo_buf body = {0};
    evo_proto_begin_inputs(&body, 1);
    evo_proto_put_payload(&body, 7, 3, "abc");
    assert_int_equal(evo_stream_send(member, EVO_MSG_SUBMIT, &body, 1000), 0);
    assert_int_equal(evo_stream_send(member, EVO_MSG_HEARTBEAT, NULL, 1000), 0);
    struct evo_message m;
    assert_int_equal(next(broker, &m, "\0\xffSabcd", 7), 0);
    assert_int_equal(m.type, EVO_MSG_SUBMIT);
    size_t size;
    const void *got = evo_message_body(&m, &size);
    assert_int_equal(size, body.len);
    assert_memory_equal(got, body.data, size);
    const void *id = evo_message_identity(&m, &size);
    assert_int_equal(size, 7);
    assert_memory_equal(id, "\0\xffSabcd", 7);
    evo_message_close(&m);
    assert_int_equal(next(broker, &m, "\0\xffSabcd", 7), 0);
    assert_int_equal(m.type, EVO_MSG_HEARTBEAT);
    evo_message_close(&m);

    /* 8 MiB the other way: queued, written as the member reads it */
    evo_buf_reset(&body);
    unsigned char *big = malloc(8u << 20);
    for (size_t i = 0; i < (8u << 20); i++)
        big[i] = (unsigned char)(i * 31);
    evo_buf_put_u32(&body, 1); /* an 8 MiB payload task */
    evo_buf_put_u64(&body, 7);
    evo_buf_put_u8(&body, 1);
    evo_buf_put_u32(&body, 8u << 20);
    evo_buf_put(&body, big, 8u << 20);
    assert_int_equal(evo_stream_send(broker, EVO_MSG_TASKS, &body, 0), 0);
    assert_true(evo_stream_pending(broker));
    int rc = -1;
    member->last_byte_ms = 0;
    for (int i = 0; i < 20000 && rc < 0; i++) {
        evo_stream_flush(broker);
        size_t before = member->in_len - member->in_at;
        rc = evo_stream_recv(member, &m, NULL, 0);
        if (rc < 0) /* not whole yet: what arrived is read a bounded amount at a time, and counted as life */
            assert_true(member->in_len - before <= EVO_STREAM_READ_MAX);
        if (rc < 0 && member->in_len > before)
            assert_true(member->last_byte_ms > 0);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(m.type, EVO_MSG_TASKS);
    struct evo_input_list tasks;
    got = evo_message_body(&m, &size);
    assert_int_equal(evo_proto_get_inputs(got, size, &tasks), 0);
    assert_true(tasks.count == 1 && tasks.size[0] == 8u << 20);
    assert_memory_equal(evo_input_list_data(&tasks, 0), big, 8u << 20);
    evo_input_list_free(&tasks);
    evo_message_close(&m);
    assert_false(evo_stream_pending(broker));

    /* a SUBMIT without its body is malformed; the stream goes on */
    unsigned char header_only[] = {4, 0, 0, 0, 'E', 'F', EVO_PROTO_VERSION, EVO_MSG_SUBMIT};
    assert_int_equal(write(member->fd, header_only, sizeof header_only), sizeof header_only);
    assert_int_equal(evo_stream_send(member, EVO_MSG_BYE, NULL, 1000), 0);
    assert_int_equal(next(broker, &m, NULL, 0), 1);
    evo_message_close(&m);
    assert_int_equal(next(broker, &m, NULL, 0), 0);
    assert_int_equal(m.type, EVO_MSG_BYE);
    evo_message_close(&m);

    /* a length no message can have: the stream is closed */
    unsigned char absurd[] = {0xff, 0xff, 0xff, 0x7f};
    assert_int_equal(write(member->fd, absurd, sizeof absurd), sizeof absurd);
    assert_int_equal(next(broker, &m, NULL, 0), -1);
    assert_true(broker->closed);

    /* the member's end closes: the other side sees it */
    evo_stream_close(broker);
    assert_int_equal(next(member, &m, NULL, 0), -1);
    assert_true(member->closed);
    assert_int_equal(evo_stream_send(member, EVO_MSG_HEARTBEAT, NULL, 0), -1);
    evo_stream_close(member);

    /* another uid's connection is refused at accept */
    member = evo_stream_connect(path, err, sizeof err);
    assert_non_null(member);
    struct evo_stream *none = NULL;
    for (int i = 0; i < 1000 && !refused; i++)
        none = evo_stream_accept(lfd, geteuid() + 1, &refused);
    assert_null(none);
    assert_int_equal(refused, 1);
    assert_int_equal(next(member, &m, NULL, 0), -1);
    assert_true(member->closed);
    evo_stream_close(member);
    free(big);
    evo_buf_free(&body);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test_setup_teardown(whole_messages_both_ways, setup, teardown)};
    return EVO_RUN_TESTS(tests);
}
