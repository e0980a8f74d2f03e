/* mapdriver.c — a test driver for the integration suite. It runs inside a
 * farm (`evo-farm run CFG -- mapdriver MODE ...`), maps deterministic vectors
 * and checks every result against a serial evaluation done here.
 *
 *   mapdriver verify FUNC N DIM       all N results present, in order, equal
 *                                     to FUNC evaluated here (sphere|rastrigin)
 *   mapdriver failures FUNC N DIM TEXT  vectors with x[0] < 0 (every 7th) must
 *                                     fail with an error naming the task and
 *                                     containing TEXT; the others must be right
 *   mapdriver submit FUNC N DIM       the same as verify through submit/wait
 *   mapdriver constant N DIM VALUE    every result of a map must be VALUE
 *   mapdriver attack                  strangers and garbage are refused while
 *                                     a real map still completes
 *   mapdriver stream N BOUND_MIB      N one-dimensional sphere vectors through
 *                                     submit/wait in pieces of 10,000, each
 *                                     result checked once; the driver's and
 *                                     the broker's (its parent's) RSS at 10 %
 *                                     and 90 % of the run may differ by at
 *                                     most BOUND_MIB
 * Exit 0 when every check passed; prints what failed otherwise. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "evofarm/client.h"
#include "util/names.h"

static double reference(const char *fn, const double *x, size_t dim)
{
    double s = strcmp(fn, "rastrigin") == 0 ? 10.0 * (double)dim : 0.0;
    for (size_t i = 0; i < dim; i++)
        s += strcmp(fn, "rastrigin") == 0 ? x[i] * x[i] - 10.0 * cos(2.0 * M_PI * x[i]) : x[i] * x[i];
    return s;
}

/* Deterministic vectors; every 7th has a negative first coordinate. */
static double *make_vectors(size_t n, size_t dim)
{
    double *x = malloc(n * dim * sizeof *x);
    for (size_t i = 0; x && i < n; i++)
        for (size_t k = 0; k < dim; k++)
            x[i * dim + k] =
                k == 0 ? (i % 7 == 3 ? -1.0 : 1.0) * (0.5 + fmod(i * 0.37, 4.0)) : 5.12 * sin((double)(i * 31 + k * 7));
    return x;
}

static struct evo_client *open_client(void)
{
    char err[EVO_ERROR_MAX];
    struct evo_client *c = evo_client_open(err, sizeof err);
    if (c == NULL)
        fprintf(stderr, "mapdriver: %s\n", err);
    return c;
}

/* Checks one result; expect_fail: 1 must fail, 0 must be right. */
static int check(const char *fn, const double *x, size_t dim, size_t i, const struct evo_result *r, int expect_fail,
                 const char *text)
{
    char name[64];
    if (expect_fail) {
        snprintf(name, sizeof name, "task %zu failed after", i);
        if (r->ok || strstr(r->error, name) == NULL || (text && strstr(r->error, text) == NULL)) {
            fprintf(stderr, "mapdriver: result %zu: expected a failure naming it with '%s', got %s\n", i,
                    text ? text : "", r->ok ? "a value" : r->error);
            return 1;
        }
        return 0;
    }
    double want = reference(fn, x + i * dim, dim);
    if (!r->ok || r->n != 1 || r->objectives[0] != want || r->tag != i) {
        fprintf(stderr, "mapdriver: result %zu: expected %.17g, got %s %.17g (tag %llu)\n", i, want,
                r->ok ? "" : r->error, r->ok ? r->objectives[0] : 0.0, (unsigned long long)r->tag);
        return 1;
    }
    return 0;
}

static int run_map(const char *fn, size_t n, size_t dim, int failures, const char *text)
{
    struct evo_client *c = open_client();
    double *x = make_vectors(n, dim);
    struct evo_result *r = calloc(n, sizeof *r);
    int bad = 0;
    if (c == NULL || x == NULL || r == NULL)
        return 1;
    long failed = evo_client_map(c, x, n, dim, r);
    if (failed < 0) {
        fprintf(stderr, "mapdriver: map failed: %s\n", evo_client_last_error(c));
        return 1;
    }
    for (size_t i = 0; i < n && bad < 10; i++)
        bad += check(fn, x, dim, i, &r[i], failures && i % 7 == 3, text);
    printf("mapdriver: %zu results, %ld failed, %s\n", n, failed, bad ? "MISMATCH" : "all as expected");
    evo_client_close(c);
    free(x);
    free(r);
    return bad != 0;
}

static int run_submit(const char *fn, size_t n, size_t dim)
{
    struct evo_client *c = open_client();
    double *x = make_vectors(n, dim);
    unsigned char *seen = calloc(n, 1);
    struct evo_result r;
    uint64_t first;
    int bad = 0, rc;
    if (c == NULL || x == NULL || seen == NULL || evo_client_submit(c, x, n, dim, &first) < 0)
        return 1;
    while (evo_client_outstanding(c) > 0 && (rc = evo_client_wait(c, &r, 30000)) == 1) {
        size_t i = (size_t)(r.tag - first);
        if (i >= n || seen[i]++) {
            fprintf(stderr, "mapdriver: tag %llu unexpected or duplicated\n", (unsigned long long)r.tag);
            bad++;
            continue;
        }
        r.tag = i;
        bad += check(fn, x, dim, i, &r, 0, NULL);
    }
    for (size_t i = 0; i < n; i++)
        bad += !seen[i];
    printf("mapdriver: submit/wait: %s\n", bad ? "MISMATCH" : "all as expected");
    evo_client_close(c);
    free(x);
    free(seen);
    return bad != 0;
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

/* The stream mode: memory must stay flat however many vectors go through. */
static int run_stream(size_t n, long bound_mib)
{
    enum { PIECE = 10000 };
    struct evo_client *c = open_client();
    unsigned char *seen = malloc(n / 8 + 1); /* one bit per vector, resident from the start */
    static double x[PIECE];
    struct evo_result r;
    size_t sent = 0, got = 0, bad = 0;
    long rss[2][2] = {{-1, -1}, {-1, -1}}; /* [driver, broker][at 10 %, at 90 %] */
    pid_t broker = getppid();
    if (c == NULL || seen == NULL)
        return 1;
    memset(seen, 0, n / 8 + 1);
    for (size_t i = 0; i < PIECE; i++)
        x[i] = (double)(i % 1000) / 8.0; /* exact squares */
    while (got < n && bad < 10) {
        if (sent < n) {
            size_t k = n - sent < PIECE ? n - sent : PIECE;
            if (evo_client_submit(c, x, k, 1, NULL) < 0) /* tags 0.. in order: tag t is x[t % PIECE] */
                break;
            sent += k;
        }
        int rc = 1;
        while (evo_client_outstanding(c) > (sent < n ? 4 * PIECE : 0) && (rc = evo_client_wait(c, &r, 30000)) == 1) {
            double v = x[r.tag % PIECE];
            if (r.tag >= n || (seen[r.tag / 8] >> (r.tag % 8)) & 1 || !r.ok || r.objectives[0] != v * v) {
                fprintf(stderr, "mapdriver: result %llu wrong or repeated\n", (unsigned long long)r.tag);
                bad++;
            }
            seen[r.tag / 8] |= (unsigned char)(1u << (r.tag % 8));
            if (++got == n / 10 || got == n - n / 10)
                for (int who = 0; who < 2; who++)
                    rss[who][got != n / 10] = rss_kib(who ? broker : getpid());
        }
        if (rc != 1) {
            fprintf(stderr, "mapdriver: wait failed: %s\n", evo_client_last_error(c));
            break;
        }
    }
    long grew = 0;
    for (int who = 0; who < 2; who++)
        grew = rss[who][1] - rss[who][0] > grew ? rss[who][1] - rss[who][0] : grew;
    printf("mapdriver: stream of %zu: %zu results checked, driver RSS %.1f -> %.1f MiB, broker RSS %.1f -> %.1f MiB "
           "(at 10%% and 90%%; bound %ld MiB)\n",
           n, got, rss[0][0] / 1024.0, rss[0][1] / 1024.0, rss[1][0] / 1024.0, rss[1][1] / 1024.0, bound_mib);
    evo_client_close(c);
    free(seen);
    return got != n || bad || rss[0][0] < 0 || rss[1][0] < 0 || grew > bound_mib * 1024;
}

/* A raw TCP connection that sends junk to the broker's port. */
static void send_garbage(const char *endpoint)
{
    const char *colon = strrchr(endpoint, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        const char junk[] = "GET / HTTP/1.0\r\n\r\n\xff\x00\x01garbage-garbage-garbage";
        for (int i = 0; i < 50; i++)
            if (write(fd, junk, sizeof junk) < 0)
                break;
    }
    close(fd);
}

/* A member (right keys) that sends frames breaking the protocol. */
static void send_malformed(const char *endpoint)
{
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 500;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, getenv("EVO_FARM_SERVER_KEY"), 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, getenv("EVO_FARM_CLIENT_PUBLIC"), 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, getenv("EVO_FARM_CLIENT_SECRET"), 40);
    zmq_connect(s, endpoint);
    zmq_send(s, "XX", 2, 0);                   /* short header */
    zmq_send(s, "EF\x09\x01", 4, 0);           /* wrong version */
    zmq_send(s, "EF\x07\x63", 4, 0);           /* unknown type */
    zmq_send(s, "EF\x07\x01", 4, ZMQ_SNDMORE); /* HELLO, */
    zmq_send(s, "\x01\x00", 2, 0);             /* truncated body */
    zmq_send(s, "EF\x07\x01", 4, ZMQ_SNDMORE); /* a valid HELLO as a driver (no job, no key) */
    zmq_send(s, "\x02\x00\x01\x00\x00\x00\x01\x00x\x00\x00\x00", 12, 0);
    zmq_send(s, "EF\x07\x06", 4, ZMQ_SNDMORE); /* SUBMIT claiming 1000 vectors */
    zmq_send(s, "\xe8\x03\x00\x00\x01\x00\x00\x00", 8, 0);
    zmq_send(s, "EF\x07\x05", 4, ZMQ_SNDMORE); /* RESULTS from a driver */
    zmq_send(s, "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12, 0);
    zmq_send(s, "EF\x07\x03", 4, ZMQ_SNDMORE); /* HEARTBEAT with a body */
    zmq_send(s, "zz", 2, 0);
    sleep(1);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

static int run_attack(void)
{
    char err[EVO_ERROR_MAX], pub[41], sec[41], spub[41], ssec[41];
    const char *endpoint = getenv("EVO_FARM_ENDPOINT");
    struct evo_stats *stats = malloc(sizeof *stats);
    int bad = 0;
    /* 1. Right server key, wrong client key: must not get in. */
    zmq_curve_keypair(pub, sec);
    setenv("EVO_FARM_CONNECT_TIMEOUT", "2", 1);
    struct evo_client *stranger =
        evo_client_connect(endpoint, getenv("EVO_FARM_SERVER_KEY"), pub, sec, err, sizeof err);
    if (stranger) {
        fprintf(stderr, "mapdriver: a client with a foreign key was let in\n");
        bad++;
    }
    /* 2. A forged server key (the client's side check) also fails. */
    zmq_curve_keypair(spub, ssec);
    stranger = evo_client_connect(endpoint, spub, getenv("EVO_FARM_CLIENT_PUBLIC"), getenv("EVO_FARM_CLIENT_SECRET"),
                                  err, sizeof err);
    bad += stranger != NULL;
    /* 3. Raw TCP garbage and 4. malformed frames from a member. */
    send_garbage(endpoint);
    send_malformed(endpoint);
    /* 5. The farm still serves the legitimate driver. */
    bad += run_map("rastrigin", 2000, 4, 0, NULL);
    struct evo_client *c = open_client();
    if (c == NULL || evo_client_stats(c, stats) < 0)
        return 1;
    printf("mapdriver: auth_refused=%llu malformed=%llu done=%llu workers=%u\n",
           (unsigned long long)stats->auth_refused, (unsigned long long)stats->malformed,
           (unsigned long long)stats->done, stats->workers);
    if (stats->auth_refused < 1 || stats->malformed < 7 || stats->done < 2000) {
        fprintf(stderr, "mapdriver: counters do not show the refusals\n");
        bad++;
    }
    evo_client_close(c);
    free(stats);
    return bad != 0;
}

/* Maps n vectors; every result must equal `want` (e.g. an evaluator that
 * reports which interpreter ran it). */
static int run_constant(size_t n, size_t dim, double want)
{
    struct evo_client *c = open_client();
    double *x = make_vectors(n, dim);
    struct evo_result *r = calloc(n, sizeof *r);
    size_t bad = 0;
    if (c == NULL || x == NULL || r == NULL || evo_client_map(c, x, n, dim, r) < 0)
        return fprintf(stderr, "mapdriver: map failed: %s\n", c ? evo_client_last_error(c) : ""), 1;
    for (size_t i = 0; i < n; i++)
        if (!r[i].ok || r[i].objectives[0] != want) {
            if (bad++ < 5)
                fprintf(stderr, "mapdriver: result %zu: %s %g, expected %g\n", i, r[i].ok ? "" : r[i].error,
                        r[i].ok ? r[i].objectives[0] : 0.0, want);
        }
    if (bad == 0)
        printf("mapdriver: %zu results, all equal to %g\n", n, want);
    evo_client_close(c);
    free(x);
    free(r);
    return bad != 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "stream") == 0)
        return run_stream(strtoul(argv[2], NULL, 10), atol(argv[3]));
    if (argc == 2 && strcmp(argv[1], "attack") == 0)
        return run_attack();
    if (argc < 5)
        return fprintf(stderr, "usage: see tests/integration/mapdriver.c\n"), 2;
    size_t n = strtoul(argv[3], NULL, 10), dim = strtoul(argv[4], NULL, 10);
    if (strcmp(argv[1], "verify") == 0)
        return run_map(argv[2], n, dim, 0, NULL);
    if (strcmp(argv[1], "failures") == 0 && argc == 6)
        return run_map(argv[2], n, dim, 1, argv[5]);
    if (strcmp(argv[1], "constant") == 0 && argc == 5)
        return run_constant(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10), atof(argv[4]));
    if (strcmp(argv[1], "submit") == 0)
        return run_submit(argv[2], n, dim);
    return fprintf(stderr, "mapdriver: unknown mode %s\n", argv[1]), 2;
}
