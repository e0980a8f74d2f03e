/* results_pieces.c — see results_pieces.h. */
#include "results_pieces.h"

#include <string.h>

/* Sends the piece in scratch (its count patched) as `type`. */
static int send_piece(struct evo_buf *scratch, uint32_t count, enum evo_msg_type type,
                      int (*send)(void *arg, enum evo_msg_type type, const struct evo_buf *body), void *arg)
{
    evo_buf_patch_u32(scratch, 8, count);
    return scratch->failed || send(arg, type, scratch) < 0 ? -1 : 0;
}

int evo_results_send(const struct evo_buf *whole, size_t limit, struct evo_buf *scratch,
                     int (*send)(void *arg, enum evo_msg_type type, const struct evo_buf *body), void *arg)
{
    struct evo_results_reader list;
    struct evo_result_item item;
    if (whole->len <= limit)
        return send(arg, EVO_MSG_RESULTS, whole);
    if (evo_proto_results_open(whole->data, whole->len, 1, EVO_RESULT_ATTEMPT_FAILED, &list) < 0)
        return -1;
    uint32_t count = 0;
    evo_buf_reset(scratch);
    evo_buf_put_u64(scratch, 0); /* a part's elapsed time: the last piece carries the batch's */
    evo_proto_begin_results(scratch, 0);
    for (;;) {
        const unsigned char *start = list.r.p;
        if (!evo_proto_results_next(&list, &item))
            break;
        size_t bytes = (size_t)(list.r.p - start);
        if (count > 0 && scratch->len + bytes > limit) {
            if (send_piece(scratch, count, EVO_MSG_RESULTS_PART, send, arg) < 0)
                return -1;
            count = 0;
            evo_buf_reset(scratch);
            evo_buf_put_u64(scratch, 0);
            evo_proto_begin_results(scratch, 0);
        }
        evo_buf_put(scratch, start, bytes);
        count++;
    }
    for (int i = 0; i < 8; i++) /* the batch's elapsed time, as it leads `whole` */
        scratch->data[i] = whole->data[i];
    return send_piece(scratch, count, EVO_MSG_RESULTS, send, arg);
}
