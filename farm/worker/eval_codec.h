/* eval_codec.h — what crosses the pipes between a worker and its evaluator
 * child. Three encodings:
 *  - text (`command` evaluators, docs/evaluators.md): one candidate per line
 *    as whitespace-separated decimal numbers; one answer per line, either the
 *    objective values or "error: MESSAGE";
 *  - binary (`library` evaluators, our own child): input u32 dim + dim
 *    doubles; output u8 status (0 ok: u8 n + n doubles; 1 error: u16 n + n
 *    bytes of text), native byte order (same machine);
 *  - frames (`python` evaluators, the bundled Python evaluator): input u8 kind
 *    (0 vector, 1 payload) + u32 size + the doubles or bytes; output u8
 *    status (0 ok: u32 n + n bytes of answer; 1 error: u32 n + n bytes of
 *    text; 2 and 3, u32 0: notices, not answers — the call in progress now
 *    waits on other tasks / has stopped waiting; 4: as 0, an answer no
 *    journal keeps: the exception the call raised), little-endian sizes.
 * Pure functions over buffers. */
#ifndef EVO_EVAL_CODEC_H
#define EVO_EVAL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/names.h"

#define EVO_CODEC_MAX_LINE 65536

enum evo_codec { EVO_CODEC_TEXT = 0, EVO_CODEC_BINARY = 1, EVO_CODEC_FRAMES = 2 };

#define EVO_CODEC_MAX_FRAME       (16u << 20)
#define EVO_CODEC_BINARY_TEXT_MAX 1000 /* bytes of an error the library child sends */

struct evo_eval_output {
    int ok;     /* 1: objectives valid; 0: see text */
    int broken; /* the stream can no longer be trusted: restart the child */
    unsigned n;
    double objectives[EVO_MAX_OBJECTIVES];
    char text[1200];
    const char *payload; /* frames: the answer's bytes, inside the data given
                            to evo_codec_take_output (NULL otherwise) */
    uint32_t payload_size;
    int notice; /* frames: not an answer but EVO_NOTICE_BLOCKED or _RESUMED */
    int unkept; /* frames: an answer no journal keeps (status 4) */
};

enum { EVO_NOTICE_NONE = 0, EVO_NOTICE_BLOCKED = 1, EVO_NOTICE_RESUMED = 2 };

/* Whether the codec can carry a candidate of this kind (enum
 * evo_input_kind): frames carry both, the others vectors only. */
int evo_codec_carries(enum evo_codec codec, uint8_t kind);

/* Appends one candidate to buf: a vector (kind 0: `size` doubles at data)
 * or, for frames only, a payload (kind 1: `size` bytes). 0, or -1 when the
 * codec cannot carry that kind (nothing appended). */
int evo_codec_put_input(enum evo_codec codec, struct evo_buf *buf, uint8_t kind, const void *data, uint32_t size);

/* Decodes the first answer in data[0..size). Returns the bytes it used
 * (> 0) with *out filled, or 0 when the answer is not complete yet.
 * `expected` is the number of objectives each answer must carry. */
size_t evo_codec_take_output(enum evo_codec codec, const char *data, size_t size, unsigned expected,
                             struct evo_eval_output *out);

/* The library child's side of the binary encoding: appends one answer,
 * n objective values or an error text (cut to EVO_CODEC_BINARY_TEXT_MAX). */
void evo_codec_put_binary_objectives(struct evo_buf *buf, unsigned n, const double *objectives);
void evo_codec_put_binary_error(struct evo_buf *buf, const char *text);

/* Checks one text answer line (no newline). Exposed for tests. */
void evo_codec_parse_line(const char *line, size_t size, unsigned expected, struct evo_eval_output *out);

#endif
