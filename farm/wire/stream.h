/* stream.h — the farm's messages over a Unix stream socket, for the peers
 * of one machine (evo-farm run): a ZeroMQ hop costs about five times a
 * socketpair's round trip here (docs/performance.md), so Unix members
 * talk to the broker this way. Each message is a u32 little-endian length
 * n (4 .. EVO_STREAM_MAX), then n bytes: the 4-byte header of
 * docs/protocol.md and the body, if the type has one. No CURVE: the socket
 * lives in a 0700 directory of the farm's user, and the broker accepts only
 * connections whose peer credentials (SO_PEERCRED) carry its own uid. */
#ifndef EVO_STREAM_H
#define EVO_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"
#include "transport.h"
#include "util/buf.h"

#define EVO_STREAM_MAX      (EVO_PROTO_MAX_MESSAGE + EVO_PROTO_HEADER_SIZE) /* the largest message accepted */
#define EVO_STREAM_READ_MAX (1u << 20) /* bytes read by one evo_stream_recv, at most */

struct evo_stream {
    int fd;
    unsigned char *in; /* received: in[in_at .. in_len) not yet taken */
    size_t in_at, in_len, in_cap;
    struct evo_buf out; /* queued, not yet written */
    size_t out_at;
    int closed;           /* EOF or an error: the peer is gone */
    int64_t last_byte_ms; /* when bytes last arrived (evo_now_ms): a peer sending a big message is alive */
};

/* A listening socket at `path` (which must not exist), non-blocking. The fd,
 * or -1 with a reason in err. */
int evo_stream_listen(const char *path, char *err, size_t err_size);

/* Accepts one connection when its peer runs as `uid`: a new stream, or
 * NULL (nothing pending, or refused: *refused is then set to 1). */
struct evo_stream *evo_stream_accept(int listen_fd, uid_t uid, int *refused);

/* Connects to the Unix socket at `path`: a blocking descriptor
 * (close-on-exec), or -1 with err, also when its directory is not ours
 * alone or the process listening there is not of our uid (as below). */
int evo_unix_connect(const char *path, char *err, size_t err_size);

/* Connects to the socket at `path`: a stream, or NULL with err, also when
 * the socket's directory is not ours alone (ours, 0700 or stricter, no
 * link, as the broker makes it) or the process listening there
 * (SO_PEERCRED) is not of our uid: a path another user recreated after the
 * broker removed it, or made first. */
struct evo_stream *evo_stream_connect(const char *path, char *err, size_t err_size);

/* Closes and frees; NULL is fine. */
void evo_stream_close(struct evo_stream *s);

/* Queues one message and writes what the socket takes now. wait_ms: how
 * long to wait for room for the rest (0: leave it queued for
 * evo_stream_flush). 0, or -1 when the peer is gone or out of memory. */
int evo_stream_send(struct evo_stream *s, enum evo_msg_type type, const struct evo_buf *body, int wait_ms);

/* Writes what it can of the queue. 0 (all written), 1 (some left: poll
 * for POLLOUT), or -1 (peer gone). */
int evo_stream_flush(struct evo_stream *s);

/* The same, waiting up to wait_ms for room while some is left. */
int evo_stream_flush_wait(struct evo_stream *s, int wait_ms);

/* Whether output is queued. */
int evo_stream_pending(const struct evo_stream *s);

/* Reads what has arrived (without blocking; at most EVO_STREAM_READ_MAX
 * bytes a call, so that a peer streaming a big message cannot hold its
 * reader's loop) and takes the next whole message, as evo_message_recv: 0 (valid), 1 (malformed: why), -1 (none
 * whole yet, or the peer is gone: s->closed). When `identity` is given it
 * becomes the message's routing id (the broker's view of the peer). A
 * malformed length closes the stream. */
int evo_stream_recv(struct evo_stream *s, struct evo_message *msg, const void *identity, size_t identity_size);

#endif
