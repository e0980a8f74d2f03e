/* transport.h — the farm's ZeroMQ sockets: CURVE credentials made in memory,
 * the broker's ROUTER and the peers' DEALER, and whole protocol messages
 * sent and received as frames (docs/protocol.md). */
#ifndef EVO_TRANSPORT_H
#define EVO_TRANSPORT_H

#include <stddef.h>
#include <zmq.h>

#include "buf.h"
#include "proto.h"

#define EVO_KEY_TEXT     41 /* Z85 text of a CURVE key plus NUL */
#define EVO_ENDPOINT_MAX 256

/* What a member needs to join a farm. The broker alone also holds
 * server_secret; peers leave it empty. */
struct evo_credentials {
    char endpoint[EVO_ENDPOINT_MAX];
    char server_public[EVO_KEY_TEXT];
    char server_secret[EVO_KEY_TEXT];
    char client_public[EVO_KEY_TEXT];
    char client_secret[EVO_KEY_TEXT];
};

/* Makes a fresh server pair and member pair. 0, or -1 with errno (CURVE
 * unavailable in this libzmq: ENOTSUP). */
int evo_credentials_generate(struct evo_credentials *creds);

/* Reads EVO_FARM_ENDPOINT, EVO_FARM_SERVER_KEY, EVO_FARM_CLIENT_PUBLIC and
 * EVO_FARM_CLIENT_SECRET. 0, or -1 with the missing/bad variable in err. */
int evo_credentials_from_env(struct evo_credentials *creds, char *err, size_t err_size);

/* Only EVO_FARM_CLIENT_PUBLIC and EVO_FARM_CLIENT_SECRET (the member pair the
 * SPANK plugin makes for a step); the other fields are left empty. */
int evo_credentials_member_from_env(struct evo_credentials *creds, char *err, size_t err_size);

/* Sets those four variables in this process's environment. */
int evo_credentials_to_env(const struct evo_credentials *creds);

/* A bound ROUTER with CURVE server, ZAP domain and ROUTER_MANDATORY. The
 * resolved endpoint (port filled in) is written to creds->endpoint. NULL with
 * a message in err. */
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

#endif
