/* modules.c — runs the site's `module` command in a child shell and reads
 * back the environment it leaves (env -0), see modules.h. */
#include "modules.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUTPUT_MAX (4 << 20)

static const char script[] = ". \"$0\" > /dev/null 2>&1 || { echo \"cannot source $0\" >&2; exit 97; }\n"
                             "module load \"$@\" >&2 || exit 98\n"
                             "exec env -0\n";

/* In the child: become the effective user for real (bash would otherwise
 * reset the effective id to the real one, root, inside slurmstepd). */
static void child(const char *init, char *const *modules, char *const *envp, int out, int errfd)
{
    uid_t uid = geteuid();
    gid_t gid = getegid();
    size_t n = 0;
    while (modules[n])
        n++;
    char **argv = calloc(n + 5, sizeof *argv);
    if (argv == NULL || dup2(out, 1) < 0 || dup2(errfd, 2) < 0 ||
        (getuid() != uid && (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)))
        _exit(96);
    argv[0] = "bash";
    argv[1] = "-c";
    argv[2] = (char *)script;
    argv[3] = (char *)init;
    memcpy(argv + 4, modules, n * sizeof *argv);
    execve("/bin/bash", argv, envp);
    _exit(95);
}

/* Reads both pipes to the end into growable buffers. */
static int drain(int fds[2], char *bufs[2], size_t lens[2])
{
    size_t caps[2] = {0, 0};
    int open_fds = 2;
    while (open_fds) {
        struct pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < 2; i++) {
            if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (lens[i] + 4096 + 1 > caps[i]) {
                char *b = lens[i] + 8192 > OUTPUT_MAX ? NULL : realloc(bufs[i], caps[i] = lens[i] + 8192);
                if (b == NULL)
                    return -1;
                bufs[i] = b;
            }
            ssize_t got = read(fds[i], bufs[i] + lens[i], 4096);
            if (got > 0) {
                lens[i] += (size_t)got;
            } else if (got == 0 || errno != EINTR) {
                close(fds[i]);
                fds[i] = p[i].fd = -1;
                open_fds--;
            }
        }
    }
    return 0;
}

/* "NAME=value\0NAME=value\0" into a NULL-terminated array of pointers into it. */
static char **split_env(char *data, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += data[i] == '\0';
    char **list = calloc(count + 1, sizeof *list);
    for (size_t i = 0, k = 0; list && i < len; i += strlen(data + i) + 1)
        list[k++] = data + i;
    return list;
}

/* The last non-empty line of the module command's messages. */
static void last_line(const char *text, size_t len, char *out, size_t size)
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
        len--;
    size_t start = len;
    while (start && text[start - 1] != '\n')
        start--;
    snprintf(out, size, "%.*s", (int)(len - start), text + start);
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
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0 && (pid < 0 || i == 1))
            close(out_pipe[i]);
        if (err_pipe[i] >= 0 && (pid < 0 || i == 1))
            close(err_pipe[i]);
    }
    fds[0] = out_pipe[0];
    fds[1] = err_pipe[0];
    errno = saved;
    return pid;
}

int evo_modules_load(const char *init, char *const *modules, char *const *envp, const char *host,
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
    int drained = drain(fds, bufs, lens);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (drained < 0) {
        snprintf(err, err_size, "module load %s on %s: its output is too large or unreadable", names, host);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        last_line(bufs[1] ? bufs[1] : "", lens[1], message, sizeof message);
        snprintf(err, err_size, "module load %s failed on %s: %s", names, host,
                 message[0] ? message
                 : WIFEXITED(status) && WEXITSTATUS(status) == 97 ? "cannot source the modules init script"
                                                                  : "the module command failed");
    } else {
        char **after = split_env(bufs[0] ? bufs[0] : "", lens[0]);
        rc = after ? evo_env_diff(envp, after, out) : -1;
        free(after);
        if (rc < 0)
            snprintf(err, err_size, "module load %s on %s: out of memory", names, host);
    }
    free(bufs[0]);
    free(bufs[1]);
    return rc;
}
