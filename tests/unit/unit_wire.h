/* unit_wire.h — what the tests that script one end of a conversation share
 * (test_broker.c scripts the members, test_client.c and test_dealer.c the
 * broker): a scripted broker's router, and taking the next message of an
 * expected type, heartbeats skipped. */
#ifndef EVO_UNIT_WIRE_H
#define EVO_UNIT_WIRE_H

#include <string.h>

#include "unit.h"
#include "util/buf.h"
#include "util/clock.h"
#include "wire/transport.h"
#include "wire/zap.h"

/* A broker's end scripted by a test: a real CURVE ROUTER on loopback with
 * the farm's ZAP handler, accepting the client key of creds as a member. */
struct unit_router {
    struct evo_credentials creds; /* creds.endpoint: where it listens */
    void *context, *router;
    struct evo_zap *zap;
    uint64_t refused; /* handshakes the ZAP handler refused */
};

static inline int unit_router_open(struct unit_router *r)
{
    char err[256];
    memset(r, 0, sizeof *r);
    if (evo_credentials_generate(&r->creds) < 0 || (r->context = zmq_ctx_new()) == NULL)
        return -1;
    if ((r->zap = evo_zap_create(r->context)) == NULL || /* before the bind */
        evo_zap_admit(r->zap, r->creds.client_public, "all") < 0)
        return -1;
    r->router = evo_socket_bind_router(r->context, "tcp://127.0.0.1:*", &r->creds, err, sizeof err);
    return r->router ? 0 : -1;
}

static inline void unit_router_close(struct unit_router *r)
{
    zmq_close(r->router);
    evo_zap_destroy(r->zap);
    zmq_ctx_term(r->context);
}

/* Waits up to wait_ms for the router, answering ZAP requests meanwhile.
 * 0 with a message in *m (close it), or -1 when nothing came. */
static inline int unit_router_receive(struct unit_router *r, int wait_ms, struct evo_message *m)
{
    int64_t deadline = evo_now_ms() + wait_ms;
    do {
        zmq_pollitem_t items[] = {{r->router, 0, ZMQ_POLLIN, 0}, {evo_zap_socket(r->zap), 0, ZMQ_POLLIN, 0}};
        zmq_poll(items, 2, 5);
        evo_zap_handle(r->zap, &r->refused);
        int rc = evo_message_recv(r->router, 1, m);
        if (rc == 0)
            return 0;
        if (rc == 1)
            evo_message_close(m);
    } while (evo_now_ms() < deadline);
    return -1;
}

/* Looks at a received message m (and closes it): 1 when it is of `type`
 * (its body copied into *body when body is not NULL), 0 for a heartbeat;
 * anything else fails the test, naming `from`. */
static inline int unit_take(struct evo_message *m, int type, struct evo_buf *body, const char *from)
{
    int got = m->type;
    size_t n;
    const void *data = evo_message_body(m, &n);
    if (got == type && body) {
        evo_buf_reset(body);
        evo_buf_put(body, data, n);
    }
    evo_message_close(m);
    if (got != type && got != EVO_MSG_HEARTBEAT)
        fail_msg("expected message type %d%s, got %d", type, from, got);
    return got == type;
}

#endif
