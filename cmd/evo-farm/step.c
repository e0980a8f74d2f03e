/* step.c — `evo-farm [COMMAND...]` as a task of `srun --evo-farm=FILE`:
 * the configuration and this task's keys come from the step environment
 * (the SPANK plugin put them there, each rank only its role's), the tasks find each other through the
 * bootstrap interface. Rank 0 binds the broker on every address of its
 * node, puts its card, and runs the driver; every other rank reads the card
 * after the fence and becomes a worker. Phases: config, bootstrap, role. */
#include "step.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootstrap/bootstrap.h"
#include "bootstrap/card.h"
#include "launcher.h"
#include "util/log.h"
#include "worker/worker.h"
#include "util/names.h"
#include "util/host.h"
#include "util/signals.h"

#define FENCE_TIMEOUT_S 120 /* every task must reach the wire-up by then */

struct step {
    struct evo_bootstrap *bootstrap;
    char host[EVO_HOST_MAX + 1];
    unsigned rank;
    int wired; /* rank 0 came to the wire-up (publish_card ran) */
};

/* What rank 0 puts in place of its card when the farm failed before the
 * wire-up (a refused journal, a port it cannot bind): the workers, waiting
 * at the fence, end at once instead of at FENCE_TIMEOUT_S. */
#define NO_FARM_CARD "no farm"

/* Rank 0's publish callback: card out, fence, and the local driver connects
 * through loopback. */
static int publish_card(void *arg, struct evo_credentials *creds)
{
    struct step *s = arg;
    s->wired = 1;
    struct evo_net nets[64];
    struct evo_card card = {0};
    char text[EVO_CARD_MAX + 512], err[EVO_ERROR_MAX];
    int count = evo_card_local_nets(nets, 64);
    snprintf(card.host, sizeof card.host, "%s", s->host);
    memcpy(card.server_public, creds->server_public, EVO_KEY_TEXT);
    if (count < 0 ||
        evo_card_endpoints_bound(creds->endpoint, nets, (size_t)count, card.endpoints, sizeof card.endpoints) < 0 ||
        evo_card_format(&card, text, sizeof text) < 0) {
        evo_error("rank 0 on %s: cannot list this node's addresses: %s", s->host, strerror(errno ? errno : ENOSPC));
        return -1;
    }
    if (evo_bootstrap_put(s->bootstrap, EVO_CARD_KEY, text, err, sizeof err) < 0 ||
        evo_bootstrap_fence(s->bootstrap, FENCE_TIMEOUT_S, err, sizeof err) < 0) {
        evo_error("rank 0 on %s: wire-up failed: %s", s->host, err);
        return -1;
    }
    evo_info("broker on %s: %s (wire-up: %s)", s->host, card.endpoints, evo_bootstrap_name(s->bootstrap));
    setenv(EVO_VAR_ENDPOINTS, card.endpoints, 1);              /* for `evo-farm status` from other hosts */
    if (strncmp(creds->endpoint, "tcp://0.0.0.0:", 14) == 0) { /* rank 0's own members: loopback */
        char port[16];
        snprintf(port, sizeof port, "%s", creds->endpoint + 14);
        snprintf(creds->endpoint, sizeof creds->endpoint, "tcp://127.0.0.1:%s", port);
    }
    return 0;
}

/* Whether this task is in a step cgroup of Slurm's freezer hierarchy
 * (cgroup v1) or of the unified one (v2): proctrack/cgroup, which
 * signals (but for SIGKILL) only the processes whose parent is
 * slurmstepd (proctrack_p_signal in
 * src/plugins/proctrack/cgroup/proctrack_cgroup.c). */
static int signals_reach_tasks_only(void)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof line, f))
        found = (strstr(line, ":freezer:") || strncmp(line, "0::", 3) == 0) && strstr(line, "/job_") &&
                strstr(line, "/step_");
    fclose(f);
    return found;
}

/* Where rank 0's broker listens when farm.bind says nothing: the site's
 * bind= (the plugin hands it over), else every address of the node. */
static const char *site_bind(void)
{
    const char *site = getenv(EVO_VAR_SITE_BIND);
    return site && site[0] ? site : "tcp://*:*";
}

static int run_rank0(struct step *s, const struct evo_config *config, char **driver_argv, const char *self)
{
    struct evo_role_keys keys;
    char err[EVO_ERROR_MAX];
    if (evo_role_keys_from_env(&keys, err, sizeof err) < 0) {
        evo_error("rank 0 on %s: the step's keys are missing (%s)", s->host, err);
        return 1;
    }
    struct evo_run_options options = {
        .driver_argv = driver_argv,
        .no_local_workers = 1,
        .keys = &keys,
        .bind = strcmp(config->farm.bind, EVO_DEFAULT_BIND) != 0 ? config->farm.bind : site_bind(),
        .publish = publish_card,
        .publish_arg = s,
        .expected_workers = evo_bootstrap_size(s->bootstrap) - 1,
        .forward_job_signals = signals_reach_tasks_only(),
    };
    int rc = evo_run_main(config, NULL, &options, self);
    if (s->wired)
        return rc;
    if (evo_bootstrap_put(s->bootstrap, EVO_CARD_KEY, NO_FARM_CARD, err, sizeof err) < 0 ||
        evo_bootstrap_fence(s->bootstrap, FENCE_TIMEOUT_S, err, sizeof err) < 0)
        evo_error("rank 0 on %s: cannot tell the workers that the farm did not start: %s", s->host, err);
    return rc ? rc : 1;
}

/* A worker of the broker `card` names, reached from `host` by the route
 * evo_card_choose picks; `who` starts the messages. The worker's exit
 * status, or 1. */
static int work_for(const struct evo_card *card, const char *host, struct evo_credentials *creds,
                    const struct evo_config *config, const char *self, const char *who)
{
    struct evo_net nets[64];
    int count = evo_card_local_nets(nets, 64);
    if (count < 0 || evo_card_choose(card, host, nets, (size_t)count, creds->endpoint, sizeof creds->endpoint) < 0) {
        evo_error("%s: no usable broker address in '%s'", who, card->endpoints);
        return 1;
    }
    memcpy(creds->server_public, card->server_public, EVO_KEY_TEXT);
    evo_info("%s joins the broker%s%s at %s", who, card->host[0] ? " on " : "", card->host, creds->endpoint);
    return evo_worker_main(config, creds, self);
}

static int run_worker(struct step *s, const struct evo_config *config, const char *self)
{
    struct evo_credentials creds;
    struct evo_card card;
    char text[EVO_CARD_MAX + 512], err[EVO_ERROR_MAX], who[EVO_HOST_MAX + 32];
    if (evo_credentials_member_from_env(&creds, err, sizeof err) < 0) { /* the rest comes from the card */
        evo_error("rank %u on %s: the step's keys are missing (%s)", s->rank, s->host, err);
        return 1;
    }
    if (evo_bootstrap_fence(s->bootstrap, FENCE_TIMEOUT_S, err, sizeof err) < 0 ||
        evo_bootstrap_get(s->bootstrap, 0, EVO_CARD_KEY, text, sizeof text, err, sizeof err) < 0) {
        evo_error("rank %u on %s: wire-up failed: %s", s->rank, s->host, err);
        return 1;
    }
    /* The wire-up is over: leave PMIx now. Slurm's mpi/pmix plugin kills
     * the whole step, --no-kill or not, when a client that has not
     * finalized loses its connection (_errhandler in pmixp_client_v2.c
     * calls slurm_kill_job_step): a worker task lost later (killed, out of
     * memory) must cost its own work only. */
    evo_bootstrap_close(s->bootstrap);
    s->bootstrap = NULL;
    snprintf(who, sizeof who, "rank %u on %s", s->rank, s->host);
    if (strcmp(text, NO_FARM_CARD) == 0) {
        evo_info("%s: the farm did not start on rank 0 (its error says why)", who);
        return 1;
    }
    if (evo_card_parse(text, &card) < 0) {
        evo_error("%s: rank 0's card '%s' is not one", who, text);
        return 1;
    }
    return work_for(&card, s->host, &creds, config, self, who);
}

/* A task of `srun --evo-farm-join=FARM`: a worker of the running farm
 * FARM, whose endpoints and server key the plugin put in EVO_FARM_JOIN and
 * EVO_FARM_SERVER_KEY; no wire-up of its own (every task is a worker). */
static int run_joined(const struct evo_config *config, char **driver_argv, const char *self)
{
    struct evo_credentials creds;
    struct evo_card card = {0};
    char err[EVO_ERROR_MAX], host[EVO_HOST_MAX + 1], prefix[96];
    const char *endpoints = getenv(EVO_VAR_JOIN), *server = getenv(EVO_VAR_SERVER_KEY);
    evo_host_name(host, sizeof host);
    snprintf(prefix, sizeof prefix, "evo-farm joined worker@%.40s", host);
    evo_log_set_prefix(prefix);
    if (driver_argv && driver_argv[0])
        evo_warn("the tasks of --evo-farm-join are the farm's workers: the command '%s' is not run", driver_argv[0]);
    if (evo_credentials_member_from_env(&creds, err, sizeof err) < 0 || server == NULL ||
        strlen(server) != EVO_KEY_TEXT - 1) {
        evo_error("the keys of the farm to join are missing (%s)", server ? err : EVO_VAR_SERVER_KEY " is not set");
        return 1;
    }
    snprintf(card.endpoints, sizeof card.endpoints, "%s", endpoints);
    memcpy(card.server_public, server, EVO_KEY_TEXT);
    return work_for(&card, host, &creds, config, self, "a joined task");
}

int evo_step_main(char **driver_argv, const char *self)
{
    struct step s = {0};
    char err[EVO_ERROR_MAX], prefix[96];
    int rc;
    struct evo_config *config = evo_config_from_step_env(err, sizeof err);
    if (config == NULL) {
        fprintf(stderr, "evo-farm: %s\n", err);
        return 2;
    }
    if (evo_default_evaluator(config, driver_argv) < 0) {
        evo_config_destroy(config);
        return 2;
    }
    if (getenv(EVO_VAR_JOIN)) {
        int joined = run_joined(config, driver_argv, self);
        evo_config_destroy(config);
        return joined;
    }
    /* Block the launcher's signals before PMIx starts its progress thread,
     * so that thread cannot swallow a SIGCHLD meant for our signalfd. */
    evo_signals_block(NULL);
    evo_host_name(s.host, sizeof s.host);
    if ((s.bootstrap = evo_bootstrap_open(err, sizeof err)) == NULL) {
        evo_error("task on %s: %s", s.host, err);
        evo_config_destroy(config);
        return 1;
    }
    s.rank = evo_bootstrap_rank(s.bootstrap);
    if (evo_bootstrap_size(s.bootstrap) < 2) {
        evo_error("a farm step needs at least 2 tasks (rank 0 runs the broker and the driver, the others "
                  "evaluate); got 1: use srun -n2 or more");
        rc = 2;
    } else if (s.rank == 0) {
        rc = run_rank0(&s, config, driver_argv, self);
    } else {
        evo_signals_unblock(NULL); /* a worker ends on SIGTERM (scancel) */
        snprintf(prefix, sizeof prefix, "evo-farm worker %u@%.40s", s.rank, s.host);
        evo_log_set_prefix(prefix);
        rc = run_worker(&s, config, self);
    }
    evo_bootstrap_close(s.bootstrap);
    evo_config_destroy(config);
    return rc;
}
