/* launcher.c — `evo-farm run` (see launcher.h). One thread: the broker's
 * poll loop also watches a signalfd for SIGCHLD/SIGINT/SIGTERM. Children
 * are exec'd (never plain forks of this multi-threaded process) and die with
 * us (PR_SET_PDEATHSIG). Phases: credentials + broker, spawn workers and
 * driver, serve until the driver exits, stop workers, summary. */
#include "launcher.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker.h"
#include "clock.h"
#include "log.h"
#include "worker.h"

#define RAPID_DEATH_MS    1000 /* a worker that dies this soon after start... */
#define RAPID_DEATH_LIMIT 10   /* ...this many times in a row is not restarted */

struct child {
    pid_t pid;
    int64_t started_ms;
};

struct launch {
    const char *self;
    const char *config_path;
    char host[256];
    sigset_t old_mask;
    struct child *workers;
    unsigned nworkers;
    unsigned rapid_deaths;
    pid_t driver;
    int driver_status;
    int stopping;
};

static pid_t spawn(struct launch *l, char **argv)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t ours;
    sigemptyset(&ours);
    sigaddset(&ours, SIGCHLD);
    sigaddset(&ours, SIGINT);
    sigaddset(&ours, SIGTERM);
    sigprocmask(SIG_SETMASK, &l->old_mask, NULL);
    sigprocmask(SIG_UNBLOCK, &ours, NULL); /* a step blocks them before PMIx starts its thread */
    execvp(argv[0], argv);
    fprintf(stderr, "evo-farm: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static void spawn_worker(struct launch *l, unsigned i)
{
    char *argv[] = {(char *)l->self, "__worker", (char *)l->config_path, NULL};
    l->workers[i].pid = spawn(l, argv);
    l->workers[i].started_ms = evo_now_ms();
    if (l->workers[i].pid < 0)
        evo_error("cannot start worker %u: %s", i, strerror(errno));
}

static void on_worker_exit(struct launch *l, struct evo_broker *broker, unsigned i, int status)
{
    evo_broker_worker_exited(broker, l->host, (uint32_t)l->workers[i].pid);
    l->workers[i].pid = 0;
    if (l->stopping)
        return;
    if (WIFSIGNALED(status))
        evo_warn("worker %u killed by signal %d; restarting it", i, WTERMSIG(status));
    else
        evo_warn("worker %u exited with status %d; restarting it", i, WEXITSTATUS(status));
    l->rapid_deaths = evo_now_ms() - l->workers[i].started_ms < RAPID_DEATH_MS ? l->rapid_deaths + 1 : 0;
    if (l->rapid_deaths >= RAPID_DEATH_LIMIT) {
        evo_error("workers keep dying right after they start; not restarting worker %u", i);
        return;
    }
    spawn_worker(l, i);
}

static void reap(struct launch *l, struct evo_broker *broker)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == l->driver) {
            l->driver_status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
            l->driver = 0;
            continue;
        }
        for (unsigned i = 0; i < l->nworkers; i++)
            if (l->workers[i].pid == pid)
                on_worker_exit(l, broker, i, status);
    }
}

static void on_signals(struct launch *l, struct evo_broker *broker, int sfd)
{
    struct signalfd_siginfo info;
    while (read(sfd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGCHLD) {
            reap(l, broker);
        } else if (l->driver > 0) {
            evo_warn("signal %u: stopping the driver", info.ssi_signo);
            l->stopping = 1; /* workers may get the same signal: no restarts */
            kill(l->driver, SIGTERM);
        }
    }
}

/* BYE went out with the broker; workers that have not heard it (still
 * starting) get SIGTERM after half a second, and SIGKILL after two. */
static void stop_workers(struct launch *l)
{
    l->stopping = 1;
    for (int waited = 0; waited < 2000; waited += 10) {
        for (unsigned i = 0; waited == 500 && i < l->nworkers; i++)
            if (l->workers[i].pid > 0)
                kill(l->workers[i].pid, SIGTERM);
        int alive = 0;
        for (unsigned i = 0; i < l->nworkers; i++) {
            if (l->workers[i].pid > 0 && waitpid(l->workers[i].pid, NULL, WNOHANG) == l->workers[i].pid)
                l->workers[i].pid = 0;
            alive += l->workers[i].pid > 0;
        }
        if (!alive)
            return;
        usleep(10000);
    }
    for (unsigned i = 0; i < l->nworkers; i++)
        if (l->workers[i].pid > 0) {
            kill(l->workers[i].pid, SIGKILL);
            waitpid(l->workers[i].pid, NULL, 0);
        }
}

static void summary(const struct evo_broker *broker, int64_t started_ms)
{
    struct evo_stats s;
    evo_broker_stats(broker, &s);
    double seconds = (double)(evo_now_ms() - started_ms) / 1000.0;
    fprintf(stderr,
            "evo-farm: %llu evaluations done, %llu failed, %llu retried, %llu requeued from lost workers, "
            "%llu late results dropped, %llu malformed messages, %llu connections refused, in %.2f s\n",
            (unsigned long long)s.done, (unsigned long long)s.failed, (unsigned long long)s.retried,
            (unsigned long long)s.requeued, (unsigned long long)s.late_dropped, (unsigned long long)s.malformed,
            (unsigned long long)s.auth_refused, seconds);
    char hosts[1024];
    int workers = evo_broker_hosts(broker, hosts, sizeof hosts);
    fprintf(stderr, "evo-farm: %d worker%s connected at the end: %s\n", workers, workers == 1 ? "" : "s",
            workers ? hosts : "none");
}

/* Workers started elsewhere may still be connecting when the driver ends
 * (a short step, a loaded node): tell each one BYE so that it exits now. */
static void see_latecomers_off(struct evo_broker *broker, const struct evo_config *config, unsigned expected)
{
    int64_t deadline = evo_now_ms() + (int64_t)config->farm.heartbeat_ms * config->farm.liveness;
    evo_broker_close(broker);
    while (evo_broker_workers_seen(broker) < expected && evo_now_ms() < deadline)
        if (evo_broker_step(broker, -1, 50) < 0)
            break;
    unsigned seen = evo_broker_workers_seen(broker);
    if (seen < expected)
        evo_warn("%u of %u worker tasks never joined the farm (lost before they connected?)", expected - seen,
                 expected);
}

static unsigned worker_count(const struct evo_config *c, const struct evo_run_options *o)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (o->workers)
        return o->workers;
    if (c->farm.workers)
        return c->farm.workers;
    return cores > 0 ? (unsigned)cores : 1;
}

int evo_run_main(const struct evo_config *config, const char *config_path, const struct evo_run_options *options,
                 const char *self)
{
    struct launch l = {.self = self, .config_path = config_path, .driver_status = 1};
    struct evo_credentials creds;
    struct evo_broker_options broker_options;
    struct evo_broker *broker = NULL;
    char err[512];
    sigset_t mask;
    int sfd = -1;
    int64_t started = evo_now_ms();

    evo_host_name(l.host, sizeof l.host);
    setenv("EVO_FARM_HOST", l.host, 1); /* workers report the name we match on */
    if (evo_credentials_generate(&creds) < 0) {
        evo_error("cannot make CURVE keys: %s (is libzmq built with libsodium?)", strerror(errno));
        return 1;
    }
    if (options->member) {
        memcpy(creds.client_public, options->member->client_public, EVO_KEY_TEXT);
        memcpy(creds.client_secret, options->member->client_secret, EVO_KEY_TEXT);
    }
    evo_broker_options_from_config(&broker_options, config);
    if (options->bind)
        broker_options.bind = options->bind;
    if ((broker = evo_broker_create(&broker_options, &creds, err, sizeof err)) == NULL) {
        evo_error("%s", err);
        return 1;
    }
    if (options->publish && options->publish(options->publish_arg, &creds) < 0) {
        evo_broker_destroy(broker);
        return 1;
    }
    l.nworkers = options->no_local_workers ? 0 : worker_count(config, options);
    l.workers = calloc(l.nworkers + 1, sizeof *l.workers);
    char workers_text[16];
    snprintf(workers_text, sizeof workers_text, "%u",
             options->expected_workers ? options->expected_workers : l.nworkers);
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    if (l.workers == NULL || evo_credentials_to_env(&creds) < 0 || setenv("EVO_FARM_WORKERS", workers_text, 1) < 0 ||
        sigprocmask(SIG_BLOCK, &mask, &l.old_mask) < 0 || (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        evo_error("cannot start the farm: %s", strerror(errno));
        goto out;
    }
    for (unsigned i = 0; i < l.nworkers; i++)
        spawn_worker(&l, i);
    char *builtin[] = {(char *)self, "__drive", (char *)config_path, NULL}; /* no path: the step's */
    if ((l.driver = spawn(&l, options->driver_argv ? options->driver_argv : builtin)) < 0) {
        evo_error("cannot start the driver: %s", strerror(errno));
        goto out;
    }
    evo_info("farm of %u workers on %s; driver pid %d", l.nworkers, creds.endpoint, (int)l.driver);
    int64_t next_reap_ms = evo_now_ms() + 1000;
    while (l.driver > 0) {
        int rc = evo_broker_step(broker, sfd, 1000);
        if (rc < 0)
            break;
        if (rc == 1)
            on_signals(&l, broker, sfd);
        if (evo_now_ms() >= next_reap_ms) { /* in case a SIGCHLD went to a library's thread */
            reap(&l, broker);
            next_reap_ms = evo_now_ms() + 1000;
        }
    }
out:
    if (!options->quiet && broker)
        summary(broker, started);
    if (broker && options->expected_workers)
        see_latecomers_off(broker, config, options->expected_workers);
    evo_broker_destroy(broker);
    if (l.workers)
        stop_workers(&l);
    if (l.driver > 0) {
        kill(l.driver, SIGKILL);
        waitpid(l.driver, NULL, 0);
    }
    free(l.workers);
    if (sfd >= 0)
        close(sfd);
    return l.driver_status;
}
