/* test_networks.c — farm.bind naming networks by preference
 * (util/networks.h, evo_parse_cidr): the syntax checked, and the address
 * of the first network this node has (loopback: every machine has it). */
#include "unit.h"

#include <string.h>

#include "util/networks.h"
#include "util/parse.h"

static void a_network_is_an_address_and_a_prefix(void **state)
{
    (void)state;
    uint32_t address = 1, netmask = 1;
    assert_int_equal(evo_parse_cidr("10.202.7.9/16", &address, &netmask), 0);
    assert_int_equal(address, 0x0aca0000);
    assert_int_equal(netmask, 0xffff0000);
    assert_int_equal(evo_parse_cidr("0.0.0.0/0", &address, &netmask), 0);
    assert_int_equal(netmask, 0);
    assert_int_equal(evo_parse_cidr("10.0.0.1/32", &address, &netmask), 0);
    assert_int_equal(address, 0x0a000001);
    const char *bad[] = {"10.0.0.0/33", "10.0.0.0", "10.0.0/8", "ib0/8", "10.0.0.0/", "10.0.0.0/-1", "/8"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(evo_parse_cidr(bad[i], &address, &netmask), -1);
    assert_int_equal(address, 0x0a000001); /* untouched */
}

static void a_list_of_networks_is_checked_entry_by_entry(void **state)
{
    (void)state;
    char why[256];
    const char *good[] = {"tcp://*:*", "tcp://eth0:5555", "tcp://ib0,eth0:41000-41099", "tcp://10.202.0.0/16,eth0:*",
                          "tcp://10.202.0.0/16:*"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(evo_bind_check(good[i], why, sizeof why), 0);
    assert_int_equal(evo_bind_names_networks("tcp://eth0:*"), 0);
    assert_int_equal(evo_bind_names_networks("tcp://ib0,eth0:*"), 1);
    assert_int_equal(evo_bind_names_networks("tcp://10.0.0.0/8:*"), 1);
    assert_int_equal(evo_bind_check("tcp://ib0,*:*", why, sizeof why), -1);
    assert_non_null(strstr(why, "'*' cannot be one of a list"));
    assert_int_equal(evo_bind_check("tcp://ib0,,eth0:*", why, sizeof why), -1);
    assert_string_equal(why, "'ib0,,eth0' is not a list of networks by preference (interface names and A.B.C.D/N, "
                             "separated by commas)");
    assert_int_equal(evo_bind_check("tcp://10.0.0.0/40,eth0:*", why, sizeof why), -1);
    assert_int_equal(evo_bind_check("tcp://ib0,eth0:9-2", why, sizeof why), -1);
    assert_non_null(strstr(why, "port range '9-2'"));
    assert_int_equal(evo_bind_check("eth0:5", why, sizeof why), -1);
}

static void the_first_network_this_node_has_is_bound(void **state)
{
    (void)state;
    char out[256], why[1024];
    assert_int_equal(evo_bind_resolve("tcp://no-such-if0,lo:41000-41099", out, sizeof out, why, sizeof why), 0);
    assert_string_equal(out, "tcp://127.0.0.1:41000-41099");
    assert_int_equal(evo_bind_resolve("tcp://10.254.253.0/24,127.0.0.0/8,lo:*", out, sizeof out, why, sizeof why), 0);
    assert_string_equal(out, "tcp://127.0.0.1:*");
    /* One host, as ZeroMQ binds it: unchanged. */
    assert_int_equal(evo_bind_resolve("tcp://eth9:5", out, sizeof out, why, sizeof why), 0);
    assert_string_equal(out, "tcp://eth9:5");
    /* None here: one line naming them and what the node has. */
    assert_int_equal(evo_bind_resolve("tcp://no-such-if0,10.254.253.0/24:*", out, sizeof out, why, sizeof why), -1);
    assert_non_null(
        strstr(why, "none of the networks no-such-if0,10.254.253.0/24 is on this node (it has lo 127.0.0.1"));
    assert_null(strchr(why, '\n'));
    assert_int_equal(evo_bind_resolve("tcp://no-such-if0,lo:*", out, 10, why, sizeof why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_network_is_an_address_and_a_prefix),
        cmocka_unit_test(a_list_of_networks_is_checked_entry_by_entry),
        cmocka_unit_test(the_first_network_this_node_has_is_bound),
    };
    return EVO_RUN_TESTS(tests);
}
