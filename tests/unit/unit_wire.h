/* unit_wire.h — what the tests that script one end of a conversation share
 * (test_broker.c scripts the members, test_client.c the broker): taking the
 * next message of an expected type, heartbeats skipped. */
#ifndef EVO_UNIT_WIRE_H
#define EVO_UNIT_WIRE_H

#include "unit.h"
#include "util/buf.h"
#include "wire/transport.h"

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
