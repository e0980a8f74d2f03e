/* eval_codec.h — what crosses the pipes between a worker and its evaluator
 * child. Two encodings:
 *  - text (`command` evaluators, docs/evaluators.md): one candidate per line
 *    as whitespace-separated decimal numbers; one answer per line, either the
 *    objective values or "error: MESSAGE";
 *  - binary (`library` evaluators, our own child): input u32 dim + dim
 *    doubles; output u8 status (0 ok: u8 n + n doubles; 1 error: u16 n + n
 *    bytes of text), native byte order (same machine).
 * Pure functions over buffers. */
#ifndef EVO_EVAL_CODEC_H
#define EVO_EVAL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define EVO_CODEC_MAX_LINE 65536

enum evo_codec { EVO_CODEC_TEXT = 0, EVO_CODEC_BINARY = 1 };

struct evo_eval_output {
    int ok;     /* 1: objectives valid; 0: see text */
    int broken; /* the stream can no longer be trusted: restart the child */
    unsigned n;
    double objectives[16];
    char text[1200];
};

/* Appends one candidate to buf. */
void evo_codec_put_input(enum evo_codec codec, struct evo_buf *buf, const double *x, uint32_t dim);

/* Decodes the first answer in data[0..size). Returns the bytes it used
 * (> 0) with *out filled, or 0 when the answer is not complete yet.
 * `expected` is the number of objectives each answer must carry. */
size_t evo_codec_take_output(enum evo_codec codec, const char *data, size_t size, unsigned expected,
                             struct evo_eval_output *out);

/* Checks one text answer line (no newline). Exposed for tests. */
void evo_codec_parse_line(const char *line, size_t size, unsigned expected, struct evo_eval_output *out);

#endif
