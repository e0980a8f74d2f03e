/* results_pieces.h — a worker's answers to one batch (RESULTS,
 * docs/protocol.md) cut into messages no bigger than
 * EVO_PROTO_MAX_MESSAGE: the answers of a batch may weigh far more than
 * its inputs (a Python call that returns simulated data), and no socket
 * of the farm takes a bigger frame. Every piece but the last is a
 * RESULTS_PART (its batch stays open at the broker); the last is the
 * RESULTS that carries the batch's elapsed time. */
#ifndef EVO_RESULTS_PIECES_H
#define EVO_RESULTS_PIECES_H

#include <stddef.h>

#include "proto.h"
#include "util/buf.h"

/* Sends the RESULTS body in `whole` (u64 elapsed_ns and a valid result
 * list, as evo_proto_results_open reads it) as it is when it fits in
 * `limit` bytes, else as RESULTS_PART bodies of whole items built in
 * `scratch`, then a RESULTS with the rest, each handed to send(arg, type,
 * body); an item alone bigger than `limit` travels in a piece of its own.
 * 0, or -1 when `whole` is no result list, scratch ran out of memory or
 * send returned -1 (nothing after it is sent). */
int evo_results_send(const struct evo_buf *whole, size_t limit, struct evo_buf *scratch,
                     int (*send)(void *arg, enum evo_msg_type type, const struct evo_buf *body), void *arg);

#endif
