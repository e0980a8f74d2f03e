/* fuzz_card.c — the PMIx card parser and the choice of endpoint
 * (farm/bootstrap/card.c). Input: up to 7 networks of this node (8 bytes
 * each), this node's host name, then the card text. Asserts: a card that
 * parses formats back to exactly its text; the endpoint chosen is one of
 * the card's endpoints, a tcp:// one; on the card's host loopback when the
 * card has a loopback address; from another host never loopback, never
 * link-local, one of this node's addresses only when the card has no
 * other routable one; the endpoints made from
 * the networks form a card whose choice works the same way; the order in
 * which status tries them holds only the card's items, none link-local. */
#include "fuzz.h"

#include <arpa/inet.h>

#include "bootstrap/card.h"

/* Whether `endpoint` is one of the comma-separated items of list. */
static int listed(const char *list, const char *endpoint)
{
    size_t n = strlen(endpoint);
    for (const char *p = list; *p;) {
        size_t length = strcspn(p, ",");
        if (length == n && memcmp(p, endpoint, n) == 0)
            return 1;
        p += length + (p[length] == ',');
    }
    return 0;
}

static int loopback(const char *endpoint)
{
    return strncmp(endpoint, "tcp://127.", 10) == 0;
}

/* The IPv4 address of a "tcp://A.B.C.D:port" item of length n, or 0. */
static uint32_t address_of(const char *endpoint, size_t n)
{
    char text[64];
    struct in_addr a;
    const char *colon = n > 6 ? memchr(endpoint + 6, ':', n - 6) : NULL;
    if (strncmp(endpoint, "tcp://", 6) != 0 || colon == NULL || (size_t)(colon - endpoint - 6) >= sizeof text)
        return 0;
    memcpy(text, endpoint + 6, (size_t)(colon - endpoint - 6));
    text[colon - endpoint - 6] = '\0';
    return inet_pton(AF_INET, text, &a) == 1 ? ntohl(a.s_addr) : 0;
}

/* Whether address is one of this node's. */
static int mine(uint32_t address, const struct evo_net *nets, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (nets[i].address == address)
            return 1;
    return 0;
}

/* Whether the card lists an endpoint with a loopback address. */
static int has_loopback(const char *list)
{
    for (const char *p = list; *p;) {
        size_t length = strcspn(p, ",");
        if (address_of(p, length) >> 24 == 127)
            return 1;
        p += length + (p[length] == ',');
    }
    return 0;
}

static void check_choice(const struct evo_card *card, const char *my_host, const struct evo_net *nets, size_t count)
{
    char chosen[EVO_CARD_MAX];
    size_t size = 1 + (unsigned char)my_host[0] % sizeof chosen; /* small buffers too */
    if (evo_card_choose(card, my_host, nets, count, chosen, size) < 0)
        return;
    FUZZ_ASSERT(strlen(chosen) < size);
    FUZZ_ASSERT(strncmp(chosen, "tcp://", 6) == 0 && listed(card->endpoints, chosen));
    uint32_t address = address_of(chosen, strlen(chosen));
    FUZZ_ASSERT(address != 0 && address >> 16 != 0xa9fe); /* never link-local */
    if (strcmp(card->host, my_host) == 0) {
        FUZZ_ASSERT(loopback(chosen) || !has_loopback(card->endpoints));
        return;
    }
    FUZZ_ASSERT(!loopback(chosen));
    if (mine(address, nets, count)) /* only when the card has no other routable address */
        for (const char *p = card->endpoints; *p;) {
            size_t length = strcspn(p, ",");
            uint32_t a = address_of(p, length);
            FUZZ_ASSERT(a == 0 || a >> 24 == 127 || a >> 16 == 0xa9fe || mine(a, nets, count));
            p += length + (p[length] == ',');
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_bytes in = {data, size};
    struct evo_net nets[7];
    size_t count = fuzz_u8(&in) % 8;
    for (size_t i = 0; i < count; i++) {
        uint32_t a = (uint32_t)fuzz_u16(&in) << 16 | fuzz_u16(&in);
        unsigned prefix = fuzz_u8(&in) % 33;
        nets[i].address = a;
        nets[i].netmask = prefix ? ~0u << (32 - prefix) : 0;
        fuzz_u8(&in);
        fuzz_u8(&in);
        fuzz_u8(&in);
    }
    char *my_host = fuzz_string(&in, fuzz_u8(&in) % 16);
    char *text = fuzz_string(&in, in.left);

    struct evo_card card;
    char again[EVO_CARD_MAX * 2];
    if (evo_card_parse(text, &card) == 0) {
        FUZZ_ASSERT(evo_card_format(&card, again, sizeof again) == 0 && strcmp(again, text) == 0);
        check_choice(&card, my_host, nets, count);
        check_choice(&card, card.host, nets, count); /* the broker's own host */
        char order[EVO_CARD_MAX];                    /* status's order: the card's own items, none link-local */
        if (evo_card_order(card.endpoints, my_host[0] & 1, nets, count, EVO_CARD_RANK_LAST, order, sizeof order) == 0)
            for (const char *p = order; *p;) {
                size_t length = strcspn(p, ",");
                char item[EVO_CARD_MAX];
                snprintf(item, sizeof item, "%.*s", (int)length, p);
                FUZZ_ASSERT(listed(card.endpoints, item) && address_of(p, length) >> 16 != 0xa9fe);
                p += length + (p[length] == ',');
            }
    }

    /* A card made from these networks, as rank 0 makes it. */
    struct evo_card own = {.host = "fuzzhost", .server_public = "0123456789012345678901234567890123456789"};
    if (evo_card_endpoints(nets, count, 40000, own.endpoints, sizeof own.endpoints) == 0 && own.endpoints[0]) {
        FUZZ_ASSERT(evo_card_format(&own, again, sizeof again) == 0);
        struct evo_card parsed;
        FUZZ_ASSERT(evo_card_parse(again, &parsed) == 0 && strcmp(parsed.endpoints, own.endpoints) == 0);
        check_choice(&parsed, my_host, nets, count);
        check_choice(&parsed, "fuzzhost", nets, count);
    }
    free(my_host);
    free(text);
    return 0;
}
