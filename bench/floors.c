/* floors.c — what one round trip between two processes of this machine
 * costs at the bottom of each transport the farm uses, for the latency
 * budget of docs/performance.md: a Unix socketpair, a pair of pipes (the
 * worker and its evaluator child), and ZeroMQ DEALER <-> ROUTER over tcp
 * and ipc, each with and without CURVE (the farm's hops). A forked child
 * echoes each 64-byte message; prints the median and p99 of COUNT round
 * trips after 200 warm-ups. Usage: floors MODE [COUNT]
 * MODE: socketpair | pipes | tcp | tcp-curve | ipc | ipc-curve */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "util/clock.h"

#define SIZE 64

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *mode, int64_t *ns, int count)
{
    qsort(ns, (size_t)count, sizeof *ns, cmp);
    printf("floor %s: round trip median %.1f us, p99 %.1f us (%d samples)\n", mode, ns[count / 2] / 1000.0,
           ns[count * 99 / 100] / 1000.0, count);
}

static int full(int fd, char *p, int write_it)
{
    for (size_t done = 0; done < SIZE;) {
        ssize_t n = write_it ? write(fd, p + done, SIZE - done) : read(fd, p + done, SIZE - done);
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* Descriptor pairs: the child echoes from rfd to wfd. */
static int fds(const char *mode, int count, int64_t *ns)
{
    int a[2], b[2];
    char msg[SIZE] = "x";
    if (strcmp(mode, "socketpair") == 0) {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) < 0)
            return -1;
        b[0] = a[1], b[1] = a[0];
    } else if (pipe(a) < 0 || pipe(b) < 0) {
        return -1;
    }
    /* socketpair: the parent reads and writes a[0], the child a[1]; pipes:
     * the parent writes a[1] and reads b[0], the child the other ends */
    int to_child = strcmp(mode, "socketpair") == 0 ? a[0] : a[1],
        in_child = strcmp(mode, "socketpair") == 0 ? a[1] : a[0];
    int to_parent = strcmp(mode, "socketpair") == 0 ? a[1] : b[1],
        in_parent = strcmp(mode, "socketpair") == 0 ? a[0] : b[0];
    pid_t pid = fork();
    if (pid == 0) {
        while (full(in_child, msg, 0) == 0 && full(to_parent, msg, 1) == 0)
            ;
        _exit(0);
    }
    for (int i = -200; i < count; i++) {
        int64_t t = evo_now_ns();
        if (full(to_child, msg, 1) < 0 || full(in_parent, msg, 0) < 0)
            return -1;
        if (i >= 0)
            ns[i] = evo_now_ns() - t;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 0;
}

static int zmq_pair(const char *mode, int count, int64_t *ns)
{
    int curve = strstr(mode, "curve") != NULL, one = 1;
    char endpoint[256], server_public[41], server_secret[41], client_public[41], client_secret[41];
    if (strncmp(mode, "tcp", 3) == 0)
        snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", 20000 + (int)(getpid() % 20000));
    else
        snprintf(endpoint, sizeof endpoint, "ipc:///tmp/evo-floor-%d", (int)getpid());
    zmq_curve_keypair(server_public, server_secret);
    zmq_curve_keypair(client_public, client_secret);
    pid_t pid = fork();
    if (pid == 0) { /* the echoing ROUTER */
        void *ctx = zmq_ctx_new(), *r = zmq_socket(ctx, ZMQ_ROUTER);
        if (curve) {
            zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof one);
            zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, server_secret, 40);
        }
        if (zmq_bind(r, endpoint) < 0)
            _exit(1);
        for (;;) {
            zmq_msg_t id, body;
            zmq_msg_init(&id);
            zmq_msg_init(&body);
            if (zmq_msg_recv(&id, r, 0) < 0 || zmq_msg_recv(&body, r, 0) < 0)
                _exit(1);
            zmq_msg_send(&id, r, ZMQ_SNDMORE);
            zmq_msg_send(&body, r, 0);
        }
    }
    void *ctx = zmq_ctx_new(), *d = zmq_socket(ctx, ZMQ_DEALER);
    if (curve) {
        zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, server_public, 40);
        zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, client_public, 40);
        zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, client_secret, 40);
    }
    zmq_connect(d, endpoint);
    char msg[SIZE] = "x";
    int rc = 0;
    for (int i = -200; i < count && rc == 0; i++) {
        int64_t t = evo_now_ns();
        if (zmq_send(d, msg, SIZE, 0) != SIZE || zmq_recv(d, msg, SIZE, 0) != SIZE)
            rc = -1;
        if (i >= 0)
            ns[i] = evo_now_ns() - t;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    int zero = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(d);
    zmq_ctx_term(ctx);
    if (strncmp(endpoint, "ipc://", 6) == 0)
        unlink(endpoint + 6);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: floors socketpair|pipes|tcp|tcp-curve|ipc|ipc-curve [COUNT]\n");
        return 2;
    }
    int count = argc > 2 ? atoi(argv[2]) : 5000;
    int64_t *ns = calloc((size_t)(count > 0 ? count : 1), sizeof *ns);
    if (ns == NULL || count <= 0)
        return 2;
    int rc = strcmp(argv[1], "socketpair") == 0 || strcmp(argv[1], "pipes") == 0 ? fds(argv[1], count, ns)
                                                                                 : zmq_pair(argv[1], count, ns);
    if (rc < 0) {
        fprintf(stderr, "floors %s: failed\n", argv[1]);
        return 1;
    }
    report(argv[1], ns, count);
    free(ns);
    return 0;
}
