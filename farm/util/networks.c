/* networks.c — farm.bind's networks by preference resolved to this node's
 * address (see networks.h). */
#include "networks.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

int evo_if_ipv4(const struct ifaddrs *i, uint32_t *address)
{
    if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
        return 0;
    *address = ntohl(((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr);
    return 1;
}

/* "A.B.C.D" of a host-order address into text (INET_ADDRSTRLEN bytes). */
static void address_text(uint32_t address, char *text)
{
    struct in_addr in = {htonl(address)};
    inet_ntop(AF_INET, &in, text, INET_ADDRSTRLEN);
}

/* The host part of bind: [start, end) between "tcp://" and the last ':'. */
static int host_part(const char *bind, const char **start, const char **end)
{
    const char *colon = strrchr(bind, ':');
    if (strncmp(bind, "tcp://", 6) != 0 || colon == NULL || colon <= bind + 6)
        return -1;
    *start = bind + 6;
    *end = colon;
    return 0;
}

int evo_bind_names_networks(const char *bind)
{
    const char *start, *end;
    if (host_part(bind, &start, &end) < 0)
        return 0;
    return memchr(start, ',', (size_t)(end - start)) != NULL || memchr(start, '/', (size_t)(end - start)) != NULL;
}

/* Calls each(entry, arg) for each comma-separated entry of [start, end),
 * NUL-terminated in a copy; stops at the first that returns non-zero and
 * returns that (-2 for an empty or too long entry), else 0. */
static int for_each_entry(const char *start, const char *end, int (*each)(const char *entry, void *arg), void *arg)
{
    char entry[64];
    while (start <= end) {
        const char *comma = memchr(start, ',', (size_t)(end - start));
        const char *stop = comma ? comma : end;
        if (stop == start || (size_t)(stop - start) >= sizeof entry)
            return -2;
        memcpy(entry, start, (size_t)(stop - start));
        entry[stop - start] = '\0';
        int rc = each(entry, arg);
        if (rc)
            return rc;
        start = stop + 1;
    }
    return 0;
}

static int entry_ok(const char *entry, void *arg)
{
    uint32_t address, netmask;
    (void)arg;
    if (strcmp(entry, "*") == 0)
        return 1;
    if (strchr(entry, '/'))
        return evo_parse_cidr(entry, &address, &netmask) < 0 ? 2 : 0;
    return 0;
}

int evo_bind_check(const char *bind, char *why, size_t size)
{
    unsigned first, last;
    const char *start, *end;
    if (host_part(bind, &start, &end) < 0) {
        snprintf(why, size, "expected tcp://HOST:PORT (PORT a number, * or FIRST-LAST), got '%s'", bind);
        return -1;
    }
    if (strchr(end, '-') && evo_parse_port_range(end + 1, &first, &last) < 0) {
        snprintf(why, size, "the port range '%s' is not FIRST-LAST with 1 <= FIRST <= LAST <= 65535", end + 1);
        return -1;
    }
    if (!evo_bind_names_networks(bind))
        return 0;
    switch (for_each_entry(start, end, entry_ok, NULL)) {
    case 0:
        return 0;
    case 1:
        snprintf(why, size, "'*' cannot be one of a list of networks in '%s': name the networks, or '*' alone", bind);
        return -1;
    default:
        snprintf(why, size,
                 "'%.*s' is not a list of networks by preference (interface names and A.B.C.D/N, separated by commas)",
                 (int)(end - start), start);
        return -1;
    }
}

struct search {
    struct ifaddrs *list;
    char address[INET_ADDRSTRLEN];
};

/* The IPv4 address of an up interface named `entry`, or of one inside the
 * network `entry`: 1 with it in s->address, else 0. */
static int entry_here(const char *entry, void *arg)
{
    struct search *s = arg;
    uint32_t network = 0, netmask = 0;
    int is_network = strchr(entry, '/') != NULL;
    if (is_network && evo_parse_cidr(entry, &network, &netmask) < 0)
        return 0;
    uint32_t address;
    for (const struct ifaddrs *i = s->list; i; i = i->ifa_next) {
        if (!evo_if_ipv4(i, &address) ||
            (is_network ? (address & netmask) != network : strcmp(i->ifa_name, entry) != 0))
            continue;
        address_text(address, s->address);
        return 1;
    }
    return 0;
}

/* "lo 127.0.0.1, eth0 10.201.0.11" into out: what the node has instead. */
static void list_interfaces(const struct ifaddrs *list, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const struct ifaddrs *i = list; i && used < size; i = i->ifa_next) {
        char text[INET_ADDRSTRLEN];
        uint32_t address;
        if (!evo_if_ipv4(i, &address))
            continue;
        address_text(address, text);
        int n = snprintf(out + used, size - used, "%s%s %s", used ? ", " : "", i->ifa_name, text);
        used += n > 0 ? (size_t)n : 0;
    }
}

int evo_bind_resolve(const char *bind, char *out, size_t size, char *why, size_t why_size)
{
    const char *start, *end;
    struct search s = {0};
    int n;
    if (!evo_bind_names_networks(bind) || host_part(bind, &start, &end) < 0) {
        n = snprintf(out, size, "%s", bind);
    } else {
        if (getifaddrs(&s.list) < 0) {
            snprintf(why, why_size, "cannot list this node's interfaces: %m");
            return -1;
        }
        if (for_each_entry(start, end, entry_here, &s) != 1) {
            char here[512];
            list_interfaces(s.list, here, sizeof here);
            freeifaddrs(s.list);
            snprintf(why, why_size, "none of the networks %.*s is on this node (it has %s)", (int)(end - start), start,
                     here);
            return -1;
        }
        freeifaddrs(s.list);
        n = snprintf(out, size, "tcp://%s%s", s.address, end);
    }
    if (n < 0 || (size_t)n >= size) {
        snprintf(why, why_size, "the endpoint '%s' is too long", bind);
        return -1;
    }
    return 0;
}
