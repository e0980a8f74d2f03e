/* fuzz_zap.c — the broker's ZAP handler (farm/wire/zap.c) over real
 * ZeroMQ sockets: a REQ socket on inproc://zeromq.zap.01 sends the request
 * the input describes (1 to 9 frames; each either the input's bytes or the
 * expected value for its place: "1.0", "CURVE", an admitted key), then
 * evo_zap_handle answers it. Asserts: status 200 exactly for a 7-frame
 * request with version "1.0", mechanism "CURVE" and the member's 32-byte
 * key (domain, address and identity are free), 400 with the refusal
 * counted otherwise; the reply has ZAP's six frames, echoes the request id
 * and names the user "all" only when admitted. */
#include "fuzz.h"

#include <zmq.h>

#include "util/log.h"
#include "wire/credentials.h"
#include "wire/zap.h"

static void *context, *requester;
static struct evo_zap *zap;
static uint8_t member[32], other[32];

static void start(void)
{
    struct evo_credentials creds;
    evo_log_set_level(EVO_LOG_ERROR); /* a refusal is logged at info */
    FUZZ_ASSERT(evo_credentials_generate(&creds) == 0);
    FUZZ_ASSERT(zmq_z85_decode(member, creds.client_public) != NULL);
    FUZZ_ASSERT(zmq_z85_decode(other, creds.server_public) != NULL);
    FUZZ_ASSERT((context = zmq_ctx_new()) != NULL);
    FUZZ_ASSERT((zap = evo_zap_create(context)) != NULL);
    FUZZ_ASSERT(evo_zap_admit(zap, creds.client_public, "all") == 0);
    FUZZ_ASSERT((requester = zmq_socket(context, ZMQ_REQ)) != NULL);
    FUZZ_ASSERT(zmq_connect(requester, "inproc://zeromq.zap.01") == 0);
}

/* Frame `place`'s expected content. */
static void expected(int place, const void **data, size_t *size)
{
    static const char *text[] = {"1.0", "17", "", "127.0.0.1", "", "CURVE"};
    if (place == 6) {
        *data = member;
        *size = sizeof member;
    } else {
        *data = place < 6 ? text[place] : "extra";
        *size = strlen(*data);
    }
}

static int frame_is(const zmq_msg_t *m, const void *data, size_t size)
{
    return zmq_msg_size((zmq_msg_t *)m) == size && memcmp(zmq_msg_data((zmq_msg_t *)m), data, size) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (context == NULL)
        start();
    struct fuzz_bytes in = {data, size};
    int n = 1 + fuzz_u8(&in) % 9;
    uint8_t frames[9][64];
    size_t sizes[9];
    for (int i = 0; i < n; i++) {
        uint8_t how = fuzz_u8(&in);
        const void *bytes;
        if (how & 0x80) {
            expected(i, &bytes, &sizes[i]);
        } else if (how & 0x40) { /* another key */
            bytes = other, sizes[i] = sizeof other;
        } else {
            sizes[i] = how % 64 < in.left ? how % 64 : in.left;
            bytes = in.data;
            in.data += sizes[i];
            in.left -= sizes[i];
        }
        memcpy(frames[i], bytes, sizes[i]);
        FUZZ_ASSERT(zmq_send(requester, frames[i], sizes[i], i + 1 < n ? ZMQ_SNDMORE : 0) == (int)sizes[i]);
    }
    int admit = n == 7 && sizes[0] == 3 && memcmp(frames[0], "1.0", 3) == 0 && sizes[5] == 5 &&
                memcmp(frames[5], "CURVE", 5) == 0 && sizes[6] == 32 && memcmp(frames[6], member, 32) == 0;

    uint64_t refused = 0;
    zmq_pollitem_t item = {evo_zap_socket(zap), 0, ZMQ_POLLIN, 0};
    FUZZ_ASSERT(zmq_poll(&item, 1, 1000) == 1);
    evo_zap_handle(zap, &refused);
    FUZZ_ASSERT(refused == (uint64_t)!admit);

    zmq_msg_t reply[7];
    int got = 0, more = 1;
    size_t more_size = sizeof more;
    while (more && got < 7) {
        zmq_msg_init(&reply[got]);
        FUZZ_ASSERT(zmq_msg_recv(&reply[got], requester, 0) >= 0);
        got++;
        zmq_getsockopt(requester, ZMQ_RCVMORE, &more, &more_size);
    }
    FUZZ_ASSERT(got == 6 && !more);
    FUZZ_ASSERT(frame_is(&reply[0], "1.0", 3));
    FUZZ_ASSERT(n >= 2 ? frame_is(&reply[1], frames[1], sizes[1]) : frame_is(&reply[1], "", 0));
    FUZZ_ASSERT(frame_is(&reply[2], admit ? "200" : "400", 3));
    FUZZ_ASSERT(frame_is(&reply[4], admit ? "all" : "", admit ? 3 : 0));
    for (int i = 0; i < got; i++)
        zmq_msg_close(&reply[i]);
    return 0;
}
