/* test_proto.c — protocol v1 codec: every message round-trips, every
 * malformed body is rejected, and arbitrary bytes never crash a decoder. */
#include "unit.h"
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "wire/proto.h"
#include "wire/results_pieces.h"
#include "wire/share_pieces.h"
#include "unit_results.h"

static void header_version_and_type_checked(void **state)
{
    (void)state;
    unsigned char h[4];
    char why[160];
    evo_proto_header(h, EVO_MSG_SUBMIT);
    assert_int_equal(evo_proto_parse_header(h, 4, why, sizeof why), EVO_MSG_SUBMIT);
    assert_int_equal(evo_proto_parse_header(h, 3, why, sizeof why), -1);
    assert_string_equal(why, "header frame of 3 bytes (expected 4)");
    h[2] = 1;
    assert_int_equal(evo_proto_parse_header(h, 4, why, sizeof why), -1);
    assert_string_equal(why, "protocol version 1 (this is version 7)");
    evo_proto_header(h, EVO_MSG_SUBMIT);
    h[3] = 17;
    assert_int_equal(evo_proto_parse_header(h, 4, why, sizeof why), EVO_MSG_RESULTS_PART);
    h[3] = 18;
    assert_int_equal(evo_proto_parse_header(h, 4, why, sizeof why), -1);
    h[3] = 0;
    assert_int_equal(evo_proto_parse_header(h, 4, why, sizeof why), -1);
    h[0] = 'X';
    h[3] = 1;
    assert_int_equal(evo_proto_parse_header(h, 4, why, sizeof why), -1);
    assert_false(evo_proto_has_body(EVO_MSG_HEARTBEAT));
    assert_true(evo_proto_has_body(EVO_MSG_TASKS));
}

static void hello_and_welcome_round_trip(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    struct evo_hello h = {.kind = EVO_PEER_WORKER, .pid = 4242}, out;
    strcpy(h.host, "node1");
    evo_proto_put_hello(&b, &h);
    assert_int_equal(evo_proto_get_hello(b.data, b.len, &out), 0);
    assert_int_equal(out.kind, EVO_PEER_WORKER);
    assert_int_equal(out.pid, 4242);
    assert_string_equal(out.host, "node1");
    assert_int_equal(evo_proto_get_hello(b.data, b.len - 1, &out), -1);
    evo_buf_put_u8(&b, 0);
    assert_int_equal(evo_proto_get_hello(b.data, b.len, &out), -1); /* trailing byte */
    b.data[0] = 7;
    assert_int_equal(evo_proto_get_hello(b.data, b.len - 1, &out), -1); /* bad role */
    b.data[0] = EVO_PEER_WORKER;
    b.data[1] = 2;
    assert_int_equal(evo_proto_get_hello(b.data, b.len - 1, &out), -1); /* reads neither vectors nor payloads */
    b.data[1] = EVO_INPUT_PAYLOAD;
    assert_int_equal(evo_proto_get_hello(b.data, b.len - 1, &out), 0);
    assert_int_equal(out.reads, EVO_INPUT_PAYLOAD);
    evo_buf_reset(&b); /* with a Slurm job: one word, at most 63 bytes */
    strcpy(h.job, "4242.0");
    evo_proto_put_hello(&b, &h);
    assert_int_equal(evo_proto_get_hello(b.data, b.len, &out), 0);
    assert_string_equal(out.job, "4242.0");
    b.data[b.len - 2] = ' ';
    assert_int_equal(evo_proto_get_hello(b.data, b.len, &out), -1);
    /* The host is one word too: a terminal's escape sequence, a space or a
     * byte above ASCII would reach the logs and evo-farm status raw. */
    const char *hosts[] = {"node1\x1b[2J", "node 1", "n\xc3\xa9ud"};
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
        evo_buf_reset(&b);
        strcpy(h.host, hosts[i]);
        evo_proto_put_hello(&b, &h);
        assert_int_equal(evo_proto_get_hello(b.data, b.len, &out), -1);
    }
    /* Over a Unix stream, the key the member holds: 40 Z85 characters */
    strcpy(h.host, "node1");
    strcpy(h.key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    evo_buf_reset(&b);
    evo_proto_put_hello(&b, &h);
    assert_int_equal(evo_proto_get_hello(b.data, b.len, &out), 0);
    assert_string_equal(out.key, h.key);
    b.data[b.len - 1] = ' ';
    assert_int_equal(evo_proto_get_hello(b.data, b.len, &out), -1);
    h.key[39] = '\0'; /* 39 characters: no key */
    evo_buf_reset(&b);
    evo_proto_put_hello(&b, &h);
    assert_int_equal(evo_proto_get_hello(b.data, b.len, &out), -1);
    evo_buf_reset(&b);
    struct evo_welcome w = {100, 3, 9}, wo;
    evo_proto_put_welcome(&b, &w);
    assert_int_equal(evo_proto_get_welcome(b.data, b.len, &wo), 0);
    assert_int_equal(wo.heartbeat_ms, 100);
    assert_int_equal(wo.serial, 9);
    evo_buf_free(&b);
}

/* DRAIN: one word of 1..255 bytes; DRAINED: a count; nothing else. */
static void drain_and_drained_round_trip(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    char selector[EVO_PROTO_MAX_HOST + 1];
    uint32_t count;
    evo_proto_put_drain(&b, "1234.0");
    assert_int_equal(evo_proto_get_drain(b.data, b.len, selector), 0);
    assert_string_equal(selector, "1234.0");
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(evo_proto_get_drain(b.data, n, selector), -1);
    evo_buf_put_u8(&b, 'x');
    assert_int_equal(evo_proto_get_drain(b.data, b.len, selector), -1);
    evo_buf_reset(&b);
    evo_proto_put_drain(&b, "");
    assert_int_equal(evo_proto_get_drain(b.data, b.len, selector), -1);
    evo_buf_reset(&b);
    evo_proto_put_drain(&b, "no\001de");
    assert_int_equal(evo_proto_get_drain(b.data, b.len, selector), -1);
    evo_buf_reset(&b);
    evo_proto_put_drained(&b, 7);
    assert_int_equal(evo_proto_get_drained(b.data, b.len, &count), 0);
    assert_int_equal(count, 7);
    assert_int_equal(evo_proto_get_drained(b.data, 3, &count), -1);
    evo_buf_free(&b);
}

static void vector_tasks_round_trip(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    struct evo_input_list l;
    double x1[] = {1.5, -2.25}, x2[] = {3.0};
    evo_proto_begin_inputs(&b, 2);
    evo_proto_put_vector(&b, 7, 2, x1);
    evo_proto_put_vector(&b, 1ull << 40, 1, x2);
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), 0);
    assert_int_equal(l.count, 2);
    assert_int_equal(l.id[0], 7);
    assert_int_equal(l.id[1], 1ull << 40);
    assert_int_equal(l.size[0], 2);
    assert_true(l.values[l.offset[0] + 1] == -2.25);
    assert_true(l.values[l.offset[1]] == 3.0);
    evo_input_list_free(&l);
    /* Every truncation and any extra byte is rejected. */
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(evo_proto_get_inputs(b.data, n, &l), -1);
    evo_buf_put_u8(&b, 0);
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), -1);
    /* Count 0, dim 0 and an absurd count are rejected. */
    evo_buf_reset(&b);
    evo_proto_begin_inputs(&b, 0);
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), -1);
    evo_buf_reset(&b);
    evo_proto_begin_inputs(&b, 1);
    evo_proto_put_vector(&b, 1, 0, x1);
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), -1);
    evo_buf_reset(&b);
    evo_proto_begin_inputs(&b, 0xffffffffu);
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), -1);
    evo_buf_free(&b);
}

/* Payload items mix with vectors; payload answers travel back as bytes. */
static void payload_tasks_and_answers_round_trip(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    struct evo_input_list l;
    struct unit_results r;
    double x[] = {2.5};
    evo_proto_begin_inputs(&b, 3);
    evo_proto_put_payload(&b, 1, 5, "hello");
    evo_proto_put_vector(&b, 2, 1, x);
    evo_proto_put_input(&b, 3, EVO_INPUT_PAYLOAD, 0, "");
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), 0);
    assert_int_equal(l.kind[0], EVO_INPUT_PAYLOAD);
    assert_int_equal(l.size[0], 5);
    assert_memory_equal(evo_input_list_data(&l, 0), "hello", 5);
    assert_int_equal(l.kind[1], EVO_INPUT_VECTOR);
    assert_true(((const double *)evo_input_list_data(&l, 1))[0] == 2.5);
    assert_int_equal(l.size[2], 0);
    evo_input_list_free(&l);
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(evo_proto_get_inputs(b.data, n, &l), -1);
    /* an unknown kind and an oversized payload are rejected */
    evo_buf_reset(&b);
    evo_proto_begin_inputs(&b, 1);
    evo_buf_put_u64(&b, 1);
    evo_buf_put_u8(&b, 7);
    evo_buf_put_u32(&b, 0);
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), -1);
    evo_buf_reset(&b);
    evo_proto_begin_inputs(&b, 1);
    evo_buf_put_u64(&b, 1);
    evo_buf_put_u8(&b, EVO_INPUT_PAYLOAD);
    evo_buf_put_u32(&b, EVO_PROTO_MAX_PAYLOAD + 1);
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, &l), -1);
    /* results */
    evo_buf_reset(&b);
    evo_proto_begin_results(&b, 2);
    evo_proto_put_result_payload(&b, 9, 3, "abc");
    evo_proto_put_result_ok(&b, 10, 1, x);
    assert_int_equal(unit_get_results(b.data, b.len, 0, EVO_RESULT_ERROR, &r), 0);
    assert_int_equal(r.items[0].status, EVO_RESULT_OK_PAYLOAD);
    assert_int_equal(r.items[0].payload_size, 3);
    assert_memory_equal(r.items[0].payload, "abc", 3);
    assert_int_equal(r.items[1].status, EVO_RESULT_OK);
    unit_results_free(&r);
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(unit_get_results(b.data, n, 0, EVO_RESULT_ERROR, &r), -1);
    evo_buf_free(&b);
}

static void results_round_trip_and_lies_refused(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    struct unit_results l;
    double f[] = {0.5, 2.0};
    evo_buf_put_u64(&b, 12345);
    evo_proto_begin_results(&b, 2);
    evo_proto_put_result_ok(&b, 3, 2, f);
    evo_proto_put_result_error(&b, 4, EVO_RESULT_ATTEMPT_FAILED, "boom");
    assert_int_equal(unit_get_results(b.data, b.len, 1, EVO_RESULT_ATTEMPT_FAILED, &l), 0);
    assert_int_equal(l.elapsed_ns, 12345);
    assert_int_equal(l.count, 2);
    assert_int_equal(l.items[0].n, 2);
    assert_true(l.items[0].objectives[1] == 2.0);
    assert_string_equal(l.items[1].text, "boom");
    unit_results_free(&l);
    /* A worker may not send final errors, nor a driver receive attempts. */
    assert_int_equal(unit_get_results(b.data, b.len, 1, EVO_RESULT_ERROR, &l), -1);
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(unit_get_results(b.data, n, 1, EVO_RESULT_ATTEMPT_FAILED, &l), -1);
    /* 17 objectives is one too many. */
    evo_buf_reset(&b);
    evo_proto_begin_results(&b, 1);
    double many[17] = {0};
    evo_proto_put_result_ok(&b, 1, 17, many);
    assert_int_equal(unit_get_results(b.data, b.len, 0, EVO_RESULT_ERROR, &l), -1);
    evo_buf_free(&b);
}

static void stats_round_trip(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    struct evo_stats *s = calloc(2, sizeof *s), *o = s + 1;
    s->workers = 5;
    s->done = 1000;
    s->malformed = 3;
    s->evaluations_per_second = 12.5;
    s->hosts = 2;
    strcpy(s->host[0].name, "node1");
    s->host[0].workers = 3;
    strcpy(s->host[1].name, "node2");
    s->host[1].workers = 2;
    evo_proto_put_stats(&b, s);
    assert_int_equal(evo_proto_get_stats(b.data, b.len, o), 0);
    assert_int_equal(o->workers, 5);
    assert_int_equal(o->done, 1000);
    assert_int_equal(o->malformed, 3);
    assert_true(o->evaluations_per_second == 12.5);
    assert_string_equal(o->host[1].name, "node2");
    assert_int_equal(o->host[0].workers, 3);
    assert_int_equal(evo_proto_get_stats(b.data, b.len - 1, o), -1);
    evo_buf_free(&b);
    free(s);
}

/* Version 3: WITHDRAW's id list, BLOCKED, SHARE, and the WITHDRAWN item
 * (DONE only); every truncation of each is refused. */
static void withdraw_blocked_share(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    uint64_t ids[] = {7, 1u << 20, UINT64_MAX}, *got;
    size_t n;
    evo_proto_put_ids(&b, ids, 3);
    assert_int_equal(evo_proto_get_ids(b.data, b.len, &got, &n), 0);
    assert_int_equal(n, 3);
    assert_true(got[2] == UINT64_MAX && got[0] == 7);
    free(got);
    for (size_t k = 0; k < b.len; k++)
        assert_int_equal(evo_proto_get_ids(b.data, k, &got, &n), -1);
    evo_buf_reset(&b);
    evo_proto_put_ids(&b, ids, 0); /* an empty WITHDRAW says nothing: refused */
    assert_int_equal(evo_proto_get_ids(b.data, b.len, &got, &n), -1);

    struct evo_blocked bl;
    evo_buf_reset(&b);
    evo_proto_put_blocked(&b, 1, 2, ids, 3);
    assert_int_equal(evo_proto_get_blocked(b.data, b.len, &bl), 0);
    assert_true(bl.blocked == 1 && bl.batches == 2 && bl.count == 3 && bl.ids[1] == 1u << 20);
    free(bl.ids);
    for (size_t k = 0; k < b.len; k++)
        assert_int_equal(evo_proto_get_blocked(b.data, k, &bl), -1);
    evo_buf_reset(&b);
    evo_proto_put_blocked(&b, 0, 0, NULL, 0);
    assert_int_equal(evo_proto_get_blocked(b.data, b.len, &bl), 0);
    assert_true(bl.blocked == 0 && bl.count == 0);
    free(bl.ids);
    b.data[0] = 2; /* neither blocked nor resumed */
    assert_int_equal(evo_proto_get_blocked(b.data, b.len, &bl), -1);
    evo_buf_reset(&b);
    evo_proto_put_blocked(&b, 1, 0, ids, 1); /* tasks given back without their batch */
    assert_int_equal(evo_proto_get_blocked(b.data, b.len, &bl), -1);

    struct evo_share sh;
    evo_buf_reset(&b);
    struct evo_share piece = {"table_2", (const unsigned char *)"abc", 3, 10, 4};
    evo_proto_put_share(&b, &piece);
    assert_int_equal(evo_proto_get_share(b.data, b.len, &sh), 0);
    assert_string_equal(sh.name, "table_2");
    assert_true(sh.size == 3 && sh.total == 10 && sh.offset == 4);
    assert_memory_equal(sh.value, "abc", 3);
    for (size_t k = 0; k < 1 + 7 + 4 + 4; k++) /* cut before its piece (any cut of a piece is a piece) */
        assert_int_equal(evo_proto_get_share(b.data, k, &sh), -1);
    /* a piece past the end, an empty piece of a non-empty constant, a
     * piece over EVO_PROTO_SHARE_PIECE, a constant over the limit */
    struct evo_share wrong[] = {{"t", (const unsigned char *)"abc", 3, 10, 8},
                                {"t", (const unsigned char *)"", 0, 10, 0},
                                {"t", NULL, EVO_PROTO_SHARE_PIECE + 1, EVO_PROTO_SHARE_PIECE + 1, 0},
                                {"t", (const unsigned char *)"a", 1, EVO_PROTO_MAX_SHARE + 1u, 0}};
    unsigned char *zeros = calloc(1, EVO_PROTO_SHARE_PIECE + 1);
    wrong[2].value = zeros;
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        evo_buf_reset(&b);
        evo_proto_put_share(&b, &wrong[i]);
        assert_int_equal(evo_proto_get_share(b.data, b.len, &sh), -1);
    }
    free(zeros);
    struct evo_share empty = {"e", (const unsigned char *)"", 0, 0, 0};
    evo_buf_reset(&b);
    evo_proto_put_share(&b, &empty);
    assert_int_equal(evo_proto_get_share(b.data, b.len, &sh), 0);
    assert_true(sh.size == 0 && sh.total == 0);
    const char *bad[] = {
        "", "2x", "../etc", "a b", "a.b", "x/y", "a1234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(evo_proto_share_name_ok(bad[i], strlen(bad[i])));
        evo_buf_reset(&b);
        evo_buf_put_u8(&b, (uint8_t)strlen(bad[i]));
        evo_buf_put(&b, bad[i], strlen(bad[i]));
        evo_buf_put_u32(&b, 0);
        evo_buf_put_u32(&b, 0);
        assert_int_equal(evo_proto_get_share(b.data, b.len, &sh), -1);
    }
    assert_true(evo_proto_share_name_ok("_", 1));

    struct unit_results l;
    evo_buf_reset(&b);
    evo_proto_begin_results(&b, 1);
    evo_proto_put_result_withdrawn(&b, 9);
    assert_int_equal(unit_get_results(b.data, b.len, 0, EVO_RESULT_ERROR, &l), 0);
    assert_true(l.count == 1 && l.items[0].id == 9 && l.items[0].status == EVO_RESULT_WITHDRAWN);
    unit_results_free(&l);
    evo_buf_reset(&b);
    evo_buf_put_u64(&b, 0);
    evo_proto_begin_results(&b, 1);
    evo_proto_put_result_withdrawn(&b, 9); /* a worker cannot say it */
    assert_int_equal(unit_get_results(b.data, b.len, 1, EVO_RESULT_ATTEMPT_FAILED, &l), -1);
    evo_buf_free(&b);
}

/* The RESULTS/DONE reader allocates nothing, whatever the frame claims: a
 * DONE of 1,000,000 empty errors (11 MB; the list decoder it replaced
 * allocated about 15 times that) is read in place. */
static void results_read_in_place(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    struct evo_results_reader it;
    struct evo_result_item item;
    const uint32_t n = 1000000;
    evo_proto_begin_results(&b, n);
    for (uint32_t i = 0; i < n; i++)
        evo_proto_put_result_error(&b, i, EVO_RESULT_ERROR, "");
    assert_int_equal(b.len, 4 + 11 * (size_t)n);
    size_t before = mallinfo2().uordblks, seen = 0;
    assert_int_equal(evo_proto_results_open(b.data, b.len, 0, EVO_RESULT_ERROR, &it), 0);
    while (evo_proto_results_next(&it, &item)) {
        assert_true(item.id == seen && item.status == EVO_RESULT_ERROR && item.text_size == 0);
        seen++;
    }
    assert_int_equal(seen, n);
    assert_int_equal(mallinfo2().uordblks, before);
    /* a count the body cannot hold: refused before any item is read */
    evo_buf_patch_u32(&b, 0, n + 1);
    assert_int_equal(evo_proto_results_open(b.data, b.len, 0, EVO_RESULT_ERROR, &it), -1);
    evo_buf_free(&b);
}

/* Random and mutated bodies through every decoder: no crash, no leak (the
 * ASan build of this test checks both). */
static void arbitrary_bytes_never_crash_a_decoder(void **state)
{
    (void)state;
    unsigned char data[512];
    struct evo_input_list vl;
    struct unit_results rl;
    struct evo_hello h;
    struct evo_welcome w;
    struct evo_stats *s = malloc(sizeof *s);
    srand(7);
    for (int round = 0; round < 200000; round++) {
        size_t n = (size_t)rand() % sizeof data;
        for (size_t i = 0; i < n; i++)
            data[i] = (unsigned char)(rand() % 4 == 0 ? 0 : rand());
        if (n >= 4 && round % 2) /* plausible small counts */
            data[0] = (unsigned char)(rand() % 4), data[1] = data[2] = data[3] = 0;
        if (evo_proto_get_inputs(data, n, &vl) == 0)
            evo_input_list_free(&vl);
        if (unit_get_results(data, n, round % 3 == 0, EVO_RESULT_ATTEMPT_FAILED, &rl) == 0)
            unit_results_free(&rl);
        evo_proto_get_hello(data, n, &h);
        evo_proto_get_welcome(data, n, &w);
        evo_proto_get_stats(data, n, s);
        uint64_t *ids;
        size_t count;
        if (evo_proto_get_ids(data, n, &ids, &count) == 0)
            free(ids);
        struct evo_blocked bl;
        if (evo_proto_get_blocked(data, n, &bl) == 0)
            free(bl.ids);
        struct evo_share sh;
        evo_proto_get_share(data, n, &sh);
    }
    free(s);
}

/* evo_share_send's sender for the test: keeps each piece's decoding. */
struct sent_pieces {
    struct evo_share piece[8];
    unsigned char *copy[8];
    int n, fail_at;
};

static int keep_piece(void *arg, const struct evo_buf *body)
{
    struct sent_pieces *sent = arg;
    if (sent->n == sent->fail_at)
        return -1;
    sent->copy[sent->n] = malloc(body->len);
    memcpy(sent->copy[sent->n], body->data, body->len);
    assert_int_equal(evo_proto_get_share(sent->copy[sent->n], body->len, &sent->piece[sent->n]), 0);
    sent->n++;
    return 0;
}

/* A constant is cut into pieces of EVO_PROTO_SHARE_PIECE in order (an
 * empty one into one empty piece), and its receiver follows them: whole
 * at the last, a gap or a stranger's piece out of order, a new beginning
 * abandoning an unfinished constant; a failed send stops the rest. */
static void constants_travel_in_pieces(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    size_t total = 2 * EVO_PROTO_SHARE_PIECE + 10;
    unsigned char *value = calloc(1, total);
    struct sent_pieces sent = {.fail_at = -1};
    assert_int_equal(evo_share_send(&b, "big", value, total, keep_piece, &sent), 0);
    assert_int_equal(sent.n, 3);
    struct evo_share_progress p = {{0}, 0, 0, 0};
    for (int i = 0; i < 3; i++) {
        assert_true(sent.piece[i].offset == (size_t)i * EVO_PROTO_SHARE_PIECE && sent.piece[i].total == total);
        assert_int_equal(evo_share_progress_take(&p, &sent.piece[i]), i < 2 ? EVO_SHARE_MORE : EVO_SHARE_WHOLE);
    }
    assert_int_equal(evo_share_progress_take(&p, &sent.piece[1]), EVO_SHARE_OUT_OF_ORDER); /* nothing open */
    assert_int_equal(evo_share_progress_take(&p, &sent.piece[0]), EVO_SHARE_MORE);
    assert_int_equal(evo_share_progress_take(&p, &sent.piece[2]), EVO_SHARE_OUT_OF_ORDER); /* a gap */
    assert_int_equal(evo_share_progress_take(&p, &sent.piece[1]), EVO_SHARE_OUT_OF_ORDER); /* abandoned */
    assert_int_equal(evo_share_progress_take(&p, &sent.piece[0]), EVO_SHARE_MORE);
    struct evo_share other = sent.piece[1];
    strcpy(other.name, "other");
    assert_int_equal(evo_share_progress_take(&p, &other), EVO_SHARE_OUT_OF_ORDER); /* another constant's */
    assert_int_equal(evo_share_progress_take(&p, &sent.piece[0]), EVO_SHARE_MORE);
    assert_int_equal(evo_share_progress_take(&p, &sent.piece[0]), EVO_SHARE_MORE); /* its sender started over */
    for (int i = 0; i < sent.n; i++)
        free(sent.copy[i]);
    struct sent_pieces empty = {.fail_at = -1};
    assert_int_equal(evo_share_send(&b, "e", "", 0, keep_piece, &empty), 0);
    assert_true(empty.n == 1 && empty.piece[0].size == 0 && empty.piece[0].total == 0);
    assert_int_equal(evo_share_progress_take(&p, &empty.piece[0]), EVO_SHARE_WHOLE);
    free(empty.copy[0]);
    struct sent_pieces failing = {.fail_at = 1};
    assert_int_equal(evo_share_send(&b, "big", value, total, keep_piece, &failing), -1);
    assert_int_equal(failing.n, 1);
    free(failing.copy[0]);
    free(value);
    evo_buf_free(&b);
}

/* What evo_results_send handed on: each message's type, item count,
 * elapsed time and first id. */
struct sent_results {
    int n;
    int type[8];
    uint32_t count[8];
    uint64_t elapsed[8], first[8];
    size_t biggest;
};

static int keep_results(void *arg, enum evo_msg_type type, const struct evo_buf *body)
{
    struct sent_results *s = arg;
    struct evo_results_reader r;
    struct evo_result_item item;
    assert_true(s->n < 8);
    assert_int_equal(evo_proto_results_open(body->data, body->len, 1, EVO_RESULT_ATTEMPT_FAILED, &r), 0);
    s->type[s->n] = type;
    s->count[s->n] = r.count;
    s->elapsed[s->n] = r.elapsed_ns;
    assert_int_equal(evo_proto_results_next(&r, &item), 1);
    s->first[s->n] = item.id;
    s->biggest = body->len > s->biggest ? body->len : s->biggest;
    s->n++;
    return 0;
}

/* A batch's answers bigger than one message go as RESULTS_PARTs of whole
 * items within the limit, then one RESULTS with the batch's elapsed time;
 * an item alone over the limit goes alone; a small batch is one RESULTS as
 * it was; an exception's answer (OK_UNKEPT) is an answer in RESULTS only. */
static void results_travel_in_pieces(void **state)
{
    (void)state;
    struct evo_buf whole = {0}, scratch = {0};
    size_t limit = 1000;
    unsigned char bytes[900] = {0};
    evo_buf_put_u64(&whole, 12345);
    evo_proto_begin_results(&whole, 6);
    evo_proto_put_result_payload(&whole, 10, 400, bytes); /* 413 bytes each */
    evo_proto_put_result_payload(&whole, 11, 400, bytes);
    evo_proto_put_result_unkept(&whole, 12, 400, bytes);
    evo_proto_put_result_payload(&whole, 13, 900, bytes); /* alone over the limit with the header */
    evo_proto_put_result_error(&whole, 14, EVO_RESULT_ATTEMPT_FAILED, "no");
    double f = 1.5;
    evo_proto_put_result_ok(&whole, 15, 1, &f);
    struct sent_results sent = {0};
    assert_int_equal(evo_results_send(&whole, limit, &scratch, keep_results, &sent), 0);
    assert_int_equal(sent.n, 3);
    assert_true(sent.type[0] == EVO_MSG_RESULTS_PART && sent.count[0] == 2 && sent.first[0] == 10);
    assert_true(sent.type[1] == EVO_MSG_RESULTS_PART && sent.count[1] == 1 && sent.first[1] == 12);
    assert_true(sent.type[2] == EVO_MSG_RESULTS && sent.count[2] == 3 && sent.first[2] == 13);
    assert_true(sent.elapsed[0] == 0 && sent.elapsed[1] == 0 && sent.elapsed[2] == 12345);
    struct sent_results one = {0};
    assert_int_equal(evo_results_send(&whole, whole.len, &scratch, keep_results, &one), 0);
    assert_true(one.n == 1 && one.type[0] == EVO_MSG_RESULTS && one.count[0] == 6 && one.biggest == whole.len);
    struct evo_results_reader r; /* the broker's DONE never carries OK_UNKEPT */
    evo_buf_reset(&scratch);
    evo_proto_begin_results(&scratch, 1);
    evo_proto_put_result_unkept(&scratch, 1, 3, "abc");
    assert_int_equal(evo_proto_results_open(scratch.data, scratch.len, 0, EVO_RESULT_ERROR, &r), -1);
    evo_buf_free(&whole);
    evo_buf_free(&scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(constants_travel_in_pieces),
        cmocka_unit_test(results_travel_in_pieces),
        cmocka_unit_test(header_version_and_type_checked),
        cmocka_unit_test(hello_and_welcome_round_trip),
        cmocka_unit_test(drain_and_drained_round_trip),
        cmocka_unit_test(vector_tasks_round_trip),
        cmocka_unit_test(payload_tasks_and_answers_round_trip),
        cmocka_unit_test(results_round_trip_and_lies_refused),
        cmocka_unit_test(stats_round_trip),
        cmocka_unit_test(arbitrary_bytes_never_crash_a_decoder),
        cmocka_unit_test(withdraw_blocked_share),
        cmocka_unit_test(results_read_in_place),
    };
    return EVO_RUN_TESTS(tests);
}
