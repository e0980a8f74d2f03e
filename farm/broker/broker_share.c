/* broker_share.c — constants shared with every worker (SHARE): kept by the
 * broker for the farm's life, sent to each worker once per connection —
 * to those connected when the constant arrives and to each that joins
 * later — before any task that follows it on the driver's socket. */
#include "broker_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static void send_share(struct evo_broker *b, struct broker_peer *worker, const struct broker_share *share)
{
    evo_buf_reset(&b->scratch);
    evo_proto_put_share(&b->scratch, share->name, share->value, share->size);
    if (b->scratch.failed) {
        evo_warn("out of memory: constant '%s' not sent to worker %u", share->name, worker->serial);
        return;
    }
    uint32_t serial = worker->serial;
    if (broker_send(b, worker, EVO_MSG_SHARE, &b->scratch) == 0) {
        b->share_bytes_sent += share->size;
        evo_info("constant '%s' (%zu bytes) sent to worker %u", share->name, share->size, serial);
    }
}

int broker_accept_share(struct evo_broker *b, const void *body, size_t size)
{
    struct evo_share in;
    if (evo_proto_get_share(body, size, &in) < 0)
        return -1;
    for (size_t i = 0; i < b->nshares; i++)
        if (strcmp(b->shares[i].name, in.name) == 0) {
            evo_warn("constant '%s' is already shared: the new value is ignored", in.name);
            return 0;
        }
    struct broker_share *shares = realloc(b->shares, (b->nshares + 1) * sizeof *shares);
    if (shares == NULL)
        goto oom;
    b->shares = shares;
    struct broker_share *share = &b->shares[b->nshares];
    memcpy(share->name, in.name, sizeof share->name);
    share->size = in.size;
    if ((share->value = malloc(in.size ? in.size : 1)) == NULL)
        goto oom;
    memcpy(share->value, in.value, in.size);
    b->nshares++;
    for (size_t i = 0; i < b->npeers; i++)
        if (b->peers[i]->serial && b->peers[i]->role == EVO_ROLE_WORKER)
            send_share(b, b->peers[i], share);
    return 0;
oom:
    evo_error("out of memory: constant '%s' (%zu bytes) cannot be shared", in.name, in.size);
    return 0;
}

void broker_share_all(struct evo_broker *b, struct broker_peer *worker)
{
    for (size_t i = 0; i < b->nshares && worker->serial; i++)
        send_share(b, worker, &b->shares[i]);
}

void broker_shares_free(struct evo_broker *b)
{
    for (size_t i = 0; i < b->nshares; i++)
        free(b->shares[i].value);
    free(b->shares);
    b->shares = NULL;
    b->nshares = 0;
}
