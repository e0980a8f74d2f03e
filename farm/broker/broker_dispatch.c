/* broker_dispatch.c — scheduling and delivery: tasks in (SUBMIT), batches
 * out to workers with credit (dynamic or static), results back (RESULTS),
 * attempts and requeues, exactly one DONE item per submitted vector. */
#include "broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/trace.h"

#define AUTO_BATCH_TARGET_NS 20000000.0 /* 20 ms of evaluation per batch */
#define AUTO_BATCH_MAX       16384
#define BATCH_MAX            65536      /* tasks in one TASKS, in every mode: far below the protocol's 1,048,576 */
#define BATCH_BYTES          (8u << 20) /* and about this many bytes (one task at least) */

/* Sends a driver's outbox as one DONE (broker_send drops the driver when
 * that fails). */
static void outbox_send(struct evo_broker *b, struct broker_peer *d)
{
    evo_buf_patch_u32(&d->outbox, 0, d->outbox_count);
    d->outbox_count = 0;
    EVO_TRACE("broker.done");
    broker_send(b, d, EVO_MSG_DONE, &d->outbox);
}

/* The driver's outbox with its result list started and room for an item
 * of `bytes` (a full one goes out first: no DONE passes
 * EVO_PROTO_MAX_MESSAGE), or NULL when the driver is gone (its results
 * have nowhere to go). */
static struct broker_peer *outbox_open(struct evo_broker *b, uint32_t driver, size_t bytes)
{
    struct broker_peer *d = broker_peer_by_serial(b, driver);
    if (d != NULL && d->outbox_count > 0 && d->outbox.len + bytes > EVO_PROTO_MAX_MESSAGE) {
        outbox_send(b, d);
        d = broker_peer_by_serial(b, driver);
    }
    if (d == NULL)
        return NULL;
    if (d->outbox_count == 0) {
        evo_buf_reset(&d->outbox);
        evo_proto_begin_results(&d->outbox, 0);
    }
    broker_peer_list_outbox(b, d);
    return d;
}

/* An error item's bytes (its text is cut at 65535). */
static size_t error_bytes(const char *text)
{
    size_t n = strlen(text);
    return 8 + 1 + 2 + (n < 65535 ? n : 65535);
}

static void refuse(struct evo_broker *b, uint32_t driver, uint64_t tag, const char *reason)
{
    struct broker_peer *d = outbox_open(b, driver, error_bytes(reason));
    if (d == NULL)
        return;
    evo_proto_put_result_error(&d->outbox, tag, EVO_RESULT_ERROR, reason);
    d->outbox_count++;
    b->counters.failed++;
}

static uint64_t input_bytes(uint8_t kind, uint32_t size)
{
    return kind == EVO_INPUT_VECTOR ? (uint64_t)size * sizeof(double) : size;
}

/* Frees a finished task and gives its room back to its driver's quota. */
static void task_finished(struct evo_broker *b, struct evo_task *task)
{
    struct broker_peer *d = broker_peer_by_serial(b, task->driver);
    if (d) {
        d->tasks_held--;
        d->bytes_held -= input_bytes(task->kind, task->size);
    }
    evo_task_table_remove(&b->tasks, task);
}

/* Whether a driver may have one more task of `bytes` outstanding. */
static int within_quota(const struct evo_broker *b, const struct broker_peer *d, uint64_t bytes)
{
    uint64_t tasks = b->options.driver_quota ? b->options.driver_quota : EVO_BROKER_DRIVER_QUOTA;
    return d->tasks_held < tasks && d->bytes_held + bytes <= EVO_BROKER_DRIVER_QUOTA_BYTES;
}

/* An input the journal knows is answered from it at once. 1 if it was. */
static int answer_from_journal(struct evo_broker *b, struct broker_peer *driver, uint64_t tag,
                               const unsigned char *digest)
{
    const struct evo_journal_entry *e = evo_journal_find(b->options.journal, digest);
    struct broker_peer *d = e ? outbox_open(b, driver->serial, evo_proto_result_bytes(e->n, e->payload_size)) : NULL;
    if (d == NULL)
        return 0;
    if (e->n)
        evo_proto_put_result_ok(&d->outbox, tag, e->n, e->objectives);
    else
        evo_proto_put_result_payload(&d->outbox, tag, e->payload_size, e->payload);
    d->outbox_count++;
    b->journal_hits++;
    return 1;
}

void broker_refuse_submit(struct evo_broker *b, struct broker_peer *driver, const void *body, size_t size,
                          const char *reason)
{
    struct evo_input_list list;
    if (evo_proto_get_inputs(body, size, &list) < 0)
        return;
    for (size_t i = 0; i < list.count; i++)
        refuse(b, driver->serial, list.id[i], reason);
    evo_input_list_free(&list);
}

int broker_accept_submit(struct evo_broker *b, struct broker_peer *driver, const void *body, size_t size)
{
    struct evo_input_list list;
    EVO_TRACE("broker.submit");
    if (evo_proto_get_inputs(body, size, &list) < 0)
        return -1;
    for (size_t i = 0; i < list.count; i++) {
        unsigned char digest[EVO_JOURNAL_DIGEST];
        if (b->options.journal) {
            evo_journal_digest(list.kind[i], list.size[i], evo_input_list_data(&list, i), digest);
            if (answer_from_journal(b, driver, list.id[i], digest))
                continue;
        }
        uint64_t bytes = input_bytes(list.kind[i], list.size[i]);
        if (!within_quota(b, driver, bytes)) {
            refuse(b, driver->serial, list.id[i],
                   "refused: this driver has too many tasks in the farm (the broker's quota per driver: "
                   "submit fewer at once)");
            continue;
        }
        struct evo_task *task = evo_task_table_add(&b->tasks, list.id[i], driver->serial, list.kind[i], list.size[i],
                                                   evo_input_list_data(&list, i));
        if (task && evo_id_queue_push_back(&b->queue, task->id) == 0) {
            if (b->options.journal)
                memcpy(task->digest, digest, sizeof task->digest);
            driver->tasks_held++;
            driver->bytes_held += bytes;
            continue;
        }
        /* Out of memory: refuse this vector with an error, never lose it. */
        if (task)
            evo_task_table_remove(&b->tasks, task);
        refuse(b, driver->serial, list.id[i], "refused: the broker is out of memory");
    }
    evo_input_list_free(&list);
    return 0;
}

/* An answer: journaled (but an exception, OK_UNKEPT, which a rerun must
 * raise again only if it happens again) and put in the driver's outbox, an
 * unkept answer as any payload. */
static void deliver_ok(struct evo_broker *b, struct evo_task *task, const struct evo_result_item *item)
{
    if (b->options.journal && item->status != EVO_RESULT_OK_UNKEPT) /* kept even when its driver is gone */
        evo_journal_record(b->options.journal, task->digest, item->status == EVO_RESULT_OK ? item->n : 0,
                           item->objectives, item->payload, item->payload_size);
    struct broker_peer *d = outbox_open(
        b, task->driver, evo_proto_result_bytes(item->status == EVO_RESULT_OK ? item->n : 0, item->payload_size));
    if (d == NULL)
        return;
    if (item->status != EVO_RESULT_OK)
        evo_proto_put_result_payload(&d->outbox, task->tag, item->payload_size, item->payload);
    else
        evo_proto_put_result_ok(&d->outbox, task->tag, item->n, item->objectives);
    d->outbox_count++;
    b->counters.done++;
}

static void deliver_error(struct evo_broker *b, struct evo_task *task, const char *reason)
{
    char text[1024];
    snprintf(text, sizeof text, "task %llu failed after %u attempt%s: %s", (unsigned long long)task->tag,
             task->attempts, task->attempts == 1 ? "" : "s", reason);
    struct broker_peer *d = outbox_open(b, task->driver, error_bytes(text));
    if (d == NULL)
        return;
    evo_proto_put_result_error(&d->outbox, task->tag, EVO_RESULT_ERROR, text);
    d->outbox_count++;
    b->counters.failed++;
    evo_info("%s", text);
}

void broker_flush_outboxes(struct evo_broker *b)
{
    struct broker_peer *d;
    while ((d = broker_peer_next_outbox(b)) != NULL) {
        if (d->outbox_count > 0)
            outbox_send(b, d);
    }
}

void evo_broker_fail_queued(struct evo_broker *b, const char *reason)
{
    uint64_t id;
    size_t failed = 0;
    while (evo_id_queue_pop_front(&b->queue, &id) == 0) {
        struct evo_task *task = evo_task_table_get(&b->tasks, id);
        if (task == NULL || task->state != EVO_TASK_QUEUED)
            continue;
        deliver_error(b, task, reason);
        task_finished(b, task);
        failed++;
    }
    if (failed) {
        broker_flush_outboxes(b);
        evo_error("%zu waiting evaluation%s failed: %s", failed, failed == 1 ? "" : "s", reason);
    }
}

static void requeue(struct evo_broker *b, struct evo_task *task)
{
    if (task->state == EVO_TASK_IN_FLIGHT)
        b->in_flight--;
    task->state = EVO_TASK_QUEUED;
    task->worker = 0;
    if (evo_id_queue_push_front(&b->queue, task->id) < 0) {
        deliver_error(b, task, "out of memory in the broker while requeueing");
        task_finished(b, task);
    }
}

static void on_item(struct evo_broker *b, struct broker_peer *worker, const struct evo_result_item *item)
{
    struct evo_task *task = evo_task_table_get(&b->tasks, item->id);
    if (task == NULL || task->state != EVO_TASK_IN_FLIGHT || task->worker != worker->serial) {
        b->counters.late_dropped++;
        return;
    }
    if (item->status != EVO_RESULT_ATTEMPT_FAILED) {
        b->in_flight--;
        deliver_ok(b, task, item);
        task_finished(b, task);
        return;
    }
    task->attempts++;
    if (task->attempts > b->options.retries) {
        b->in_flight--;
        char why[1024];
        snprintf(why, sizeof why, "%.*s", (int)item->text_size, item->text);
        deliver_error(b, task, why);
        task_finished(b, task);
        return;
    }
    evo_debug("task %llu attempt %u failed, retrying: %.*s", (unsigned long long)task->tag, task->attempts,
              (int)item->text_size, item->text);
    b->counters.retried++;
    requeue(b, task);
}

int broker_accept_results(struct evo_broker *b, struct broker_peer *worker, const void *body, size_t size, int last)
{
    struct evo_results_reader list;
    struct evo_result_item item;
    EVO_TRACE("broker.results");
    if (evo_proto_results_open(body, size, 1, EVO_RESULT_ATTEMPT_FAILED, &list) < 0)
        return -1;
    if (last && worker->batches_in_flight > 0) /* a RESULTS_PART leaves its batch open */
        worker->batches_in_flight--;
    broker_peer_ready(b, worker);
    if (list.elapsed_ns > 0) {
        double per_task = (double)list.elapsed_ns / (double)list.count;
        b->ns_per_task = b->ns_per_task == 0 ? per_task : 0.7 * b->ns_per_task + 0.3 * per_task;
    }
    while (evo_proto_results_next(&list, &item))
        on_item(b, worker, &item);
    return 0;
}

struct requeue_arg {
    struct evo_broker *broker;
    uint32_t worker;
    uint64_t count;
};

static void requeue_if_held(struct evo_task *task, void *arg)
{
    struct requeue_arg *a = arg;
    if (task->state != EVO_TASK_IN_FLIGHT || task->worker != a->worker)
        return;
    requeue(a->broker, task);
    a->count++;
}

void broker_requeue_worker(struct evo_broker *b, struct broker_peer *worker)
{
    /* Newest first, each pushed at the front: the oldest ends up first. */
    struct requeue_arg arg = {b, worker->serial, 0};
    evo_task_table_each(&b->tasks, requeue_if_held, &arg);
    b->counters.requeued += arg.count;
    worker->batches_in_flight = 0;
    broker_peer_ready(b, worker);
    if (arg.count)
        evo_info("requeued %llu tasks of worker %u", (unsigned long long)arg.count, worker->serial);
}

struct forget_arg {
    struct evo_broker *broker;
    uint32_t driver;
};

static void forget_if_owned(struct evo_task *task, void *arg)
{
    struct forget_arg *a = arg;
    if (task->driver != a->driver)
        return;
    if (task->state == EVO_TASK_IN_FLIGHT)
        a->broker->in_flight--;
    evo_task_table_remove(&a->broker->tasks, task);
}

void broker_forget_driver(struct evo_broker *b, uint32_t driver)
{
    struct forget_arg arg = {b, driver};
    evo_task_table_each(&b->tasks, forget_if_owned, &arg);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct withdraw_arg {
    struct evo_broker *broker;
    uint32_t driver;
    const uint64_t *tags; /* sorted */
    size_t count;
};

static void withdraw_if_asked(struct evo_task *task, void *arg)
{
    struct withdraw_arg *a = arg;
    if (task->driver != a->driver || task->state != EVO_TASK_QUEUED ||
        bsearch(&task->tag, a->tags, a->count, sizeof *a->tags, compare_u64) == NULL)
        return;
    struct broker_peer *box = outbox_open(a->broker, a->driver, 9);
    if (box == NULL)
        return;
    evo_proto_put_result_withdrawn(&box->outbox, task->tag);
    box->outbox_count++;
    task_finished(a->broker, task); /* its queue entry is skipped */
}

int broker_accept_withdraw(struct evo_broker *b, struct broker_peer *driver, const void *body, size_t size)
{
    uint64_t *tags;
    size_t count;
    if (evo_proto_get_ids(body, size, &tags, &count) < 0)
        return -1;
    qsort(tags, count, sizeof *tags, compare_u64);
    /* One pass over the outstanding tasks, whatever the number of tags:
     * withdrawing is rare (a task that waits on its own children). */
    struct withdraw_arg arg = {b, driver->serial, tags, count};
    evo_task_table_each(&b->tasks, withdraw_if_asked, &arg);
    free(tags);
    return 0;
}

int broker_accept_blocked(struct evo_broker *b, struct broker_peer *worker, const void *body, size_t size)
{
    struct evo_blocked blocked;
    if (evo_proto_get_blocked(body, size, &blocked) < 0)
        return -1;
    worker->blocked = blocked.blocked;
    worker->batches_in_flight -=
        blocked.batches < worker->batches_in_flight ? blocked.batches : worker->batches_in_flight;
    broker_peer_ready(b, worker);
    /* Given back in their order, each pushed at the front: the last first. */
    for (size_t i = blocked.count; i-- > 0;) {
        struct evo_task *task = evo_task_table_get(&b->tasks, blocked.ids[i]);
        if (task && task->state == EVO_TASK_IN_FLIGHT && task->worker == worker->serial) {
            requeue(b, task);
            b->counters.requeued++;
        }
    }
    evo_debug("worker %u %s, gave back %zu tasks", worker->serial, blocked.blocked ? "waits on other tasks" : "resumed",
              blocked.count);
    free(blocked.ids);
    return 0;
}

/* How many tasks the next batch should hold (docs/protocol.md, Batches). */
static size_t batch_size(struct evo_broker *b, unsigned workers, unsigned idle)
{
    size_t queued = b->queue.len;
    if (b->options.scheduling == EVO_SCHEDULING_STATIC) {
        size_t chunk = (queued + idle - 1) / (idle ? idle : 1);
        return chunk < BATCH_MAX ? chunk : BATCH_MAX;
    }
    if (b->options.batch)
        return b->options.batch < BATCH_MAX ? b->options.batch : BATCH_MAX;
    if (b->ns_per_task <= 0)
        return 1;
    double wanted = AUTO_BATCH_TARGET_NS / b->ns_per_task;
    double tail = (double)queued / (4.0 * workers);
    double n = wanted < tail ? wanted : tail;
    if (n > AUTO_BATCH_MAX)
        n = AUTO_BATCH_MAX;
    return n < 1 ? 1 : (size_t)n;
}

/* Sends one batch of up to n queued tasks. Returns the number sent. */
static size_t send_batch(struct evo_broker *b, struct broker_peer *worker, size_t n)
{
    struct evo_buf *buf = &b->scratch;
    size_t sent = 0;
    uint64_t id;
    evo_buf_reset(buf);
    evo_proto_begin_inputs(buf, 0);
    while (sent < n && (sent == 0 || buf->len < BATCH_BYTES) && evo_id_queue_pop_front(&b->queue, &id) == 0) {
        struct evo_task *task = evo_task_table_get(&b->tasks, id);
        if (task == NULL || task->state != EVO_TASK_QUEUED)
            continue; /* its driver has gone */
        if (sent > 0 && buf->len + evo_proto_input_bytes(task->kind, task->size) > EVO_PROTO_MAX_MESSAGE) {
            evo_id_queue_push_front(&b->queue, id); /* the next batch's first; its room was just freed */
            break;
        }
        evo_proto_put_input(buf, task->id, task->kind, task->size, task->in.data);
        task->state = EVO_TASK_IN_FLIGHT;
        task->worker = worker->serial;
        b->in_flight++;
        sent++;
    }
    if (sent == 0)
        return 0;
    evo_buf_patch_u32(buf, 0, (uint32_t)sent);
    worker->batches_in_flight++;
    broker_peer_ready(b, worker);
    /* On failure broker_send drops the worker, which requeues the batch. */
    EVO_TRACE("broker.tasks");
    broker_send(b, worker, EVO_MSG_TASKS, buf);
    return sent;
}

void broker_dispatch(struct evo_broker *b)
{
    if (b->workers == 0 || b->queue.len == 0)
        return;
    unsigned idle = (unsigned)b->ready[0].count;
    /* Level by level, each list's workers oldest first: every idle worker
     * gets a batch before anyone gets a second. A worker served moves to
     * the tail of the next level's list, so each level's loop sees only
     * the workers that were there when it started. */
    for (unsigned level = 0; level < b->credit && b->queue.len > 0; level++)
        for (size_t n = b->ready[level].count; n > 0 && b->ready[level].head && b->queue.len > 0; n--) {
            send_batch(b, b->ready[level].head, batch_size(b, b->workers, idle));
            idle -= level == 0 && idle > 0;
        }
}
