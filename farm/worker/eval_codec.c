/* eval_codec.c — encodings between worker and evaluator child (see
 * eval_codec.h). A bad answer becomes a failure carrying the offending text;
 * nothing here can crash on arbitrary bytes. */
#include "eval_codec.h"

#include "wire/proto.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int evo_codec_carries(enum evo_codec codec, uint8_t kind)
{
    return codec == EVO_CODEC_FRAMES || kind == EVO_INPUT_VECTOR;
}

int evo_codec_put_input(enum evo_codec codec, struct evo_buf *buf, uint8_t kind, const void *data, uint32_t size)
{
    const double *x = data;
    if (codec == EVO_CODEC_FRAMES) {
        evo_buf_put_u8(buf, kind);
        evo_buf_put_u32(buf, size);
        if (kind == EVO_INPUT_PAYLOAD)
            evo_buf_put(buf, data, size);
        else
            for (uint32_t i = 0; i < size; i++)
                evo_buf_put_f64(buf, x[i]);
        return 0;
    }
    if (!evo_codec_carries(codec, kind))
        return -1;
    if (codec == EVO_CODEC_BINARY) {
        evo_buf_put(buf, &size, sizeof size); /* a vector: size is its dimension */
        evo_buf_put(buf, x, size * sizeof *x);
        return 0;
    }
    char number[40];
    for (uint32_t i = 0; i < size; i++) {
        int n = snprintf(number, sizeof number, "%s%.17g", i ? " " : "", x[i]);
        evo_buf_put(buf, number, (size_t)n);
    }
    evo_buf_put(buf, "\n", 1);
    return 0;
}

/* Quotes at most 200 bytes of the offending output, non-printables escaped. */
static void quote(char *out, size_t out_size, const char *data, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < size && i < 200 && o + 5 < out_size; i++) {
        unsigned char c = (unsigned char)data[i];
        if (isprint(c) && c != '\'')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", c);
    }
    if (size > 200 && o + 4 < out_size)
        o += (size_t)snprintf(out + o, out_size - o, "...");
    out[o] = '\0';
}

static void invalid(struct evo_eval_output *out, const char *what, const char *line, size_t size)
{
    char quoted[900];
    quote(quoted, sizeof quoted, line, size);
    out->ok = 0;
    out->broken = 1;
    snprintf(out->text, sizeof out->text, "invalid evaluator output (%s): '%s'", what, quoted);
}

static int is_error_line(const char *line, size_t size)
{
    return size >= 5 && memcmp(line, "error", 5) == 0 && (size == 5 || line[5] == ':' || line[5] == ' ');
}

void evo_codec_parse_line(const char *line, size_t size, unsigned expected, struct evo_eval_output *out)
{
    char copy[EVO_CODEC_MAX_LINE + 1];
    memset(out, 0, sizeof *out);
    if (size > 0 && line[size - 1] == '\r')
        size--;
    if (is_error_line(line, size)) {
        const char *message = line + 5 + (size > 5);
        size_t n = size - (size_t)(message - line);
        while (n && isspace((unsigned char)*message))
            message++, n--;
        if (n == 0)
            message = "(no message)", n = 12;
        snprintf(out->text, sizeof out->text, "evaluator reported: %.*s", (int)(n > 400 ? 400 : n), message);
        return;
    }
    if (memchr(line, '\0', size) != NULL) {
        invalid(out, "NUL byte", line, size);
        return;
    }
    memcpy(copy, line, size);
    copy[size] = '\0';
    char *p = copy;
    while (1) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || (*end && !isspace((unsigned char)*end)) || errno == ERANGE) {
            invalid(out, "not a number", line, size);
            return;
        }
        if (out->n == expected) {
            invalid(out, "too many values", line, size);
            return;
        }
        out->objectives[out->n++] = v;
        p = end;
    }
    if (out->n != expected) {
        char what[64];
        snprintf(what, sizeof what, "%u value%s, expected %u", out->n, out->n == 1 ? "" : "s", expected);
        invalid(out, what, line, size);
        return;
    }
    out->ok = 1;
}

static size_t take_text(const char *data, size_t size, unsigned expected, struct evo_eval_output *out)
{
    if (size == 0) /* nothing read yet (data may then be NULL, which memchr must not see) */
        return 0;
    const char *newline = memchr(data, '\n', size);
    if (newline == NULL) {
        if (size <= EVO_CODEC_MAX_LINE)
            return 0;
        memset(out, 0, sizeof *out);
        invalid(out, "line longer than 64 KiB", data, size);
        return size;
    }
    size_t length = (size_t)(newline - data);
    if (length > EVO_CODEC_MAX_LINE) {
        memset(out, 0, sizeof *out);
        invalid(out, "line longer than 64 KiB", data, length);
    } else {
        evo_codec_parse_line(data, length, expected, out);
    }
    return length + 1;
}

void evo_codec_put_binary_objectives(struct evo_buf *buf, unsigned n, const double *objectives)
{
    evo_buf_put_u8(buf, 0);
    evo_buf_put_u8(buf, (uint8_t)n);
    evo_buf_put(buf, objectives, (size_t)n * sizeof *objectives);
}

void evo_codec_put_binary_error(struct evo_buf *buf, const char *text)
{
    uint16_t n = (uint16_t)strnlen(text, EVO_CODEC_BINARY_TEXT_MAX);
    evo_buf_put_u8(buf, 1);
    evo_buf_put(buf, &n, sizeof n); /* native order, as the decoder reads it */
    evo_buf_put(buf, text, n);
}

static size_t take_binary(const char *data, size_t size, unsigned expected, struct evo_eval_output *out)
{
    memset(out, 0, sizeof *out);
    if (size < 1)
        return 0;
    unsigned char status = (unsigned char)data[0];
    if (status == 0) {
        if (size < 2)
            return 0;
        unsigned n = (unsigned char)data[1];
        if (n > EVO_MAX_OBJECTIVES) {
            invalid(out, "bad record", data, size);
            return size;
        }
        if (size < 2 + n * sizeof(double))
            return 0;
        memcpy(out->objectives, data + 2, n * sizeof(double));
        out->n = n;
        out->ok = n == expected;
        if (!out->ok)
            snprintf(out->text, sizeof out->text, "library function returned %u objectives, expected %u", n, expected);
        return 2 + n * sizeof(double);
    }
    if (status == 1) {
        uint16_t n;
        if (size < 3)
            return 0;
        memcpy(&n, data + 1, 2);
        if (size < 3u + n)
            return 0;
        snprintf(out->text, sizeof out->text, "%.*s", n > 500 ? 500 : n, data + 3);
        return 3u + n;
    }
    invalid(out, "bad record", data, size);
    return size;
}

static size_t take_frame(const char *data, size_t size, struct evo_eval_output *out)
{
    uint32_t n;
    memset(out, 0, sizeof *out);
    if (size < 5)
        return 0;
    unsigned char status = (unsigned char)data[0];
    n = (uint32_t)(unsigned char)data[1] | (uint32_t)(unsigned char)data[2] << 8 |
        (uint32_t)(unsigned char)data[3] << 16 | (uint32_t)(unsigned char)data[4] << 24;
    int notice = status == 2 || status == 3;
    if (status > 4 || n > EVO_CODEC_MAX_FRAME || (notice && n != 0)) {
        invalid(out, notice || status > 4 ? "bad frame status" : "frame larger than 16 MiB", data, size);
        return size;
    }
    if (size < 5u + n)
        return 0;
    if (notice) {
        out->notice = status == 2 ? EVO_NOTICE_BLOCKED : EVO_NOTICE_RESUMED;
    } else if (status == 0 || status == 4) {
        out->ok = 1;
        out->unkept = status == 4;
        out->payload = data + 5;
        out->payload_size = n;
    } else {
        snprintf(out->text, sizeof out->text, "evaluator reported: %.*s", n > 1000 ? 1000 : (int)n, data + 5);
    }
    return 5u + n;
}

size_t evo_codec_take_output(enum evo_codec codec, const char *data, size_t size, unsigned expected,
                             struct evo_eval_output *out)
{
    if (codec == EVO_CODEC_FRAMES)
        return take_frame(data, size, out);
    return codec == EVO_CODEC_BINARY ? take_binary(data, size, expected, out) : take_text(data, size, expected, out);
}
