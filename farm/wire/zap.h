/* zap.h — the broker's ZAP handler (ZeroMQ RFC 27): admits a CURVE client
 * only if its public key is this farm's member key. Runs inside the broker's
 * poll loop, so there is no extra thread. */
#ifndef EVO_ZAP_H
#define EVO_ZAP_H

#include <stdint.h>

struct evo_zap;

/* Binds inproc://zeromq.zap.01 on `context` (must happen before the ROUTER
 * binds). `member_public` is the Z85 member key. NULL with errno. */
struct evo_zap *evo_zap_create(void *context, const char *member_public);

/* The REP socket, to poll for ZMQ_POLLIN. */
void *evo_zap_socket(struct evo_zap *zap);

/* Answers every pending request; adds refusals to *refused. */
void evo_zap_handle(struct evo_zap *zap, uint64_t *refused);

/* Closes the socket; NULL is fine. */
void evo_zap_destroy(struct evo_zap *zap);

#endif
