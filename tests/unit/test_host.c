/* test_host.c — the host name a member reports (util/host.h): the
 * launcher's EVO_FARM_HOST first, then PMIx's, then the kernel's. */
#include "unit.h"

#include <string.h>
#include <unistd.h>

#include "util/host.h"

static void order_of_sources(void **state)
{
    (void)state;
    char name[256], kernel[256];
    setenv("EVO_FARM_HOST", "node-a", 1);
    setenv("PMIX_HOSTNAME", "node-b", 1);
    evo_host_name(name, sizeof name);
    assert_string_equal(name, "node-a");
    setenv("EVO_FARM_HOST", "", 1); /* empty counts as unset */
    evo_host_name(name, sizeof name);
    assert_string_equal(name, "node-b");
    unsetenv("EVO_FARM_HOST");
    unsetenv("PMIX_HOSTNAME");
    evo_host_name(name, sizeof name);
    assert_int_equal(gethostname(kernel, sizeof kernel), 0);
    assert_string_equal(name, kernel);
}

static void host_name_always_terminated(void **state)
{
    (void)state;
    char small[5];
    setenv("EVO_FARM_HOST", "a-very-long-host-name", 1);
    evo_host_name(small, sizeof small);
    assert_string_equal(small, "a-ve");
    unsetenv("EVO_FARM_HOST");
    evo_host_name(small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

/* A variable holding spaces, a terminal's escape sequence or bytes above
 * ASCII gives one printable word, which HELLO may carry. */
static void host_name_is_one_printable_word(void **state)
{
    (void)state;
    char name[64];
    setenv("EVO_FARM_HOST", "my node\x1b[2J\xc3\xa9", 1);
    evo_host_name(name, sizeof name);
    assert_string_equal(name, "my_node_[2J__");
    unsetenv("EVO_FARM_HOST");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_of_sources),
        cmocka_unit_test(host_name_always_terminated),
        cmocka_unit_test(host_name_is_one_printable_word),
    };
    return EVO_RUN_TESTS(tests);
}
