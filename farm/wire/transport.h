/* transport.h — the farm's ZeroMQ sockets: the broker's ROUTER and the
 * peers' DEALER with CURVE (credentials.h), and whole protocol messages sent
 * and received as frames (docs/protocol.md). */
#ifndef EVO_TRANSPORT_H
#define EVO_TRANSPORT_H

#include <stddef.h>
#include <zmq.h>

#include "credentials.h"
#include "proto.h"
#include "util/buf.h"

/* A ZeroMQ connection whose CURVE handshake has not ended after this long
 * is closed (ZMQ_HANDSHAKE_IVL): a stranger cannot hold one open. */
#define EVO_HANDSHAKE_MS 5000

/* A bound ROUTER with CURVE server, ZAP domain and ROUTER_MANDATORY, at
 * `bind` ("tcp://HOST:PORT", PORT a number, "*" or a range "FIRST-LAST"
 * of which the first free port is taken). The resolved endpoint (port
 * filled in) is written to creds->endpoint. NULL with a message in err. */
void *evo_socket_bind_router(void *context, const char *bind, struct evo_credentials *creds, char *err,
                             size_t err_size);

/* A DEALER connected to creds->endpoint as a CURVE client. NULL + err. */
void *evo_socket_connect_dealer(void *context, const struct evo_credentials *creds, char *err, size_t err_size);

/* Sends one message without blocking (routing id first when `identity` is
 * not NULL). `body` may be NULL for types without a body. 0, or -1 with
 * errno from zmq (EAGAIN: no connection to send on right now). */
int evo_message_send(void *socket, const void *identity, size_t identity_size, enum evo_msg_type type,
                     const struct evo_buf *body);

/* One received message. */
struct evo_message {
    int type;            /* enum evo_msg_type, valid when recv returned 0 */
    zmq_msg_t frames[4]; /* [identity,] header, [body] */
    int nframes;
    int identity_frame; /* 1 when frames[0] is a routing id */
    char why[160];      /* reason, when recv returned 1 */
};

/* As evo_message_send from a DEALER, but when there is no connection right
 * now (EAGAIN) waits for one for up to wait_ms. 0 or -1 with errno. */
int evo_message_send_patiently(void *socket, enum evo_msg_type type, const struct evo_buf *body, int wait_ms);

/* Receives one whole message without blocking. Returns 0 (valid header and
 * frame count), 1 (malformed: why says how; frames still readable for the
 * routing id), or -1 (nothing to read or a socket error; errno set). Always
 * call evo_message_close afterwards when it returned 0 or 1. */
int evo_message_recv(void *socket, int router, struct evo_message *msg);
void evo_message_close(struct evo_message *msg);

/* Accessors into a received message. */
const void *evo_message_identity(struct evo_message *msg, size_t *size);
const void *evo_message_body(struct evo_message *msg, size_t *size);
/* The User-Id the broker's ZAP handler gave the connection a message came
 * over ("all", "status"; wire/zap.h), or NULL (a Unix stream, or a
 * socket without CURVE). */
const char *evo_message_user_id(struct evo_message *msg);

#endif
