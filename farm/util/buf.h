/* buf.h — a growable byte buffer for encoding and a bounds-checked reader for
 * decoding little-endian wire data. A reader never reads past its end: the
 * first short read sets `bad` and every later read returns zeros. */
#ifndef EVO_BUF_H
#define EVO_BUF_H

#include <stddef.h>
#include <stdint.h>

struct evo_buf {
    unsigned char *data; /* owned; NULL until the first put */
    size_t len;
    size_t cap;
    int failed; /* an allocation failed; the content is incomplete */
};

void evo_buf_reset(struct evo_buf *buf); /* len = 0, keeps memory */
void evo_buf_free(struct evo_buf *buf);  /* safe on a zeroed or freed buffer */
void evo_buf_put(struct evo_buf *buf, const void *bytes, size_t size);
void evo_buf_put_u8(struct evo_buf *buf, uint8_t v);
void evo_buf_put_u16(struct evo_buf *buf, uint16_t v);
void evo_buf_put_u32(struct evo_buf *buf, uint32_t v);
void evo_buf_put_u64(struct evo_buf *buf, uint64_t v);
void evo_buf_put_f64(struct evo_buf *buf, double v);
/* Overwrite 4 bytes at `offset` (which must already exist) with v. */
void evo_buf_patch_u32(struct evo_buf *buf, size_t offset, uint32_t v);

struct evo_reader {
    const unsigned char *p;
    size_t left;
    int bad;
};

void evo_reader_init(struct evo_reader *r, const void *data, size_t size);
uint8_t evo_get_u8(struct evo_reader *r);
uint16_t evo_get_u16(struct evo_reader *r);
uint32_t evo_get_u32(struct evo_reader *r);
uint64_t evo_get_u64(struct evo_reader *r);
double evo_get_f64(struct evo_reader *r);
/* Points at the next `size` bytes and skips them; NULL (and bad) if short. */
const unsigned char *evo_get_bytes(struct evo_reader *r, size_t size);

#endif
