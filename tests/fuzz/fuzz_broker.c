/* fuzz_broker.c — a real broker (evo_broker_create with fresh CURVE
 * credentials, bound to tcp://127.0.0.1:*) and up to four peers on its
 * Unix socket (evo_broker_listen_unix, real framed messages of
 * wire/stream.h), driven by a sequence of operations decoded from the
 * input: HELLO as driver or worker, SUBMIT, RESULTS for held batches (whole,
 * short, with a duplicate) and for ids nobody holds, BYE, a closed
 * connection, a new one, HEARTBEAT, and time passing (the broker's clock is
 * this file's: evo_now_ms below), which expires silent workers. After each
 * operation the broker and the peers run until nothing moves.
 *
 * Asserts, as it goes: a DONE comes only to a driver and names only tags
 * that driver submitted and that were not answered yet (exactly once);
 * TASKS come only to workers. At the end, and again after a fresh worker
 * has settled everything: queued + in_flight is the number of tags the
 * harness believes outstanding (those of drivers still connected);
 * done + failed is the number of answers the drivers saw; once settled
 * nothing is outstanding and every tag of a connected driver was answered. */
#include "fuzz.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "util/clock.h"
#include "util/log.h"
#include "wire/credentials.h"
#include "wire/stream.h"

/* The broker's clock: only "time passes" moves it. */
static int64_t fake_now_ms = 1000000;
int64_t evo_now_ms(void)
{
    return fake_now_ms;
}
int64_t evo_now_ns(void)
{
    return fake_now_ms * 1000000;
}

#define PEERS     5 /* four for the sequence, one to settle */
#define MAX_HELD  1024
#define MAX_TAGS  4096
#define HEARTBEAT 100
#define LIVENESS  3

enum tag_state { TAG_OUTSTANDING = 1, TAG_ANSWERED, TAG_FORGOTTEN };

struct tag {
    int owner; /* peer slot */
    unsigned incarnation;
    enum tag_state state;
};

struct batch {
    uint64_t *ids; /* owned */
    size_t count;
};

struct peer {
    struct evo_stream *stream; /* NULL: no connection */
    int said;                  /* the role of the last HELLO sent, 0: none */
    int role;                  /* welcomed as, 0: none */
    unsigned incarnation;      /* tags belong to one welcome of one connection */
    struct batch held[MAX_HELD];
    size_t nheld;
};

static struct {
    struct evo_broker *broker;
    struct peer peers[PEERS];
    struct tag tags[MAX_TAGS + 1]; /* tags are 1..ntags, unique across drivers */
    uint64_t ntags;
    uint64_t answers; /* DONE items seen */
    char path[128];
    char key[EVO_KEY_TEXT]; /* the key every peer names in its HELLO (admitted with role "all") */
} h;

static char dir[64];

static void remove_dir(void)
{
    rmdir(dir);
}

static void drop_held(struct peer *p)
{
    for (size_t i = 0; i < p->nheld; i++)
        free(p->held[i].ids);
    p->nheld = 0;
}

/* A peer the broker forgets: the tags it submitted will not be answered
 * any more, the tasks it held are the broker's again. */
static void forget(int slot)
{
    struct peer *p = &h.peers[slot];
    for (uint64_t t = 1; t <= h.ntags; t++)
        if (h.tags[t].owner == slot && h.tags[t].incarnation == p->incarnation && h.tags[t].state == TAG_OUTSTANDING)
            h.tags[t].state = TAG_FORGOTTEN;
    p->role = 0;
    drop_held(p);
    p->incarnation++;
}

static void on_done(int slot, const void *body, size_t size)
{
    struct peer *p = &h.peers[slot];
    struct evo_reader r;
    evo_reader_init(&r, body, size);
    uint32_t count = evo_get_u32(&r);
    FUZZ_ASSERT(p->role == EVO_PEER_DRIVER && !r.bad && count > 0);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t tag = evo_get_u64(&r);
        uint8_t status = evo_get_u8(&r);
        if (status == EVO_RESULT_OK)
            evo_get_bytes(&r, (size_t)evo_get_u8(&r) * 8);
        else if (status == EVO_RESULT_OK_PAYLOAD)
            evo_get_bytes(&r, evo_get_u32(&r));
        else if (status == EVO_RESULT_ERROR)
            evo_get_bytes(&r, evo_get_u16(&r));
        else
            FUZZ_ASSERT(0); /* no WITHDRAW here, and attempts fail only worker -> broker */
        FUZZ_ASSERT(!r.bad && tag >= 1 && tag <= h.ntags);
        struct tag *t = &h.tags[tag];
        if (t->state != TAG_OUTSTANDING || t->owner != slot || t->incarnation != p->incarnation)
            fprintf(stderr, "tag %llu answered to peer %d: state %d, owner %d\n", (unsigned long long)tag, slot,
                    t->state, t->owner);
        FUZZ_ASSERT(t->state == TAG_OUTSTANDING && t->owner == slot && t->incarnation == p->incarnation);
        t->state = TAG_ANSWERED;
        h.answers++;
    }
    FUZZ_ASSERT(r.left == 0);
}

static void on_tasks(int slot, const void *body, size_t size)
{
    struct peer *p = &h.peers[slot];
    struct evo_input_list list;
    FUZZ_ASSERT(p->role == EVO_PEER_WORKER);
    FUZZ_ASSERT(evo_proto_get_inputs(body, size, &list) == 0);
    FUZZ_ASSERT(p->nheld < MAX_HELD);
    struct batch *b = &p->held[p->nheld++];
    b->count = list.count;
    b->ids = list.id; /* taken over */
    list.id = NULL;
    evo_input_list_free(&list);
}

/* What has arrived for one peer. 1 when something did. */
static int peer_read(int slot)
{
    struct peer *p = &h.peers[slot];
    struct evo_message msg;
    int rc, moved = 0;
    while (p->stream && (rc = evo_stream_recv(p->stream, &msg, NULL, 0)) >= 0) {
        FUZZ_ASSERT(rc == 0); /* the broker sends only valid messages */
        size_t size;
        const void *body = evo_message_body(&msg, &size);
        switch (msg.type) {
        case EVO_MSG_WELCOME:
            p->role = p->said;
            break;
        case EVO_MSG_TASKS:
            on_tasks(slot, body, size);
            break;
        case EVO_MSG_DONE:
            on_done(slot, body, size);
            break;
        case EVO_MSG_RESET: /* the broker forgot this peer */
        case EVO_MSG_BYE:
            forget(slot);
            break;
        case EVO_MSG_HEARTBEAT:
        case EVO_MSG_STATS:
        case EVO_MSG_SHARE:
            break;
        default:
            FUZZ_ASSERT(0);
        }
        evo_message_close(&msg);
        moved = 1;
    }
    return moved;
}

/* The broker and the peers until nothing moves. */
static void pump(void)
{
    for (int quiet = 0, round = 0; quiet < 3; round++) {
        FUZZ_ASSERT(round < 10000);
        int moved = 0;
        for (int i = 0; i < PEERS; i++)
            if (h.peers[i].stream && evo_stream_pending(h.peers[i].stream)) {
                evo_stream_flush(h.peers[i].stream);
                moved = 1;
            }
        FUZZ_ASSERT(evo_broker_step(h.broker, -1, 0) >= 0);
        for (int i = 0; i < PEERS; i++)
            moved |= peer_read(i);
        quiet = moved ? 0 : quiet + 1;
    }
}

static void peer_send(int slot, enum evo_msg_type type, const struct evo_buf *body)
{
    struct peer *p = &h.peers[slot];
    if (p->stream)
        FUZZ_ASSERT(evo_stream_send(p->stream, type, body, 0) == 0);
}

static void connect_peer(int slot)
{
    char err[256];
    struct peer *p = &h.peers[slot];
    if (p->stream)
        return;
    FUZZ_ASSERT((p->stream = evo_stream_connect(h.path, err, sizeof err)) != NULL);
    p->said = p->role = 0;
    drop_held(p);
    p->incarnation++;
}

static void hello(int slot, int role)
{
    struct peer *p = &h.peers[slot];
    struct evo_hello msg = {.kind = (uint8_t)role, .pid = 1000 + (uint32_t)slot};
    struct evo_buf body = {0};
    snprintf(msg.host, sizeof msg.host, "node%d", slot % 2);
    snprintf(msg.key, sizeof msg.key, "%s", h.key);
    evo_proto_put_hello(&body, &msg);
    forget(slot); /* HELLO again: the broker drops what it knew of this peer */
    p->said = role;
    peer_send(slot, EVO_MSG_HELLO, &body);
    evo_buf_free(&body);
}

static void submit(int slot, unsigned count, unsigned dim)
{
    struct peer *p = &h.peers[slot];
    struct evo_buf body = {0};
    double x[4] = {1, 2, 3, 4};
    if (h.ntags + count > MAX_TAGS)
        return;
    evo_proto_begin_inputs(&body, count);
    for (unsigned i = 0; i < count; i++) {
        uint64_t tag = ++h.ntags;
        if (p->role == EVO_PEER_DRIVER) /* otherwise the broker refuses it whole */
            h.tags[tag] = (struct tag){slot, p->incarnation, TAG_OUTSTANDING};
        evo_proto_put_vector(&body, tag, dim, x);
    }
    peer_send(slot, EVO_MSG_SUBMIT, &body);
    evo_buf_free(&body);
}

static void put_item(struct evo_buf *body, uint64_t id, uint8_t how)
{
    double objective = (double)id;
    switch (how % 4) {
    case 1:
        evo_proto_put_result_error(body, id, EVO_RESULT_ATTEMPT_FAILED, "it broke");
        break;
    case 2:
        evo_proto_put_result_payload(body, id, 3, "abc");
        break;
    default:
        evo_proto_put_result_ok(body, id, 1, &objective);
        break;
    }
}

/* A worker's RESULTS: for held batch k (whole, short of its last task,
 * or with its first task twice), or for ids nobody holds. */
static void results(int slot, struct fuzz_bytes *in)
{
    struct peer *p = &h.peers[slot];
    uint8_t variant = fuzz_u8(in), how = fuzz_u8(in);
    struct evo_buf body = {0};
    uint64_t fabricated[3], *ids = fabricated, *owned = NULL;
    size_t count = 0;
    if (variant % 4 < 3 && p->nheld > 0) {
        size_t k = (variant >> 2) % p->nheld;
        struct batch *b = &p->held[k];
        ids = owned = realloc(b->ids, (b->count + 1) * sizeof *ids);
        FUZZ_ASSERT(ids != NULL);
        count = b->count;
        if (variant % 4 == 1 && count > 1)
            count--;
        if (variant % 4 == 2)
            ids[count++] = ids[0];
        p->held[k] = p->held[--p->nheld];
    } else {
        count = 1 + variant % 3;
        for (size_t i = 0; i < count; i++)
            ids[i] = fuzz_u8(in) % 64;
    }
    evo_buf_put_u64(&body, (uint64_t)fuzz_u8(in) * 1000);
    evo_proto_begin_results(&body, (uint32_t)count);
    for (size_t i = 0; i < count; i++)
        put_item(&body, ids[i], (uint8_t)(how >> (2 * (i % 4))));
    peer_send(slot, EVO_MSG_RESULTS, &body);
    evo_buf_free(&body);
    free(owned);
}

static void operation(struct fuzz_bytes *in)
{
    uint8_t op = fuzz_u8(in);
    int slot = (op >> 3) % (PEERS - 1);
    struct peer *p = &h.peers[slot];
    switch (op % 8) {
    case 0:
        hello(slot, fuzz_u8(in) & 1 ? EVO_PEER_WORKER : EVO_PEER_DRIVER);
        break;
    case 1: {
        uint8_t n = fuzz_u8(in);
        submit(slot, 1 + n % 12, 1 + (n >> 4) % 3);
        break;
    }
    case 2:
        results(slot, in);
        break;
    case 3:
        peer_send(slot, EVO_MSG_BYE, NULL);
        if (p->role || p->said)
            forget(slot);
        p->said = 0;
        break;
    case 4:
        evo_stream_close(p->stream);
        p->stream = NULL;
        forget(slot);
        p->said = 0;
        break;
    case 5:
        connect_peer(slot);
        break;
    case 6:
        peer_send(slot, EVO_MSG_HEARTBEAT, NULL);
        break;
    case 7:
        fake_now_ms += (int64_t)(fuzz_u8(in) % 16) * HEARTBEAT / 2;
        break;
    }
    pump();
}

static uint64_t outstanding(void)
{
    uint64_t n = 0;
    for (uint64_t t = 1; t <= h.ntags; t++)
        n += h.tags[t].state == TAG_OUTSTANDING;
    return n;
}

static void check_counts(const char *when)
{
    struct evo_stats *s = malloc(sizeof *s);
    FUZZ_ASSERT(s != NULL);
    evo_broker_stats(h.broker, s);
    if (s->queued + s->in_flight != outstanding() || s->done + s->failed != h.answers)
        fprintf(stderr, "%s: queued %llu + in flight %llu, outstanding %llu; done %llu + failed %llu, answers %llu\n",
                when, (unsigned long long)s->queued, (unsigned long long)s->in_flight,
                (unsigned long long)outstanding(), (unsigned long long)s->done, (unsigned long long)s->failed,
                (unsigned long long)h.answers);
    FUZZ_ASSERT(s->queued + s->in_flight == outstanding());
    FUZZ_ASSERT(s->done + s->failed == h.answers);
    free(s);
}

/* A fresh worker joins, and every worker answers what it holds until
 * nothing is left; workers that keep tasks they will never answer (a short
 * RESULTS) are told to leave, so that their tasks are requeued. Rounds that
 * answer nothing twice in a row mean tasks nobody will ever get. */
static void settle(void)
{
    int settler = PEERS - 1;
    connect_peer(settler);
    pump();
    hello(settler, EVO_PEER_WORKER);
    pump();
    FUZZ_ASSERT(h.peers[settler].role == EVO_PEER_WORKER);
    for (int stalled = 0; outstanding() > 0 && stalled < 2;) {
        int answered = 0;
        for (int i = 0; i < PEERS; i++) {
            struct peer *p = &h.peers[i];
            while (p->role == EVO_PEER_WORKER && p->nheld > 0) {
                uint8_t choice[] = {0, 0, 20}; /* the whole batch, ok results, 20 us of evaluation */
                struct fuzz_bytes in = {choice, sizeof choice};
                results(i, &in);
                answered = 1;
            }
        }
        pump();
        stalled = answered ? 0 : stalled + 1;
        if (!answered) /* the rest sits with workers that lost count */
            for (int i = 0; i < PEERS - 1; i++)
                if (h.peers[i].role == EVO_PEER_WORKER) {
                    peer_send(i, EVO_MSG_BYE, NULL);
                    forget(i);
                    pump();
                }
    }
    if (outstanding() > 0)
        check_counts("stalled");
    FUZZ_ASSERT(outstanding() == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    if (dir[0] == '\0') {
        evo_log_set_level(EVO_LOG_ERROR);
        snprintf(dir, sizeof dir, "/tmp/evo-fuzz-broker.XXXXXX");
        FUZZ_ASSERT(mkdtemp(dir) != NULL);
        atexit(remove_dir);
    }
    struct fuzz_bytes in = {data, size};
    uint8_t setup = fuzz_u8(&in), batch = fuzz_u8(&in);
    struct evo_broker_options options = {
        .bind = "tcp://127.0.0.1:*",
        .scheduling = setup & 1 ? EVO_SCHEDULING_STATIC : EVO_SCHEDULING_DYNAMIC,
        .batch = batch % 5, /* 0: auto */
        .prefetch = 1 + (setup >> 1) % 3,
        .retries = (setup >> 3) % 3,
        .heartbeat_ms = HEARTBEAT,
        .liveness = LIVENESS,
    };
    struct evo_credentials creds;
    memset(&h, 0, sizeof h);
    FUZZ_ASSERT(evo_credentials_generate(&creds) == 0);
    FUZZ_ASSERT((h.broker = evo_broker_create(&options, &creds, err, sizeof err)) != NULL);
    FUZZ_ASSERT(evo_broker_admit(h.broker, EVO_KEY_ALL, creds.client_public) == 0);
    memcpy(h.key, creds.client_public, sizeof h.key);
    snprintf(h.path, sizeof h.path, "%s/broker", dir);
    FUZZ_ASSERT(evo_broker_listen_unix(h.broker, h.path, err, sizeof err) == 0);
    for (int i = 0; i < PEERS - 1; i++)
        connect_peer(i);
    pump();

    for (int ops = 0; ops < 256 && in.left > 0; ops++)
        operation(&in);
    check_counts("after the sequence");
    settle();
    check_counts("settled");

    for (int i = 0; i < PEERS; i++) {
        evo_stream_close(h.peers[i].stream);
        drop_held(&h.peers[i]);
    }
    evo_broker_destroy(h.broker);
    return 0;
}
