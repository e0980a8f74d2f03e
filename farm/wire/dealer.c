/* dealer.c — the member's side of the conversation with the broker (see
 * dealer.h). */
#include "dealer.h"

#include <unistd.h>

#include "util/clock.h"
#include "util/host.h"

int evo_dealer_join(struct evo_dealer *d, void *context, const struct evo_credentials *creds, enum evo_role role,
                    struct evo_buf *scratch, char *err, size_t err_size)
{
    struct evo_hello hello = {.role = (uint8_t)role, .pid = (uint32_t)getpid()};
    if (d->socket)
        zmq_close(d->socket);
    d->welcomed = 0;
    d->socket = evo_socket_connect_dealer(context, creds, err, err_size);
    if (d->socket == NULL)
        return -1;
    evo_host_name(hello.host, sizeof hello.host);
    evo_buf_reset(scratch);
    evo_proto_put_hello(scratch, &hello);
    d->last_recv_ms = evo_now_ms();
    return evo_dealer_send(d, EVO_MSG_HELLO, scratch);
}

int evo_dealer_send(struct evo_dealer *d, enum evo_msg_type type, const struct evo_buf *body)
{
    int heartbeat = type == EVO_MSG_HEARTBEAT;
    int patience = heartbeat ? 0 : (int)(d->heartbeat_ms * d->liveness);
    if (evo_message_send_patiently(d->socket, type, body, patience) < 0)
        return heartbeat && zmq_errno() == EAGAIN ? 0 : -1;
    d->last_send_ms = evo_now_ms();
    return 0;
}

int evo_dealer_take(struct evo_dealer *d, struct evo_message *msg)
{
    size_t size;
    const void *body = evo_message_body(msg, &size);
    struct evo_welcome welcome;
    d->last_recv_ms = evo_now_ms();
    if (msg->type == EVO_MSG_WELCOME) {
        if (evo_proto_get_welcome(body, size, &welcome) == 0) {
            d->heartbeat_ms = welcome.heartbeat_ms;
            d->liveness = welcome.liveness;
            d->serial = welcome.serial;
            d->welcomed = 1;
        }
        return 1;
    }
    return msg->type == EVO_MSG_HEARTBEAT;
}

int evo_dealer_beat(struct evo_dealer *d, int64_t now)
{
    return now - d->last_send_ms >= d->heartbeat_ms ? evo_dealer_send(d, EVO_MSG_HEARTBEAT, NULL) : 0;
}

int evo_dealer_poll_ms(const struct evo_dealer *d, int wait_ms, int64_t now)
{
    int64_t beat = d->last_send_ms + d->heartbeat_ms - now;
    if (beat < wait_ms || wait_ms < 0)
        wait_ms = beat < 0 ? 0 : (int)beat;
    return wait_ms;
}

int evo_dealer_silent(const struct evo_dealer *d, int64_t now)
{
    return now - d->last_recv_ms > (int64_t)d->heartbeat_ms * d->liveness;
}

void evo_dealer_leave(struct evo_dealer *d, int say_bye)
{
    if (d->socket == NULL)
        return;
    int linger = 200; /* let the BYE leave */
    if (say_bye)
        evo_dealer_send(d, EVO_MSG_BYE, NULL);
    zmq_setsockopt(d->socket, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(d->socket);
    d->socket = NULL;
    d->welcomed = 0;
}
