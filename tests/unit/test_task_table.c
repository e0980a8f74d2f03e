/* test_task_table.c — the broker's task table: ids from 1, lookup, out-of-order
 * removal that reclaims the ring only from its old end, and reuse. */
#include "unit.h"

#include "wire/proto.h"
#include "broker/task_table.h"

static void count_task(struct evo_task *task, void *arg)
{
    (void)task;
    (*(int *)arg)++;
}

static void remove_task(struct evo_task *task, void *arg)
{
    evo_task_table_remove(arg, task);
}

static void tasks_added_found_and_removed(void **state)
{
    (void)state;
    struct evo_task_table t = {0};
    double x[3] = {1, 2, 3};
    struct evo_task *tasks[4000];
    for (int i = 0; i < 4000; i++) {
        tasks[i] = evo_task_table_add(&t, 100 + (uint64_t)i, 1, EVO_INPUT_VECTOR, 3, x);
        assert_non_null(tasks[i]);
        assert_int_equal(tasks[i]->id, i + 1); /* ids start at 1 */
    }
    assert_ptr_equal(evo_task_table_get(&t, 2000), tasks[1999]);
    assert_null(evo_task_table_get(&t, 0));
    assert_null(evo_task_table_get(&t, 4001));
    /* Out-of-order removal; the old end is reclaimed only when done. */
    evo_task_table_remove(&t, tasks[1]);
    assert_null(evo_task_table_get(&t, 2));
    assert_int_equal(t.base_id, 1);
    evo_task_table_remove(&t, tasks[0]);
    assert_int_equal(t.base_id, 3);
    int n = 0;
    evo_task_table_each(&t, count_task, &n);
    assert_int_equal(n, 3998);
    /* Adding after reclaiming reuses the ring. */
    for (int i = 2; i < 3000; i++)
        evo_task_table_remove(&t, tasks[i]);
    for (int i = 0; i < 2500; i++)
        assert_non_null(evo_task_table_add(&t, 0, 2, EVO_INPUT_VECTOR, 3, x));
    assert_int_equal(t.count, 1000 + 2500);
    assert_true(evo_task_table_get(&t, 4001 + 2499)->in.x[2] == 3);
    evo_task_table_each(&t, remove_task, &t);
    assert_int_equal(t.count, 0);
    evo_task_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(tasks_added_found_and_removed)};
    return EVO_RUN_TESTS(tests);
}
