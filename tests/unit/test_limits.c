/* test_limits.c — what a farm process may use (util/limits.h,
 * util/cpus.h): the soft open-files limit raised to the hard one and given
 * back to what it runs; a hard limit too small for a farm said in one
 * line; the CPUs of the affinity mask and of a quota, not the machine's. */
#include "unit.h"

#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cpus.h"
#include "util/limits.h"
#include "util/names.h"

static rlim_t soft(void)
{
    struct rlimit lim;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &lim), 0);
    return lim.rlim_cur;
}

/* In a child, so the hard limit this test lowers is not the runner's. */
static void in_child(void (*body)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        body();
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void raise_then_restore(void)
{
    struct rlimit low = {40, 200};
    if (setrlimit(RLIMIT_NOFILE, &low) != 0)
        _exit(1);
    if (evo_limits_raise() != 200 || soft() != 200 || evo_limits_found() != 40)
        _exit(2);
    if (evo_limits_raise() != 200 || evo_limits_found() != 40) /* once: the user's limit is kept */
        _exit(3);
    evo_limits_restore();
    if (soft() != 40)
        _exit(4);
}

static void the_soft_limit_is_raised_and_given_back(void **state)
{
    (void)state;
    in_child(raise_then_restore);
}

static void check_against_a_small_hard_limit(void)
{
    char err[EVO_ERROR_MAX];
    struct rlimit small = {100, 100};
    if (setrlimit(RLIMIT_NOFILE, &small) != 0)
        _exit(1);
    if (evo_limits_check(100 - EVO_FILES_RESERVE, err, sizeof err) != 0) /* just fits */
        _exit(2);
    if (evo_limits_check(101 - EVO_FILES_RESERVE, err, sizeof err) != -1)
        _exit(3);
    if (strstr(err, "ulimit -n") == NULL || strstr(err, "is 100, hard limit 100") == NULL || strchr(err, '\n') != NULL)
        _exit(4);
}

static void a_farm_the_hard_limit_cannot_hold_is_refused_in_one_line(void **state)
{
    (void)state;
    in_child(check_against_a_small_hard_limit);
}

static void a_quota_counts_whole_cpus_rounded_up(void **state)
{
    (void)state;
    assert_int_equal(evo_cpus_of_quota(100000, 100000), 1);
    assert_int_equal(evo_cpus_of_quota(150000, 100000), 2);
    assert_int_equal(evo_cpus_of_quota(50000, 100000), 1);
    assert_int_equal(evo_cpus_of_quota(-1, 100000), 0); /* v1's "no quota" */
    assert_int_equal(evo_cpus_of_quota(100000, 0), 0);
}

static void one_cpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        _exit(1);
    int first = 0;
    while (!CPU_ISSET(first, &set))
        first++;
    CPU_ZERO(&set);
    CPU_SET(first, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        _exit(2);
    if (evo_cpus_usable() != 1)
        _exit(3);
}

static void the_affinity_mask_decides_not_the_machine(void **state)
{
    (void)state;
    cpu_set_t set;
    assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
    assert_true(evo_cpus_usable() >= 1 && evo_cpus_usable() <= (unsigned)CPU_COUNT(&set));
    in_child(one_cpu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_soft_limit_is_raised_and_given_back),
        cmocka_unit_test(a_farm_the_hard_limit_cannot_hold_is_refused_in_one_line),
        cmocka_unit_test(a_quota_counts_whole_cpus_rounded_up),
        cmocka_unit_test(the_affinity_mask_decides_not_the_machine),
    };
    return EVO_RUN_TESTS(tests);
}
