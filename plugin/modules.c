/* modules.c — runs the site's `module` command in a child shell and reads
 * back the environment it leaves (env -0), see modules.h. The shell runs
 * inside slurmstepd, so nothing it does may hang or hurt the step: it gets
 * a clean signal mask and no inherited descriptors, runs in its own process
 * group, which is killed when the shell overruns its time or has ended but
 * left something behind holding the pipes; whatever bytes come back are
 * parsed as NUL-separated entries without trusting them. */
#include "modules.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fds.h"

#define OUTPUT_MAX    (4 << 20)
#define AFTER_EXIT_MS 500 /* reading on after the shell ended, for what it wrote last */

static const char script[] = ". \"$0\" > /dev/null 2>&1 || { echo \"cannot source $0\" >&2; exit 97; }\n"
                             "module load \"$@\" >&2 || exit 98\n"
                             "exec env -0\n";

/* In the child: a process group of its own, default signals and an empty
 * mask (slurmstepd blocks several), only stdin (/dev/null), the two pipes
 * and nothing else open (slurmstepd holds PMIx and Slurm sockets), and the
 * effective user for real (bash would otherwise reset the effective id to
 * the real one, root, inside slurmstepd). */
static void child(const char *init, char *const *modules, char *const *envp, int out, int errfd)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    sigset_t none;
    size_t n = 0;
    setpgid(0, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    while (modules[n])
        n++;
    char **argv = calloc(n + 5, sizeof *argv);
    int null = open("/dev/null", O_RDONLY);
    if (argv == NULL || null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0 ||
        (getuid() != uid && (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)))
        _exit(96);
    evo_fds_close_from(3, 0);
    argv[0] = "bash";
    argv[1] = "-c";
    argv[2] = (char *)script;
    argv[3] = (char *)init;
    memcpy(argv + 4, modules, n * sizeof *argv);
    execve("/bin/bash", argv, envp);
    _exit(95);
}

/* Reads what is there on fd into the growable buffer. 1 while open, 0 at
 * its end, -1 when the output is too large. */
static int take(int fd, char **buf, size_t *len, size_t *cap)
{
    if (*len + 4096 + 1 > *cap) {
        char *b = *len + 8192 > OUTPUT_MAX ? NULL : realloc(*buf, *len + 8192);
        if (b == NULL)
            return -1;
        *buf = b;
        *cap = *len + 8192;
    }
    ssize_t got = read(fd, *buf + *len, 4096);
    if (got > 0)
        *len += (size_t)got;
    return got > 0 || (got < 0 && errno == EINTR) ? 1 : 0;
}

/* Reads both pipes until both end, the shell has been gone AFTER_EXIT_MS,
 * or the deadline passes; reaps the shell into *status. Kills the whole
 * group on the way out so nothing it started outlives it. 0, 1 (timed
 * out: the shell was killed), or -1 (output too large). */
static int drain(pid_t pid, int fds[2], char *bufs[2], size_t lens[2], int timeout_ms, int *status)
{
    size_t caps[2] = {0, 0};
    int64_t deadline = evo_now_ms() + timeout_ms, exited_at = 0;
    int rc = 0, reaped = 0;
    while (fds[0] >= 0 || fds[1] >= 0) {
        int64_t now = evo_now_ms(), until = exited_at ? exited_at + AFTER_EXIT_MS : deadline;
        if (!reaped && waitpid(pid, status, WNOHANG) == pid) {
            reaped = 1;
            exited_at = now;
            until = now + AFTER_EXIT_MS;
        }
        if (now >= until) {
            rc = reaped ? 0 : 1; /* after the exit: only leftovers hold the pipes */
            break;
        }
        struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
        int64_t wait = until - now;
        if (poll(p, 2, wait > 100 ? 100 : (int)wait) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int more = take(fds[i], &bufs[i], &lens[i], &caps[i]);
            if (more < 0)
                rc = -1;
            if (more <= 0) {
                close(fds[i]);
                fds[i] = -1;
            }
        }
        if (rc < 0)
            break;
    }
    /* Both pipes ended: the shell is on its way out; give it until the
     * deadline to get there before the group is killed. */
    while (!reaped && rc == 0 && evo_now_ms() < deadline) {
        if (waitpid(pid, status, WNOHANG) == pid)
            reaped = 1;
        else
            usleep(2000);
    }
    if (!reaped && rc == 0)
        rc = 1;
    kill(-pid, SIGKILL); /* the shell if it overran, and whatever it left behind */
    if (!reaped)
        while (waitpid(pid, status, 0) < 0 && errno == EINTR)
            ;
    return rc;
}

char **evo_modules_split_env(char *data, size_t len, int *garbage)
{
    size_t count = 0;
    *garbage = len > 0 && data[len - 1] != '\0';
    data[len] = '\0'; /* the caller leaves room: the last entry may lack its NUL */
    for (size_t i = 0; i <= len; i++)
        count += data[i] == '\0';
    char **list = calloc(count + 1, sizeof *list);
    size_t k = 0;
    for (size_t i = 0; list && i < len; i += strlen(data + i) + 1) {
        const char *eq = strchr(data + i, '=');
        if (eq && eq != data + i) /* NAME=value; anything else is garbage */
            list[k++] = data + i;
        else
            *garbage = 1;
    }
    return list;
}

/* The module command's messages as one line: Tcl's modulecmd says why in
 * one line, Lmod in a paragraph ("Lmod has detected the following
 * error: ..." over several lines, then advice): every line joined by one
 * space, runs of blanks and control characters (terminal escapes
 * included) squeezed to one space, cut with "..." where it does not fit
 * in out. */
static void one_line(const char *text, size_t len, char *out, size_t size)
{
    size_t used = 0;
    int blank = 1; /* no space at the start */
    for (size_t i = 0; i < len && size > 4; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (c == 0x1b) /* ESC [ ... letter: a terminal sequence */
                while (i + 1 < len && !((text[i + 1] | 0x20) >= 'a' && (text[i + 1] | 0x20) <= 'z'))
                    i++;
            if (c == 0x1b && i + 1 < len)
                i++;
            if (!blank)
                out[used++] = ' ';
            blank = 1;
        } else {
            out[used++] = (char)c;
            blank = 0;
        }
        if (used + 4 >= size) {
            if (i + 1 < len) {
                memcpy(out + used, "...", 3);
                used += 3;
            }
            break;
        }
    }
    while (used && out[used - 1] == ' ')
        used--;
    if (size)
        out[used] = '\0';
}

/* Starts the module shell; its stdout and stderr come back on fds[0] and
 * fds[1]. The pid, or -1 with errno and nothing left open. */
static pid_t start(const char *init, char *const *modules, char *const *envp, int fds[2])
{
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    pid_t pid = -1;
    if (pipe2(out_pipe, O_CLOEXEC) == 0 && pipe2(err_pipe, O_CLOEXEC) == 0 && (pid = fork()) == 0)
        child(init, modules, envp, out_pipe[1], err_pipe[1]);
    int saved = errno;
    if (pid > 0)
        setpgid(pid, pid); /* also here: no race with the kill of the group */
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0 && (pid < 0 || i == 1))
            close(out_pipe[i]);
        if (err_pipe[i] >= 0 && (pid < 0 || i == 1))
            close(err_pipe[i]);
    }
    fds[0] = pid < 0 ? -1 : out_pipe[0];
    fds[1] = pid < 0 ? -1 : err_pipe[0];
    errno = saved;
    return pid;
}

int evo_modules_load(const char *init, char *const *modules, char *const *envp, const char *host, int timeout_ms,
                     struct evo_env_edits *out, char *err, size_t err_size)
{
    int fds[2], status = 0, rc = -1;
    char *bufs[2] = {NULL, NULL}, message[512], names[512] = "";
    size_t lens[2] = {0, 0};
    for (size_t i = 0, used = 0; modules[i] && used < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? " " : "", modules[i]);
    pid_t pid = start(init, modules, envp, fds);
    if (pid < 0) {
        snprintf(err, err_size, "module load %s on %s: %s", names, host, strerror(errno));
        return -1;
    }
    int drained = drain(pid, fds, bufs, lens, timeout_ms, &status);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (drained > 0) {
        snprintf(err, err_size, "module load %s on %s: no answer within %d s (killed)", names, host, timeout_ms / 1000);
    } else if (drained < 0) {
        snprintf(err, err_size, "module load %s on %s: its output is larger than %d MiB", names, host,
                 OUTPUT_MAX >> 20);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        one_line(bufs[1] ? bufs[1] : "", lens[1], message, sizeof message);
        snprintf(err, err_size, "module load %s failed on %s: %s", names, host,
                 message[0]                                       ? message
                 : WIFEXITED(status) && WEXITSTATUS(status) == 97 ? "cannot source the modules init script"
                                                                  : "the module command failed");
    } else {
        static char empty[1];
        int garbage = 0;
        char **after = evo_modules_split_env(bufs[0] ? bufs[0] : empty, bufs[0] ? lens[0] : 0, &garbage);
        int unusable = after && (garbage || after[0] == NULL);
        rc = after && !unusable ? evo_env_diff(envp, after, out) : -1;
        free(after);
        if (unusable)
            snprintf(err, err_size,
                     "module load %s on %s: `env -0` after it printed something that is not an "
                     "environment (a module put another env first on PATH?)",
                     names, host);
        else if (rc < 0)
            snprintf(err, err_size, "module load %s on %s: out of memory", names, host);
    }
    free(bufs[0]);
    free(bufs[1]);
    return rc;
}
