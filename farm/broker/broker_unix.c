/* broker_unix.c — the broker's members on its own machine: the Unix
 * socket they connect to (evo_broker_listen_unix) and their streams
 * (wire/stream.h), polled beside the ROUTER. Their messages go through the
 * same routing as ZeroMQ ones, under a routing id made up here. */
#include "broker_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

int evo_broker_listen_unix(struct evo_broker *b, const char *path, char *err, size_t err_size)
{
    if ((size_t)snprintf(b->unix_path, sizeof b->unix_path, "%s", path) >= sizeof b->unix_path) {
        snprintf(err, err_size, "socket path too long: %s", path);
        return -1;
    }
    b->unix_fd = evo_stream_listen(path, err, err_size);
    return b->unix_fd < 0 ? -1 : 0;
}

int broker_unix_is_stream(const void *identity, size_t size)
{
    const unsigned char *id = identity;
    return size == BROKER_STREAM_ID && id[0] == 0 && id[1] == 0xff && id[2] == 'S';
}

static struct broker_stream *stream_by_id(struct evo_broker *b, const void *identity)
{
    struct broker_stream *s = NULL;
    HASH_FIND(by_id, b->stream_by_id, identity, BROKER_STREAM_ID, s);
    return s;
}

size_t broker_unix_backlog(struct evo_broker *b, const void *identity, size_t size)
{
    struct broker_stream *s = broker_unix_is_stream(identity, size) ? stream_by_id(b, identity) : NULL;
    return s ? s->stream->out.len - s->stream->out_at : 0;
}

/* Keeps an accepted stream under a new routing id. 0, or -1 (out of
 * memory: the stream is closed). */
static int add_stream(struct evo_broker *b, struct evo_stream *stream)
{
    struct broker_stream *s = calloc(1, sizeof *s);
    if (s && b->nstreams == b->streams_cap) {
        size_t cap = b->streams_cap ? b->streams_cap * 2 : 16;
        struct broker_stream **streams = realloc(b->streams, cap * sizeof *streams);
        if (streams == NULL) {
            free(s);
            s = NULL;
        } else {
            b->streams = streams;
            b->streams_cap = cap;
        }
    }
    if (s == NULL) {
        evo_stream_close(stream);
        return -1;
    }
    uint32_t n = ++b->next_stream;
    unsigned char id[BROKER_STREAM_ID] = {
        0, 0xff, 'S', (unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16), (unsigned char)(n >> 24)};
    memcpy(s->id, id, sizeof id);
    s->stream = stream;
    HASH_ADD(by_id, b->stream_by_id, id, sizeof s->id, s);
    if (s->hash_failed) {
        evo_stream_close(stream);
        free(s);
        return -1;
    }
    b->streams[b->nstreams++] = s;
    return 0;
}

/* Closes the stream at index i of the poll order (the last takes its place). */
static void remove_stream(struct evo_broker *b, size_t i)
{
    struct broker_stream *s = b->streams[i];
    HASH_DELETE(by_id, b->stream_by_id, s);
    evo_stream_close(s->stream);
    free(s);
    b->streams[i] = b->streams[--b->nstreams];
}

int broker_unix_send(struct evo_broker *b, const void *identity, enum evo_msg_type type, const struct evo_buf *body)
{
    struct broker_stream *s = stream_by_id(b, identity);
    if (s == NULL || s->stream->closed) {
        errno = EHOSTUNREACH;
        return -1;
    }
    if (evo_stream_send(s->stream, type, body, 0) < 0) { /* queued; written as the socket takes it */
        errno = s->stream->closed ? EHOSTUNREACH : ENOMEM;
        return -1;
    }
    return 0;
}

static void accept_all(struct evo_broker *b)
{
    int refused;
    for (;;) {
        struct evo_stream *stream = evo_stream_accept(b->unix_fd, geteuid(), &refused);
        if (stream == NULL && !refused)
            return;
        if (stream == NULL) {
            b->counters.auth_refused++;
            evo_warn("refused a local connection from another user");
            continue;
        }
        if (add_stream(b, stream) < 0)
            return;
    }
}

int broker_unix_poll_items(struct evo_broker *b, size_t at)
{
    if (b->unix_fd < 0)
        return 0;
    if (broker_items_reserve(b, at + 1 + b->nstreams) < 0)
        return -1;
    b->items[at] = (zmq_pollitem_t){NULL, b->unix_fd, ZMQ_POLLIN, 0};
    for (size_t i = 0; i < b->nstreams; i++) {
        struct evo_stream *s = b->streams[i]->stream;
        b->items[at + 1 + i] =
            (zmq_pollitem_t){NULL, s->fd, (short)(ZMQ_POLLIN | (evo_stream_pending(s) ? ZMQ_POLLOUT : 0)), 0};
    }
    return (int)(1 + b->nstreams);
}

/* The messages that have arrived on one stream (bounded, as the ROUTER's,
 * so one busy member cannot starve the others). Bytes of a message not yet
 * whole count as the peer's sign of life, as a whole message does. */
static void read_stream(struct evo_broker *b, struct broker_stream *s)
{
    int64_t heard = s->stream->last_byte_ms;
    for (int i = 0; i < 1024; i++) {
        struct evo_message msg;
        int rc = evo_stream_recv(s->stream, &msg, s->id, sizeof s->id);
        if (rc < 0)
            break;
        broker_take(b, &msg, rc);
    }
    struct broker_peer *peer = NULL;
    if (s->stream->last_byte_ms != heard && (peer = broker_peer_by_identity(b, s->id, sizeof s->id)) != NULL &&
        peer->last_recv_ms < s->stream->last_byte_ms)
        peer->last_recv_ms = s->stream->last_byte_ms;
}

void broker_unix_serve(struct evo_broker *b, size_t at)
{
    if (b->unix_fd < 0)
        return;
    size_t polled = b->nstreams; /* streams accepted below were not in this poll */
    for (size_t i = 0; i < polled; i++) {
        short revents = b->items[at + 1 + i].revents;
        if (revents & ZMQ_POLLOUT)
            evo_stream_flush(b->streams[i]->stream);
        if (revents & (ZMQ_POLLIN | ZMQ_POLLERR))
            read_stream(b, b->streams[i]);
    }
    if (b->items[at].revents & ZMQ_POLLIN)
        accept_all(b);
    for (size_t i = 0; i < b->nstreams;) { /* the closed ones: their peers are lost */
        struct broker_stream *s = b->streams[i];
        if (!s->stream->closed) {
            i++;
            continue;
        }
        broker_peer_lost(b, s->id, sizeof s->id, "its connection closed");
        remove_stream(b, i);
    }
}

void broker_unix_close(struct evo_broker *b)
{
    while (b->nstreams > 0) {
        evo_stream_flush(b->streams[b->nstreams - 1]->stream); /* the BYEs */
        remove_stream(b, b->nstreams - 1);
    }
    free(b->streams);
    free(b->items);
    b->streams = NULL;
    b->items = NULL;
    b->nstreams = 0;
    if (b->unix_fd >= 0) {
        close(b->unix_fd);
        unlink(b->unix_path);
    }
    b->unix_fd = -1;
}
