/* fuzz_card.c — the PMIx card parser and the choice of endpoint
 * (farm/bootstrap/card.c). Input: up to 7 networks of this node (8 bytes
 * each), this node's host name, then the card text. Asserts: a card that
 * parses formats back to exactly its text; the endpoint chosen is one of
 * the card's endpoints, a tcp:// one, loopback exactly when the card is
 * this host's; the endpoints made from the networks form a card whose
 * choice works the same way. */
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

static void check_choice(const struct evo_card *card, const char *my_host, const struct evo_net *nets, size_t count)
{
    char chosen[EVO_CARD_MAX];
    size_t size = 1 + (unsigned char)my_host[0] % sizeof chosen; /* small buffers too */
    if (evo_card_choose(card, my_host, nets, count, chosen, size) < 0)
        return;
    FUZZ_ASSERT(strlen(chosen) < size);
    FUZZ_ASSERT(strncmp(chosen, "tcp://", 6) == 0 && listed(card->endpoints, chosen));
    FUZZ_ASSERT(loopback(chosen) == (strcmp(card->host, my_host) == 0));
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
