/* broker_share.c — constants shared with every worker (SHARE): gathered
 * from a driver's pieces, kept by the broker for the farm's life, and sent
 * to each worker once per connection — to those connected when the
 * constant is whole and to each that joins later. A worker with constants
 * still to receive gets no work, so every task that follows a constant on
 * the driver's socket finds it whole. The pieces go out paced
 * (broker_share_pump): a 1 GiB constant copied at once into each worker's
 * send queue would stall the loop for seconds (fresh pages, copies) and
 * expire every peer's liveness. */
#include "broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/trace.h"

#define PUMP_PIECES  4                           /* pieces a worker is sent per loop, at most */
#define PUMP_BACKLOG (2 * EVO_PROTO_SHARE_PIECE) /* a Unix member's queue: none sent above it */

/* A whole constant: kept (taking `value`); every worker is to receive it. */
static void keep_share(struct evo_broker *b, const char *name, unsigned char *value, size_t size)
{
    for (size_t i = 0; i < b->nshares; i++)
        if (strcmp(b->shares[i].name, name) == 0) {
            evo_warn("constant '%s' is already shared: the new value is ignored", name);
            free(value);
            return;
        }
    struct broker_share *shares = realloc(b->shares, (b->nshares + 1) * sizeof *shares);
    if (shares == NULL) {
        evo_error("out of memory: constant '%s' (%zu bytes) cannot be shared", name, size);
        free(value);
        return;
    }
    b->shares = shares;
    struct broker_share *share = &b->shares[b->nshares];
    snprintf(share->name, sizeof share->name, "%s", name);
    share->value = value;
    share->size = size;
    b->nshares++;
    for (size_t i = 0; i < b->npeers; i++) {
        struct broker_peer *worker = b->peers[i];
        if (worker->serial && worker->kind == EVO_PEER_WORKER && !worker->share_receiving) {
            worker->share_receiving = 1; /* had all, at share_index: now has one to receive */
            b->share_receivers++;
            broker_peer_ready(b, worker); /* no work until it has the constant */
        }
    }
}

int broker_accept_share(struct evo_broker *b, struct broker_peer *driver, const void *body, size_t size)
{
    struct evo_share in;
    if (evo_proto_get_share(body, size, &in) < 0)
        return -1;
    EVO_TRACE("broker.share_in");
    enum evo_share_step step = evo_share_progress_take(&driver->share_in, &in);
    if (step == EVO_SHARE_OUT_OF_ORDER) {
        broker_share_forget(b, driver);
        return -1;
    }
    if (in.offset == 0) {
        free(driver->share_value);
        if ((driver->share_value = malloc(in.total ? in.total : 1)) == NULL) {
            evo_error("out of memory: constant '%s' (%zu bytes) cannot be shared", in.name, in.total);
            driver->share_in.open = 0; /* its other pieces are dropped as out of order */
            return 0;
        }
    }
    memcpy(driver->share_value + in.offset, in.value, in.size);
    if (step == EVO_SHARE_WHOLE) {
        unsigned char *value = driver->share_value;
        driver->share_value = NULL;
        keep_share(b, in.name, value, in.total);
    }
    return 0;
}

void broker_share_all(struct evo_broker *b, struct broker_peer *worker)
{
    worker->share_index = worker->share_offset = 0;
    if (b->nshares > 0 && !worker->share_receiving) {
        worker->share_receiving = 1;
        b->share_receivers++;
    }
}

/* Sends one worker its next pieces. The number sent. */
static size_t pump_worker(struct evo_broker *b, struct broker_peer *worker)
{
    size_t sent = 0;
    while (sent < PUMP_PIECES && worker->serial && worker->share_receiving &&
           broker_unix_backlog(b, worker->identity, worker->identity_size) < PUMP_BACKLOG) {
        const struct broker_share *share = &b->shares[worker->share_index];
        size_t piece = evo_share_put_piece(&b->scratch, share->name, share->value, share->size, worker->share_offset);
        uint32_t serial = worker->serial;
        if (b->scratch.failed || broker_send(b, worker, EVO_MSG_SHARE, &b->scratch) < 0)
            return sent; /* out of memory (tried again next time), or the worker is dropped */
        sent++;
        worker->share_offset += piece;
        if (worker->share_offset < share->size)
            continue;
        b->share_bytes_sent += share->size;
        evo_info("constant '%s' (%zu bytes) sent to worker %u", share->name, share->size, serial);
        worker->share_index++;
        worker->share_offset = 0;
        if (worker->share_index == b->nshares) {
            worker->share_receiving = 0;
            b->share_receivers--;
            broker_peer_ready(b, worker);
        }
    }
    return sent;
}

void broker_share_pump(struct evo_broker *b)
{
    b->share_pumped = 0;
    for (size_t i = 0; i < b->npeers && b->share_receivers > 0; i++) {
        struct broker_peer *worker = b->peers[i];
        if (worker->serial && worker->share_receiving)
            b->share_pumped += pump_worker(b, worker);
    }
}

void broker_share_forget(struct evo_broker *b, struct broker_peer *peer)
{
    free(peer->share_value);
    peer->share_value = NULL;
    peer->share_in.open = 0;
    if (peer->share_receiving) {
        peer->share_receiving = 0;
        b->share_receivers--;
    }
}

void broker_shares_free(struct evo_broker *b)
{
    for (size_t i = 0; i < b->nshares; i++)
        free(b->shares[i].value);
    free(b->shares);
    b->shares = NULL;
    b->nshares = 0;
}
