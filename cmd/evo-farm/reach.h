/* reach.h — a farm's endpoints asked in turn from outside it (`evo-farm
 * status`, `evo-farm drain`): best first for this host (bootstrap/card.h
 * evo_card_order_here), an unreachable one (a firewall, an address only
 * the nodes route) costing its wait before the next, and one line naming
 * every endpoint tried when none answered. */
#ifndef EVO_CMD_REACH_H
#define EVO_CMD_REACH_H

#include <stddef.h>

#include "registry/registry.h"

struct evo_reach {
    char order[sizeof(((struct evo_access *)0)->endpoints)];
    char tried[sizeof(((struct evo_access *)0)->endpoints)];
    char *save;
    unsigned count;
    int started;
};

/* Starts on the endpoints of a. */
void evo_reach_start(struct evo_reach *r, const struct evo_access *a);

/* The next endpoint to try, counted as tried, or NULL when none is left. */
const char *evo_reach_next(struct evo_reach *r);

/* After every endpoint failed, with err holding the last one's reason:
 * when more than one was tried, err becomes the one line that names them
 * all and what may stand between (a firewall, or the farm's end). */
void evo_reach_failed(const struct evo_reach *r, char *err, size_t size);

#endif
