/* test_signals.c — the launcher's signal mask (util/signals.h): exactly
 * SIGCHLD, SIGINT and SIGTERM, blocked and given back, the old mask kept. */
#include "unit.h"

#include <signal.h>

#include "util/signals.h"

static int blocked(int sig)
{
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    return sigismember(&now, sig);
}

static void the_farm_set(void **state)
{
    (void)state;
    sigset_t set;
    evo_signals_farm_set(&set);
    assert_true(sigismember(&set, SIGCHLD));
    assert_true(sigismember(&set, SIGINT));
    assert_true(sigismember(&set, SIGTERM));
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGCHLD && sig != SIGINT && sig != SIGTERM && sigismember(&set, sig) == 1)
            fail_msg("signal %d is in the farm's set", sig);
}

static void block_then_unblock(void **state)
{
    (void)state;
    sigset_t usr1, old, before;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_SETMASK, &usr1, &before); /* start from a known mask */
    assert_int_equal(evo_signals_block(&old), 0);
    assert_true(blocked(SIGCHLD) && blocked(SIGINT) && blocked(SIGTERM) && blocked(SIGUSR1));
    assert_true(sigismember(&old, SIGUSR1));
    assert_false(sigismember(&old, SIGTERM));
    /* A child about to exec: the old mask back, the farm's signals open. */
    assert_int_equal(evo_signals_unblock(&old), 0);
    assert_false(blocked(SIGCHLD) || blocked(SIGINT) || blocked(SIGTERM));
    assert_true(blocked(SIGUSR1));
    /* Unblocking without an old mask opens the farm's signals even if the
     * old mask held them (slurmstepd blocks SIGINT and SIGTERM). */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    assert_int_equal(evo_signals_block(NULL), 0);
    assert_int_equal(evo_signals_unblock(&term), 0);
    assert_false(blocked(SIGTERM));
    sigprocmask(SIG_SETMASK, &before, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_farm_set),
        cmocka_unit_test(block_then_unblock),
    };
    return EVO_RUN_TESTS(tests);
}
