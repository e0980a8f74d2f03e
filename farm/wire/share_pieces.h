/* share_pieces.h — a shared constant (SHARE, docs/protocol.md) cut into
 * pieces by its sender and followed piece by piece by its receiver. A
 * constant may be 1 GiB; one message that size would take seconds to cross
 * a busy link or machine, and a peer's liveness counts whole messages
 * (heartbeat x liveness): in pieces of EVO_PROTO_SHARE_PIECE bytes each
 * one arrives well within the window, and a broker reading a driver's
 * constant still beats and dispatches between its pieces. */
#ifndef EVO_SHARE_PIECES_H
#define EVO_SHARE_PIECES_H

#include <stddef.h>

#include "proto.h"
#include "util/buf.h"

/* The SHARE body of the piece of the constant `name` (total bytes at
 * value) that starts at offset, in buf (reset first). The piece's size. */
size_t evo_share_put_piece(struct evo_buf *buf, const char *name, const void *value, size_t total, size_t offset);

/* Sends the constant `name` (size bytes at value, size <=
 * EVO_PROTO_MAX_SHARE) as SHARE bodies built in `buf`, in order, each
 * handed to send(arg, buf). 0, or -1 when buf ran out of memory or send
 * returned -1 (the pieces after it are not sent). */
int evo_share_send(struct evo_buf *buf, const char *name, const void *value, size_t size,
                   int (*send)(void *arg, const struct evo_buf *body), void *arg);

/* The receiver's view of the constant arriving on one connection. Zeroed:
 * nothing in progress. */
struct evo_share_progress {
    char name[EVO_PROTO_MAX_NAME + 1];
    size_t total, got;
    int open; /* a constant has begun and is not yet whole */
};

enum evo_share_step {
    EVO_SHARE_OUT_OF_ORDER = -1, /* continues nothing in progress: dropped, and what was in progress abandoned */
    EVO_SHARE_MORE = 0,          /* taken; more pieces are to come */
    EVO_SHARE_WHOLE = 1,         /* taken, and the constant is whole with it */
};

/* Where `piece` (a valid SHARE) stands: a piece at offset 0 begins a new
 * constant (abandoning an unfinished one: its sender started over); any
 * other must continue the one in progress — same name and total, offset
 * where the last one ended. piece->offset == 0 tells the caller to start
 * its copy; EVO_SHARE_WHOLE that the copy is complete. */
enum evo_share_step evo_share_progress_take(struct evo_share_progress *p, const struct evo_share *piece);

#endif
