/* transport.c — the farm's sockets and framed messages (see transport.h). */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/names.h"
#include "util/networks.h"
#include "util/parse.h"

/* Options common to both ends: no linger on close (a dead farm must not
 * block exit), no high-water mark (batches bound what is queued), no
 * frame above the protocol's largest message (libzmq sizes a frame from
 * its header before CURVE has checked anything: without the limit, any
 * connection to the port could make the broker allocate 1 GiB per frame),
 * and a handshake that has not ended in EVO_HANDSHAKE_MS closes the
 * connection (libzmq's default waits 30 s). */
static int common_options(void *socket)
{
    int zero = 0, handshake = EVO_HANDSHAKE_MS;
    int64_t most = EVO_PROTO_MAX_MESSAGE;
    return zmq_setsockopt(socket, ZMQ_LINGER, &zero, sizeof zero) ||
                   zmq_setsockopt(socket, ZMQ_SNDHWM, &zero, sizeof zero) ||
                   zmq_setsockopt(socket, ZMQ_RCVHWM, &zero, sizeof zero) ||
                   zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &most, sizeof most) ||
                   zmq_setsockopt(socket, ZMQ_HANDSHAKE_IVL, &handshake, sizeof handshake)
               ? -1
               : 0;
}

/* Binds `named`; one that names networks by preference binds the address
 * of the first this node has (evo_bind_resolve); one whose port is a range
 * "FIRST-LAST" (farm.bind, a site's bind=, where a firewall opens only
 * those) takes the first free port of it. 0, or -1 with a message in err. */
static int bind_in_range(void *socket, const char *named, char *err, size_t err_size)
{
    char bind[EVO_ENDPOINT_MAX], why[EVO_ERROR_MAX];
    if (evo_bind_resolve(named, bind, sizeof bind, why, sizeof why) < 0) {
        snprintf(err, err_size, "cannot bind %s: %s", named, why);
        return -1;
    }
    const char *colon = strrchr(bind, ':');
    unsigned first, last;
    char one[EVO_ENDPOINT_MAX + 8];
    if (colon == NULL || evo_parse_port_range(colon + 1, &first, &last) < 0) {
        if (zmq_bind(socket, bind) == 0)
            return 0;
        snprintf(err, err_size, "cannot bind %s: %s", bind, zmq_strerror(zmq_errno()));
        return -1;
    }
    for (unsigned port = first; port <= last; port++) {
        snprintf(one, sizeof one, "%.*s:%u", (int)(colon - bind), bind, port);
        if (zmq_bind(socket, one) == 0)
            return 0;
        if (zmq_errno() != EADDRINUSE) {
            snprintf(err, err_size, "cannot bind %s: %s", one, zmq_strerror(zmq_errno()));
            return -1;
        }
    }
    snprintf(err, err_size, "cannot bind %s: every port from %u to %u is in use", bind, first, last);
    return -1;
}

void *evo_socket_bind_router(void *context, const char *bind, struct evo_credentials *creds, char *err, size_t err_size)
{
    int one = 1;
    /* Thousands of workers connect within a second when a big step starts:
     * with ZeroMQ's backlog of 100 the kernel drops the rest's SYNs and
     * they retry 1, 3, 7 s later (1,000 simulated workers took 2.8 s to
     * connect, 0.7 s with this; the kernel caps it at somaxconn). */
    int backlog = 4096;
    size_t size = sizeof creds->endpoint;
    void *socket = zmq_socket(context, ZMQ_ROUTER);
    if (socket == NULL || common_options(socket) || zmq_setsockopt(socket, ZMQ_BACKLOG, &backlog, sizeof backlog) ||
        zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one) ||
        zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, creds->server_secret, EVO_KEY_TEXT - 1) ||
        zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, "evo-farm", 8) ||
        zmq_setsockopt(socket, ZMQ_ROUTER_MANDATORY, &one, sizeof one)) {
        snprintf(err, err_size, "cannot set up the broker socket: %s", zmq_strerror(zmq_errno()));
        goto error;
    }
    if (bind_in_range(socket, bind, err, err_size) < 0)
        goto error;
    if (zmq_getsockopt(socket, ZMQ_LAST_ENDPOINT, creds->endpoint, &size) != 0) {
        snprintf(err, err_size, "cannot read the bound endpoint: %s", zmq_strerror(zmq_errno()));
        goto error;
    }
    return socket;
error:
    if (socket)
        zmq_close(socket);
    return NULL;
}

void *evo_socket_connect_dealer(void *context, const struct evo_credentials *creds, char *err, size_t err_size)
{
    void *socket = zmq_socket(context, ZMQ_DEALER);
    if (socket == NULL || common_options(socket) ||
        zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, creds->server_public, EVO_KEY_TEXT - 1) ||
        zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, creds->client_public, EVO_KEY_TEXT - 1) ||
        zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, creds->client_secret, EVO_KEY_TEXT - 1)) {
        snprintf(err, err_size, "cannot set up a farm socket: %s", zmq_strerror(zmq_errno()));
        goto error;
    }
    if (zmq_connect(socket, creds->endpoint) != 0) {
        snprintf(err, err_size, "cannot connect to %s: %s", creds->endpoint, zmq_strerror(zmq_errno()));
        goto error;
    }
    return socket;
error:
    if (socket)
        zmq_close(socket);
    return NULL;
}

int evo_message_send(void *socket, const void *identity, size_t identity_size, enum evo_msg_type type,
                     const struct evo_buf *body)
{
    unsigned char header[EVO_PROTO_HEADER_SIZE];
    int has_body = evo_proto_has_body(type);
    evo_proto_header(header, type);
    if (has_body && (body == NULL || body->failed)) {
        errno = ENOMEM;
        return -1;
    }
    if (identity && zmq_send(socket, identity, identity_size, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    /* Non-blocking: a DEALER whose connection is down would block here. Once
     * the first frame is accepted the rest of the message is too. */
    if (zmq_send(socket, header, sizeof header, (has_body ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
        return -1;
    if (has_body && zmq_send(socket, body->data, body->len, 0) < 0)
        return -1;
    return 0;
}

int evo_message_send_patiently(void *socket, enum evo_msg_type type, const struct evo_buf *body, int wait_ms)
{
    for (int waited = 0;; waited += 10) {
        if (evo_message_send(socket, NULL, 0, type, body) == 0)
            return 0;
        if (zmq_errno() != EAGAIN || waited >= wait_ms)
            return -1;
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLOUT, 0};
        zmq_poll(&item, 1, 10);
    }
}

static int more_frames(void *socket)
{
    int more = 0;
    size_t size = sizeof more;
    zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &size);
    return more;
}

/* Reads every frame of the message; keeps the first four. Returns the number
 * of frames, or -1. */
static int receive_frames(void *socket, struct evo_message *msg)
{
    int total = 0;
    do {
        zmq_msg_t scratch, *frame = total < 4 ? &msg->frames[total] : &scratch;
        zmq_msg_init(frame);
        if (zmq_msg_recv(frame, socket, total == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(frame);
            return total == 0 ? -1 : total;
        }
        if (frame == &scratch)
            zmq_msg_close(&scratch);
        else
            msg->nframes++;
        total++;
    } while (more_frames(socket));
    return total;
}

int evo_message_recv(void *socket, int router, struct evo_message *msg)
{
    memset(msg, 0, sizeof *msg);
    msg->identity_frame = router;
    int total = receive_frames(socket, msg);
    if (total < 0)
        return -1;
    int first = router ? 1 : 0;
    if (total <= first) {
        snprintf(msg->why, sizeof msg->why, "message with no header frame");
        return 1;
    }
    int type = evo_proto_parse_header(zmq_msg_data(&msg->frames[first]), zmq_msg_size(&msg->frames[first]), msg->why,
                                      sizeof msg->why);
    if (type < 0)
        return 1;
    int expected = first + 1 + evo_proto_has_body((enum evo_msg_type)type);
    if (total != expected) {
        snprintf(msg->why, sizeof msg->why, "message type %d with %d frames (expected %d)", type, total, expected);
        return 1;
    }
    msg->type = type;
    return 0;
}

void evo_message_close(struct evo_message *msg)
{
    for (int i = 0; i < msg->nframes; i++)
        zmq_msg_close(&msg->frames[i]);
    msg->nframes = 0;
}

const void *evo_message_identity(struct evo_message *msg, size_t *size)
{
    if (!msg->identity_frame || msg->nframes < 1) {
        *size = 0;
        return NULL;
    }
    *size = zmq_msg_size(&msg->frames[0]);
    return zmq_msg_data(&msg->frames[0]);
}

const char *evo_message_user_id(struct evo_message *msg)
{
    int index = msg->identity_frame; /* the header frame */
    return index < msg->nframes ? zmq_msg_gets(&msg->frames[index], "User-Id") : NULL;
}

const void *evo_message_body(struct evo_message *msg, size_t *size)
{
    int index = msg->identity_frame + 1;
    if (index >= msg->nframes) {
        *size = 0;
        return NULL;
    }
    *size = zmq_msg_size(&msg->frames[index]);
    return zmq_msg_data(&msg->frames[index]);
}
