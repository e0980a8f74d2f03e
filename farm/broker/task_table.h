/* task_table.h — the broker's outstanding tasks, indexed by their id. Ids
 * are handed out in increasing order and tasks finish roughly in order, so
 * the table is a ring of slots from the oldest outstanding id to the newest:
 * lookup is O(1) and finished slots at the old end are reclaimed. */
#ifndef EVO_TASK_TABLE_H
#define EVO_TASK_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum evo_task_state { EVO_TASK_QUEUED = 0, EVO_TASK_IN_FLIGHT = 1 };

struct evo_task {
    uint64_t id;
    uint64_t tag;      /* the driver's own number for this vector */
    uint32_t driver;   /* serial of the driver that submitted it */
    uint32_t worker;   /* serial of the worker holding it, when in flight */
    uint32_t attempts; /* failed attempts so far */
    uint8_t state;
    uint8_t kind;             /* enum evo_input_kind */
    uint32_t size;            /* a vector's dimension, or a payload's bytes */
    unsigned char digest[16]; /* of the input, when the farm keeps a journal */
    union {
        double x[1];           /* EVO_INPUT_VECTOR: size values */
        unsigned char data[1]; /* EVO_INPUT_PAYLOAD: size bytes */
    } in;
};

struct evo_task_table {
    struct evo_task **slots;
    size_t head;      /* slot of base_id */
    size_t span;      /* ids from base_id that have a slot */
    size_t cap;       /* a power of two, or 0 */
    uint64_t base_id; /* oldest id that may be outstanding */
    uint64_t next_id; /* id the next task gets */
    size_t count;     /* outstanding tasks */
};

/* Creates a task with the next id and a copy of its input (kind: enum
 * evo_input_kind; size: dimension or bytes); the table owns it. NULL if
 * out of memory. */
struct evo_task *evo_task_table_add(struct evo_task_table *t, uint64_t tag, uint32_t driver, uint8_t kind,
                                    uint32_t size, const void *input);
/* The task with this id, or NULL if it is finished or unknown. */
struct evo_task *evo_task_table_get(const struct evo_task_table *t, uint64_t id);
/* Frees a task and forgets its id. */
void evo_task_table_remove(struct evo_task_table *t, struct evo_task *task);
/* Calls fn for every outstanding task, newest first. fn may remove the task
 * it is given. */
void evo_task_table_each(struct evo_task_table *t, void (*fn)(struct evo_task *task, void *arg), void *arg);
void evo_task_table_free(struct evo_task_table *t);

#endif
