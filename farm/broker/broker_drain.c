/* broker_drain.c — DRAIN (docs/protocol.md): a set of workers, chosen by
 * host or by Slurm job, gets no more work and leaves once it has returned
 * what it holds; the choice is kept, so a worker of that set that joins
 * later (a restarted one, a late task of the same job) is sent away. */
#include "broker_internal.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"

/* A selector names a worker by its host, its JOBID.STEP, or its JOBID. */
static int names(const char *selector, const char *host, const char *job)
{
    size_t n = strlen(selector);
    return strcmp(selector, host) == 0 ||
           (job[0] && strncmp(selector, job, n) == 0 && (job[n] == '\0' || job[n] == '.'));
}

int broker_drained(const struct evo_broker *b, const char *host, const char *job)
{
    for (unsigned i = 0; i < b->ndrains; i++)
        if (names(b->drains[i], host, job))
            return 1;
    return 0;
}

void broker_drain_done(struct evo_broker *b, struct broker_peer *worker)
{
    if (!worker->draining || worker->batches_in_flight > 0 || worker->serial == 0)
        return;
    broker_send(b, worker, EVO_MSG_BYE, NULL);
    broker_drop_peer(b, worker, "drained: it finished what it held");
}

int broker_accept_drain(struct evo_broker *b, struct broker_peer *from, const void *body, size_t size)
{
    char selector[EVO_PROTO_MAX_HOST + 1];
    uint32_t count = 0;
    if (evo_proto_get_drain(body, size, selector) < 0)
        return -1;
    int kept = 0;
    for (unsigned i = 0; !kept && i < b->ndrains; i++)
        kept = strcmp(b->drains[i], selector) == 0;
    if (!kept && b->ndrains < BROKER_DRAINS)
        strcpy(b->drains[b->ndrains++], selector);
    else if (!kept)
        evo_warn("%u drains kept already: workers of %s that join later will not be sent away", BROKER_DRAINS,
                 selector);
    for (size_t i = 0; i < b->npeers; i++) { /* rare and asked by a person: a visit of every peer is fine */
        struct broker_peer *p = b->peers[i];
        if (p->serial == 0 || p->kind != EVO_PEER_WORKER || !names(selector, p->host, p->job))
            continue;
        count++;
        if (p->draining)
            continue;
        p->draining = 1;
        broker_peer_ready(b, p); /* out of the credit lists */
        evo_info("worker %u (%s pid %u%s%s) drained: no more work; it leaves once it holds none", p->serial, p->host,
                 p->pid, p->job[0] ? ", job " : "", p->job);
        broker_drain_done(b, p);
    }
    evo_info("drain %s: %u workers", selector, count);
    evo_buf_reset(&b->scratch);
    evo_proto_put_drained(&b->scratch, count);
    broker_send(b, from, EVO_MSG_DRAINED, &b->scratch);
    return 0;
}
