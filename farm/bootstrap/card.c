/* card.c — rank 0's card and the choice of endpoint (see card.h). */
#include "card.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/host.h"
#include "util/networks.h"

static int is_loopback(uint32_t address)
{
    return (address >> 24) == 127;
}

/* 169.254.0.0/16 (RFC 3927): a BMC's USB link, an unconfigured NIC. The
 * same address sits on many nodes and routes nowhere beyond the link. */
static int is_link_local(uint32_t address)
{
    return (address >> 16) == 0xa9fe;
}

/* One of this node's own addresses: dialling it from another host than
 * the broker's reaches this node, not the broker's (docker0's 172.17.0.1
 * and virbr0's 192.168.122.1 are on every node that runs them). */
static int is_mine(uint32_t address, const struct evo_net *nets, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (nets[i].address == address)
            return 1;
    return 0;
}

int evo_card_local_nets(struct evo_net *nets, size_t max)
{
    struct ifaddrs *list, *i;
    size_t count = 0;
    if (getifaddrs(&list) < 0)
        return -1;
    for (i = list; i && count < max; i = i->ifa_next) {
        if (!evo_if_ipv4(i, &nets[count].address))
            continue;
        nets[count].netmask = i->ifa_netmask ? ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr) : 0;
        count++;
    }
    freeifaddrs(list);
    return (int)count;
}

static int append(char *out, size_t size, size_t *used, uint32_t address, unsigned port)
{
    struct in_addr a = {htonl(address)};
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, text, sizeof text);
    int n = snprintf(out + *used, size - *used, "%stcp://%s:%u", *used ? "," : "", text, port);
    if (n < 0 || (size_t)n >= size - *used)
        return -1;
    *used += (size_t)n;
    return 0;
}

int evo_card_endpoints(const struct evo_net *nets, size_t count, unsigned port, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int pass = 0; pass < 2; pass++) /* non-loopback, then loopback */
        for (size_t i = 0; i < count; i++)
            if (is_loopback(nets[i].address) == pass && !is_link_local(nets[i].address) &&
                append(out, size, &used, nets[i].address, port) < 0)
                return -1;
    return 0;
}

int evo_card_format(const struct evo_card *card, char *out, size_t size)
{
    int n = snprintf(out, size, "%s %s %s", card->host, card->server_public, card->endpoints);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int evo_card_parse(const char *text, struct evo_card *card)
{
    const char *a = strchr(text, ' '), *b = a ? strchr(a + 1, ' ') : NULL;
    if (a == NULL || b == NULL || a == text || (size_t)(a - text) >= sizeof card->host ||
        (size_t)(b - a - 1) != EVO_KEY_TEXT - 1 || strlen(b + 1) == 0 || strlen(b + 1) >= sizeof card->endpoints ||
        strchr(b + 1, ' '))
        return -1;
    memcpy(card->host, text, (size_t)(a - text));
    card->host[a - text] = '\0';
    memcpy(card->server_public, a + 1, EVO_KEY_TEXT - 1);
    card->server_public[EVO_KEY_TEXT - 1] = '\0';
    strcpy(card->endpoints, b + 1);
    return 0;
}

/* The IPv4 address of "tcp://A.B.C.D:port", or 0. */
static uint32_t endpoint_address(const char *endpoint, size_t length)
{
    char text[64];
    struct in_addr a;
    const char *colon = memchr(endpoint + 6, ':', length > 6 ? length - 6 : 0);
    if (length <= 6 || strncmp(endpoint, "tcp://", 6) != 0 || colon == NULL ||
        (size_t)(colon - endpoint - 6) >= sizeof text)
        return 0;
    memcpy(text, endpoint + 6, (size_t)(colon - endpoint - 6));
    text[colon - endpoint - 6] = '\0';
    return inet_pton(AF_INET, text, &a) == 1 ? ntohl(a.s_addr) : 0;
}

int evo_card_endpoints_bound(const char *bound, const struct evo_net *nets, size_t count, char *out, size_t size)
{
    const char *colon = strrchr(bound, ':');
    unsigned port = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
    uint32_t address = endpoint_address(bound, strlen(bound));
    if (address == 0) /* 0.0.0.0: every address of the node */
        return evo_card_endpoints(nets, count, port, out, size);
    out[0] = '\0';
    size_t used = 0;
    return append(out, size, &used, address, port);
}

/* How an endpoint's address ranks for a peer with networks nets, on the
 * broker's host (same_host) or not: 0 is best, -1 never (no address, or a
 * link-local one). From the broker's host: its loopback, then its other
 * addresses (a broker bound to one). From elsewhere: an address in one of
 * the peer's networks, then another routable one, then one of the peer's
 * own (it leads back to the peer: docker0's 172.17.0.1 is on every node;
 * it reaches the broker only where "hosts" share a network stack, as the
 * nodes of a one-machine test cluster do), then loopback (only a farm on
 * the peer's own machine answers there). */
static int rank_of(uint32_t address, int same_host, const struct evo_net *nets, size_t count)
{
    if (address == 0 || is_link_local(address))
        return -1;
    if (same_host)
        return is_loopback(address) ? 0 : 1;
    if (is_loopback(address))
        return EVO_CARD_RANK_LAST;
    if (is_mine(address, nets, count))
        return EVO_CARD_RANK_OWN;
    for (size_t i = 0; i < count; i++)
        if (!is_loopback(nets[i].address) && nets[i].netmask &&
            (nets[i].address & nets[i].netmask) == (address & nets[i].netmask))
            return 0;
    return 1;
}

int evo_card_order(const char *endpoints, int same_host, const struct evo_net *nets, size_t count, int max_rank,
                   char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int rank = 0; rank <= max_rank; rank++)
        for (const char *p = endpoints; *p;) {
            size_t length = strcspn(p, ",");
            if (rank_of(endpoint_address(p, length), same_host, nets, count) == rank) {
                int n = snprintf(out + used, size - used, "%s%.*s", used ? "," : "", (int)length, p);
                if (n < 0 || (size_t)n >= size - used)
                    return -1;
                used += (size_t)n;
            }
            p += length + (p[length] == ',');
        }
    return 0;
}

int evo_card_choose(const struct evo_card *card, const char *my_host, const struct evo_net *nets, size_t count,
                    char *out, size_t size)
{
    char order[EVO_CARD_MAX];
    if (evo_card_order(card->endpoints, strcmp(card->host, my_host) == 0, nets, count, EVO_CARD_RANK_OWN, order,
                       sizeof order) < 0)
        return -1;
    size_t length = strcspn(order, ",");
    if (length == 0 || length >= size)
        return -1;
    memcpy(out, order, length);
    out[length] = '\0';
    return 0;
}

int evo_card_order_here(const char *endpoints, const char *broker_host, char *out, size_t size)
{
    struct evo_net nets[64];
    char host[EVO_HOST_MAX + 1];
    int count = evo_card_local_nets(nets, 64);
    evo_host_name(host, sizeof host);
    return evo_card_order(endpoints, broker_host && strcmp(broker_host, host) == 0, nets, count < 0 ? 0 : (size_t)count,
                          EVO_CARD_RANK_LAST, out, size);
}
