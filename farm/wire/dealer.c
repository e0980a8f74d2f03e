/* dealer.c — the member's side of the conversation with the broker (see
 * dealer.h). */
#include "dealer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/host.h"

static void disconnect(struct evo_dealer *d)
{
    if (d->socket)
        zmq_close(d->socket);
    evo_stream_close(d->stream);
    d->socket = NULL;
    d->stream = NULL;
}

/* Our Slurm step as JOBID.STEP (what `evo-farm drain JOBID` selects), or
 * empty outside Slurm or when it is no one word. */
static void hello_job(char *out, size_t size)
{
    const char *job = getenv("SLURM_JOB_ID"), *step = getenv("SLURM_STEP_ID");
    out[0] = '\0';
    if (job == NULL || job[0] == '\0' || job[strspn(job, "0123456789_")] != '\0')
        return;
    int n = step && step[0] && step[strspn(step, "0123456789")] == '\0' ? snprintf(out, size, "%s.%s", job, step)
                                                                        : snprintf(out, size, "%s", job);
    if (n < 0 || (size_t)n >= size)
        out[0] = '\0';
}

int evo_dealer_join(struct evo_dealer *d, void *context, const struct evo_credentials *creds, enum evo_peer_kind kind,
                    struct evo_buf *scratch, char *err, size_t err_size)
{
    struct evo_hello hello = {.kind = (uint8_t)kind, .reads = d->reads, .pid = (uint32_t)getpid()};
    char why[EVO_ERROR_MAX - 32];
    disconnect(d);
    d->welcomed = 0;
    d->lost = 0;
    if (creds->unix_socket[0]) { /* on the broker's machine: its socket, or it is gone */
        if ((d->stream = evo_stream_connect(creds->unix_socket, why, sizeof why)) == NULL) {
            snprintf(err, err_size, "the broker is gone (%s)", why);
            return -1;
        }
    } else {
        d->socket = evo_socket_connect_dealer(context, creds, err, err_size);
    }
    if (d->socket == NULL && d->stream == NULL)
        return -1;
    if (d->stream) /* no CURVE on a Unix stream: the key we hold says what we may do */
        snprintf(hello.key, sizeof hello.key, "%s", creds->client_public);
    evo_host_name(hello.host, sizeof hello.host);
    hello_job(hello.job, sizeof hello.job);
    evo_buf_reset(scratch);
    evo_proto_put_hello(scratch, &hello);
    d->last_recv_ms = evo_now_ms();
    return evo_dealer_send(d, EVO_MSG_HELLO, scratch);
}

int evo_dealer_joined(const struct evo_dealer *d)
{
    return d->socket != NULL || d->stream != NULL;
}

int evo_dealer_recv(struct evo_dealer *d, struct evo_message *msg)
{
    if (d->stream == NULL)
        return d->socket ? evo_message_recv(d->socket, 0, msg) : -1;
    int rc = evo_stream_recv(d->stream, msg, NULL, 0);
    if (rc < 0 && d->stream->closed)
        d->lost = 1;
    return rc;
}

zmq_pollitem_t evo_dealer_pollitem(const struct evo_dealer *d)
{
    zmq_pollitem_t item = {d->socket, d->stream ? d->stream->fd : -1, ZMQ_POLLIN, 0};
    return item;
}

int evo_dealer_send(struct evo_dealer *d, enum evo_msg_type type, const struct evo_buf *body)
{
    int heartbeat = type == EVO_MSG_HEARTBEAT;
    int patience = heartbeat ? 0 : (int)(d->heartbeat_ms * d->liveness);
    if (d->stream) {
        if (evo_stream_send(d->stream, type, body, patience) < 0) {
            d->lost = d->stream->closed;
            return -1;
        }
        d->last_send_ms = evo_now_ms();
        return 0;
    }
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
    int64_t heard = d->last_recv_ms;
    if (d->stream && d->stream->last_byte_ms > heard) /* a big message on its way: the broker is alive */
        heard = d->stream->last_byte_ms;
    return d->lost || now - heard > (int64_t)d->heartbeat_ms * d->liveness;
}

void evo_dealer_leave(struct evo_dealer *d, int say_bye)
{
    if (!evo_dealer_joined(d))
        return;
    int linger = 200; /* let the BYE leave */
    if (say_bye)
        evo_dealer_send(d, EVO_MSG_BYE, NULL);
    if (d->stream)
        evo_stream_flush_wait(d->stream, linger); /* whatever is queued leaves first */
    if (d->socket)
        zmq_setsockopt(d->socket, ZMQ_LINGER, &linger, sizeof linger);
    disconnect(d);
    d->welcomed = 0;
}
