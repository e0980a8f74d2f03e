/* proto.c — protocol v4 codec with strict validation (see docs/protocol.md).
 * Every decoder consumes its input exactly or rejects it. */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void evo_proto_header(unsigned char out[EVO_PROTO_HEADER_SIZE], enum evo_msg_type type)
{
    out[0] = 'E';
    out[1] = 'F';
    out[2] = EVO_PROTO_VERSION;
    out[3] = (unsigned char)type;
}

int evo_proto_parse_header(const void *data, size_t size, char *why, size_t why_size)
{
    const unsigned char *h = data;
    if (size != EVO_PROTO_HEADER_SIZE) {
        snprintf(why, why_size, "header frame of %zu bytes (expected 4)", size);
        return -1;
    }
    if (h[0] != 'E' || h[1] != 'F') {
        snprintf(why, why_size, "bad magic");
        return -1;
    }
    if (h[2] != EVO_PROTO_VERSION) {
        snprintf(why, why_size, "protocol version %u (this is version %d)", h[2], EVO_PROTO_VERSION);
        return -1;
    }
    if (h[3] < EVO_MSG_HELLO || h[3] > EVO_MSG_RESULTS_PART) {
        snprintf(why, why_size, "unknown message type %u", h[3]);
        return -1;
    }
    return h[3];
}

int evo_proto_has_body(enum evo_msg_type type)
{
    switch (type) {
    case EVO_MSG_HEARTBEAT:
    case EVO_MSG_STATS_REQUEST:
    case EVO_MSG_BYE:
    case EVO_MSG_RESET:
        return 0;
    default:
        return 1;
    }
}

void evo_proto_put_hello(struct evo_buf *buf, const struct evo_hello *hello)
{
    size_t n = strnlen(hello->host, EVO_PROTO_MAX_HOST), j = strnlen(hello->job, EVO_PROTO_MAX_JOB);
    evo_buf_put_u8(buf, hello->kind);
    evo_buf_put_u8(buf, hello->reads);
    evo_buf_put_u32(buf, hello->pid);
    evo_buf_put_u16(buf, (uint16_t)n);
    evo_buf_put(buf, hello->host, n);
    evo_buf_put_u16(buf, (uint16_t)j);
    evo_buf_put(buf, hello->job, j);
    size_t k = strnlen(hello->key, EVO_PROTO_KEY);
    evo_buf_put_u8(buf, (uint8_t)k);
    evo_buf_put(buf, hello->key, k);
}

/* A name of 1..max bytes of printable ASCII without spaces (a host, a job,
 * a drain selector): what logs and status print as one word. */
static int word_ok(const unsigned char *p, size_t n, size_t min, size_t max)
{
    if (n < min || n > max || (n && p == NULL))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] > '~')
            return 0;
    return 1;
}

void evo_proto_put_drain(struct evo_buf *buf, const char *selector)
{
    size_t n = strnlen(selector, EVO_PROTO_MAX_HOST);
    evo_buf_put_u16(buf, (uint16_t)n);
    evo_buf_put(buf, selector, n);
}

int evo_proto_get_drain(const void *data, size_t size, char out[EVO_PROTO_MAX_HOST + 1])
{
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    uint16_t n = evo_get_u16(&r);
    const unsigned char *selector = evo_get_bytes(&r, n);
    if (r.bad || r.left != 0 || !word_ok(selector, n, 1, EVO_PROTO_MAX_HOST))
        return -1;
    memcpy(out, selector, n);
    out[n] = '\0';
    return 0;
}

void evo_proto_put_drained(struct evo_buf *buf, uint32_t workers)
{
    evo_buf_put_u32(buf, workers);
}

int evo_proto_get_drained(const void *data, size_t size, uint32_t *workers)
{
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    *workers = evo_get_u32(&r);
    return r.bad || r.left != 0 ? -1 : 0;
}

int evo_proto_get_hello(const void *data, size_t size, struct evo_hello *out)
{
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    out->kind = evo_get_u8(&r);
    out->reads = evo_get_u8(&r);
    out->pid = evo_get_u32(&r);
    uint16_t n = evo_get_u16(&r);
    const unsigned char *host = evo_get_bytes(&r, n);
    uint16_t j = evo_get_u16(&r);
    const unsigned char *job = evo_get_bytes(&r, j);
    uint8_t k = evo_get_u8(&r);
    const unsigned char *key = evo_get_bytes(&r, k);
    if (r.bad || r.left != 0 || !word_ok(host, n, 1, EVO_PROTO_MAX_HOST) || !word_ok(job, j, 0, EVO_PROTO_MAX_JOB) ||
        (k != 0 && k != EVO_PROTO_KEY) || !word_ok(key, k, 0, EVO_PROTO_KEY))
        return -1;
    if ((out->kind != EVO_PEER_WORKER && out->kind != EVO_PEER_DRIVER) ||
        (out->reads != EVO_INPUT_VECTOR && out->reads != EVO_INPUT_PAYLOAD))
        return -1;
    memcpy(out->host, host, n);
    out->host[n] = '\0';
    memcpy(out->job, job, j);
    out->job[j] = '\0';
    memcpy(out->key, key, k);
    out->key[k] = '\0';
    return 0;
}

void evo_proto_put_welcome(struct evo_buf *buf, const struct evo_welcome *welcome)
{
    evo_buf_put_u32(buf, welcome->heartbeat_ms);
    evo_buf_put_u32(buf, welcome->liveness);
    evo_buf_put_u32(buf, welcome->serial);
}

int evo_proto_get_welcome(const void *data, size_t size, struct evo_welcome *out)
{
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    out->heartbeat_ms = evo_get_u32(&r);
    out->liveness = evo_get_u32(&r);
    out->serial = evo_get_u32(&r);
    if (r.bad || r.left != 0 || out->heartbeat_ms == 0 || out->liveness == 0)
        return -1;
    return 0;
}

void evo_proto_begin_inputs(struct evo_buf *buf, uint32_t count)
{
    evo_buf_put_u32(buf, count);
}

void evo_proto_put_vector(struct evo_buf *buf, uint64_t id, uint32_t dim, const double *x)
{
    evo_buf_put_u64(buf, id);
    evo_buf_put_u8(buf, EVO_INPUT_VECTOR);
    evo_buf_put_u32(buf, dim);
    for (uint32_t i = 0; i < dim; i++)
        evo_buf_put_f64(buf, x[i]);
}

void evo_proto_put_payload(struct evo_buf *buf, uint64_t id, uint32_t size, const void *data)
{
    evo_buf_put_u64(buf, id);
    evo_buf_put_u8(buf, EVO_INPUT_PAYLOAD);
    evo_buf_put_u32(buf, size);
    evo_buf_put(buf, data, size);
}

void evo_proto_put_input(struct evo_buf *buf, uint64_t id, enum evo_input_kind kind, uint32_t size, const void *data)
{
    if (kind == EVO_INPUT_PAYLOAD)
        evo_proto_put_payload(buf, id, size, data);
    else
        evo_proto_put_vector(buf, id, size, data);
}

const void *evo_input_list_data(const struct evo_input_list *list, size_t i)
{
    return list->kind[i] == EVO_INPUT_PAYLOAD ? (const void *)&list->bytes[list->offset[i]]
                                              : (const void *)&list->values[list->offset[i]];
}

void evo_input_list_free(struct evo_input_list *list)
{
    free(list->id);
    free(list->kind);
    free(list->size);
    free(list->offset);
    free(list->values);
    free(list->bytes);
    memset(list, 0, sizeof *list);
}

/* First pass: check the layout and count the doubles and the payload
 * bytes, so the second pass can allocate once. 0 or -1. */
static int vectors_measure(const void *data, size_t size, uint32_t *count, size_t *doubles, size_t *bytes)
{
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    *count = evo_get_u32(&r);
    *doubles = *bytes = 0;
    if (r.bad || *count == 0 || *count > EVO_PROTO_MAX_ITEMS)
        return -1;
    for (uint32_t i = 0; i < *count; i++) {
        evo_get_u64(&r);
        uint8_t kind = evo_get_u8(&r);
        uint32_t n = evo_get_u32(&r);
        if (r.bad)
            return -1;
        if (kind == EVO_INPUT_VECTOR) {
            if (n == 0 || n > EVO_MAX_DIMENSION || evo_get_bytes(&r, (size_t)n * 8) == NULL)
                return -1;
            *doubles += n;
        } else if (kind == EVO_INPUT_PAYLOAD) {
            if (n > EVO_PROTO_MAX_PAYLOAD || evo_get_bytes(&r, n) == NULL)
                return -1;
            *bytes += n;
        } else {
            return -1;
        }
    }
    return r.left == 0 ? 0 : -1;
}

int evo_proto_get_inputs(const void *data, size_t size, struct evo_input_list *out)
{
    uint32_t count;
    size_t doubles, bytes;
    memset(out, 0, sizeof *out);
    if (vectors_measure(data, size, &count, &doubles, &bytes) < 0)
        return -1;
    out->id = malloc(count * sizeof *out->id);
    out->kind = malloc(count * sizeof *out->kind);
    out->size = malloc(count * sizeof *out->size);
    out->offset = malloc(count * sizeof *out->offset);
    out->values = malloc((doubles ? doubles : 1) * sizeof *out->values);
    out->bytes = malloc(bytes ? bytes : 1);
    if (!out->id || !out->kind || !out->size || !out->offset || !out->values || !out->bytes) {
        evo_input_list_free(out);
        return -1;
    }
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    evo_get_u32(&r);
    size_t at = 0, at_bytes = 0;
    for (uint32_t i = 0; i < count; i++) {
        out->id[i] = evo_get_u64(&r);
        out->kind[i] = evo_get_u8(&r);
        out->size[i] = evo_get_u32(&r);
        if (out->kind[i] == EVO_INPUT_PAYLOAD) {
            out->offset[i] = at_bytes;
            memcpy(out->bytes + at_bytes, evo_get_bytes(&r, out->size[i]), out->size[i]);
            at_bytes += out->size[i];
            continue;
        }
        out->offset[i] = at;
        for (uint32_t k = 0; k < out->size[i]; k++)
            out->values[at++] = evo_get_f64(&r);
    }
    out->count = count;
    return 0;
}

void evo_proto_begin_results(struct evo_buf *buf, uint32_t count)
{
    evo_buf_put_u32(buf, count);
}

void evo_proto_put_result_ok(struct evo_buf *buf, uint64_t id, unsigned n, const double *objectives)
{
    evo_buf_put_u64(buf, id);
    evo_buf_put_u8(buf, EVO_RESULT_OK);
    evo_buf_put_u8(buf, (uint8_t)n);
    for (unsigned i = 0; i < n; i++)
        evo_buf_put_f64(buf, objectives[i]);
}

static void put_answer(struct evo_buf *buf, uint64_t id, enum evo_result_status status, uint32_t size, const void *data)
{
    evo_buf_put_u64(buf, id);
    evo_buf_put_u8(buf, (uint8_t)status);
    evo_buf_put_u32(buf, size);
    evo_buf_put(buf, data, size);
}

void evo_proto_put_result_payload(struct evo_buf *buf, uint64_t id, uint32_t size, const void *data)
{
    put_answer(buf, id, EVO_RESULT_OK_PAYLOAD, size, data);
}

void evo_proto_put_result_unkept(struct evo_buf *buf, uint64_t id, uint32_t size, const void *data)
{
    put_answer(buf, id, EVO_RESULT_OK_UNKEPT, size, data);
}

size_t evo_proto_input_bytes(enum evo_input_kind kind, uint32_t size)
{
    return 8 + 1 + 4 + (kind == EVO_INPUT_PAYLOAD ? (size_t)size : (size_t)size * sizeof(double));
}

size_t evo_proto_result_bytes(unsigned n, uint32_t payload_size)
{
    return n > 0 ? 8 + 1 + 1 + 8 * (size_t)n : 8 + 1 + 4 + (size_t)payload_size;
}

void evo_proto_put_result_error(struct evo_buf *buf, uint64_t id, enum evo_result_status status, const char *text)
{
    size_t n = strlen(text);
    if (n > 65535)
        n = 65535;
    evo_buf_put_u64(buf, id);
    evo_buf_put_u8(buf, (uint8_t)status);
    evo_buf_put_u16(buf, (uint16_t)n);
    evo_buf_put(buf, text, n);
}

static int result_item_get(struct evo_reader *r, enum evo_result_status allowed_error, struct evo_result_item *item)
{
    item->id = evo_get_u64(r);
    item->status = evo_get_u8(r);
    item->n = 0;
    item->text = NULL;
    item->text_size = 0;
    item->payload = NULL;
    item->payload_size = 0;
    if (r->bad)
        return -1;
    if (item->status == EVO_RESULT_OK_PAYLOAD ||
        (item->status == EVO_RESULT_OK_UNKEPT && allowed_error == EVO_RESULT_ATTEMPT_FAILED)) {
        uint32_t n = evo_get_u32(r);
        item->payload = r->bad || n > EVO_PROTO_MAX_PAYLOAD ? NULL : evo_get_bytes(r, n);
        item->payload_size = n;
        return item->payload ? 0 : -1;
    }
    if (item->status == EVO_RESULT_WITHDRAWN && allowed_error == EVO_RESULT_ERROR)
        return 0; /* DONE only: a withdrawn task has no body */
    if (item->status == EVO_RESULT_OK) {
        item->n = evo_get_u8(r);
        if (item->n == 0 || item->n > EVO_MAX_OBJECTIVES)
            return -1;
        for (unsigned k = 0; k < item->n; k++)
            item->objectives[k] = evo_get_f64(r);
        return r->bad ? -1 : 0;
    }
    if (item->status != allowed_error)
        return -1;
    item->text_size = evo_get_u16(r);
    item->text = (const char *)evo_get_bytes(r, item->text_size);
    return item->text ? 0 : -1;
}

int evo_proto_results_open(const void *data, size_t size, int with_elapsed, enum evo_result_status allowed_error,
                           struct evo_results_reader *it)
{
    memset(it, 0, sizeof *it);
    evo_reader_init(&it->r, data, size);
    it->allowed_error = allowed_error;
    it->elapsed_ns = with_elapsed ? evo_get_u64(&it->r) : 0;
    it->count = evo_get_u32(&it->r);
    if (it->r.bad || it->count == 0 || it->count > EVO_PROTO_MAX_ITEMS)
        return -1;
    struct evo_reader check = it->r; /* a first pass: the whole body is valid */
    struct evo_result_item item;
    for (uint32_t i = 0; i < it->count; i++)
        if (result_item_get(&check, allowed_error, &item) < 0)
            return -1;
    if (check.left != 0)
        return -1;
    it->left = it->count;
    return 0;
}

int evo_proto_results_next(struct evo_results_reader *it, struct evo_result_item *item)
{
    if (it->left == 0)
        return 0;
    it->left--;
    return result_item_get(&it->r, it->allowed_error, item) == 0; /* checked by open */
}

void evo_proto_put_stats(struct evo_buf *buf, const struct evo_stats *s)
{
    evo_buf_put_u32(buf, s->workers);
    evo_buf_put_u32(buf, s->drivers);
    const uint64_t counters[] = {s->queued,   s->in_flight,    s->done,      s->failed,      s->retried,
                                 s->requeued, s->late_dropped, s->malformed, s->auth_refused};
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        evo_buf_put_u64(buf, counters[i]);
    evo_buf_put_f64(buf, s->evaluations_per_second);
    evo_buf_put_u32(buf, s->hosts);
    for (unsigned i = 0; i < s->hosts && i < EVO_STATS_MAX_HOSTS; i++) {
        size_t n = strnlen(s->host[i].name, EVO_STATS_HOST_NAME - 1);
        evo_buf_put_u16(buf, (uint16_t)n);
        evo_buf_put(buf, s->host[i].name, n);
        evo_buf_put_u32(buf, s->host[i].workers);
    }
}

int evo_proto_get_stats(const void *data, size_t size, struct evo_stats *s)
{
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    memset(s, 0, sizeof *s);
    s->workers = evo_get_u32(&r);
    s->drivers = evo_get_u32(&r);
    uint64_t *counters[] = {&s->queued,   &s->in_flight,    &s->done,      &s->failed,      &s->retried,
                            &s->requeued, &s->late_dropped, &s->malformed, &s->auth_refused};
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        *counters[i] = evo_get_u64(&r);
    s->evaluations_per_second = evo_get_f64(&r);
    s->hosts = evo_get_u32(&r);
    if (r.bad || s->hosts > EVO_STATS_MAX_HOSTS)
        return -1;
    for (unsigned i = 0; i < s->hosts; i++) {
        uint16_t n = evo_get_u16(&r);
        const unsigned char *name = evo_get_bytes(&r, n);
        if (name == NULL || n >= EVO_STATS_HOST_NAME || memchr(name, 0, n) != NULL) /* one encoding per stats */
            return -1;
        memcpy(s->host[i].name, name, n);
        s->host[i].name[n] = '\0';
        s->host[i].workers = evo_get_u32(&r);
    }
    return (r.bad || r.left != 0) ? -1 : 0;
}

void evo_proto_put_result_withdrawn(struct evo_buf *buf, uint64_t id)
{
    evo_buf_put_u64(buf, id);
    evo_buf_put_u8(buf, EVO_RESULT_WITHDRAWN);
}

void evo_proto_put_ids(struct evo_buf *buf, const uint64_t *ids, uint32_t count)
{
    evo_buf_put_u32(buf, count);
    for (uint32_t i = 0; i < count; i++)
        evo_buf_put_u64(buf, ids[i]);
}

/* count u64 from r into a fresh array (count already range-checked). */
static int get_id_array(struct evo_reader *r, size_t count, uint64_t **ids)
{
    *ids = NULL;
    if (count > r->left / 8)
        return -1;
    if ((*ids = malloc(count ? count * sizeof **ids : 1)) == NULL)
        return -1;
    for (size_t i = 0; i < count; i++)
        (*ids)[i] = evo_get_u64(r);
    return 0;
}

int evo_proto_get_ids(const void *data, size_t size, uint64_t **ids, size_t *count)
{
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    uint32_t n = evo_get_u32(&r);
    *ids = NULL;
    *count = 0;
    if (r.bad || n == 0 || n > EVO_PROTO_MAX_ITEMS || r.left != (size_t)n * 8 || get_id_array(&r, n, ids) < 0)
        return -1;
    *count = n;
    return 0;
}

void evo_proto_put_blocked(struct evo_buf *buf, int blocked, uint32_t batches, const uint64_t *ids, uint32_t count)
{
    evo_buf_put_u8(buf, blocked ? 1 : 0);
    evo_buf_put_u32(buf, batches);
    evo_proto_put_ids(buf, ids, count);
}

int evo_proto_get_blocked(const void *data, size_t size, struct evo_blocked *out)
{
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    memset(out, 0, sizeof *out);
    out->blocked = evo_get_u8(&r);
    out->batches = evo_get_u32(&r);
    uint32_t n = evo_get_u32(&r);
    if (r.bad || out->blocked > 1 || n > EVO_PROTO_MAX_ITEMS || r.left != (size_t)n * 8 ||
        (n > 0 && out->batches == 0) || get_id_array(&r, n, &out->ids) < 0) {
        free(out->ids);
        out->ids = NULL;
        return -1;
    }
    out->count = n;
    return 0;
}

int evo_proto_share_name_ok(const char *name, size_t n)
{
    if (n == 0 || n > EVO_PROTO_MAX_NAME || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

void evo_proto_put_share(struct evo_buf *buf, const struct evo_share *piece)
{
    size_t n = strnlen(piece->name, EVO_PROTO_MAX_NAME);
    evo_buf_put_u8(buf, (uint8_t)n);
    evo_buf_put(buf, piece->name, n);
    evo_buf_put_u32(buf, (uint32_t)piece->total);
    evo_buf_put_u32(buf, (uint32_t)piece->offset);
    evo_buf_put(buf, piece->value, piece->size);
}

int evo_proto_get_share(const void *data, size_t size, struct evo_share *out)
{
    struct evo_reader r;
    evo_reader_init(&r, data, size);
    uint8_t n = evo_get_u8(&r);
    const unsigned char *name = evo_get_bytes(&r, n);
    uint32_t total = evo_get_u32(&r), offset = evo_get_u32(&r);
    size_t piece = r.left;
    if (r.bad || name == NULL || !evo_proto_share_name_ok((const char *)name, n) || total > EVO_PROTO_MAX_SHARE ||
        piece > EVO_PROTO_SHARE_PIECE || offset > total || piece > total - offset || (piece == 0 && total != 0))
        return -1;
    memcpy(out->name, name, n);
    out->name[n] = '\0';
    out->value = evo_get_bytes(&r, piece);
    out->size = piece;
    out->total = total;
    out->offset = offset;
    return out->value == NULL && piece ? -1 : 0;
}
