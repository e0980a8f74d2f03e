/* id_queue.c — ring-buffer deque of task ids (see id_queue.h). */
#include "id_queue.h"

#include <stdlib.h>
#include <string.h>

static int grow(struct evo_id_queue *q)
{
    if (q->len < q->cap)
        return 0;
    size_t cap = q->cap ? q->cap * 2 : 1024;
    uint64_t *ids = malloc(cap * sizeof *ids);
    if (ids == NULL)
        return -1;
    for (size_t i = 0; i < q->len; i++)
        ids[i] = q->ids[(q->head + i) & (q->cap - 1)];
    free(q->ids);
    q->ids = ids;
    q->head = 0;
    q->cap = cap;
    return 0;
}

int evo_id_queue_push_back(struct evo_id_queue *q, uint64_t id)
{
    if (grow(q) < 0)
        return -1;
    q->ids[(q->head + q->len) & (q->cap - 1)] = id;
    q->len++;
    return 0;
}

int evo_id_queue_push_front(struct evo_id_queue *q, uint64_t id)
{
    if (grow(q) < 0)
        return -1;
    q->head = (q->head + q->cap - 1) & (q->cap - 1);
    q->ids[q->head] = id;
    q->len++;
    return 0;
}

int evo_id_queue_pop_front(struct evo_id_queue *q, uint64_t *id)
{
    if (q->len == 0)
        return -1;
    *id = q->ids[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->len--;
    return 0;
}

void evo_id_queue_free(struct evo_id_queue *q)
{
    free(q->ids);
    memset(q, 0, sizeof *q);
}
