/* broker_peers.c — the broker's peer table. Work per message must not grow
 * with the number of peers (10,000 workers), and callers hold peer pointers
 * across calls that may add or drop peers, so:
 * - each peer is allocated once and never moves or is freed before the
 *   broker is: a dropped peer's slot (serial 0) goes to a free list and a
 *   later HELLO reuses it;
 * - peers are found by routing id and by serial through two hash tables
 *   (uthash, a well-kept header-only library);
 * - workers that can take a batch sit in one FIFO list per number of
 *   batches they hold (0 .. credit - 1), so dispatch takes the next worker
 *   without a scan, every idle worker before anyone's second batch. */
#include "broker_internal.h"

#include <stdlib.h>
#include <string.h>

int broker_peers_init(struct evo_broker *b)
{
    b->credit = b->options.scheduling == EVO_SCHEDULING_STATIC ? 1 : b->options.prefetch;
    if (b->credit == 0)
        b->credit = 1;
    b->ready = calloc(b->credit, sizeof *b->ready);
    return b->ready ? 0 : -1;
}

static void ready_unlink(struct evo_broker *b, struct broker_peer *p)
{
    if (p->ready_level < 0)
        return;
    struct broker_ready *list = &b->ready[p->ready_level];
    if (p->ready_prev)
        p->ready_prev->ready_next = p->ready_next;
    else
        list->head = p->ready_next;
    if (p->ready_next)
        p->ready_next->ready_prev = p->ready_prev;
    else
        list->tail = p->ready_prev;
    list->count--;
    p->ready_prev = p->ready_next = NULL;
    p->ready_level = -1;
}

void broker_peer_ready(struct evo_broker *b, struct broker_peer *p)
{
    int level = p->serial && p->kind == EVO_PEER_WORKER && !p->blocked && !p->draining &&
                        p->batches_in_flight < b->credit && !p->share_receiving
                    ? (int)p->batches_in_flight
                    : -1;
    if (level == p->ready_level)
        return;
    ready_unlink(b, p);
    if (level < 0)
        return;
    struct broker_ready *list = &b->ready[level];
    p->ready_level = level;
    p->ready_prev = list->tail;
    if (list->tail)
        list->tail->ready_next = p;
    else
        list->head = p;
    list->tail = p;
    list->count++;
}

void broker_peer_list_outbox(struct evo_broker *b, struct broker_peer *d)
{
    if (d->outbox_listed)
        return;
    d->outbox_listed = 1;
    d->outbox_prev = NULL;
    d->outbox_next = b->outboxes;
    if (b->outboxes)
        b->outboxes->outbox_prev = d;
    b->outboxes = d;
}

static void outbox_unlink(struct evo_broker *b, struct broker_peer *d)
{
    if (!d->outbox_listed)
        return;
    if (d->outbox_prev)
        d->outbox_prev->outbox_next = d->outbox_next;
    else
        b->outboxes = d->outbox_next;
    if (d->outbox_next)
        d->outbox_next->outbox_prev = d->outbox_prev;
    d->outbox_prev = d->outbox_next = NULL;
    d->outbox_listed = 0;
}

struct broker_peer *broker_peer_next_outbox(struct evo_broker *b)
{
    struct broker_peer *d = b->outboxes;
    if (d)
        outbox_unlink(b, d);
    return d;
}

struct broker_peer *broker_peer_by_serial(struct evo_broker *b, uint32_t serial)
{
    struct broker_peer *p = NULL;
    if (serial)
        HASH_FIND(by_serial, b->by_serial, &serial, sizeof serial, p);
    return p;
}

struct broker_peer *broker_peer_by_identity(struct evo_broker *b, const void *identity, size_t size)
{
    struct broker_peer *p = NULL;
    HASH_FIND(by_identity, b->by_identity, identity, size, p);
    return p;
}

/* A free slot, or a new one (the slot array grows; the peers never move). */
static struct broker_peer *take_slot(struct evo_broker *b)
{
    struct broker_peer *p = b->free_peers;
    if (p) {
        b->free_peers = p->next_free;
        return p;
    }
    if (b->npeers == b->peers_cap) {
        size_t cap = b->peers_cap ? b->peers_cap * 2 : 64;
        struct broker_peer **peers = realloc(b->peers, cap * sizeof *peers);
        if (peers == NULL)
            return NULL;
        b->peers = peers;
        b->peers_cap = cap;
    }
    if ((p = malloc(sizeof *p)) == NULL)
        return NULL;
    b->peers[b->npeers++] = p;
    return p;
}

static void give_slot(struct evo_broker *b, struct broker_peer *p)
{
    p->serial = 0;
    p->next_free = b->free_peers;
    b->free_peers = p;
}

struct broker_peer *broker_peer_add(struct evo_broker *b, const void *identity, size_t identity_size)
{
    struct broker_peer *p = take_slot(b);
    if (p == NULL)
        return NULL;
    memset(p, 0, sizeof *p);
    p->ready_level = -1;
    memcpy(p->identity, identity, identity_size);
    p->identity_size = identity_size;
    p->serial = b->next_serial++;
    HASH_ADD(by_serial, b->by_serial, serial, sizeof p->serial, p);
    if (!p->hash_failed)
        HASH_ADD_KEYPTR(by_identity, b->by_identity, p->identity, p->identity_size, p);
    if (p->hash_failed) { /* out of memory in a table */
        if (broker_peer_by_serial(b, p->serial) == p)
            HASH_DELETE(by_serial, b->by_serial, p);
        give_slot(b, p);
        return NULL;
    }
    return p;
}

void broker_peer_remove(struct evo_broker *b, struct broker_peer *p)
{
    if (p->serial == 0)
        return;
    ready_unlink(b, p);
    outbox_unlink(b, p);
    HASH_DELETE(by_serial, b->by_serial, p);
    HASH_DELETE(by_identity, b->by_identity, p);
    evo_buf_free(&p->outbox);
    p->outbox_count = 0;
    broker_share_forget(b, p);
    give_slot(b, p);
}

void broker_peers_free(struct evo_broker *b)
{
    HASH_CLEAR(by_serial, b->by_serial);
    HASH_CLEAR(by_identity, b->by_identity);
    for (size_t i = 0; i < b->npeers; i++) {
        evo_buf_free(&b->peers[i]->outbox);
        broker_share_forget(b, b->peers[i]);
        free(b->peers[i]);
    }
    free(b->peers);
    free(b->ready);
    b->ready = NULL;
    b->outboxes = NULL;
    b->peers = NULL;
    b->npeers = b->peers_cap = 0;
}
