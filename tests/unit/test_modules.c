/* test_modules.c — the module-load shell the plugin runs inside slurmstepd
 * (plugin/modules.h), with real bash and init scripts that misbehave in
 * each way a site's modulefiles can: it must come back in time with one
 * line, leave nothing running, and never trust what it reads. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "modules.h"
#include "util/clock.h"

static char dir[64], init[128], note[128];

static int make_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/evo-modules-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(init, sizeof init, "%s/init.sh", dir);
    snprintf(note, sizeof note, "%s/note", dir);
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* An init script whose `module` function is body. */
static void module_is(const char *body)
{
    FILE *f = fopen(init, "w");
    assert_non_null(f);
    fprintf(f, "module() {\n%s\n}\n", body);
    fclose(f);
}

static char *const env[] = {"PATH=/usr/bin:/bin", "KEEP=1", NULL};
static char *const names[] = {"testmod", NULL};

/* Runs the load; its rc, the edits in *out and the message in err. */
static int load(int timeout_ms, struct evo_env_edits *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    return evo_modules_load(init, names, env, "node9", timeout_ms, out, err, err_size);
}

static const char *edit_of(const struct evo_env_edits *e, const char *name)
{
    for (size_t i = 0; i < e->count; i++)
        if (strcmp(e->items[i].name, name) == 0)
            return e->items[i].value ? e->items[i].value : "(unset)";
    return NULL;
}

static pid_t noted_pid(void)
{
    FILE *f = fopen(note, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

/* Dead: no such process, or a zombie waiting for whoever adopted it (the
 * container's PID 1 may reap late). */
static int gone(pid_t pid)
{
    char path[64], stat_line[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 1;
    int ok = fgets(stat_line, sizeof stat_line, f) != NULL;
    fclose(f);
    const char *paren = strrchr(stat_line, ')');
    return ok && paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

static void loads_and_diffs(void **state)
{
    (void)state;
    struct evo_env_edits e;
    char err[512];
    module_is("export EVO_M=\"$2\"; unset KEEP");
    if (load(5000, &e, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(edit_of(&e, "EVO_M"), "testmod");
    assert_string_equal(edit_of(&e, "KEEP"), "(unset)");
    assert_null(edit_of(&e, "PATH"));
    evo_env_edits_free(&e);
}

static void failure_names_the_module_systems_line(void **state)
{
    (void)state;
    struct evo_env_edits e;
    char err[512];
    module_is("echo \"ERROR: Unable to locate a modulefile for '$2'\" >&2; return 1");
    assert_int_equal(load(5000, &e, err, sizeof err), -1);
    assert_string_equal(err, "module load testmod failed on node9: ERROR: Unable to locate a modulefile for 'testmod'");
    evo_env_edits_free(&e);
}

/* Lmod says why in a paragraph, with a terminal colour sequence: one
 * line comes back, every line joined, the sequence gone. */
static void lmods_paragraph_comes_back_as_one_line(void **state)
{
    (void)state;
    struct evo_env_edits e;
    char err[512];
    module_is("printf '\\n\\033[1;31mLmod has detected the following error:\\033[0m  The following module(s) are "
              "unknown: \"%s\"\\n\\nPlease check the spelling or version number.\\n' \"$2\" >&2; return 1");
    assert_int_equal(load(5000, &e, err, sizeof err), -1);
    assert_string_equal(err,
                        "module load testmod failed on node9: Lmod has detected the following error: The "
                        "following module(s) are unknown: \"testmod\" Please check the spelling or version number.");
    evo_env_edits_free(&e);
}

static void a_hang_is_killed_with_its_group(void **state)
{
    (void)state;
    struct evo_env_edits e;
    char err[512], body[256];
    snprintf(body, sizeof body, "sleep 100 & echo $! > %s; wait", note);
    module_is(body);
    int64_t start = evo_now_ms();
    assert_int_equal(load(1000, &e, err, sizeof err), -1);
    int64_t took = evo_now_ms() - start;
    assert_true(took >= 1000 && took < 3000);
    assert_string_equal(err, "module load testmod on node9: no answer within 1 s (killed)");
    pid_t sleeper = noted_pid();
    assert_true(sleeper > 0);
    usleep(100000);
    assert_true(gone(sleeper)); /* the shell's child went with it */
    evo_env_edits_free(&e);
}

static void a_process_left_behind_is_killed(void **state)
{
    (void)state;
    struct evo_env_edits e;
    char err[512], body[256];
    snprintf(body, sizeof body, "sleep 100 & echo $! > %s; export EVO_M=2", note);
    module_is(body);
    int64_t start = evo_now_ms();
    assert_int_equal(load(10000, &e, err, sizeof err), 0); /* the load itself worked */
    assert_true(evo_now_ms() - start < 3000);              /* not waiting for the sleeper */
    assert_string_equal(edit_of(&e, "EVO_M"), "2");
    pid_t sleeper = noted_pid();
    assert_true(sleeper > 0);
    usleep(100000);
    assert_true(gone(sleeper));
    evo_env_edits_free(&e);
}

/* Makes close_range answer ENOSYS in this process and its children, as
 * some kernels and sandboxes do. 0, or -1 when seccomp is refused. */
static int refuse_close_range(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close_range, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return -1;
    return 0;
}

/* slurmstepd blocks signals and holds descriptors: the shell sees neither,
 * with close_range or (without_close_range) without it. The load runs in
 * a child process so the seccomp filter stays there. */
static void check_clean_shell(int without_close_range)
{
    char body[512], text[4096] = "";
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &old);
    /* no O_CLOEXEC, like a server's socket; high, away from bash's own */
    int null = open("/dev/null", O_RDONLY);
    assert_true(null > 2);
    int leaked = fcntl(null, F_DUPFD, 100);
    close(null);
    assert_true(leaked >= 100);
    snprintf(body, sizeof body, "grep SigBlk /proc/self/status > %s; ls /proc/$$/fd | tr '\\n' ' ' >> %s", note, note);
    module_is(body);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct evo_env_edits e;
        char err[512];
        if (without_close_range && refuse_close_range() < 0)
            _exit(3);
        if (without_close_range && close_range(3, 3, 0) == 0)
            _exit(4); /* the filter did not take */
        _exit(load(5000, &e, err, sizeof err) == 0 ? 0 : 5);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    sigprocmask(SIG_SETMASK, &old, NULL);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    FILE *f = fopen(note, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *blocked = strstr(text, "SigBlk:\t");
    assert_non_null(blocked);
    unsigned long long mask = strtoull(blocked + 8, NULL, 16); /* bash itself may hold SIGCHLD */
    assert_false(mask & (1ull << (SIGTERM - 1)));
    assert_false(mask & (1ull << (SIGINT - 1)));
    char fd_text[16];
    snprintf(fd_text, sizeof fd_text, " %d ", leaked);
    assert_non_null(strstr(text, " 2 ")); /* the listing is there */
    assert_null(strstr(text, fd_text));
    close(leaked);
}

static void clean_signal_mask_and_descriptors(void **state)
{
    (void)state;
    check_clean_shell(0);
}

/* CI's machine had no close_range: the descriptor leaked to the shell. */
static void clean_descriptors_without_close_range(void **state)
{
    (void)state;
    check_clean_shell(1);
}

/* An `env` on the module's PATH that prints garbage without a final NUL. */
static void garbage_from_env_is_not_trusted(void **state)
{
    (void)state;
    struct evo_env_edits e;
    char err[512], body[512];
    snprintf(body, sizeof body,
             "printf '#!/bin/sh\\nprintf \"X=1\\\\0junk\\\\0=nameless\\\\0Y=2\"\\n' > %s/env; chmod +x %s/env; "
             "export PATH=%s:$PATH",
             dir, dir, dir);
    module_is(body);
    assert_int_equal(load(5000, &e, err, sizeof err), -1);
    assert_string_equal(err, "module load testmod on node9: `env -0` after it printed something that is not an "
                             "environment (a module put another env first on PATH?)");
    assert_int_equal(e.count, 0); /* nothing of it reaches the tasks */
    evo_env_edits_free(&e);
}

static void split_env_keeps_only_entries(void **state)
{
    (void)state;
    char data[32];
    int garbage = 0;
    memcpy(data, "A=1\0junk\0=x\0B=2", 15); /* no final NUL */
    char **list = evo_modules_split_env(data, 15, &garbage);
    assert_non_null(list);
    assert_string_equal(list[0], "A=1");
    assert_string_equal(list[1], "B=2");
    assert_null(list[2]);
    assert_true(garbage);
    free(list);
    memcpy(data, "A=1\0B=\0", 7);
    list = evo_modules_split_env(data, 7, &garbage);
    assert_string_equal(list[1], "B=");
    assert_false(garbage);
    free(list);
    char empty[1];
    list = evo_modules_split_env(empty, 0, &garbage);
    assert_non_null(list);
    assert_null(list[0]);
    assert_false(garbage);
    free(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(loads_and_diffs, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(failure_names_the_module_systems_line, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(lmods_paragraph_comes_back_as_one_line, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_hang_is_killed_with_its_group, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_process_left_behind_is_killed, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(clean_signal_mask_and_descriptors, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(clean_descriptors_without_close_range, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(garbage_from_env_is_not_trusted, make_dir, remove_dir),
        cmocka_unit_test(split_env_keeps_only_entries),
    };
    return EVO_RUN_TESTS(tests);
}
