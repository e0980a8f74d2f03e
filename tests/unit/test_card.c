/* test_card.c — the step card: the endpoints a broker advertises, the card's
 * text round trip, and each peer's choice of the endpoint to dial. */
#include "unit.h"
#include <string.h>

#include "bootstrap/card.h"

static void card_endpoints_routable_first_and_round_trip(void **state)
{
    (void)state;
    struct evo_net nets[] = {{0x7f000001, 0xff000000}, {0x0ac90b0b, 0xffffff00}, {0xc0a80005, 0xffff0000}};
    char endpoints[512], text[1024], out[256];
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
    assert_int_equal(evo_card_choose(&back, "node1", nets, 3, out, sizeof out), 0);
    assert_string_equal(out, "tcp://127.0.0.1:5555");
    /* Another host on 192.168/16 only: the address in that network. */
    struct evo_net mine[] = {{0x7f000001, 0xff000000}, {0xc0a80107, 0xffff0000}};
    assert_int_equal(evo_card_choose(&back, "node2", mine, 2, out, sizeof out), 0);
    assert_string_equal(out, "tcp://192.168.0.5:5555");
    /* No shared network: the first non-loopback one. */
    assert_int_equal(evo_card_choose(&back, "node3", mine, 1, out, sizeof out), 0);
    assert_string_equal(out, "tcp://10.201.11.11:5555");
    /* Garbage is not a card. */
    assert_int_equal(evo_card_parse("node1 shortkey tcp://x:1", &back), -1);
    assert_int_equal(evo_card_parse("", &back), -1);
    assert_int_equal(evo_card_parse("a b", &back), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(card_endpoints_routable_first_and_round_trip)};
    return EVO_RUN_TESTS(tests);
}
