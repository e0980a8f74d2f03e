/* test_id_queue.c — the broker's id deque: FIFO order at the back, requeued
 * ids in front, and growth that keeps the order across the ring's wrap. */
#include "unit.h"

#include "broker/id_queue.h"

static void ids_pushed_and_popped_at_both_ends_in_order(void **state)
{
    (void)state;
    struct evo_id_queue q = {0};
    uint64_t id;
    for (uint64_t i = 0; i < 5000; i++)
        assert_int_equal(evo_id_queue_push_back(&q, i), 0);
    for (uint64_t i = 0; i < 3000; i++) {
        assert_int_equal(evo_id_queue_pop_front(&q, &id), 0);
        assert_int_equal(id, i);
    }
    /* Requeued ids go in front, and growth keeps the order across the wrap. */
    for (uint64_t i = 0; i < 3000; i++)
        assert_int_equal(evo_id_queue_push_front(&q, 100000 + i), 0);
    for (uint64_t i = 3000; i-- > 0;) {
        assert_int_equal(evo_id_queue_pop_front(&q, &id), 0);
        assert_int_equal(id, 100000 + i);
    }
    for (uint64_t i = 3000; i < 5000; i++) {
        assert_int_equal(evo_id_queue_pop_front(&q, &id), 0);
        assert_int_equal(id, i);
    }
    assert_int_equal(evo_id_queue_pop_front(&q, &id), -1);
    evo_id_queue_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(ids_pushed_and_popped_at_both_ends_in_order)};
    return EVO_RUN_TESTS(tests);
}
