/* test_buf.c — the wire's byte buffer and bounded reader (util/buf.h):
 * little-endian layout, growth, patching, and a reader that never reads
 * past its end. */
#include "unit.h"

#include <string.h>

#include "util/buf.h"

static void little_endian_round_trip(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    evo_buf_put_u8(&b, 0xab);
    evo_buf_put_u16(&b, 0x1234);
    evo_buf_put_u32(&b, 0xdeadbeef);
    evo_buf_put_u64(&b, 0x0102030405060708ull);
    evo_buf_put_f64(&b, -2.5);
    assert_int_equal(b.len, 1 + 2 + 4 + 8 + 8);
    static const unsigned char expected[] = {0xab, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde, 8, 7, 6, 5, 4, 3, 2, 1};
    assert_memory_equal(b.data, expected, sizeof expected);
    struct evo_reader r;
    evo_reader_init(&r, b.data, b.len);
    assert_int_equal(evo_get_u8(&r), 0xab);
    assert_int_equal(evo_get_u16(&r), 0x1234);
    assert_int_equal(evo_get_u32(&r), 0xdeadbeef);
    assert_true(evo_get_u64(&r) == 0x0102030405060708ull);
    assert_true(evo_get_f64(&r) == -2.5);
    assert_int_equal(r.left, 0);
    assert_false(r.bad);
    evo_buf_free(&b);
    evo_buf_free(&b); /* twice is fine */
}

static void grows_and_patches(void **state)
{
    (void)state;
    struct evo_buf b = {0};
    evo_buf_put_u32(&b, 0);
    for (uint32_t i = 0; i < 100000; i++)
        evo_buf_put_u32(&b, i);
    evo_buf_patch_u32(&b, 0, 100000);
    assert_false(b.failed);
    assert_int_equal(b.len, 4 * 100001);
    struct evo_reader r;
    evo_reader_init(&r, b.data, b.len);
    assert_int_equal(evo_get_u32(&r), 100000);
    for (uint32_t i = 0; i < 100000; i++)
        if (evo_get_u32(&r) != i)
            fail_msg("word %u differs", i);
    evo_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_non_null(b.data); /* reset keeps the memory */
    evo_buf_free(&b);
    assert_null(b.data);
}

static void reader_stops_at_its_end(void **state)
{
    (void)state;
    const unsigned char three[] = {1, 2, 3};
    struct evo_reader r;
    evo_reader_init(&r, three, sizeof three);
    assert_int_equal(evo_get_u16(&r), 0x0201);
    assert_int_equal(evo_get_u32(&r), 0); /* short: zero and bad */
    assert_true(r.bad);
    assert_int_equal(evo_get_u8(&r), 0); /* every later read too */
    assert_null(evo_get_bytes(&r, 1));
    evo_reader_init(&r, three, sizeof three);
    const unsigned char *p = evo_get_bytes(&r, 3);
    assert_ptr_equal(p, three);
    assert_int_equal(r.left, 0);
    assert_null(evo_get_bytes(&r, 1));
    assert_true(r.bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(little_endian_round_trip),
        cmocka_unit_test(grows_and_patches),
        cmocka_unit_test(reader_stops_at_its_end),
    };
    return EVO_RUN_TESTS(tests);
}
