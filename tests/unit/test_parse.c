/* test_parse.c — scalar syntax (util/parse.h): durations, bounded whole
 * numbers, seconds from the environment. */
#include "unit.h"

#include "util/parse.h"

static void durations_sizes_and_numbers_parsed_strictly(void **state)
{
    (void)state;
    unsigned v;
    assert_int_equal(evo_parse_duration_ms("250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(evo_parse_duration_ms("1.5s", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(evo_parse_duration_ms("2m", &v), 0);
    assert_int_equal(v, 120000);
    assert_int_equal(evo_parse_duration_ms("1h", &v), 0);
    assert_int_equal(v, 3600000);
    assert_int_equal(evo_parse_duration_ms("7", &v), 0);
    assert_int_equal(v, 7000);
    assert_int_equal(evo_parse_duration_ms("-1s", &v), -1);
    assert_int_equal(evo_parse_duration_ms("1 s", &v), -1);
    assert_int_equal(evo_parse_duration_ms("10d", &v), -1);
    assert_int_equal(evo_parse_duration_ms("nan", &v), -1);
    assert_int_equal(evo_parse_duration_ms("9999999h", &v), -1);
    assert_int_equal(evo_parse_unsigned("42", 1, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(evo_parse_unsigned("+4", 1, 100, &v), -1);
    assert_int_equal(evo_parse_unsigned("4x", 1, 100, &v), -1);
    assert_int_equal(evo_parse_unsigned("99999999999999999999", 1, 100, &v), -1);
}

static void env_number_in_range_else_default(void **state)
{
    (void)state;
    unsetenv("EVO_TEST_SECONDS");
    assert_int_equal(evo_parse_env_unsigned("EVO_TEST_SECONDS", 100, 7), 7);
    setenv("EVO_TEST_SECONDS", "42", 1);
    assert_int_equal(evo_parse_env_unsigned("EVO_TEST_SECONDS", 100, 7), 42);
    setenv("EVO_TEST_SECONDS", "101", 1);
    assert_int_equal(evo_parse_env_unsigned("EVO_TEST_SECONDS", 100, 7), 7);
    setenv("EVO_TEST_SECONDS", "0", 1);
    assert_int_equal(evo_parse_env_unsigned("EVO_TEST_SECONDS", 100, 7), 7);
    setenv("EVO_TEST_SECONDS", "ten", 1);
    assert_int_equal(evo_parse_env_unsigned("EVO_TEST_SECONDS", 100, 7), 7);
    unsetenv("EVO_TEST_SECONDS");
}

static void port_ranges_parsed_strictly(void **state)
{
    (void)state;
    unsigned a = 0, b = 0;
    assert_int_equal(evo_parse_port_range("41000-41010", &a, &b), 0);
    assert_true(a == 41000 && b == 41010);
    assert_int_equal(evo_parse_port_range("7-7", &a, &b), 0);
    assert_true(a == 7 && b == 7);
    const char *bad[] = {"9-2", "0-5", "1-65536", "-5", "5-", "x-9", "41000", "1-2-3", "123456789-9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (evo_parse_port_range(bad[i], &a, &b) != -1)
            fail_msg("'%s' parsed as a port range", bad[i]);
    assert_true(a == 7 && b == 7); /* untouched */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_sizes_and_numbers_parsed_strictly),
        cmocka_unit_test(env_number_in_range_else_default),
        cmocka_unit_test(port_ranges_parsed_strictly),
    };
    return EVO_RUN_TESTS(tests);
}
