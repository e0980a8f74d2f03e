/* parse.c — parsing of scalar values used by the config, the command line
 * and the environment: durations, bounded whole numbers, port ranges and
 * IPv4 networks (see parse.h). */
#include "parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int evo_parse_unsigned(const char *text, unsigned min, unsigned max, unsigned *out)
{
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int evo_parse_duration_ms(const char *text, unsigned *ms)
{
    static const struct {
        const char *suffix;
        double scale;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
    if (text == NULL || !(isdigit((unsigned char)text[0]) || text[0] == '.'))
        return -1;
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    if (errno != 0 || end == text || !isfinite(v) || v < 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].suffix) != 0)
            continue;
        double total = v * units[i].scale;
        if (total > 4.0e9)
            return -1;
        *ms = (unsigned)llround(total);
        return 0;
    }
    return -1;
}

unsigned evo_parse_env_unsigned(const char *name, unsigned max, unsigned fallback)
{
    const char *value = getenv(name);
    unsigned n = fallback;
    if (value && evo_parse_unsigned(value, 1, max, &n) < 0)
        n = fallback;
    return n;
}

int evo_parse_port_range(const char *text, unsigned *first, unsigned *last)
{
    char low[8];
    unsigned a, b;
    const char *dash = strchr(text, '-');
    if (dash == NULL || (size_t)(dash - text) >= sizeof low)
        return -1;
    memcpy(low, text, (size_t)(dash - text));
    low[dash - text] = '\0';
    if (evo_parse_unsigned(low, 1, 65535, &a) < 0 || evo_parse_unsigned(dash + 1, a, 65535, &b) < 0)
        return -1;
    *first = a;
    *last = b;
    return 0;
}

int evo_parse_cidr(const char *text, uint32_t *address, uint32_t *netmask)
{
    char host[INET_ADDRSTRLEN];
    struct in_addr in;
    unsigned bits;
    const char *slash = strchr(text, '/');
    if (slash == NULL || (size_t)(slash - text) >= sizeof host)
        return -1;
    memcpy(host, text, (size_t)(slash - text));
    host[slash - text] = '\0';
    if (inet_pton(AF_INET, host, &in) != 1 || evo_parse_unsigned(slash + 1, 0, 32, &bits) < 0)
        return -1;
    *netmask = bits ? ~(uint32_t)0 << (32 - bits) : 0;
    *address = ntohl(in.s_addr) & *netmask;
    return 0;
}
