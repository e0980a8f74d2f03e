/* zap.h — the broker's ZAP handler (ZeroMQ RFC 27): admits a CURVE client
 * only if its public key is one of this farm's keys (those added by
 * evo_zap_admit), its messages then carrying that key's User-Id (the role:
 * wire/credentials.h). Runs inside the broker's poll loop, so there is no
 * extra thread. */
#ifndef EVO_ZAP_H
#define EVO_ZAP_H

#include <stdint.h>

#define EVO_ZAP_KEYS 8

struct evo_zap;

/* Binds inproc://zeromq.zap.01 on `context` (must happen before the ROUTER
 * binds); it admits nobody until evo_zap_admit. NULL with errno. */
struct evo_zap *evo_zap_create(void *context);

/* Admits `public_key` (Z85), its connections' messages carrying User-Id
 * `user_id` (under 16 characters; see evo_message_user_id). At most
 * EVO_ZAP_KEYS keys in all. 0, or -1 with errno EINVAL. */
int evo_zap_admit(struct evo_zap *zap, const char *public_key, const char *user_id);

/* The User-Id of the admitted `public_key` (Z85), or NULL: what a member
 * on a Unix stream, which has no CURVE, may do is its key's role too. */
const char *evo_zap_user_of(const struct evo_zap *zap, const char *public_key);

/* The REP socket, to poll for ZMQ_POLLIN. */
void *evo_zap_socket(struct evo_zap *zap);

/* Answers every pending request; adds refusals to *refused. */
void evo_zap_handle(struct evo_zap *zap, uint64_t *refused);

/* Closes the socket; NULL is fine. */
void evo_zap_destroy(struct evo_zap *zap);

#endif
