/* evofarm/stats.h — the live counters of a farm, as the broker reports them. */
#ifndef EVOFARM_STATS_H
#define EVOFARM_STATS_H

#include <stdint.h>

#define EVO_STATS_MAX_HOSTS 256
#define EVO_STATS_HOST_NAME 64

struct evo_stats_host {
    char name[EVO_STATS_HOST_NAME]; /* NUL-terminated, truncated if longer */
    unsigned workers;               /* live workers on that host */
};

struct evo_stats {
    unsigned workers;              /* live workers */
    unsigned drivers;              /* connected drivers */
    uint64_t queued;               /* tasks waiting for a worker */
    uint64_t in_flight;            /* tasks held by workers */
    uint64_t done;                 /* results delivered */
    uint64_t failed;               /* errors delivered (attempts exhausted) */
    uint64_t retried;              /* failed attempts that were tried again */
    uint64_t requeued;             /* tasks taken back from lost workers */
    uint64_t late_dropped;         /* results that arrived after their task was requeued */
    uint64_t malformed;            /* messages dropped because they broke the protocol */
    uint64_t auth_refused;         /* connections refused by the ZAP handler */
    double evaluations_per_second; /* over the last few seconds */
    unsigned hosts;                /* entries used in host[] */
    struct evo_stats_host host[EVO_STATS_MAX_HOSTS];
};

#endif
