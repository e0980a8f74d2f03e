/* test_eval_codec.c — what evaluators may answer: valid lines, error lines,
 * and everything else as a failure quoting the offending text. */
#include "unit.h"
#include <stdint.h>
#include <string.h>

#include "worker/eval_codec.h"
#include "wire/proto.h"

static struct evo_eval_output out;

static void line(const char *text, unsigned expected)
{
    evo_codec_parse_line(text, strlen(text), expected, &out);
}

static void text_lines_parse_or_say_why(void **state)
{
    (void)state;
    line("1.5", 1);
    assert_true(out.ok && out.n == 1 && out.objectives[0] == 1.5);
    line("  -2e-3\t 7 \r", 2);
    assert_true(out.ok && out.n == 2 && out.objectives[0] == -2e-3 && out.objectives[1] == 7);
    line("0.10000000000000001", 1);
    assert_true(out.ok && out.objectives[0] == 0.1);
    line("inf", 1);
    assert_true(out.ok);
    line("error: diverged at step 3", 1);
    assert_false(out.ok);
    assert_false(out.broken);
    assert_string_equal(out.text, "evaluator reported: diverged at step 3");
    line("error", 1);
    assert_string_equal(out.text, "evaluator reported: (no message)");
    line("Traceback (most recent call last):", 1);
    assert_false(out.ok);
    assert_true(out.broken);
    assert_string_equal(out.text, "invalid evaluator output (not a number): 'Traceback (most recent call last):'");
    line("1 2", 1);
    assert_string_equal(out.text, "invalid evaluator output (too many values): '1 2'");
    line("1", 2);
    assert_string_equal(out.text, "invalid evaluator output (1 value, expected 2): '1'");
    line("", 1);
    assert_true(out.broken);
    line("1e999", 1);
    assert_true(out.broken);
    line("3.0abc", 1);
    assert_true(out.broken);
    evo_codec_parse_line("1\0", 2, 1, &out);
    assert_true(out.broken);
    assert_string_equal(out.text, "invalid evaluator output (NUL byte): '1\\x00'");
}

static void text_stream_splits_anywhere(void **state)
{
    (void)state;
    const char data[] = "1\n2\n3";
    assert_int_equal(evo_codec_take_output(EVO_CODEC_TEXT, data, 5, 1, &out), 2);
    assert_true(out.ok && out.objectives[0] == 1);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_TEXT, data + 4, 1, 1, &out), 0); /* incomplete */
    struct evo_buf b = {0};
    double x[] = {0.1, -3};
    evo_codec_put_input(EVO_CODEC_TEXT, &b, EVO_INPUT_VECTOR, x, 2);
    assert_int_equal(b.len, strlen("0.10000000000000001 -3\n"));
    assert_memory_equal(b.data, "0.10000000000000001 -3\n", b.len);
    evo_buf_free(&b);
}

static void binary_stream_round_trips(void **state)
{
    (void)state;
    char rec[64];
    double v = 4.25;
    rec[0] = 0;
    rec[1] = 1;
    memcpy(rec + 2, &v, 8);
    for (size_t n = 0; n < 10; n++)
        assert_int_equal(evo_codec_take_output(EVO_CODEC_BINARY, rec, n, 1, &out), 0);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_BINARY, rec, 10, 1, &out), 10);
    assert_true(out.ok && out.objectives[0] == 4.25);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_BINARY, rec, 10, 2, &out), 10);
    assert_false(out.ok); /* wrong objective count */
    uint16_t len = 3;
    rec[0] = 1;
    memcpy(rec + 1, &len, 2);
    memcpy(rec + 3, "bad", 3);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_BINARY, rec, 5, 1, &out), 0);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_BINARY, rec, 6, 1, &out), 6);
    assert_string_equal(out.text, "bad");
    rec[0] = 9;
    assert_int_equal(evo_codec_take_output(EVO_CODEC_BINARY, rec, 6, 1, &out), 6);
    assert_true(out.broken);
}

/* Frames: payloads and vectors in, answers and errors out, split anywhere. */
static void frames_split_anywhere(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    struct evo_eval_output o;
    double x[] = {1.0};
    assert_int_equal(evo_codec_put_input(EVO_CODEC_FRAMES, &b, EVO_INPUT_PAYLOAD, "ab", 2), 0);
    assert_int_equal(b.len, 7);
    assert_memory_equal(b.data,
                        "\x01\x02\x00\x00\x00"
                        "ab",
                        7);
    assert_int_equal(evo_codec_put_input(EVO_CODEC_FRAMES, &b, EVO_INPUT_VECTOR, x, 1), 0);
    assert_int_equal(b.len, 7 + 5 + 8);
    assert_int_equal(evo_codec_put_input(EVO_CODEC_TEXT, &b, EVO_INPUT_PAYLOAD, "ab", 2), -1);
    assert_int_equal(b.len, 20);
    const char answer[] = "\x00\x03\x00\x00\x00xyz\x01\x04\x00\x00\x00oops";
    size_t size = sizeof answer - 1;
    for (size_t n = 0; n < 8; n++)
        assert_int_equal(evo_codec_take_output(EVO_CODEC_FRAMES, answer, n, 1, &o), 0);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_FRAMES, answer, size, 1, &o), 8);
    assert_true(o.ok);
    assert_int_equal(o.payload_size, 3);
    assert_memory_equal(o.payload, "xyz", 3);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_FRAMES, answer + 8, size - 8, 1, &o), 9);
    assert_false(o.ok);
    assert_string_equal(o.text, "evaluator reported: oops");
    assert_false(o.unkept);
    /* status 4: an answer (an exception the call raised) no journal keeps */
    assert_int_equal(evo_codec_take_output(EVO_CODEC_FRAMES,
                                           "\x04\x02\x00\x00\x00"
                                           "ex",
                                           7, 1, &o),
                     7);
    assert_true(o.ok && o.unkept && o.payload_size == 2);
    /* a bad status or an absurd size breaks the stream */
    assert_int_equal(evo_codec_take_output(EVO_CODEC_FRAMES, "\x05\x00\x00\x00\x00", 5, 1, &o), 5);
    assert_true(o.broken);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_FRAMES, "\x00\xff\xff\xff\xff", 5, 1, &o), 5);
    assert_true(o.broken);
    /* notices: the call waits on other tasks / goes on; never with a body */
    assert_int_equal(evo_codec_take_output(EVO_CODEC_FRAMES, "\x02\x00\x00\x00\x00", 5, 1, &o), 5);
    assert_int_equal(o.notice, EVO_NOTICE_BLOCKED);
    assert_false(o.broken);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_FRAMES, "\x03\x00\x00\x00\x00", 5, 1, &o), 5);
    assert_int_equal(o.notice, EVO_NOTICE_RESUMED);
    assert_int_equal(evo_codec_take_output(EVO_CODEC_FRAMES, "\x02\x01\x00\x00\x00x", 6, 1, &o), 6);
    assert_true(o.broken);
    assert_int_equal(o.notice, EVO_NOTICE_NONE);
    evo_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_lines_parse_or_say_why), cmocka_unit_test(text_stream_splits_anywhere),
        cmocka_unit_test(binary_stream_round_trips), cmocka_unit_test(frames_split_anywhere)};
    return EVO_RUN_TESTS(tests);
}
