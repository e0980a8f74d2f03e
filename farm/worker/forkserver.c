/* forkserver.c — a worker's side of its node's Python fork server (see
 * forkserver.h): find or start the server, ask it for a child, hear of
 * the child's end. */
#include "forkserver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/fds.h"
#include "util/io.h"
#include "util/names.h"
#include "wire/stream.h"

extern char **environ;

/* Starts the server, detached from us (a grandchild: nobody here waits
 * for it, and it outlives this worker), and waits for its "ready" line on
 * its stdout. 0, or -1 with err. */
static int start_server(char *const argv[], const char *socket_path, const char *lock_path, void (*prepare)(void *),
                        void *arg, int wait_ms, char *err, size_t err_size)
{
    int ready[2];
    size_t argc = 0;
    while (argv[argc])
        argc++;
    const char **full = calloc(argc + 3, sizeof *full);
    if (full == NULL || pipe2(ready, O_CLOEXEC) < 0) {
        snprintf(err, err_size, "cannot start the fork server: %s", strerror(errno));
        free(full);
        return -1;
    }
    memcpy(full, argv, argc * sizeof *full);
    full[argc] = socket_path;
    full[argc + 1] = lock_path;
    pid_t pid = fork();
    if (pid == 0) { /* between fork and exec: async-signal-safe calls only */
        if (fork() != 0)
            _exit(0);
        setsid();
        if (prepare)
            prepare(arg);
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(ready[1], 1) < 0)
            _exit(127);
        evo_fds_close_from(3, 0);
        execvp(full[0], (char *const *)full);
        _exit(127);
    }
    free(full);
    close(ready[1]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    char line[16];
    ssize_t n = 0;
    struct pollfd p = {ready[0], POLLIN, 0};
    int64_t until = evo_now_ms() + wait_ms;
    for (int64_t now = evo_now_ms(); pid > 0 && now < until; now = evo_now_ms()) {
        if (poll(&p, 1, (int)(until - now)) < 0 && errno != EINTR)
            break;
        if (p.revents) {
            n = read(ready[0], line, sizeof line - 1);
            break;
        }
    }
    close(ready[0]);
    if (n >= 5 && memcmp(line, "ready", 5) == 0)
        return 0;
    snprintf(err, err_size, "the fork server (%s) %s", argv[0],
             pid < 0               ? "could not be started"
             : n == 0 && p.revents ? "exited before it was ready (its error above)"
                                   : "was not ready in time");
    return -1;
}

int evo_forkserver_connect(struct evo_forkserver *s, const char *dir, char *const argv[], void (*prepare)(void *),
                           void *arg, int wait_ms, char *err, size_t err_size)
{
    char socket_path[256], lock_path[256], host[64];
    const char *driver_server = getenv(EVO_VAR_FORKSERVER);
    s->fd = -1;
    if (driver_server && driver_server[0] && (s->fd = evo_unix_connect(driver_server, err, err_size)) >= 0)
        return 0; /* the one a driver forked from itself, while it lives; else this node's */
    /* the host in the names: a directory under a /tmp that several nodes
     * share (a site's, the test cluster's) holds one server per node */
    if (gethostname(host, sizeof host) < 0)
        strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    /* a socket's path has 108 bytes: the short name, its last 32 bytes
     * at most (where node names differ: node0001, node0002) */
    host[strcspn(host, ".")] = '\0';
    size_t n = strlen(host);
    if (n > 32)
        memmove(host, host + n - 32, 33);
    for (char *c = host; *c; c++)
        if (*c == '/')
            *c = '_';
    if ((size_t)snprintf(socket_path, sizeof socket_path, "%s/.forkserver-%s", dir, host) >= sizeof socket_path ||
        (size_t)snprintf(lock_path, sizeof lock_path, "%s/.forkserver-%s.lock", dir, host) >= sizeof lock_path) {
        snprintf(err, err_size, "the fork server's directory %s: name too long", dir);
        return -1;
    }
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) < 0) {
        snprintf(err, err_size, "cannot lock %s: %s", lock_path, strerror(errno));
        if (lock >= 0)
            close(lock);
        return -1;
    }
    s->fd = evo_unix_connect(socket_path, err, err_size);
    if (s->fd < 0 && start_server(argv, socket_path, lock_path, prepare, arg, wait_ms, err, err_size) == 0)
        s->fd = evo_unix_connect(socket_path, err, err_size);
    close(lock); /* the server, if it was leaving, sees our connection first */
    return s->fd < 0 ? -1 : 0;
}

/* Reads one i32 within wait_ms: 0, -1 after wait_ms, 1 at EOF or error. */
static int read_i32(int fd, int wait_ms, int32_t *value)
{
    unsigned char b[4];
    size_t got = 0;
    int64_t until = evo_now_ms() + wait_ms;
    while (got < sizeof b) {
        struct pollfd p = {fd, POLLIN, 0};
        int64_t left = until - evo_now_ms();
        if (left < 0)
            left = 0;
        int rc = poll(&p, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            return -1;
        ssize_t n = rc < 0 ? -1 : read(fd, b + got, sizeof b - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 1;
        got += (size_t)n;
    }
    *value = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    return 0;
}

pid_t evo_forkserver_spawn(struct evo_forkserver *s, int child_in, int child_out, char *err, size_t err_size)
{
    struct evo_buf env = {0};
    evo_buf_put_u32(&env, 0);
    for (char **e = environ; *e; e++)
        evo_buf_put(&env, *e, strlen(*e) + 1);
    uint32_t size = (uint32_t)(env.len - 4);
    for (int i = 0; i < 4 && !env.failed; i++)
        env.data[i] = (unsigned char)(size >> (8 * i));
    int fds[3] = {child_in, child_out, 2};
    char control[CMSG_SPACE(sizeof fds)];
    memset(control, 0, sizeof control);
    struct iovec iov = {env.data, env.len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    int32_t pid = 0;
    ssize_t sent = env.failed ? -1 : sendmsg(s->fd, &m, MSG_NOSIGNAL);
    int rc = -1;
    if (sent >= 0 && (size_t)sent < env.len)
        sent = evo_write_all(s->fd, env.data + sent, env.len - (size_t)sent) < 0 ? -1 : (ssize_t)env.len;
    if (sent >= 0 && (rc = read_i32(s->fd, 30000, &pid)) == 0 && pid > 0) {
        evo_buf_free(&env);
        return (pid_t)pid;
    }
    snprintf(err, err_size, "the fork server %s",
             env.failed ? "cannot be asked: out of memory"
             : sent < 0 ? "is gone"
             : rc != 0  ? "did not answer"
                        : strerror(-pid));
    evo_buf_free(&env);
    evo_forkserver_close(s);
    return -1;
}

int evo_forkserver_child_ended(const struct evo_forkserver *s)
{
    struct pollfd p = {s->fd, POLLIN, 0};
    return s->fd >= 0 && poll(&p, 1, 0) > 0;
}

int evo_forkserver_wait(struct evo_forkserver *s, int wait_ms, int *status)
{
    int32_t value;
    int rc = s->fd < 0 ? 1 : read_i32(s->fd, wait_ms, &value);
    if (rc == 0)
        *status = value;
    else if (rc == 1)
        evo_forkserver_close(s);
    return rc;
}

void evo_forkserver_close(struct evo_forkserver *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}
