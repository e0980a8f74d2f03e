/* launcher.c — `evo-farm run` (see launcher.h). One thread: the broker's
 * poll loop also watches a signalfd for SIGCHLD/SIGINT/SIGTERM. Children
 * are exec'd (never plain forks of this multi-threaded process) and die with
 * us (PR_SET_PDEATHSIG). Phases: credentials + broker, spawn workers and
 * driver, serve until the driver exits, stop workers, summary. */
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/broker.h"
#include "registry/registry.h"
#include "util/clock.h"
#include "util/cpus.h"
#include "util/fds.h"
#include "util/limits.h"
#include "util/log.h"
#include "worker/shared_dir.h"
#include "worker/worker.h"
#include "util/names.h"
#include "util/host.h"
#include "util/parse.h"
#include "util/signals.h"

extern char **environ;

#define RAPID_DEATH_MS    1000 /* a worker that dies this soon after start... */
#define RAPID_DEATH_LIMIT 10   /* ...this many times in a row is not restarted */

struct child {
    pid_t pid;
    int64_t started_ms;
};

struct launch {
    const char *self;
    const char *config_path;
    char host[EVO_HOST_MAX + 1];
    sigset_t old_mask;
    struct child *workers;
    unsigned nworkers;
    unsigned rapid_deaths;
    pid_t driver;
    int driver_status;
    int stopping;
    struct evo_credentials creds;
    struct evo_broker *broker;
    int published;                          /* the broker is bound and its members can find it */
    int64_t alone_since_ms;                 /* since when no worker is connected (0: one is) */
    int sfd;                                /* our signals, once blocked */
    char unix_dir[EVO_PATH_MAX];            /* the Unix socket's directory, or empty */
    struct evo_role_keys keys;              /* the farm's client keys by role (wire/credentials.h) */
    char **driver_env;                      /* the driver's environment: its own key, no worker's or evaluator's */
    char driver_vars[2][EVO_KEY_TEXT + 32]; /* its EVO_FARM_CLIENT_PUBLIC=... and _SECRET=... */
    char record[EVO_PATH_MAX];              /* ~/.evo-farm/farms/ID, or empty */
    char join[EVO_PATH_MAX];                /* ~/.evo-farm/farms/ID.join, or empty */
    struct evo_journal *journal;            /* output.journal, or NULL */
    unsigned heartbeat_ms;                  /* the broker's (evo_config_heartbeat_for) */
};

/* envp NULL: ours (the workers': this process keeps the worker pair as
 * its own and the nested pair for their evaluators, start_members). */
/* Starts argv: a worker (envp NULL) inherits no descriptor but the
 * standard three; the driver (envp given) keeps what its user handed
 * `evo-farm run` (an embedder's ready pipe among them) but a step's PMI
 * socket. */
static pid_t spawn(struct launch *l, char **argv, char **envp)
{
    const char *pmi = getenv("PMI_FD"); /* Slurm's PMI-2 socket of rank 0's task */
    int pmi_fd = pmi && pmi[0] && pmi[strspn(pmi, "0123456789")] == '\0' && strlen(pmi) < 9 ? atoi(pmi) : -1;
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (envp == NULL)
        evo_fds_close_from(3, 1);
    else if (pmi_fd >= 3)
        fcntl(pmi_fd, F_SETFD, FD_CLOEXEC);
    evo_signals_unblock(&l->old_mask); /* a step blocked them before PMIx started its thread */
    evo_signals_job_restore();         /* the driver gets USR1 and the rest as its user expects */
    evo_limits_restore();              /* and the open-files limit it was given */
    if (envp)
        environ = envp;
    execvp(argv[0], argv);
    fprintf(stderr, "evo-farm: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static void spawn_worker(struct launch *l, unsigned i)
{
    char *argv[] = {(char *)l->self, "__worker", (char *)l->config_path, NULL};
    l->workers[i].pid = spawn(l, argv, NULL);
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
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) { /* told BYE by the broker (drained): it is not wanted */
        evo_info("worker %u left the farm (the broker said BYE: drained)", i);
        return;
    }
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
            evo_signals_job_forward(0); /* ignored again (a no-op where they never were passed on) */
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
    if (evo_broker_journal_hits(broker))
        fprintf(stderr, "evo-farm: %llu evaluations answered from the journal (not evaluated again)\n",
                (unsigned long long)evo_broker_journal_hits(broker));
}

/* Workers started elsewhere may still be connecting when the driver ends
 * (a short step, a loaded node): tell each one BYE so that it exits now. */
static void see_latecomers_off(struct evo_broker *broker, const struct evo_config *config, unsigned heartbeat_ms,
                               unsigned expected)
{
    int64_t deadline = evo_now_ms() + (int64_t)heartbeat_ms * config->farm.liveness;
    evo_broker_shut_down(broker);
    while (evo_broker_workers_seen(broker) < expected && evo_now_ms() < deadline)
        if (evo_broker_step(broker, -1, 50) < 0)
            break;
    unsigned seen = evo_broker_workers_seen(broker);
    if (seen < expected)
        evo_warn("%u of %u worker tasks never joined the farm (lost before they connected?)", expected - seen,
                 expected);
}

int evo_default_evaluator(struct evo_config *config, char *const *driver_argv)
{
    const char *python = getenv(EVO_VAR_PYTHON); /* a worker of such a farm */
    if (config->evaluate.kind != EVO_EVALUATOR_NONE)
        return 0;
    if (python == NULL && driver_argv && evo_config_is_python(driver_argv[0]))
        python = driver_argv[0];
    if (python == NULL) {
        fprintf(stderr,
                "evo-farm: %s has no evaluate: section: say how the workers evaluate (library:, command: "
                "or python:), or run a Python driver (... -- python3 script.py)\n",
                config->path);
        return -1;
    }
    if (evo_config_default_python(config, python) < 0 || setenv(EVO_VAR_PYTHON, python, 1) < 0) {
        fprintf(stderr, "evo-farm: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static unsigned worker_count(const struct evo_config *c, const struct evo_run_options *o)
{
    if (o->workers)
        return o->workers;
    if (c->farm.workers)
        return c->farm.workers;
    return evo_cpus_usable(); /* the CPUs given to us (srun -c, taskset, a quota), not the machine's */
}

/* Phase 1: keys, the broker bound, and the broker published (a step's
 * rank 0). 0, or -1 after saying why. */
/* The Unix socket for the members of this machine (the local workers, the
 * driver), in a fresh 0700 directory; they find it in EVO_FARM_UNIX_SOCKET. An
 * empty EVO_FARM_UNIX_SOCKET in our environment keeps everyone on ZeroMQ. */
static void listen_unix(struct launch *l)
{
    char err[EVO_ERROR_MAX], path[EVO_PATH_MAX + 16];
    const char *tmp = getenv("TMPDIR"), *asked = getenv(EVO_VAR_UNIX_SOCKET);
    if (asked && asked[0] == '\0')
        return;
    unsetenv(EVO_VAR_UNIX_SOCKET); /* an outer farm's is not ours */
    if (tmp == NULL || tmp[0] != '/')
        tmp = "/tmp";
    if ((size_t)snprintf(l->unix_dir, sizeof l->unix_dir, "%s/evo-farm-XXXXXX", tmp) >= sizeof l->unix_dir ||
        mkdtemp(l->unix_dir) == NULL) {
        evo_warn("no Unix socket (members use the network): cannot make a directory in %s: %s", tmp, strerror(errno));
        l->unix_dir[0] = '\0';
        return;
    }
    snprintf(path, sizeof path, "%s/broker", l->unix_dir);
    if (evo_broker_listen_unix(l->broker, path, err, sizeof err) < 0 || setenv(EVO_VAR_UNIX_SOCKET, path, 1) < 0) {
        evo_warn("no Unix socket (members use the network): %s", err);
        rmdir(l->unix_dir);
        l->unix_dir[0] = '\0';
        return;
    }
    evo_debug("Unix members connect to %s", path);
}

static int start_broker(struct launch *l, const struct evo_config *config, const struct evo_run_options *options)
{
    struct evo_broker_options broker_options;
    char err[EVO_ERROR_MAX];
    if (evo_credentials_generate(&l->creds) < 0) {
        evo_error("cannot make CURVE keys: %s (is libzmq built with libsodium?)", strerror(errno));
        return -1;
    }
    if (options->keys)
        l->keys = *options->keys;
    else if (evo_role_keys_generate(&l->keys) < 0) {
        evo_error("cannot make CURVE keys: %s", strerror(errno));
        return -1;
    }
    memcpy(l->creds.client_public, l->keys.public_key[EVO_KEY_WORKER], EVO_KEY_TEXT); /* the members' view */
    memcpy(l->creds.client_secret, l->keys.secret[EVO_KEY_WORKER], EVO_KEY_TEXT);
    evo_broker_options_from_config(&broker_options, config);
    unsigned workers = options->expected_workers ? options->expected_workers : worker_count(config, options);
    broker_options.heartbeat_ms = l->heartbeat_ms = evo_config_heartbeat_for(config, workers);
    if (l->heartbeat_ms != config->farm.heartbeat_ms)
        evo_info("heartbeat %u ms for %u workers (1 s per %u; farm.heartbeat sets it)", l->heartbeat_ms, workers,
                 EVO_HEARTBEAT_WORKERS_PER_S);
    if (evo_limits_check(workers + 1UL, err, sizeof err) < 0) { /* the workers and the driver */
        evo_error("%s", err);
        return -1;
    }
    if (options->bind)
        broker_options.bind = options->bind;
    if (config->output.journal) {
        char identity[2 * EVO_JOURNAL_DIGEST + 1];
        evo_journal_identity(config, identity);
        if ((l->journal = evo_journal_open(config->output.journal, identity, err, sizeof err)) == NULL) {
            evo_error("%s", err);
            return -1;
        }
        if (!options->quiet)
            fprintf(stderr, "evo-farm: journal %s/journal: %zu answers (%.1f KiB) from earlier runs\n",
                    config->output.journal, evo_journal_count(l->journal), evo_journal_bytes(l->journal) / 1024.0);
        broker_options.journal = l->journal;
    }
    if (config->output.journal ? setenv(EVO_VAR_JOURNALED, "1", 1) : unsetenv(EVO_VAR_JOURNALED)) {
        evo_error("cannot set %s: %s", EVO_VAR_JOURNALED, strerror(errno));
        return -1;
    }
    if ((l->broker = evo_broker_create(&broker_options, &l->creds, err, sizeof err)) == NULL) {
        evo_error("%s", err);
        return -1;
    }
    for (int role = 0; role < EVO_KEY_ROLES; role++)
        if (evo_broker_admit(l->broker, (enum evo_key_role)role, l->keys.public_key[role]) < 0) {
            evo_error("cannot admit the farm's %s key", evo_key_role_name((enum evo_key_role)role));
            return -1;
        }
    listen_unix(l);
    if (options->publish && options->publish(options->publish_arg, &l->creds) < 0)
        return -1;
    l->published = 1;
    return 0;
}

/* The driver's sys.argv (SCRIPT.py and what follows it) for the workers'
 * Python evaluators (EVO_FARM_PYTHON_ARGV: each argument's bytes in hex,
 * separated by commas), so that a script reading sys.argv at its top
 * level reads the same there. */
static void name_the_arguments(char *const *argv)
{
    size_t size = 1;
    for (size_t i = 0; argv[i]; i++)
        size += 2 * strlen(argv[i]) + 1;
    char *text = malloc(size), *at = text;
    if (text == NULL)
        return;
    for (size_t i = 0; argv[i]; i++) {
        if (i > 0)
            *at++ = ',';
        for (const unsigned char *c = (const unsigned char *)argv[i]; *c; c++)
            at += sprintf(at, "%02x", *c);
    }
    *at = '\0';
    setenv(EVO_VAR_PYTHON_ARGV, text, 1);
    free(text);
}

/* A Python driver's script (python3 [-u|-O...] SCRIPT.py ...): named to
 * the workers so that their Python evaluators import it while the driver
 * starts, not when the first call arrives (EVO_FARM_PYTHON_MAIN), with
 * the driver's arguments. */
static void name_the_script(const struct evo_config *config, char *const *argv)
{
    char path[PATH_MAX];
    if (config->evaluate.kind != EVO_EVALUATOR_PYTHON || argv == NULL || !evo_config_is_python(argv[0]) ||
        getenv(EVO_VAR_PYTHON_MAIN))
        return;
    for (size_t i = 1; argv[i]; i++) {
        if (strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "-") == 0)
            return; /* a module or a command: nothing to import ahead */
        if (argv[i][0] == '-')
            continue;
        size_t n = strlen(argv[i]);
        if (n > 3 && strcmp(argv[i] + n - 3, ".py") == 0 && realpath(argv[i], path) != NULL)
            setenv(EVO_VAR_PYTHON_MAIN, path, 1);
        if (!getenv(EVO_VAR_PYTHON_ARGV))
            name_the_arguments(argv + i);
        return;
    }
}

/* The farm's record for `evo-farm status` (registry/registry.h): its id
 * is JOBID.STEP under Slurm, else HOST-PID. */
static void record_farm(struct launch *l, const struct evo_config *config, const struct evo_run_options *options)
{
    char id[EVO_HOST_MAX + 32], host[EVO_HOST_MAX], command[512] = "";
    const char *job = getenv("SLURM_JOB_ID"), *step = getenv("SLURM_STEP_ID");
    if (job && options->no_local_workers) {
        snprintf(id, sizeof id, "%s.%s", job, step ? step : "0");
    } else {
        evo_host_name(host, sizeof host);
        snprintf(id, sizeof id, "%s-%ld", host, (long)getpid());
    }
    if (options->driver_argv == NULL)
        snprintf(command, sizeof command, "(built-in %s)", config->optimize.strategy ? config->optimize.strategy : "");
    for (char *const *arg = options->driver_argv; arg && *arg; arg++) {
        size_t used = strlen(command);
        snprintf(command + used, sizeof command - used, "%s%s", used ? " " : "", *arg);
    }
    evo_farm_record_write(id, job && options->no_local_workers ? "slurm" : "local", command,
                          l->keys.public_key[EVO_KEY_CONTROL], l->keys.secret[EVO_KEY_CONTROL], l->record,
                          sizeof l->record);
    char *text = NULL; /* the resolved configuration, for workers that join (evo-farm join) */
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (out) {
        evo_config_print(config, out);
        if (fclose(out) == 0)
            evo_farm_join_write(id, text, l->join, sizeof l->join);
    }
    free(text);
}

/* The keys in our environment, which the workers inherit: the worker pair
 * as their own (evo_credentials_to_env put it there), the nested pair for
 * their evaluators, the status pair for the farm's record and the driver's
 * farm.access; rank 0's copy of the worker pair goes. 0, or -1. */
static int keys_to_env(const struct launch *l)
{
    const struct evo_role_keys *k = &l->keys;
    return setenv(EVO_VAR_NESTED_PUBLIC, k->public_key[EVO_KEY_NESTED], 1) ||
                   setenv(EVO_VAR_NESTED_SECRET, k->secret[EVO_KEY_NESTED], 1) ||
                   setenv(EVO_VAR_STATUS_PUBLIC, k->public_key[EVO_KEY_STATUS], 1) ||
                   setenv(EVO_VAR_STATUS_SECRET, k->secret[EVO_KEY_STATUS], 1) || unsetenv(EVO_VAR_WORKER_PUBLIC) ||
                   unsetenv(EVO_VAR_WORKER_SECRET)
               ? -1
               : 0;
}

/* The driver's environment: ours with the driver pair as its own and no
 * nested pair (the workers' alone). The strings are borrowed from environ,
 * which does not change while the driver is started. 0, or -1. */
static int driver_environment(struct launch *l)
{
    size_t n = 0, at = 0;
    while (environ[n])
        n++;
    if ((l->driver_env = calloc(n + 3, sizeof *l->driver_env)) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        static const char *const replaced[] = {EVO_VAR_CLIENT_PUBLIC "=", EVO_VAR_CLIENT_SECRET "=",
                                               EVO_VAR_NESTED_PUBLIC "=", EVO_VAR_NESTED_SECRET "="};
        int keep = 1;
        for (size_t r = 0; r < sizeof replaced / sizeof replaced[0]; r++)
            keep &= strncmp(environ[i], replaced[r], strlen(replaced[r])) != 0;
        if (keep)
            l->driver_env[at++] = environ[i]; /* borrowed: environ is not changed after this */
    }
    snprintf(l->driver_vars[0], sizeof l->driver_vars[0], "%s=%s", EVO_VAR_CLIENT_PUBLIC,
             l->keys.public_key[EVO_KEY_DRIVER]);
    snprintf(l->driver_vars[1], sizeof l->driver_vars[1], "%s=%s", EVO_VAR_CLIENT_SECRET,
             l->keys.secret[EVO_KEY_DRIVER]);
    l->driver_env[at++] = l->driver_vars[0];
    l->driver_env[at] = l->driver_vars[1];
    return 0;
}

/* Phase 2: the members' environment, our signals on a signalfd, the local
 * workers and the driver. 0, or -1 after saying why. */
static int start_members(struct launch *l, const struct evo_config *config, const struct evo_run_options *options)
{
    sigset_t mask;
    char workers_text[16];
    l->nworkers = options->no_local_workers ? 0 : worker_count(config, options);
    l->workers = calloc(l->nworkers + 1, sizeof *l->workers);
    snprintf(workers_text, sizeof workers_text, "%u",
             options->expected_workers ? options->expected_workers : l->nworkers);
    evo_signals_farm_set(&mask);
    if (l->workers == NULL || evo_credentials_to_env(&l->creds) < 0 || setenv(EVO_VAR_WORKERS, workers_text, 1) < 0 ||
        evo_signals_block(&l->old_mask) < 0 || (l->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        evo_error("cannot start the farm: %s", strerror(errno));
        return -1;
    }
    if (keys_to_env(l) < 0) {
        evo_error("cannot start the farm: %s", strerror(errno));
        return -1;
    }
    record_farm(l, config, options);
    name_the_script(config, options->driver_argv);
    for (unsigned i = 0; i < l->nworkers; i++)
        spawn_worker(l, i);
    char *builtin[] = {(char *)l->self, "__drive", (char *)l->config_path, NULL}; /* no path: the step's */
    if (driver_environment(l) < 0 ||
        (l->driver = spawn(l, options->driver_argv ? options->driver_argv : builtin, l->driver_env)) < 0) {
        evo_error("cannot start the driver: %s", strerror(errno));
        return -1;
    }
    if (options->forward_job_signals)
        evo_signals_job_forward(l->driver);
    evo_info("farm of %u workers on %s; driver pid %d", l->nworkers, l->creds.endpoint, (int)l->driver);
    return 0;
}

/* Work waiting and nobody to do it: every local worker given up on (they
 * kept dying right after starting), or no worker connected for
 * EVO_FARM_GIVE_UP seconds (every worker task of a step lost, or failed at
 * wire-up). The waiting evaluations then fail with the reason, so the
 * driver gets one error for each instead of waiting forever. */
static void fail_if_no_worker_left(struct launch *l, int64_t now)
{
    struct evo_stats stats;
    char reason[256];
    evo_broker_stats(l->broker, &stats);
    if (stats.workers > 0) {
        l->alone_since_ms = 0;
        return;
    }
    if (l->alone_since_ms == 0)
        l->alone_since_ms = now;
    unsigned alive = 0, give_up_s = evo_parse_env_unsigned(EVO_VAR_GIVE_UP, 86400, 60);
    for (unsigned i = 0; i < l->nworkers; i++)
        alive += l->workers[i].pid > 0;
    if (l->nworkers > 0 && alive == 0 && l->rapid_deaths >= RAPID_DEATH_LIMIT)
        snprintf(reason, sizeof reason, "no worker left: the workers kept dying right after they started");
    else if (now - l->alone_since_ms >= (int64_t)give_up_s * 1000)
        snprintf(reason, sizeof reason, "no worker has been connected for %u s", give_up_s);
    else
        return;
    if (stats.queued)
        evo_broker_fail_queued(l->broker, reason);
}

/* Phase 3: the broker serves until the driver has ended. */
static void serve(struct launch *l)
{
    int64_t next_reap_ms = evo_now_ms() + 1000;
    while (l->driver > 0) {
        int rc = evo_broker_step(l->broker, l->sfd, 1000);
        if (rc < 0)
            break;
        if (rc == 1)
            on_signals(l, l->broker, l->sfd);
        if (evo_now_ms() >= next_reap_ms) { /* in case a SIGCHLD went to a library's thread */
            reap(l, l->broker);
            fail_if_no_worker_left(l, evo_now_ms()); /* once a second: off the hot path */
            next_reap_ms = evo_now_ms() + 1000;
        }
    }
}

/* Phase 4: the summary, latecomers seen off, everything stopped and freed
 * (whatever phase the farm reached). */
static void finish(struct launch *l, const struct evo_config *config, const struct evo_run_options *options,
                   int64_t started)
{
    evo_farm_record_remove(l->record);
    evo_farm_record_remove(l->join);
    if (!options->quiet && l->published)
        summary(l->broker, started);
    if (l->published && options->expected_workers)
        see_latecomers_off(l->broker, config, l->heartbeat_ms, options->expected_workers);
    /* The members told BYE and gone before the Unix socket goes: none is
     * left to find its path again (another user may have made a socket
     * there, which a member refuses anyway: wire/stream.h). */
    if (l->broker)
        evo_broker_shut_down(l->broker);
    if (l->workers)
        stop_workers(l);
    if (l->driver > 0) {
        kill(l->driver, SIGKILL);
        waitpid(l->driver, NULL, 0);
    }
    evo_broker_destroy(l->broker); /* removes the Unix socket */
    evo_journal_close(l->journal);
    if (l->unix_dir[0])
        rmdir(l->unix_dir);
    evo_shared_dir_remove_unused(l->creds.server_public); /* the node's constants, even if a worker was killed */
    free(l->workers);
    free(l->driver_env);
    explicit_bzero(&l->keys, sizeof l->keys);
    explicit_bzero(l->driver_vars, sizeof l->driver_vars);
    if (l->sfd >= 0)
        close(l->sfd);
}

int evo_run_main(const struct evo_config *config, const char *config_path, const struct evo_run_options *options,
                 const char *self)
{
    struct launch l = {.self = self, .config_path = config_path, .driver_status = 1, .sfd = -1};
    int64_t started = evo_now_ms();
    evo_host_name(l.host, sizeof l.host);
    setenv(EVO_VAR_HOST, l.host, 1); /* workers report the name we match on */
    if (start_broker(&l, config, options) == 0 && start_members(&l, config, options) == 0)
        serve(&l);
    finish(&l, config, options, started);
    return l.driver_status;
}
