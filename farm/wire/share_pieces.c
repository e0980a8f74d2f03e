/* share_pieces.c — see share_pieces.h. */
#include "share_pieces.h"

#include <stdio.h>
#include <string.h>

size_t evo_share_put_piece(struct evo_buf *buf, const char *name, const void *value, size_t total, size_t offset)
{
    struct evo_share piece = {.value = (const unsigned char *)value + offset, .total = total, .offset = offset};
    piece.size = total - offset < EVO_PROTO_SHARE_PIECE ? total - offset : EVO_PROTO_SHARE_PIECE;
    snprintf(piece.name, sizeof piece.name, "%s", name);
    evo_buf_reset(buf);
    evo_proto_put_share(buf, &piece);
    return piece.size;
}

int evo_share_send(struct evo_buf *buf, const char *name, const void *value, size_t size,
                   int (*send)(void *arg, const struct evo_buf *body), void *arg)
{
    size_t offset = 0;
    do { /* an empty constant is one empty piece */
        offset += evo_share_put_piece(buf, name, value, size, offset);
        if (buf->failed || send(arg, buf) < 0)
            return -1;
    } while (offset < size);
    return 0;
}

enum evo_share_step evo_share_progress_take(struct evo_share_progress *p, const struct evo_share *piece)
{
    if (piece->offset == 0) {
        memcpy(p->name, piece->name, sizeof p->name);
        p->total = piece->total;
        p->got = 0;
        p->open = 1;
    } else if (!p->open || strcmp(p->name, piece->name) != 0 || p->total != piece->total || p->got != piece->offset) {
        p->open = 0;
        return EVO_SHARE_OUT_OF_ORDER;
    }
    p->got += piece->size;
    p->open = p->got < p->total;
    return p->open ? EVO_SHARE_MORE : EVO_SHARE_WHOLE;
}
