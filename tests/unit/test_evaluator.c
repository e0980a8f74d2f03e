/* test_evaluator.c — a worker's supervision of its evaluator child
 * (worker/evaluator.h), with real children: command evaluators written in
 * sh. Every candidate of a batch gets one answer in order; a crash, a hang
 * past the timeout or an answer that is not one costs the candidate being
 * evaluated one failed attempt, the child is started again and the rest
 * of the batch is evaluated on it; a tick that says stop abandons the
 * batch; the child is the first the kernel kills when memory runs out and
 * has the open-files limit the worker was given. */
#include "unit.h"
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "unit_results.h"
#include "util/limits.h"
#include "worker/evaluator.h"

static char dir[64], starts[128];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/evo-test-evaluator-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(starts, sizeof starts, "%s/starts", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(starts);
    rmdir(dir);
    return 0;
}

/* An evaluator of the sh program `body` (it reads "x y" lines; each start
 * appends a line to `starts`), with the farm's timeout. */
static struct evo_evaluator *evaluator_of(const char *body, const char *timeout, struct evo_config **config)
{
    char text[1024], err[512];
    snprintf(text, sizeof text,
             "farm: {timeout: %s}\nevaluate: {command: [sh, -c, 'echo started >> %s; while read x y; do %s; done']}\n",
             timeout, starts, body);
    *config = evo_config_parse("test.yaml", text, strlen(text), dir, err, sizeof err);
    if (*config == NULL)
        fail_msg("%s", err);
    struct evo_evaluator *ev = evo_evaluator_create(*config, "/nonexistent/evo-farm");
    assert_non_null(ev);
    return ev;
}

/* The batch (B,B+1) (B+2,B+3) (B+4,B+5) for B = base, ids 10, 11, 12. */
static void three_candidates_from(struct evo_input_list *batch, int base)
{
    struct evo_buf b = {0};
    evo_proto_begin_inputs(&b, 3);
    for (int i = 0; i < 3; i++) {
        double v[2] = {base + 2 * i, base + 1 + 2 * i};
        evo_proto_put_input(&b, 10 + (uint64_t)i, EVO_INPUT_VECTOR, 2, v);
    }
    assert_int_equal(evo_proto_get_inputs(b.data, b.len, batch), 0);
    evo_buf_free(&b);
}

/* The batch (1,2) (3,4) (5,6), ids 10, 11, 12. */
static void three_candidates(struct evo_input_list *batch)
{
    three_candidates_from(batch, 1);
}

static int never_stop(void *arg)
{
    (void)arg;
    return 0;
}

/* Runs the batch, ticking every tick_ms and when `watch` has input; its
 * answers in l (decoded as a worker's RESULTS). */
static int run_watching(struct evo_evaluator *ev, struct unit_results *l, int (*tick)(void *), void *arg, int tick_ms,
                        const zmq_pollitem_t *watch)
{
    struct evo_input_list batch;
    struct evo_buf out = {0};
    three_candidates(&batch);
    evo_buf_put_u64(&out, 0); /* elapsed_ns, as the worker puts it */
    evo_proto_begin_results(&out, (uint32_t)batch.count);
    int rc = evo_evaluator_run(ev, &batch, &out, tick, arg, tick_ms, watch);
    if (rc == 0)
        assert_int_equal(unit_get_results(out.data, out.len, 1, EVO_RESULT_ATTEMPT_FAILED, l), 0);
    evo_input_list_free(&batch);
    evo_buf_free(&out);
    return rc;
}

/* run_watching every 20 ms, watching nothing. */
static int run(struct evo_evaluator *ev, struct unit_results *l, int (*tick)(void *), void *arg)
{
    return run_watching(ev, l, tick, arg, 20, NULL);
}

static int lines_in(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    while (f && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

/* Item i answered x (OK), or failed with a text containing `why`. */
static void answered(const struct unit_results *l, size_t i, double x, const char *why)
{
    assert_int_equal(l->items[i].id, 10 + i);
    if (why == NULL) {
        assert_int_equal(l->items[i].status, EVO_RESULT_OK);
        assert_true(l->items[i].n == 1 && l->items[i].objectives[0] == x);
    } else {
        assert_int_equal(l->items[i].status, EVO_RESULT_ATTEMPT_FAILED);
        if (strstr(l->items[i].text, why) == NULL)
            fail_msg("'%s' does not say '%s'", l->items[i].text, why);
    }
}

static void every_candidate_answered_in_order(void **state)
{
    (void)state;
    struct evo_config *config;
    struct unit_results l;
    struct evo_evaluator *ev = evaluator_of("echo $x", "5s", &config);
    assert_int_equal(run(ev, &l, never_stop, NULL), 0);
    assert_int_equal(l.count, 3);
    for (size_t i = 0; i < 3; i++)
        answered(&l, i, 1 + 2.0 * (double)i, NULL);
    unit_results_free(&l);
    assert_int_equal(run(ev, &l, never_stop, NULL), 0); /* the same child, kept */
    unit_results_free(&l);
    assert_int_equal(lines_in(starts), 1);
    evo_evaluator_destroy(ev);
    evo_config_destroy(config);
}

/* The child is the kernel's first choice under memory pressure
 * (oom_score_adj 1000, the worker's untouched) and runs with the
 * open-files limit the worker was started with, not the one the worker
 * raised for itself (util/limits.h): the fitness it answers is the sum of
 * both. */
static void the_child_is_first_to_go_and_keeps_the_users_limit(void **state)
{
    (void)state;
    struct evo_config *config;
    struct unit_results l;
    struct rlimit lim;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &lim), 0);
    if (lim.rlim_max < 100)
        skip();
    struct rlimit low = {50, lim.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    evo_limits_raise();
    struct evo_evaluator *ev =
        evaluator_of("echo $(( $(cat /proc/self/oom_score_adj) + $(ulimit -n) ))", "5s", &config);
    assert_int_equal(run(ev, &l, never_stop, NULL), 0);
    for (size_t i = 0; i < 3; i++)
        answered(&l, i, 1050, NULL);
    unit_results_free(&l);
    FILE *f = fopen("/proc/self/oom_score_adj", "r");
    int ours = -1;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &ours), 1);
    fclose(f);
    assert_true(ours < 1000);
    evo_evaluator_destroy(ev);
    evo_config_destroy(config);
}

/* The evaluator `body` with the farm's timeout: the second candidate (3)
 * fails with a text containing `why`, the child is started again, and the
 * first and third are answered. */
static void second_fails_and_the_rest_are_answered(const char *body, const char *timeout, const char *why)
{
    struct evo_config *config;
    struct unit_results l;
    struct evo_evaluator *ev = evaluator_of(body, timeout, &config);
    assert_int_equal(run(ev, &l, never_stop, NULL), 0);
    answered(&l, 0, 1, NULL);
    answered(&l, 1, 0, why);
    answered(&l, 2, 5, NULL); /* on the child started again */
    unit_results_free(&l);
    assert_true(lines_in(starts) >= 2);
    evo_evaluator_destroy(ev);
    evo_config_destroy(config);
}

static void a_crash_fails_its_candidate_and_the_rest_run_again(void **state)
{
    (void)state;
    second_fails_and_the_rest_are_answered("if [ $x = 3 ]; then exit 7; fi; echo $x", "5s", "exited with status 7");
}

static void a_hang_past_the_timeout_is_killed(void **state)
{
    (void)state;
    second_fails_and_the_rest_are_answered("if [ $x = 3 ]; then sleep 60; fi; echo $x", "300ms", "timed out");
}

static void an_answer_that_is_none_restarts_the_child(void **state)
{
    (void)state; /* its stream is no longer trusted */
    second_fails_and_the_rest_are_answered("if [ $x = 3 ]; then echo oops; else echo $x; fi", "5s",
                                           "invalid evaluator output");
}

static int stop_at_once(void *arg)
{
    ++*(int *)arg;
    return 1;
}

static void a_tick_that_says_stop_abandons_the_batch(void **state)
{
    (void)state;
    struct evo_config *config;
    struct unit_results l;
    int ticks = 0;
    struct evo_evaluator *ev = evaluator_of("sleep 0.3; echo $x", "5s", &config);
    assert_int_equal(run(ev, &l, stop_at_once, &ticks), -1);
    assert_true(ticks >= 1);
    /* The next batch gets its own answers, not the abandoned one's that
     * its child was still writing (a worker lost and back took them for
     * its next tasks' results). */
    struct evo_input_list batch;
    struct evo_buf out = {0};
    three_candidates_from(&batch, 101);
    evo_buf_put_u64(&out, 0);
    evo_proto_begin_results(&out, (uint32_t)batch.count);
    assert_int_equal(evo_evaluator_run(ev, &batch, &out, never_stop, NULL, 20, NULL), 0);
    assert_int_equal(unit_get_results(out.data, out.len, 1, EVO_RESULT_ATTEMPT_FAILED, &l), 0);
    for (size_t i = 0; i < 3; i++)
        answered(&l, i, 101 + 2 * (double)i, NULL);
    unit_results_free(&l);
    evo_input_list_free(&batch);
    evo_buf_free(&out);
    evo_evaluator_destroy(ev);
    evo_config_destroy(config);
}

/* Drains the pipe whose read end *arg is, and counts the ticks that found
 * something in it (in arg[1]). */
static int drain_pipe(void *arg)
{
    int *p = arg;
    char c;
    if (read(p[0], &c, 1) == 1)
        p[1]++;
    return 0;
}

/* A worker hears the broker during a long call, not a tick later: tasks a
 * waiting call gives back (a nested map) go back at once (issue 26: they
 * waited half a heartbeat, 500 ms a nested map). */
static void input_beside_a_call_ticks_at_once(void **state)
{
    (void)state;
    struct evo_config *config;
    struct unit_results l;
    int fds[2], seen[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    seen[0] = fds[0];
    seen[1] = 0;
    zmq_pollitem_t watch = {NULL, fds[0], ZMQ_POLLIN, 0};
    struct evo_evaluator *ev = evaluator_of("sleep 0.2; echo $x", "5s", &config);
    assert_int_equal(run_watching(ev, &l, drain_pipe, seen, 60000, &watch), 0); /* no tick is due in 60 s */
    assert_int_equal(seen[1], 1);
    for (size_t i = 0; i < 3; i++)
        answered(&l, i, 1 + 2 * (double)i, NULL);
    unit_results_free(&l);
    close(fds[0]);
    close(fds[1]);
    evo_evaluator_destroy(ev);
    evo_config_destroy(config);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_candidate_answered_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(the_child_is_first_to_go_and_keeps_the_users_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(a_crash_fails_its_candidate_and_the_rest_run_again, setup, teardown),
        cmocka_unit_test_setup_teardown(a_hang_past_the_timeout_is_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(an_answer_that_is_none_restarts_the_child, setup, teardown),
        cmocka_unit_test_setup_teardown(a_tick_that_says_stop_abandons_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(input_beside_a_call_ticks_at_once, setup, teardown)};
    return EVO_RUN_TESTS(tests);
}
