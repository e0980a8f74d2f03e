/* scale.c — one broker against many workers: the broker runs in
 * its own process; simulated workers speak the real protocol over ZeroMQ
 * with CURVE (one DEALER each, many per simulator process) and answer every
 * task at once with f = x[0]; the driver is a real C client. For each
 * number of workers it prints one line:
 *   connect    seconds until the broker counts every worker
 *   given work seconds from the start until every worker has had a task
 *              (a first map of 2 tasks per worker), and how many had one
 *   dispatch   tasks per second through the farm (a stream of submits)
 *   broker CPU microseconds of the broker process (user + system) per task,
 *              and of its own thread alone (without ZeroMQ's I/O thread)
 *   round trip p50 / p99 of one-vector maps with every worker connected
 *   broker RSS resident memory at the end, and its peak
 * Usage: scale [WORKERS...]   (default 100 1000 5000 10000)
 * Environment: SCALE_PROCS simulator processes (default 4), SCALE_TASKS
 * tasks of the dispatch phase (default max(200000, 50 per worker)),
 * SCALE_HEARTBEAT_MS the farm's heartbeat (default 1000, the farm's default),
 * SCALE_BATCH tasks per batch (default 4: fixed, so that every size sends
 * the same number of messages per task; 0 = the broker's automatic
 * sizing, whose batches shrink as workers grow). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/broker.h"
#include "evofarm/client.h"
#include "util/clock.h"
#include "wire/credentials.h"
#include "wire/proto.h"
#include "wire/transport.h"

static int HEARTBEAT_MS = 1000; /* SCALE_HEARTBEAT_MS */
#define LIVENESS 10             /* 2 cores shared by thousands of simulated workers */

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) < 0)
        return;
    struct rlimit want = {65536, r.rlim_max > 65536 ? r.rlim_max : 65536};
    if (setrlimit(RLIMIT_NOFILE, &want) < 0) { /* no CAP_SYS_RESOURCE: the hard limit */
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

/* The broker's process: serves until SIGTERM. Its endpoint goes up `fd`. */
static void run_broker(struct evo_credentials *creds, int fd)
{
    char err[256] = "cannot admit the key";
    const char *batch = getenv("SCALE_BATCH");
    struct evo_broker_options o = {"tcp://127.0.0.1:*",
                                   EVO_SCHEDULING_DYNAMIC,
                                   batch ? (unsigned)atoi(batch) : 4,
                                   2,
                                   0,
                                   HEARTBEAT_MS,
                                   LIVENESS,
                                   0,
                                   NULL,
                                   EVO_TASKS_ANY};
    struct evo_broker *b = evo_broker_create(&o, creds, err, sizeof err);
    if (b == NULL || evo_broker_admit(b, EVO_KEY_ALL, creds->client_public) < 0) {
        fprintf(stderr, "scale: %s\n", err);
        _exit(1);
    }
    if (write(fd, creds->endpoint, sizeof creds->endpoint) != (ssize_t)sizeof creds->endpoint)
        _exit(1);
    close(fd);
    while (!stopping && evo_broker_step(b, -1, 100) >= 0)
        ;
    evo_broker_destroy(b);
    _exit(0);
}

/* 0 once sent, -1 while the socket has no connection yet (EAGAIN). */
static int send_hello(void *s, uint32_t pid, struct evo_buf *buf)
{
    struct evo_hello h = {.kind = EVO_PEER_WORKER, .pid = pid};
    snprintf(h.host, sizeof h.host, "sim%u", pid / 2500);
    evo_buf_reset(buf);
    evo_proto_put_hello(buf, &h);
    return evo_message_send(s, NULL, 0, EVO_MSG_HELLO, buf);
}

/* Answers one TASKS body at once: f = x[0] (1 µs of "evaluation" each). */
static void answer(void *s, const void *body, size_t size, struct evo_buf *buf)
{
    struct evo_input_list l;
    if (evo_proto_get_inputs(body, size, &l) < 0)
        return;
    evo_buf_reset(buf);
    evo_buf_put_u64(buf, 1000 * (uint64_t)l.count);
    evo_proto_begin_results(buf, (uint32_t)l.count);
    for (size_t i = 0; i < l.count; i++)
        evo_proto_put_result_ok(buf, l.id[i], 1, &l.values[l.offset[i]]);
    evo_message_send(s, NULL, 0, EVO_MSG_RESULTS, buf);
    evo_input_list_free(&l);
}

/* A simulator process: n workers, pids first..first+n-1. At SIGTERM it
 * writes how many had work up `fd` and exits. */
static void run_simulator(const struct evo_credentials *creds, unsigned first, unsigned n, int fd)
{
    char err[256];
    struct evo_buf buf = {0};
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)n + 16);
    void **s = calloc(n, sizeof *s);
    zmq_pollitem_t *items = calloc(n, sizeof *items);
    int64_t *last_send = calloc(n, sizeof *last_send);
    char *served = calloc(n, 1);
    if (ctx == NULL || !s || !items || !last_send || !served)
        _exit(1);
    for (unsigned i = 0; i < n; i++) {
        if ((s[i] = evo_socket_connect_dealer(ctx, creds, err, sizeof err)) == NULL) {
            fprintf(stderr, "scale: simulated worker %u: %s\n", first + i, err);
            _exit(1);
        }
        items[i] = (zmq_pollitem_t){s[i], 0, ZMQ_POLLIN, 0};
        last_send[i] = evo_now_ms();
    }
    /* Every socket connects (and shakes hands) at once; each says HELLO as
     * soon as it has a connection. */
    char *greeted = calloc(n, 1);
    unsigned to_greet = n;
    int64_t next_beat = evo_now_ms() + HEARTBEAT_MS / 2;
    while (!stopping) {
        for (unsigned i = 0; to_greet && i < n; i++)
            if (!greeted[i] && send_hello(s[i], first + i, &buf) == 0)
                greeted[i] = 1, to_greet--;
        if (zmq_poll(items, (int)n, to_greet ? 2 : 100) < 0 && zmq_errno() != EINTR)
            break;
        int64_t now = evo_now_ms();
        for (unsigned i = 0; i < n; i++) {
            struct evo_message m;
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            while (evo_message_recv(s[i], 0, &m) >= 0) {
                size_t size;
                const void *body = evo_message_body(&m, &size);
                if (m.type == EVO_MSG_TASKS) {
                    answer(s[i], body, size, &buf);
                    served[i] = 1;
                    last_send[i] = now;
                } else if (m.type == EVO_MSG_RESET && greeted[i]) {
                    greeted[i] = 0, to_greet++; /* forgotten: again */
                }
                evo_message_close(&m);
            }
        }
        if (now >= next_beat) { /* the idle ones say they are alive */
            for (unsigned i = 0; i < n; i++)
                if (now - last_send[i] >= HEARTBEAT_MS / 2 &&
                    evo_message_send(s[i], NULL, 0, EVO_MSG_HEARTBEAT, NULL) == 0)
                    last_send[i] = now;
            next_beat = now + HEARTBEAT_MS / 4;
        }
    }
    unsigned had = 0;
    for (unsigned i = 0; i < n; i++) {
        had += served[i];
        evo_message_send(s[i], NULL, 0, EVO_MSG_BYE, NULL);
        int linger = 0;
        zmq_setsockopt(s[i], ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(s[i]);
    }
    if (write(fd, &had, sizeof had) != (ssize_t)sizeof had)
        _exit(1);
    zmq_ctx_term(ctx);
    _exit(0);
}

static pid_t spawn(void (*body)(void *), void *arg)
{
    pid_t pid = fork();
    if (pid == 0) {
        body(arg);
        _exit(0);
    }
    return pid;
}

/* /proc figures of a process: CPU (user + system) in µs, RSS and peak in KiB. */
static double cpu_us_of(const char *path)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    unsigned long utime = 0, stime = 0;
    if (f && fgets(line, sizeof line, f)) {
        const char *p = strrchr(line, ')'); /* fields after the command name */
        if (p)
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime);
    }
    if (f)
        fclose(f);
    return (double)(utime + stime) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/* The whole process's, or its main thread's alone (the broker's own work,
 * without ZeroMQ's I/O thread). */
static double cpu_us(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    return cpu_us_of(path);
}

static double main_thread_cpu_us(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)pid);
    return cpu_us_of(path);
}

static long status_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            kib = strtol(line + strlen(field), NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Maps n one-dimensional vectors; -1 if any failed. */
static int map_n(struct evo_client *c, size_t n)
{
    double *x = calloc(n ? n : 1, sizeof *x);
    struct evo_result *r = malloc(n * sizeof *r);
    long failed = -1;
    if (x && r) {
        for (size_t i = 0; i < n; i++)
            x[i] = (double)i;
        failed = evo_client_map(c, x, n, 1, r);
        for (size_t i = 0; failed == 0 && i < n; i++)
            failed = r[i].objectives[0] == (double)i ? 0 : -1;
    }
    free(x), free(r);
    return failed == 0 ? 0 : -1;
}

/* Streams `total` vectors through submit/wait; -1 on a failure. */
static int stream(struct evo_client *c, size_t total)
{
    static double x[10000];
    struct evo_result r;
    size_t sent = 0, got = 0;
    for (size_t i = 0; i < 10000; i++)
        x[i] = (double)i;
    while (got < total) {
        if (sent < total && evo_client_outstanding(c) < 100000) {
            size_t n = total - sent < 10000 ? total - sent : 10000;
            if (evo_client_submit(c, x, n, 1, NULL) < 0)
                return -1;
            sent += n;
        }
        int rc = 0;
        while (evo_client_outstanding(c) > 0 && (rc = evo_client_wait(c, &r, sent < total ? 0 : 1000)) == 1) {
            if (!r.ok)
                return -1;
            got++;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

struct sim_arg {
    struct evo_credentials *creds;
    unsigned first, n;
    int fd;
};

static void simulator_body(void *p)
{
    struct sim_arg *a = p;
    run_simulator(a->creds, a->first, a->n, a->fd);
}

struct broker_arg {
    struct evo_credentials *creds;
    int fd;
};

static void broker_body(void *p)
{
    struct broker_arg *a = p;
    run_broker(a->creds, a->fd);
}

static int one_size(unsigned workers, unsigned procs, size_t tasks)
{
    struct evo_credentials creds;
    int to_parent[2], served_pipe[2];
    char err[512];
    if (evo_credentials_generate(&creds) < 0 || pipe(to_parent) < 0 || pipe(served_pipe) < 0)
        return -1;
    struct broker_arg ba = {&creds, to_parent[1]};
    pid_t broker = spawn(broker_body, &ba);
    close(to_parent[1]);
    if (read(to_parent[0], creds.endpoint, sizeof creds.endpoint) != (ssize_t)sizeof creds.endpoint)
        return -1;
    close(to_parent[0]);
    struct evo_client *c = evo_client_connect(creds.endpoint, creds.server_public, creds.client_public,
                                              creds.client_secret, err, sizeof err);
    if (c == NULL) {
        fprintf(stderr, "scale: %s\n", err);
        return -1;
    }
    int64_t t0 = evo_now_ms();
    pid_t *sims = calloc(procs, sizeof *sims);
    for (unsigned p = 0; p < procs; p++) {
        struct sim_arg sa = {&creds, workers / procs * p, workers / procs + (p == procs - 1 ? workers % procs : 0),
                             served_pipe[1]};
        sims[p] = spawn(simulator_body, &sa);
    }
    close(served_pipe[1]);
    struct evo_stats *stats = malloc(sizeof *stats);
    stats->workers = 0;
    int64_t next_note = t0 + 1000;
    double cpu_start = cpu_us(broker);
    while (stats->workers < workers && evo_now_ms() - t0 < 120000) {
        if (evo_client_stats(c, stats) < 0 || stats->workers < workers)
            usleep(20000);
        if (getenv("SCALE_VERBOSE") && evo_now_ms() >= next_note) {
            fprintf(stderr, "scale: %.1f s: %u workers connected, broker CPU %.2f s\n",
                    (double)(evo_now_ms() - t0) / 1000.0, stats->workers, (cpu_us(broker) - cpu_start) / 1e6);
            next_note += 1000;
        }
    }
    double connect_cpu_s = (cpu_us(broker) - cpu_start) / 1e6;
    double connect_s = (double)(evo_now_ms() - t0) / 1000.0;
    int rc = map_n(c, 2 * (size_t)workers);
    if (rc)
        fprintf(stderr, "scale: first map: %s\n", evo_client_last_error(c));
    double work_s = (double)(evo_now_ms() - t0) / 1000.0;
    double cpu0 = cpu_us(broker), own0 = main_thread_cpu_us(broker);
    int64_t s0 = evo_now_ns();
    rc |= stream(c, tasks);
    double seconds = (double)(evo_now_ns() - s0) / 1e9, cpu = cpu_us(broker) - cpu0,
           own = main_thread_cpu_us(broker) - own0;
    int64_t rt[2000];
    for (int i = 0; i < 2000 && rc == 0; i++) {
        int64_t a = evo_now_ns();
        rc |= map_n(c, 1);
        rt[i] = evo_now_ns() - a;
    }
    qsort(rt, 2000, sizeof rt[0], compare_i64);
    long rss = status_kib(broker, "VmRSS:"), peak = status_kib(broker, "VmHWM:");
    evo_client_stats(c, stats);
    unsigned connected = stats->workers;
    evo_client_close(c);
    unsigned had = 0, h;
    for (unsigned p = 0; p < procs; p++)
        kill(sims[p], SIGTERM);
    for (unsigned p = 0; p < procs; p++)
        if (read(served_pipe[0], &h, sizeof h) == (ssize_t)sizeof h)
            had += h;
    for (unsigned p = 0; p < procs; p++)
        waitpid(sims[p], NULL, 0);
    kill(broker, SIGTERM);
    waitpid(broker, NULL, 0);
    close(served_pipe[0]);
    free(sims), free(stats);
    if (rc != 0) {
        fprintf(stderr, "scale: %u workers: a map failed\n", workers);
        return -1;
    }
    printf("scale %5u workers: connect %.2f s (broker CPU %.2f s), all given work %.2f s (%u/%u had a task, %u "
           "connected at the end), "
           "dispatch %.0f tasks/s, broker CPU %.2f us/task (its own thread %.2f), round trip p50 %.0f us p99 %.0f us, "
           "broker RSS %.1f MiB (peak %.1f MiB)\n",
           workers, connect_s, connect_cpu_s, work_s, had, workers, connected, (double)tasks / seconds,
           cpu / (double)tasks, own / (double)tasks, (double)rt[1000] / 1e3, (double)rt[1979] / 1e3,
           (double)rss / 1024.0, (double)peak / 1024.0);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned sizes[16] = {100, 1000, 5000, 10000}, nsizes = 4;
    if (argc > 1) {
        nsizes = 0;
        for (int i = 1; i < argc && nsizes < 16; i++)
            sizes[nsizes++] = (unsigned)strtoul(argv[i], NULL, 10);
    }
    const char *p = getenv("SCALE_PROCS"), *t = getenv("SCALE_TASKS");
    unsigned procs = p ? (unsigned)strtoul(p, NULL, 10) : 4;
    if (getenv("SCALE_HEARTBEAT_MS"))
        HEARTBEAT_MS = atoi(getenv("SCALE_HEARTBEAT_MS")) > 0 ? atoi(getenv("SCALE_HEARTBEAT_MS")) : 1000;
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    for (unsigned i = 0; i < nsizes; i++) {
        unsigned w = sizes[i] ? sizes[i] : 1, pr = procs < w ? (procs ? procs : 1) : w;
        size_t tasks = t ? strtoul(t, NULL, 10) : (w * 50u > 200000u ? w * 50u : 200000u);
        if (one_size(w, pr, tasks) < 0)
            return 1;
    }
    return 0;
}
