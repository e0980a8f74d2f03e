/* join.c — `evo-farm join FARM|FILE [-n N]`; see join.h. Phases: read the
 * join credential, write the farm's configuration into a private
 * directory, start N workers on it with the credential in their
 * environment, pass SIGINT/SIGTERM on to them (a worker told so says BYE:
 * what it held is requeued), wait for them all. */
#include "join.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry/registry.h"
#include "util/names.h"
#include "util/parse.h"

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

/* FILE as given, else ~/.evo-farm/farms/FARM.join, else the first step of
 * job FARM. 0 with the path in out, or -1. */
static int find_credential(const char *arg, char *out, size_t size)
{
    if (access(arg, R_OK) == 0 && strchr(arg, '/'))
        return (size_t)snprintf(out, size, "%s", arg) < size ? 0 : -1;
    return evo_farm_join_find(arg, out, size);
}

/* The configuration in a fresh 0700 directory; its path in out. 0, or -1. */
static int write_config(const char *text, char *dir, size_t dir_size, char *out, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, dir_size, "%s/evo-farm-join-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(out, size, "%s/farm.yaml", dir);
    FILE *f = fopen(out, "wx");
    int rc = f && fputs(text, f) >= 0 ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    return rc;
}

static int set_credentials(const struct evo_access *a)
{
    char endpoint[sizeof a->endpoints];
    snprintf(endpoint, sizeof endpoint, "%s", a->endpoints);
    endpoint[strcspn(endpoint, ",")] = '\0'; /* the most routable first */
    unsetenv(EVO_VAR_UNIX_SOCKET);           /* ZeroMQ with CURVE, from anywhere */
    if (a->nested_public[0] &&
        (setenv(EVO_VAR_NESTED_PUBLIC, a->nested_public, 1) || setenv(EVO_VAR_NESTED_SECRET, a->nested_secret, 1)))
        return -1;
    return setenv(EVO_VAR_ENDPOINT, endpoint, 1) || setenv(EVO_VAR_SERVER_KEY, a->server, 1) ||
                   setenv(EVO_VAR_CLIENT_PUBLIC, a->public_key, 1) || setenv(EVO_VAR_CLIENT_SECRET, a->secret, 1)
               ? -1
               : 0;
}

/* Starts n workers; waits for them, passing a stop signal on. 0 when they
 * all ended by themselves or were stopped, 1 when one failed. */
static int run_workers(const char *self, const char *config_path, unsigned n)
{
    pid_t *pids = calloc(n, sizeof *pids);
    unsigned alive = 0, failed = 0;
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: waitpid returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (unsigned i = 0; pids && i < n; i++) {
        if ((pids[i] = fork()) == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            execl(self, self, "__worker", config_path, (char *)NULL);
            fprintf(stderr, "evo-farm join: cannot run %s: %s\n", self, strerror(errno));
            _exit(127);
        }
        alive += pids[i] > 0;
    }
    fprintf(stderr, "evo-farm join: %u worker%s joining the farm\n", alive, alive == 1 ? "" : "s");
    int forwarded = 0, status;
    while (alive > 0) {
        if (stop_signal && !forwarded) {
            for (unsigned i = 0; i < n; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM); /* a worker leaves as on BYE: its tasks are requeued */
            forwarded = 1;
        }
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break;
        for (unsigned i = 0; i < n; i++)
            if (pids[i] == pid) {
                pids[i] = 0;
                alive--;
                failed += !forwarded && !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            }
    }
    free(pids);
    fprintf(stderr, "evo-farm join: the workers left the farm%s\n", stop_signal ? " (stopped)" : "");
    return failed ? 1 : 0;
}

int evo_join_main(int argc, char **argv, const char *self)
{
    char path[EVO_PATH_MAX], err[EVO_ERROR_MAX], dir[EVO_PATH_MAX], config_path[EVO_PATH_MAX + 16];
    const char *target = NULL;
    unsigned n = 1;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--workers") == 0) && i + 1 < argc &&
            evo_parse_unsigned(argv[i + 1], 1, EVO_MAX_LOCAL_WORKERS, &n) == 0) {
            i++;
        } else if (argv[i][0] == '-' || target) {
            fprintf(stderr, "evo-farm: join FARM|FILE [-n N] (N from 1 to %u): unexpected '%s'\n",
                    EVO_MAX_LOCAL_WORKERS, argv[i]);
            return 2;
        } else {
            target = argv[i];
        }
    }
    if (target == NULL) {
        fprintf(stderr, "evo-farm: join needs a FARM (an id from evo-farm status) or a join credential FILE\n");
        return 2;
    }
    struct evo_access a;
    char *text = NULL;
    if (find_credential(target, path, sizeof path) < 0) {
        fprintf(stderr, "evo-farm: join: no running farm '%s' to join (evo-farm status lists them)\n", target);
        return 2;
    }
    if (evo_access_read_file(path, &a, &text, err, sizeof err) < 0) {
        fprintf(stderr, "evo-farm: join: %s\n", err);
        return 2;
    }
    int rc = 2;
    if (write_config(text, dir, sizeof dir, config_path, sizeof config_path) < 0 || set_credentials(&a) < 0)
        fprintf(stderr, "evo-farm: join: cannot prepare the workers: %s\n", strerror(errno));
    else
        rc = run_workers(self, config_path, n);
    unlink(config_path);
    rmdir(dir);
    free(text);
    return rc;
}
