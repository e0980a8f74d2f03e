/* reach.c — a farm's endpoints asked in turn from outside (see reach.h). */
#include "reach.h"

#include <stdio.h>
#include <string.h>

#include "bootstrap/card.h"

void evo_reach_start(struct evo_reach *r, const struct evo_access *a)
{
    memset(r, 0, sizeof *r);
    if (evo_card_order_here(a->endpoints, a->host, r->order, sizeof r->order) < 0 || r->order[0] == '\0')
        snprintf(r->order, sizeof r->order, "%s", a->endpoints);
}

const char *evo_reach_next(struct evo_reach *r)
{
    char *ep = strtok_r(r->started ? NULL : r->order, ",", &r->save);
    r->started = 1;
    if (ep) {
        size_t used = strlen(r->tried);
        snprintf(r->tried + used, sizeof r->tried - used, "%s%s", r->count++ ? ", " : "", ep);
    }
    return ep;
}

void evo_reach_failed(const struct evo_reach *r, char *err, size_t size)
{
    char last[512];
    if (r->count < 2) /* one endpoint: its own reason says it */
        return;
    snprintf(last, sizeof last, "%s", err);
    snprintf(err, size,
             "none of its %u endpoints answered from here (%.1024s; a firewall between this host and the farm's "
             "node, or the farm has ended); the last: %s",
             r->count, r->tried, last);
}
