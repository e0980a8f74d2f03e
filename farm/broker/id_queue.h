/* id_queue.h — a growable double-ended queue of 64-bit task ids. The broker
 * pushes new tasks at the back and requeued ones at the front, so the
 * oldest work is always dispatched first. */
#ifndef EVO_ID_QUEUE_H
#define EVO_ID_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct evo_id_queue {
    uint64_t *ids;
    size_t head; /* index of the first id */
    size_t len;
    size_t cap; /* a power of two, or 0 */
};

/* 0, or -1 (out of memory: the queue is unchanged). */
int evo_id_queue_push_back(struct evo_id_queue *q, uint64_t id);
int evo_id_queue_push_front(struct evo_id_queue *q, uint64_t id);
/* 0 with the id in *id, or -1 when empty. */
int evo_id_queue_pop_front(struct evo_id_queue *q, uint64_t *id);
void evo_id_queue_free(struct evo_id_queue *q);

#endif
