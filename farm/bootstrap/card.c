/* card.c — rank 0's card and the choice of endpoint (see card.h). */
#include "card.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_loopback(uint32_t address)
{
    return (address >> 24) == 127;
}

int evo_card_local_nets(struct evo_net *nets, size_t max)
{
    struct ifaddrs *list, *i;
    size_t count = 0;
    if (getifaddrs(&list) < 0)
        return -1;
    for (i = list; i && count < max; i = i->ifa_next) {
        if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
            continue;
        nets[count].address = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
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
            if (is_loopback(nets[i].address) == pass && append(out, size, &used, nets[i].address, port) < 0)
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

int evo_card_choose(const struct evo_card *card, const char *my_host, const struct evo_net *nets, size_t count,
                    char *out, size_t size)
{
    const char *best = NULL, *first = NULL;
    size_t best_length = 0, first_length = 0;
    int same_host = strcmp(card->host, my_host) == 0;
    for (const char *p = card->endpoints; *p;) {
        size_t length = strcspn(p, ",");
        uint32_t address = endpoint_address(p, length);
        if (address && is_loopback(address) == same_host && !first)
            first = p, first_length = length;
        for (size_t i = 0; address && !best && !same_host && !is_loopback(address) && i < count; i++)
            if (!is_loopback(nets[i].address) && nets[i].netmask &&
                (nets[i].address & nets[i].netmask) == (address & nets[i].netmask))
                best = p, best_length = length;
        p += length + (p[length] == ',');
    }
    if (best == NULL)
        best = first, best_length = first_length;
    if (best == NULL || best_length >= size)
        return -1;
    memcpy(out, best, best_length);
    out[best_length] = '\0';
    return 0;
}
