/* buf.c — little-endian encoding buffer and bounds-checked reader (see buf.h). */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void evo_buf_reset(struct evo_buf *buf)
{
    buf->len = 0;
    buf->failed = 0;
}

void evo_buf_free(struct evo_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
    buf->failed = 0;
}

static int buf_reserve(struct evo_buf *buf, size_t extra)
{
    if (buf->failed)
        return -1;
    if (buf->len + extra <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + extra)
        cap *= 2;
    unsigned char *data = realloc(buf->data, cap);
    if (data == NULL) {
        buf->failed = 1;
        return -1;
    }
    buf->data = data;
    buf->cap = cap;
    return 0;
}

void evo_buf_put(struct evo_buf *buf, const void *bytes, size_t size)
{
    if (size == 0 || buf_reserve(buf, size) < 0)
        return;
    memcpy(buf->data + buf->len, bytes, size);
    buf->len += size;
}

static void put_le(struct evo_buf *buf, uint64_t v, size_t size)
{
    unsigned char bytes[8];
    for (size_t i = 0; i < size; i++)
        bytes[i] = (unsigned char)(v >> (8 * i));
    evo_buf_put(buf, bytes, size);
}

void evo_buf_put_u8(struct evo_buf *buf, uint8_t v)
{
    put_le(buf, v, 1);
}
void evo_buf_put_u16(struct evo_buf *buf, uint16_t v)
{
    put_le(buf, v, 2);
}
void evo_buf_put_u32(struct evo_buf *buf, uint32_t v)
{
    put_le(buf, v, 4);
}
void evo_buf_put_u64(struct evo_buf *buf, uint64_t v)
{
    put_le(buf, v, 8);
}

void evo_buf_put_f64(struct evo_buf *buf, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_le(buf, bits, 8);
}

void evo_buf_patch_u32(struct evo_buf *buf, size_t offset, uint32_t v)
{
    if (buf->failed || offset + 4 > buf->len)
        return;
    for (size_t i = 0; i < 4; i++)
        buf->data[offset + i] = (unsigned char)(v >> (8 * i));
}

void evo_reader_init(struct evo_reader *r, const void *data, size_t size)
{
    r->p = data;
    r->left = size;
    r->bad = 0;
}

const unsigned char *evo_get_bytes(struct evo_reader *r, size_t size)
{
    if (r->bad || size > r->left) {
        r->bad = 1;
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += size;
    r->left -= size;
    return p;
}

static uint64_t get_le(struct evo_reader *r, size_t size)
{
    const unsigned char *p = evo_get_bytes(r, size);
    uint64_t v = 0;
    if (p == NULL)
        return 0;
    for (size_t i = 0; i < size; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint8_t evo_get_u8(struct evo_reader *r)
{
    return (uint8_t)get_le(r, 1);
}
uint16_t evo_get_u16(struct evo_reader *r)
{
    return (uint16_t)get_le(r, 2);
}
uint32_t evo_get_u32(struct evo_reader *r)
{
    return (uint32_t)get_le(r, 4);
}
uint64_t evo_get_u64(struct evo_reader *r)
{
    return get_le(r, 8);
}

double evo_get_f64(struct evo_reader *r)
{
    uint64_t bits = get_le(r, 8);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}
