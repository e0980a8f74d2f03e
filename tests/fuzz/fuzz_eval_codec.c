/* fuzz_eval_codec.c — the evaluator codecs (farm/worker/eval_codec.c:
 * text, binary, frames) on any output stream, fed in arbitrary splits as a
 * pipe delivers it. Input: codec, objectives expected, up to 15 chunk
 * sizes, then the stream. Asserts: the answers taken chunk by chunk are
 * the answers taken from the whole stream at once (same bytes used, same
 * values, texts and payloads) up to the first answer that breaks the
 * stream; every answer uses at least one byte and at most what it was
 * given; an OK binary answer re-encodes (evo_codec_put_binary_objectives)
 * to an answer with the same values. */
#include "fuzz.h"

#include "worker/eval_codec.h"

struct answer {
    size_t used;
    struct evo_eval_output out;
    const char *payload; /* copy of out.payload's bytes (owned) */
};

static void keep(struct answer *a, size_t used, const struct evo_eval_output *out)
{
    a->used = used;
    a->out = *out;
    a->payload = NULL;
    if (out->payload) {
        char *copy = malloc(out->payload_size + 1);
        FUZZ_ASSERT(copy != NULL);
        memcpy(copy, out->payload, out->payload_size);
        a->payload = copy;
    }
}

static int same_answer(const struct answer *a, const struct answer *b)
{
    if (a->out.broken || b->out.broken) /* what a broken one says depends on what was buffered */
        return a->out.broken == b->out.broken;
    return a->used == b->used && a->out.ok == b->out.ok && a->out.n == b->out.n && a->out.notice == b->out.notice &&
           memcmp(a->out.objectives, b->out.objectives, a->out.n * sizeof(double)) == 0 &&
           strcmp(a->out.text, b->out.text) == 0 && a->out.payload_size == b->out.payload_size &&
           (a->payload == NULL) == (b->payload == NULL) &&
           (a->payload == NULL || memcmp(a->payload, b->payload, a->out.payload_size) == 0);
}

static void binary_round_trip(const struct evo_eval_output *out, unsigned expected)
{
    struct evo_buf buf = {0};
    struct evo_eval_output again;
    evo_codec_put_binary_objectives(&buf, out->n, out->objectives);
    FUZZ_ASSERT(evo_codec_take_output(EVO_CODEC_BINARY, (const char *)buf.data, buf.len, expected, &again) == buf.len);
    FUZZ_ASSERT(again.ok && again.n == out->n && memcmp(again.objectives, out->objectives, out->n * 8) == 0);
    evo_buf_free(&buf);
}

/* Every answer in the whole stream, up to the first broken one. */
static size_t take_all(enum evo_codec codec, const char *data, size_t size, unsigned expected, struct answer *answers)
{
    size_t count = 0, at = 0, used;
    struct evo_eval_output out;
    while (at < size && (used = evo_codec_take_output(codec, data + at, size - at, expected, &out)) > 0) {
        FUZZ_ASSERT(used <= size - at);
        FUZZ_ASSERT(out.n <= EVO_MAX_OBJECTIVES && strlen(out.text) < sizeof out.text);
        if (codec == EVO_CODEC_BINARY && out.ok)
            binary_round_trip(&out, expected);
        keep(&answers[count++], used, &out);
        at += used;
        if (out.broken)
            break;
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_bytes in = {data, size};
    enum evo_codec codec = (enum evo_codec)(fuzz_u8(&in) % 3);
    unsigned expected = 1 + fuzz_u8(&in) % EVO_MAX_OBJECTIVES;
    unsigned nsplits = fuzz_u8(&in) % 16;
    size_t splits[16];
    for (unsigned i = 0; i < nsplits; i++)
        splits[i] = fuzz_u16(&in);
    const char *stream = (const char *)in.data;
    size_t length = in.left;

    struct answer *whole = calloc(length + 1, sizeof *whole), *split = calloc(length + 1, sizeof *split);
    FUZZ_ASSERT(whole && split);
    size_t nwhole = take_all(codec, stream, length, expected, whole);

    /* The same bytes arriving chunk by chunk into a buffer that keeps
     * what was not taken yet, as the worker's read buffer does. */
    char *buffer = malloc(length + 1);
    FUZZ_ASSERT(buffer != NULL);
    size_t given = 0, taken = 0, nsplit = 0;
    int broken = 0;
    for (unsigned chunk = 0; chunk <= nsplits && !broken; chunk++) {
        size_t n = chunk < nsplits ? splits[chunk] : length - given;
        if (n > length - given)
            n = length - given;
        memcpy(buffer + given, stream + given, n);
        given += n;
        size_t used;
        struct evo_eval_output out;
        while (!broken && taken < given &&
               (used = evo_codec_take_output(codec, buffer + taken, given - taken, expected, &out)) > 0) {
            FUZZ_ASSERT(used <= given - taken);
            keep(&split[nsplit], used, &out);
            FUZZ_ASSERT(nsplit < nwhole && same_answer(&split[nsplit], &whole[nsplit]));
            nsplit++;
            taken += used;
            broken = out.broken;
        }
    }
    FUZZ_ASSERT(nsplit == nwhole);
    for (size_t i = 0; i < nwhole; i++) {
        free((void *)whole[i].payload);
        free((void *)split[i].payload);
    }
    free(buffer);
    free(whole);
    free(split);
    return 0;
}
