/* test_credentials.c — the farm's CURVE credentials (wire/credentials.h):
 * fresh pairs, the environment round trip, and a one-line reason for every
 * variable that is missing or not a key. */
#include "unit.h"

#include <string.h>

#include "wire/credentials.h"

static void every_pair_is_fresh_and_z85(void **state)
{
    (void)state;
    struct evo_credentials a, b;
    assert_int_equal(evo_credentials_generate(&a), 0);
    assert_int_equal(evo_credentials_generate(&b), 0);
    assert_int_equal(strlen(a.server_public), EVO_KEY_TEXT - 1);
    assert_int_equal(strlen(a.client_secret), EVO_KEY_TEXT - 1);
    assert_string_not_equal(a.server_public, a.client_public);
    assert_string_not_equal(a.server_public, b.server_public);
    assert_string_equal(a.endpoint, "");
}

static void environment_round_trip(void **state)
{
    (void)state;
    struct evo_credentials made, read, member;
    char err[256];
    assert_int_equal(evo_credentials_generate(&made), 0);
    strcpy(made.endpoint, "tcp://127.0.0.1:5555");
    assert_int_equal(evo_credentials_to_env(&made), 0);
    assert_int_equal(evo_credentials_from_env(&read, err, sizeof err), 0);
    assert_string_equal(read.endpoint, made.endpoint);
    assert_string_equal(read.server_public, made.server_public);
    assert_string_equal(read.client_public, made.client_public);
    assert_string_equal(read.client_secret, made.client_secret);
    assert_string_equal(read.server_secret, ""); /* never travels */
    unsetenv("EVO_FARM_ENDPOINT");
    assert_int_equal(evo_credentials_member_from_env(&member, err, sizeof err), 0);
    assert_string_equal(member.client_public, made.client_public);
    assert_string_equal(member.endpoint, "");
}

static void bad_variables_named(void **state)
{
    (void)state;
    struct evo_credentials made, read;
    char err[256];
    assert_int_equal(evo_credentials_generate(&made), 0);
    strcpy(made.endpoint, "tcp://127.0.0.1:5555");
    assert_int_equal(evo_credentials_to_env(&made), 0);
    unsetenv("EVO_FARM_SERVER_KEY");
    assert_int_equal(evo_credentials_from_env(&read, err, sizeof err), -1);
    assert_non_null(strstr(err, "EVO_FARM_SERVER_KEY is not set"));
    setenv("EVO_FARM_SERVER_KEY", "too-short", 1);
    assert_int_equal(evo_credentials_from_env(&read, err, sizeof err), -1);
    assert_string_equal(err, "EVO_FARM_SERVER_KEY is not a valid Z85 CURVE key");
    /* 40 characters, but not Z85 */
    setenv("EVO_FARM_SERVER_KEY", "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", 1);
    assert_int_equal(evo_credentials_from_env(&read, err, sizeof err), -1);
    assert_string_equal(err, "EVO_FARM_SERVER_KEY is not a valid Z85 CURVE key");
    assert_null(strchr(err, '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_pair_is_fresh_and_z85),
        cmocka_unit_test(environment_round_trip),
        cmocka_unit_test(bad_variables_named),
    };
    return EVO_RUN_TESTS(tests);
}
