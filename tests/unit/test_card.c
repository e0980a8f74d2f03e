/* test_card.c — the step card: the endpoints a broker advertises, the card's
 * text round trip, and each peer's choice of the endpoint to dial. */
#include "unit.h"
#include <string.h>

#include "bootstrap/card.h"

/* assert_chosen CARD HOST NETS COUNT WANT — the endpoint a peer on HOST
 * with NETS dials from CARD is WANT. */
static void assert_chosen(const struct evo_card *card, const char *host, const struct evo_net *nets, size_t count,
                          const char *want)
{
    char out[512];
    assert_int_equal(evo_card_choose(card, host, nets, count, out, sizeof out), 0);
    assert_string_equal(out, want);
}

static void card_endpoints_routable_first_and_round_trip(void **state)
{
    (void)state;
    struct evo_net nets[] = {{0x7f000001, 0xff000000}, {0x0ac90b0b, 0xffffff00}, {0xc0a80005, 0xffff0000}};
    char endpoints[512], text[1024];
    struct evo_card card = {0}, back;
    assert_int_equal(evo_card_endpoints(nets, 3, 5555, endpoints, sizeof endpoints), 0);
    assert_string_equal(endpoints, "tcp://10.201.11.11:5555,tcp://192.168.0.5:5555,tcp://127.0.0.1:5555");
    strcpy(card.host, "node1");
    memset(card.server_public, 'k', EVO_KEY_TEXT - 1);
    strcpy(card.endpoints, endpoints);
    assert_int_equal(evo_card_format(&card, text, sizeof text), 0);
    assert_int_equal(evo_card_parse(text, &back), 0);
    assert_string_equal(back.host, "node1");
    assert_string_equal(back.endpoints, endpoints);
    /* Same host: loopback. */
    assert_chosen(&back, "node1", nets, 3, "tcp://127.0.0.1:5555");
    /* Another host on 192.168/16 only: the address in that network. */
    struct evo_net mine[] = {{0x7f000001, 0xff000000}, {0xc0a80107, 0xffff0000}};
    assert_chosen(&back, "node2", mine, 2, "tcp://192.168.0.5:5555");
    /* No shared network: the first non-loopback one. */
    assert_chosen(&back, "node3", mine, 1, "tcp://10.201.11.11:5555");
    /* Garbage is not a card. */
    assert_int_equal(evo_card_parse("node1 shortkey tcp://x:1", &back), -1);
    assert_int_equal(evo_card_parse("", &back), -1);
    assert_int_equal(evo_card_parse("a b", &back), -1);
}

/* Every node has docker0's 172.17.0.1/16 and a BMC's link-local
 * 169.254.95.120/16, listed before its real network: the broker does not
 * advertise the link-local one, and a worker on another node dials the
 * broker's real address, never an address of its own. */
static void an_address_every_node_has_is_never_dialled(void **state)
{
    (void)state;
    struct evo_net broker[] = {{0x7f000001, 0xff000000},
                               {0xac110001, 0xffff0000},  /* 172.17.0.1/16 */
                               {0xa9fe5f78, 0xffff0000},  /* 169.254.95.120/16 */
                               {0x0ac90b0b, 0xffffff00}}; /* 10.201.11.11/24 */
    struct evo_net worker[] = {{0x7f000001, 0xff000000},
                               {0xac110001, 0xffff0000},
                               {0xa9fe5f78, 0xffff0000},
                               {0x0ac90b0c, 0xffffff00}}; /* 10.201.11.12/24 */
    struct evo_card card = {.host = "node1"};
    assert_int_equal(evo_card_endpoints(broker, 4, 7000, card.endpoints, sizeof card.endpoints), 0);
    assert_string_equal(card.endpoints, "tcp://172.17.0.1:7000,tcp://10.201.11.11:7000,tcp://127.0.0.1:7000");
    assert_chosen(&card, "node2", worker, 4, "tcp://10.201.11.11:7000");
    /* A card from an older broker that still lists the link-local one. */
    strcpy(card.endpoints, "tcp://169.254.95.120:7000,tcp://172.17.0.1:7000,tcp://10.201.11.11:7000");
    assert_chosen(&card, "node2", worker, 4, "tcp://10.201.11.11:7000");
    /* Nodes that share one network stack (a one-machine test cluster):
     * the broker's address is also the worker's, and nothing else is on
     * the card but loopback: that address, not the other host's loopback. */
    strcpy(card.endpoints, "tcp://10.201.11.12:7000,tcp://127.0.0.1:7000");
    assert_chosen(&card, "node2", worker, 4, "tcp://10.201.11.12:7000");
    /* On the broker's own node: loopback, as before. */
    strcpy(card.endpoints, "tcp://172.17.0.1:7000,tcp://127.0.0.1:7000");
    assert_chosen(&card, "node1", broker, 4, "tcp://127.0.0.1:7000");
}

/* A broker bound to one address (farm.bind) publishes that one alone; one
 * bound to every address publishes each, routable first. */
static void only_what_the_broker_bound_is_published(void **state)
{
    (void)state;
    struct evo_net nets[] = {{0x7f000001, 0xff000000}, {0x0ac90b0b, 0xffffff00}, {0x0aca0b0b, 0xffffff00}};
    char out[256];
    assert_int_equal(evo_card_endpoints_bound("tcp://10.202.11.11:4100", nets, 3, out, sizeof out), 0);
    assert_string_equal(out, "tcp://10.202.11.11:4100");
    assert_int_equal(evo_card_endpoints_bound("tcp://0.0.0.0:4100", nets, 3, out, sizeof out), 0);
    assert_string_equal(out, "tcp://10.201.11.11:4100,tcp://10.202.11.11:4100,tcp://127.0.0.1:4100");
}

/* A broker bound to one address: a worker on its own host dials that
 * address (there is no loopback endpoint). `status` from a login node
 * tries the endpoints in its networks first, then the other routable
 * ones, then its own addresses, then loopback, never link-local. */
static void the_order_of_the_endpoints_to_try(void **state)
{
    (void)state;
    struct evo_net node1[] = {{0x7f000001, 0xff000000}, {0x0ac90b0b, 0xffffff00}};
    struct evo_net login[] = {{0x7f000001, 0xff000000}, {0xac110001, 0xffff0000}, {0x0ac90b01, 0xffffff00}};
    struct evo_card card = {.host = "node1", .endpoints = "tcp://10.201.11.11:7000"};
    char out[512];
    assert_chosen(&card, "node1", node1, 2, "tcp://10.201.11.11:7000");
    const char *all = "tcp://172.17.0.1:7000,tcp://169.254.95.120:7000,tcp://192.0.2.7:7000,"
                      "tcp://10.201.11.11:7000,tcp://127.0.0.1:7000";
    assert_int_equal(evo_card_order(all, 0, login, 3, EVO_CARD_RANK_LAST, out, sizeof out), 0);
    assert_string_equal(out, "tcp://10.201.11.11:7000,tcp://192.0.2.7:7000,tcp://172.17.0.1:7000,tcp://127.0.0.1:7000");
    assert_int_equal(evo_card_order(all, 1, login, 3, EVO_CARD_RANK_LAST, out, sizeof out), 0);
    assert_string_equal(out, "tcp://127.0.0.1:7000,tcp://172.17.0.1:7000,tcp://192.0.2.7:7000,tcp://10.201.11.11:7000");
    assert_int_equal(evo_card_order(all, 0, login, 3, 1, out, 20), -1); /* does not fit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(card_endpoints_routable_first_and_round_trip),
                                       cmocka_unit_test(an_address_every_node_has_is_never_dialled),
                                       cmocka_unit_test(only_what_the_broker_bound_is_published),
                                       cmocka_unit_test(the_order_of_the_endpoints_to_try)};
    return EVO_RUN_TESTS(tests);
}
