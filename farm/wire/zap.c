/* zap.c — ZAP handler admitting only the farm's keys (see zap.h). */
#include "zap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "util/log.h"

struct evo_zap {
    void *socket;
    uint8_t key[EVO_ZAP_KEYS][32];
    char user[EVO_ZAP_KEYS][16]; /* the User-Id each key's connections get */
    int nkeys;
};

struct evo_zap *evo_zap_create(void *context)
{
    struct evo_zap *zap = calloc(1, sizeof *zap);
    int zero = 0;
    if (zap == NULL)
        return NULL;
    zap->socket = zmq_socket(context, ZMQ_REP);
    if (zap->socket == NULL || zmq_setsockopt(zap->socket, ZMQ_LINGER, &zero, sizeof zero) ||
        zmq_bind(zap->socket, "inproc://zeromq.zap.01") != 0)
        goto error;
    return zap;
error:
    evo_zap_destroy(zap);
    return NULL;
}

int evo_zap_admit(struct evo_zap *zap, const char *public_key, const char *user_id)
{
    if (zap->nkeys == EVO_ZAP_KEYS || strlen(user_id) >= sizeof zap->user[0] ||
        zmq_z85_decode(zap->key[zap->nkeys], public_key) == NULL) {
        errno = EINVAL;
        return -1;
    }
    strcpy(zap->user[zap->nkeys++], user_id);
    return 0;
}

const char *evo_zap_user_of(const struct evo_zap *zap, const char *public_key)
{
    uint8_t key[32];
    if (strlen(public_key) != 40 || zmq_z85_decode(key, public_key) == NULL)
        return NULL;
    for (int k = 0; k < zap->nkeys; k++)
        if (memcmp(key, zap->key[k], sizeof key) == 0)
            return zap->user[k];
    return NULL;
}

void *evo_zap_socket(struct evo_zap *zap)
{
    return zap->socket;
}

/* Request frames: version, request id, domain, address, identity,
 * mechanism, then the mechanism's credentials (CURVE: the 32-byte key). */
enum { ZAP_VERSION, ZAP_REQUEST_ID, ZAP_DOMAIN, ZAP_ADDRESS, ZAP_IDENTITY, ZAP_MECHANISM, ZAP_KEY, ZAP_FRAMES };

static int zap_decide(struct evo_zap *zap, zmq_msg_t *frames, int n, const char **why)
{
    if (n != ZAP_FRAMES || zmq_msg_size(&frames[ZAP_VERSION]) != 3 ||
        memcmp(zmq_msg_data(&frames[ZAP_VERSION]), "1.0", 3) != 0) {
        *why = "malformed ZAP request";
        return 0;
    }
    if (zmq_msg_size(&frames[ZAP_MECHANISM]) != 5 || memcmp(zmq_msg_data(&frames[ZAP_MECHANISM]), "CURVE", 5) != 0) {
        *why = "only CURVE is accepted";
        return 0;
    }
    for (int k = 0; zmq_msg_size(&frames[ZAP_KEY]) == 32 && k < zap->nkeys; k++)
        if (memcmp(zmq_msg_data(&frames[ZAP_KEY]), zap->key[k], 32) == 0) {
            *why = "OK";
            return k + 1;
        }
    *why = "not a member of this farm";
    return 0;
}

/* ok: 0 refused, else 1 + the admitted key's index. */
static void zap_reply(struct evo_zap *zap, zmq_msg_t *request_id, int ok, const char *why)
{
    const char *user = ok ? zap->user[ok - 1] : "";
    zmq_send(zap->socket, "1.0", 3, ZMQ_SNDMORE);
    if (request_id)
        zmq_send(zap->socket, zmq_msg_data(request_id), zmq_msg_size(request_id), ZMQ_SNDMORE);
    else
        zmq_send(zap->socket, "", 0, ZMQ_SNDMORE);
    zmq_send(zap->socket, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(zap->socket, why, strlen(why), ZMQ_SNDMORE);
    zmq_send(zap->socket, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(zap->socket, "", 0, 0);
}

void evo_zap_handle(struct evo_zap *zap, uint64_t *refused)
{
    for (;;) {
        zmq_msg_t frames[ZAP_FRAMES + 1];
        int n = 0, more = 1;
        size_t size = sizeof more;
        while (more) {
            zmq_msg_t *frame = &frames[n < ZAP_FRAMES + 1 ? n : ZAP_FRAMES];
            if (n >= ZAP_FRAMES + 1)
                zmq_msg_close(frame);
            zmq_msg_init(frame);
            if (zmq_msg_recv(frame, zap->socket, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
                zmq_msg_close(frame);
                if (n == 0)
                    return;
                break;
            }
            n++;
            zmq_getsockopt(zap->socket, ZMQ_RCVMORE, &more, &size);
        }
        int kept = n < ZAP_FRAMES + 1 ? n : ZAP_FRAMES + 1;
        const char *why;
        int ok = zap_decide(zap, frames, kept, &why);
        if (!ok) {
            (*refused)++;
            evo_info("refused a connection: %s", why);
        }
        zap_reply(zap, kept > ZAP_REQUEST_ID ? &frames[ZAP_REQUEST_ID] : NULL, ok, why);
        for (int i = 0; i < kept; i++)
            zmq_msg_close(&frames[i]);
    }
}

void evo_zap_destroy(struct evo_zap *zap)
{
    if (zap == NULL)
        return;
    if (zap->socket)
        zmq_close(zap->socket);
    free(zap);
}
