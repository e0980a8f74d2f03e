/* task_table.c — outstanding tasks in a ring indexed by id (see task_table.h). */
#include "task_table.h"

#include "wire/proto.h"

#include <stdlib.h>
#include <string.h>

static struct evo_task **slot(const struct evo_task_table *t, uint64_t id)
{
    return &t->slots[(t->head + (size_t)(id - t->base_id)) & (t->cap - 1)];
}

static int grow(struct evo_task_table *t)
{
    if (t->span < t->cap)
        return 0;
    size_t cap = t->cap ? t->cap * 2 : 1024;
    struct evo_task **slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < t->span; i++)
        slots[i] = t->slots[(t->head + i) & (t->cap - 1)];
    free(t->slots);
    t->slots = slots;
    t->head = 0;
    t->cap = cap;
    return 0;
}

struct evo_task *evo_task_table_add(struct evo_task_table *t, uint64_t tag, uint32_t driver, uint8_t kind,
                                    uint32_t size, const void *input)
{
    size_t bytes = kind == EVO_INPUT_PAYLOAD ? size : (size_t)size * sizeof(double);
    if (t->next_id == 0)
        t->base_id = t->next_id = 1; /* 0 is never a task id */
    if (grow(t) < 0)
        return NULL;
    struct evo_task *task = malloc(sizeof *task + bytes);
    if (task == NULL)
        return NULL;
    task->id = t->next_id++;
    task->tag = tag;
    task->driver = driver;
    task->worker = 0;
    task->attempts = 0;
    task->state = EVO_TASK_QUEUED;
    task->kind = kind;
    task->size = size;
    memcpy(task->in.data, input, bytes);
    *slot(t, task->id) = task;
    t->span++;
    t->count++;
    return task;
}

struct evo_task *evo_task_table_get(const struct evo_task_table *t, uint64_t id)
{
    if (t->cap == 0 || id < t->base_id || id - t->base_id >= t->span)
        return NULL;
    return *slot(t, id);
}

void evo_task_table_remove(struct evo_task_table *t, struct evo_task *task)
{
    *slot(t, task->id) = NULL;
    free(task);
    t->count--;
    /* Reclaim finished slots at the old end. */
    while (t->span > 0 && t->slots[t->head] == NULL) {
        t->head = (t->head + 1) & (t->cap - 1);
        t->base_id++;
        t->span--;
    }
}

void evo_task_table_each(struct evo_task_table *t, void (*fn)(struct evo_task *task, void *arg), void *arg)
{
    for (uint64_t id = t->base_id + t->span; id-- > t->base_id;) {
        if (id - t->base_id >= t->span) /* the table shrank under us */
            continue;
        struct evo_task *task = *slot(t, id);
        if (task)
            fn(task, arg);
    }
}

void evo_task_table_free(struct evo_task_table *t)
{
    for (size_t i = 0; i < t->span; i++)
        free(t->slots[(t->head + i) & (t->cap - 1)]);
    free(t->slots);
    memset(t, 0, sizeof *t);
}
