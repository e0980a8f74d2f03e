/* fuzz_proto.c — every decoder of farm/wire/proto.c on any body; the first
 * input byte chooses the decoder, the rest is the body. Asserts: no crash
 * or leak; a body that decodes re-encodes to exactly the same bytes (the
 * decoders are strict: one encoding per message), and decoding those bytes
 * again gives the same message; RESULTS and DONE, read in place, give
 * exactly their count of items, each a view inside the body; a RESULTS cut
 * into pieces (wire/results_pieces.h) under a small limit gives back the
 * same items in order, every piece within the limit or one item alone,
 * the last a RESULTS with the batch's elapsed time. */
#include "fuzz.h"

#include "wire/proto.h"
#include "wire/results_pieces.h"

enum { HEADER, HELLO, WELCOME, INPUTS, IDS, BLOCKED, SHARE, STATS, RESULTS, DONE, DRAIN, DRAINED, DECODERS };

static void same_bytes(const struct evo_buf *buf, const uint8_t *data, size_t size)
{
    FUZZ_ASSERT(!buf->failed);
    FUZZ_ASSERT(buf->len == size);
    FUZZ_ASSERT(size == 0 || memcmp(buf->data, data, size) == 0);
}

static void header(const uint8_t *data, size_t size)
{
    char why[128];
    int type = evo_proto_parse_header(data, size, why, sizeof why);
    if (type < 0)
        return;
    unsigned char again[EVO_PROTO_HEADER_SIZE];
    evo_proto_header(again, (enum evo_msg_type)type);
    FUZZ_ASSERT(size == sizeof again && memcmp(again, data, size) == 0);
}

static void hello(struct evo_buf *buf, const uint8_t *data, size_t size)
{
    struct evo_hello h, again;
    if (evo_proto_get_hello(data, size, &h) < 0)
        return;
    FUZZ_ASSERT(strlen(h.host) > 0 && strlen(h.host) <= EVO_PROTO_MAX_HOST);
    evo_proto_put_hello(buf, &h);
    same_bytes(buf, data, size);
    FUZZ_ASSERT(evo_proto_get_hello(buf->data, buf->len, &again) == 0);
    FUZZ_ASSERT(again.kind == h.kind && again.reads == h.reads && again.pid == h.pid &&
                strcmp(again.host, h.host) == 0 && strcmp(again.job, h.job) == 0 &&
                strlen(h.job) <= EVO_PROTO_MAX_JOB && strcmp(again.key, h.key) == 0 &&
                (strlen(h.key) == 0 || strlen(h.key) == EVO_PROTO_KEY));
}

static void drain(struct evo_buf *buf, const uint8_t *data, size_t size)
{
    char selector[EVO_PROTO_MAX_HOST + 1];
    if (evo_proto_get_drain(data, size, selector) < 0)
        return;
    FUZZ_ASSERT(strlen(selector) > 0 && strcspn(selector, " ") == strlen(selector));
    evo_proto_put_drain(buf, selector);
    same_bytes(buf, data, size);
}

static void drained(struct evo_buf *buf, const uint8_t *data, size_t size)
{
    uint32_t count;
    if (evo_proto_get_drained(data, size, &count) < 0)
        return;
    evo_proto_put_drained(buf, count);
    same_bytes(buf, data, size);
}

static void welcome(struct evo_buf *buf, const uint8_t *data, size_t size)
{
    struct evo_welcome w;
    if (evo_proto_get_welcome(data, size, &w) < 0)
        return;
    evo_proto_put_welcome(buf, &w);
    same_bytes(buf, data, size);
}

static void inputs(struct evo_buf *buf, const uint8_t *data, size_t size)
{
    struct evo_input_list list, again;
    if (evo_proto_get_inputs(data, size, &list) < 0)
        return;
    FUZZ_ASSERT(list.count > 0 && list.count <= EVO_PROTO_MAX_ITEMS);
    evo_proto_begin_inputs(buf, (uint32_t)list.count);
    for (size_t i = 0; i < list.count; i++) {
        FUZZ_ASSERT(list.kind[i] == EVO_INPUT_VECTOR || list.kind[i] == EVO_INPUT_PAYLOAD);
        FUZZ_ASSERT(list.kind[i] == EVO_INPUT_PAYLOAD || (list.size[i] > 0 && list.size[i] <= EVO_MAX_DIMENSION));
        evo_proto_put_input(buf, list.id[i], list.kind[i], list.size[i], evo_input_list_data(&list, i));
    }
    same_bytes(buf, data, size);
    FUZZ_ASSERT(evo_proto_get_inputs(buf->data, buf->len, &again) == 0);
    FUZZ_ASSERT(again.count == list.count);
    for (size_t i = 0; i < list.count; i++)
        FUZZ_ASSERT(again.id[i] == list.id[i] && again.kind[i] == list.kind[i] && again.size[i] == list.size[i]);
    evo_input_list_free(&again);
    evo_input_list_free(&list);
}

static void ids(struct evo_buf *buf, const uint8_t *data, size_t size)
{
    uint64_t *list;
    size_t count;
    if (evo_proto_get_ids(data, size, &list, &count) < 0) {
        FUZZ_ASSERT(list == NULL && count == 0);
        return;
    }
    FUZZ_ASSERT(count > 0 && count <= EVO_PROTO_MAX_ITEMS);
    evo_proto_put_ids(buf, list, (uint32_t)count);
    free(list);
    same_bytes(buf, data, size);
}

static void blocked(struct evo_buf *buf, const uint8_t *data, size_t size)
{
    struct evo_blocked b;
    if (evo_proto_get_blocked(data, size, &b) < 0) {
        FUZZ_ASSERT(b.ids == NULL);
        return;
    }
    FUZZ_ASSERT(b.blocked <= 1 && (b.count == 0 || b.batches > 0));
    evo_proto_put_blocked(buf, b.blocked, b.batches, b.ids, (uint32_t)b.count);
    free(b.ids);
    same_bytes(buf, data, size);
}

static void share(struct evo_buf *buf, const uint8_t *data, size_t size)
{
    struct evo_share s;
    if (evo_proto_get_share(data, size, &s) < 0)
        return;
    FUZZ_ASSERT(evo_proto_share_name_ok(s.name, strlen(s.name)));
    FUZZ_ASSERT(s.size <= EVO_PROTO_SHARE_PIECE && s.total <= EVO_PROTO_MAX_SHARE && s.offset + s.size <= s.total &&
                (s.size == 0 || s.value != NULL) && (s.size > 0 || s.total == 0));
    evo_proto_put_share(buf, &s);
    same_bytes(buf, data, size);
}

static void stats(struct evo_buf *buf, const uint8_t *data, size_t size)
{
    struct evo_stats *s = malloc(sizeof *s), *again = malloc(sizeof *again);
    FUZZ_ASSERT(s && again);
    if (evo_proto_get_stats(data, size, s) == 0) {
        FUZZ_ASSERT(s->hosts <= EVO_STATS_MAX_HOSTS);
        evo_proto_put_stats(buf, s);
        same_bytes(buf, data, size);
        FUZZ_ASSERT(evo_proto_get_stats(buf->data, buf->len, again) == 0);
        FUZZ_ASSERT(again->hosts == s->hosts && again->done == s->done);
    }
    free(s);
    free(again);
}

/* An error item as the encoder writes it, or by hand when its text holds
 * a NUL (which evo_proto_put_result_error, taking a C string, cannot say). */
static void put_error(struct evo_buf *buf, const struct evo_result_item *item)
{
    if (memchr(item->text, 0, item->text_size) != NULL) {
        evo_buf_put_u64(buf, item->id);
        evo_buf_put_u8(buf, item->status);
        evo_buf_put_u16(buf, item->text_size);
        evo_buf_put(buf, item->text, item->text_size);
        return;
    }
    char *text = malloc(item->text_size + 1u);
    FUZZ_ASSERT(text != NULL);
    memcpy(text, item->text, item->text_size);
    text[item->text_size] = '\0';
    evo_proto_put_result_error(buf, item->id, item->status, text);
    free(text);
}

/* What evo_results_send handed on, checked piece by piece against the
 * whole body's items. */
struct pieces_check {
    const struct evo_buf *whole;
    struct evo_results_reader all; /* the whole body's items, in order */
    size_t limit;
    int last_seen;
    uint32_t items;
};

static int piece_sent(void *arg, enum evo_msg_type type, const struct evo_buf *body)
{
    struct pieces_check *c = arg;
    struct evo_results_reader r;
    struct evo_result_item item, want;
    FUZZ_ASSERT(!c->last_seen && (type == EVO_MSG_RESULTS || type == EVO_MSG_RESULTS_PART));
    FUZZ_ASSERT(evo_proto_results_open(body->data, body->len, 1, EVO_RESULT_ATTEMPT_FAILED, &r) == 0);
    FUZZ_ASSERT(body->len <= c->limit || r.count == 1);
    c->last_seen = type == EVO_MSG_RESULTS;
    FUZZ_ASSERT(r.elapsed_ns == (c->last_seen ? c->all.elapsed_ns : 0) || body == c->whole);
    while (evo_proto_results_next(&r, &item)) {
        FUZZ_ASSERT(evo_proto_results_next(&c->all, &want) == 1);
        FUZZ_ASSERT(item.id == want.id && item.status == want.status);
        c->items++;
    }
    return 0;
}

static void pieces(const struct evo_buf *whole, size_t limit)
{
    struct evo_buf scratch = {0};
    struct pieces_check c = {.whole = whole, .limit = limit};
    FUZZ_ASSERT(evo_proto_results_open(whole->data, whole->len, 1, EVO_RESULT_ATTEMPT_FAILED, &c.all) == 0);
    FUZZ_ASSERT(evo_results_send(whole, limit, &scratch, piece_sent, &c) == 0);
    FUZZ_ASSERT(c.last_seen && c.items == c.all.count);
    evo_buf_free(&scratch);
}

/* RESULTS (with elapsed_ns, attempts may fail) or DONE (final errors and
 * withdrawn tasks), read in place. */
static void results(struct evo_buf *buf, const uint8_t *data, size_t size, int with_elapsed)
{
    enum evo_result_status allowed = with_elapsed ? EVO_RESULT_ATTEMPT_FAILED : EVO_RESULT_ERROR;
    struct evo_results_reader reader;
    struct evo_result_item item;
    if (evo_proto_results_open(data, size, with_elapsed, allowed, &reader) < 0)
        return;
    FUZZ_ASSERT(reader.count > 0 && reader.count <= EVO_PROTO_MAX_ITEMS);
    if (with_elapsed)
        evo_buf_put_u64(buf, reader.elapsed_ns);
    evo_proto_begin_results(buf, reader.count);
    uint32_t read = 0;
    while (evo_proto_results_next(&reader, &item)) {
        read++;
        const uint8_t *end = data + size;
        switch (item.status) {
        case EVO_RESULT_OK:
            FUZZ_ASSERT(item.n >= 1 && item.n <= EVO_MAX_OBJECTIVES);
            evo_proto_put_result_ok(buf, item.id, item.n, item.objectives);
            break;
        case EVO_RESULT_OK_PAYLOAD:
        case EVO_RESULT_OK_UNKEPT:
            FUZZ_ASSERT(item.status == EVO_RESULT_OK_PAYLOAD || with_elapsed); /* a worker's only */
            FUZZ_ASSERT(item.payload_size <= EVO_PROTO_MAX_PAYLOAD);
            FUZZ_ASSERT(item.payload >= data && item.payload + item.payload_size <= end); /* a view of the body */
            if (item.status == EVO_RESULT_OK_PAYLOAD)
                evo_proto_put_result_payload(buf, item.id, item.payload_size, item.payload);
            else
                evo_proto_put_result_unkept(buf, item.id, item.payload_size, item.payload);
            break;
        case EVO_RESULT_WITHDRAWN:
            FUZZ_ASSERT(!with_elapsed);
            evo_proto_put_result_withdrawn(buf, item.id);
            break;
        default:
            FUZZ_ASSERT(item.status == allowed);
            FUZZ_ASSERT((const uint8_t *)item.text >= data && (const uint8_t *)item.text + item.text_size <= end);
            put_error(buf, &item);
        }
    }
    FUZZ_ASSERT(read == reader.count && !evo_proto_results_next(&reader, &item));
    same_bytes(buf, data, size);
    if (with_elapsed)
        pieces(buf, 64 + size % 512);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct evo_buf buf = {0};
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    switch (data[0] % DECODERS) {
    case HEADER:
        header(body, n);
        break;
    case HELLO:
        hello(&buf, body, n);
        break;
    case WELCOME:
        welcome(&buf, body, n);
        break;
    case INPUTS:
        inputs(&buf, body, n);
        break;
    case IDS:
        ids(&buf, body, n);
        break;
    case BLOCKED:
        blocked(&buf, body, n);
        break;
    case SHARE:
        share(&buf, body, n);
        break;
    case STATS:
        stats(&buf, body, n);
        break;
    case RESULTS:
        results(&buf, body, n, 1);
        break;
    case DONE:
        results(&buf, body, n, 0);
        break;
    case DRAIN:
        drain(&buf, body, n);
        break;
    case DRAINED:
        drained(&buf, body, n);
        break;
    }
    evo_buf_free(&buf);
    return 0;
}
