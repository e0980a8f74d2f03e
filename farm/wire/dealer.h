/* dealer.h — a member's side of its conversation with the broker, the one
 * piece the client (drivers) and the worker share: a DEALER socket, HELLO,
 * the heartbeat and liveness the WELCOME announces, heartbeats while idle
 * and the silence that means the broker is lost (docs/protocol.md). What a
 * member does with TASKS, DONE, RESET or BYE stays with the member. */
#ifndef EVO_DEALER_H
#define EVO_DEALER_H

#include <stdint.h>

#include "proto.h"
#include "stream.h"
#include "transport.h"
#include "util/buf.h"

struct evo_dealer {
    void *socket;              /* the DEALER, when joined over ZeroMQ */
    struct evo_stream *stream; /* or the Unix stream, when joined on this machine */
    unsigned heartbeat_ms;     /* the broker's, once welcomed; the caller's guess before */
    unsigned liveness;         /* heartbeats missed before a peer counts as lost */
    int64_t last_recv_ms, last_send_ms;
    int welcomed;
    uint32_t serial; /* the broker's number for us, from WELCOME */
    int lost;        /* the stream to the broker closed */
    uint8_t reads;   /* a worker's: what its evaluator reads (enum evo_input_kind), said in HELLO */
};

/* Closes any previous connection, connects afresh and sends HELLO as
 * `role` (scratch is reset and used for the body): to the broker's Unix
 * socket when creds->unix_socket names one (a member on the broker's machine,
 * EVO_FARM_UNIX_SOCKET: when it cannot be reached the broker is gone), else a
 * DEALER to creds->endpoint. The dealer is not
 * welcomed until a WELCOME passes through evo_dealer_take. 0, or -1 with a
 * one-line reason in err (not joined then). */
int evo_dealer_join(struct evo_dealer *dealer, void *context, const struct evo_credentials *creds,
                    enum evo_peer_kind kind, struct evo_buf *scratch, char *err, size_t err_size);

/* Whether a connection is open (socket or stream). */
int evo_dealer_joined(const struct evo_dealer *dealer);

/* The next whole message from the broker, without blocking: as
 * evo_message_recv (0, 1 malformed, -1 nothing now). A lost stream also
 * sets `lost`. */
int evo_dealer_recv(struct evo_dealer *dealer, struct evo_message *msg);

/* The poll item that becomes readable when the broker has said something. */
zmq_pollitem_t evo_dealer_pollitem(const struct evo_dealer *dealer);

/* Sends one message. Without a connection it waits at most the broker's
 * patience (heartbeat × liveness: after that our work is requeued anyway);
 * a heartbeat does not wait and is simply skipped (returns 0). 0, or -1
 * with zmq_errno() set. */
int evo_dealer_send(struct evo_dealer *dealer, enum evo_msg_type type, const struct evo_buf *body);

/* Every message received from the broker passes here first: it notes the
 * time and takes a WELCOME (heartbeat, liveness, serial). Returns 1 when
 * the message was a WELCOME or a HEARTBEAT (nothing left to do), else 0. */
int evo_dealer_take(struct evo_dealer *dealer, struct evo_message *msg);

/* Sends a heartbeat when one is due at now_ms. 0, or -1 as evo_dealer_send. */
int evo_dealer_beat(struct evo_dealer *dealer, int64_t now_ms);

/* How long a poll that wants to wait wait_ms (-1: forever) may block so
 * the next heartbeat leaves on time. */
int evo_dealer_poll_ms(const struct evo_dealer *dealer, int wait_ms, int64_t now_ms);

/* 1 when nothing has come from the broker for longer than heartbeat ×
 * liveness at now_ms: no whole message, nor over a Unix stream any byte
 * (a big message arriving is a live broker). */
int evo_dealer_silent(const struct evo_dealer *dealer, int64_t now_ms);

/* Says BYE first when say_bye, lets it leave (200 ms at most), closes the
 * socket. Safe to call twice and on a dealer that never joined. */
void evo_dealer_leave(struct evo_dealer *dealer, int say_bye);

#endif
