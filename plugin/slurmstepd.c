/* slurmstepd.c — the tasks' side (SPANK's remote context). user_init runs once per
 * node in slurmstepd: it reads the step's configuration, loads the
 * environment modules and checks the venv there, once for all local
 * tasks. task_init runs in each task just before exec and applies the
 * environment edits. An error in user_init is kept and reported by
 * task_init, because what user_init says never reaches srun. */
#include <slurm/slurm_version.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "modules.h"
#include "plugin.h"
#include "task_env.h"
#include "util/names.h"

#define BATCH_STEP       0xFFFFFFFBu /* SLURM_BATCH_SCRIPT */
#define EXTERN_STEP      0xFFFFFFFCu /* SLURM_EXTERN_CONT */
#define INTERACTIVE_STEP 0xFFFFFFFAu /* SLURM_INTERACTIVE_STEP: salloc's shell (use_interactive_step) */

static struct {
    int skip;                  /* the batch script or extern step: nothing to do */
    char error[EVO_ERROR_MAX]; /* kept for task_init */
    struct evo_config *config;
    struct evo_env_edits modules; /* what `module load` changed on this node */
    unsigned cpus_per_task;
    char host[EVO_HOST_MAX + 1];
} node;

static void keep_error(const char *message)
{
    if (node.error[0] == '\0') {
        strncpy(node.error, message, sizeof node.error - 1);
        node.error[sizeof node.error - 1] = '\0';
    }
}

static void load_config(spank_t sp)
{
    static char text[EVO_CONFIG_TEXT_MAX + 1], name[EVO_PATH_MAX], dir[EVO_PATH_MAX];
    char err[EVO_ERROR_MAX];
    if (spank_getenv(sp, EVO_STEP_VAR_CONFIG_TEXT, text, sizeof text) != ESPANK_SUCCESS ||
        spank_getenv(sp, EVO_STEP_VAR_CONFIG_NAME, name, sizeof name) != ESPANK_SUCCESS ||
        spank_getenv(sp, EVO_STEP_VAR_CONFIG_DIR, dir, sizeof dir) != ESPANK_SUCCESS) {
        snprintf(err, sizeof err,
                 "%s on %s: the farm's configuration did not reach this step (is the "
                 "plugin loaded by srun too? it puts SLURM_EVO_FARM_* in the step's environment)",
                 evo_plugin.file[0] ? evo_plugin.file : evo_plugin.join, node.host);
        keep_error(err);
        return;
    }
    /* ~/ is the job user's home on this node, not slurmstepd's $HOME. */
    char buffer[4096], *home = NULL;
    struct passwd pw, *found = NULL;
    uid_t uid = 0;
    if (spank_get_item(sp, S_JOB_UID, &uid) == ESPANK_SUCCESS &&
        getpwuid_r(uid, &pw, buffer, sizeof buffer, &found) == 0 && found)
        home = found->pw_dir;
    if ((node.config = evo_config_parse_home(name, text, strlen(text), dir, home, err, sizeof err)) == NULL)
        keep_error(err);
}

/* The name of the effective user (the job's, in user_init) in name. */
static void effective_user(char *name, size_t size)
{
    char buffer[4096];
    struct passwd pw, *found = NULL;
    if (getpwuid_r(geteuid(), &pw, buffer, sizeof buffer, &found) == 0 && found)
        snprintf(name, size, "%s", found->pw_name);
    else
        snprintf(name, size, "uid %u", (unsigned)geteuid());
}

/* As the job's user (user_init runs with the user's effective ids, so
 * AT_EACCESS asks as them, not as root), on the path as this node resolves
 * it: the site's venv_roots hold here too, where `..` and symlinks are
 * resolved. A venv the user may not enter (another user's 0700 directory)
 * is told apart from a missing one. */
static void check_venv(void)
{
    char python[EVO_PATH_MAX], resolved[PATH_MAX], err[EVO_ERROR_MAX], user[64];
    const char *venv = node.config->environment.venv;
    if (evo_plugin.site.venv_roots[0] &&
        (realpath(venv, resolved) == NULL || !evo_site_venv_allowed(&evo_plugin.site, resolved))) {
        snprintf(err, sizeof err, "%s: environment.venv %s is outside the directories this site allows (%s) on %s",
                 node.config->path, venv, evo_plugin.site.venv_roots, node.host);
        keep_error(err);
        return;
    }
    snprintf(python, sizeof python, "%s/bin/python", venv);
    if (faccessat(AT_FDCWD, python, X_OK, AT_EACCESS) == 0)
        return;
    if (errno == EACCES) {
        effective_user(user, sizeof user);
        snprintf(err, sizeof err,
                 "%s: environment.venv %s is out of %s's reach on %s (%s: %s; the job's user must be able to "
                 "read the venv on every node)",
                 node.config->path, venv, user, node.host, python, strerror(EACCES));
    } else {
        snprintf(err, sizeof err,
                 "%s: environment.venv %s has no %s on %s (make the venv with "
                 "`python3 -m venv %s` where every node can see it)",
                 node.config->path, venv, python, node.host, venv);
    }
    keep_error(err);
}

static void load_modules(spank_t sp)
{
    char **env = NULL, err[EVO_ERROR_MAX];
    if (spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS || env == NULL) {
        keep_error("cannot read the step's environment to load modules");
        return;
    }
    if (evo_modules_load(evo_plugin.site.modules_init, node.config->environment.modules, env, node.host,
                         (int)evo_plugin.site.modules_timeout_s * 1000, &node.modules, err, sizeof err) < 0)
        keep_error(err);
}

int evo_slurmstepd_user_init(spank_t sp)
{
    uint32_t step = 0;
    uint16_t cpus = 1;
    if (spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS &&
        (step == BATCH_STEP || step == EXTERN_STEP || step == INTERACTIVE_STEP)) {
        node.skip = 1; /* the sruns inside the job carry --evo-farm themselves */
        return 0;
    }
    if (gethostname(node.host, sizeof node.host - 1) < 0)
        strcpy(node.host, "this node");
    if (spank_get_item(sp, S_STEP_CPUS_PER_TASK, &cpus) == ESPANK_SUCCESS)
        node.cpus_per_task = cpus;
    load_config(sp);
    if (node.config && node.config->environment.venv)
        check_venv();
    if (node.config && node.error[0] == '\0' && node.config->environment.modules && node.config->environment.modules[0])
        load_modules(sp);
    return 0;
}

static const char *task_lookup(void *sp, const char *name)
{
    static char value[65536];
    return spank_getenv(sp, name, value, sizeof value) == ESPANK_SUCCESS ? value : NULL;
}

/* The task's rank in the whole step: SLURM_PROCID, which slurmstepd sets
 * to the task's id plus the het component's offset (exec_task in
 * src/slurmd/slurmstepd/task.c) before task_init. S_TASK_GLOBAL_ID counts
 * from 0 in every component of a heterogeneous step, so the first task of
 * the second would be taken for rank 0; it serves only where SLURM_PROCID
 * is missing. 0, or -1. */
static int task_rank(spank_t sp, uint32_t *rank)
{
    char text[16], *end;
    if (spank_getenv(sp, "SLURM_PROCID", text, sizeof text) == ESPANK_SUCCESS) {
        errno = 0;
        unsigned long value = strtoul(text, &end, 10);
        if (errno == 0 && end != text && *end == '\0' && text[0] != '-' && value <= UINT32_MAX) {
            *rank = (uint32_t)value;
            return 0;
        }
    }
    return spank_get_item(sp, S_TASK_GLOBAL_ID, rank) == ESPANK_SUCCESS ? 0 : -1;
}

/* The step's variables from their SLURM_ carriers to the names the runtime
 * reads, and the carriers removed (the keys then live under one name
 * only). Of the keys, each task gets its rank's role only: rank 0 (the
 * broker and the driver) the driver pair as its own and the worker pair
 * for the farm's join credential; every other rank the worker pair as its
 * own; every rank the nested pair (a worker gives it to its evaluator).
 * The driver's secret never reaches a worker task. A step that joins a
 * running farm (--evo-farm-join) has no rank 0 of its own: every task is a
 * worker and gets the farm's endpoints and server key too. */
static int move_step_variables(spank_t sp)
{
    static char value[EVO_CONFIG_TEXT_MAX + 1];
    uint32_t rank = 1;
    int joins = spank_getenv(sp, EVO_STEP_VAR_JOIN, value, sizeof value) == ESPANK_SUCCESS;
    if (!joins && task_rank(sp, &rank) < 0) {
        slurm_error("evo-farm: cannot read the task's rank on %s", node.host);
        return -1;
    }
    const char *const moves[][2] = {
        {joins ? EVO_STEP_VAR_JOIN : NULL, EVO_VAR_JOIN},
        {joins ? EVO_STEP_VAR_SERVER_KEY : NULL, EVO_VAR_SERVER_KEY},
        {EVO_STEP_VAR_CONFIG_TEXT, EVO_VAR_CONFIG_TEXT},
        {EVO_STEP_VAR_CONFIG_NAME, EVO_VAR_CONFIG_NAME},
        {EVO_STEP_VAR_CONFIG_DIR, EVO_VAR_CONFIG_DIR},
        {EVO_STEP_VAR_NESTED_PUBLIC, EVO_VAR_NESTED_PUBLIC},
        {EVO_STEP_VAR_NESTED_SECRET, EVO_VAR_NESTED_SECRET},
        {rank ? EVO_STEP_VAR_WORKER_PUBLIC : EVO_STEP_VAR_DRIVER_PUBLIC, EVO_VAR_CLIENT_PUBLIC},
        {rank ? EVO_STEP_VAR_WORKER_SECRET : EVO_STEP_VAR_DRIVER_SECRET, EVO_VAR_CLIENT_SECRET},
        {rank ? NULL : EVO_STEP_VAR_WORKER_PUBLIC, EVO_VAR_WORKER_PUBLIC},
        {rank ? NULL : EVO_STEP_VAR_WORKER_SECRET, EVO_VAR_WORKER_SECRET},
    };
    static const char *const carriers[] = {EVO_STEP_VAR_DRIVER_PUBLIC, EVO_STEP_VAR_DRIVER_SECRET,
                                           EVO_STEP_VAR_WORKER_PUBLIC, EVO_STEP_VAR_WORKER_SECRET};
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        if (moves[i][0] == NULL)
            continue;
        if (spank_getenv(sp, moves[i][0], value, sizeof value) != ESPANK_SUCCESS ||
            spank_setenv(sp, moves[i][1], value, 1) != ESPANK_SUCCESS) {
            slurm_error("evo-farm: %s did not reach the task on %s", moves[i][0], node.host);
            return -1;
        }
        spank_unsetenv(sp, moves[i][0]);
    }
    for (size_t i = 0; i < sizeof carriers / sizeof carriers[0]; i++)
        spank_unsetenv(sp, carriers[i]); /* the other role's: not this task's to have */
    explicit_bzero(value, sizeof value);
    return 0;
}

/* The task runs `evo-farm -- COMMAND...` (rank 0: the driver; the others:
 * workers), unless COMMAND is evo-farm already. */
static int wrap_command(spank_t sp)
{
    int argc = 0;
    char **argv = NULL;
    if (spank_get_item(sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS || argc < 1 || argv == NULL) {
        slurm_error("evo-farm: cannot read the task's command on %s", node.host);
        return -1;
    }
    const char *base = strrchr(argv[0], '/');
    if (strcmp(base ? base + 1 : argv[0], "evo-farm") == 0)
        return 0;
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 11, 0)
    const char *front[] = {evo_plugin.site.evo_farm, "--"};
    if (spank_prepend_task_argv(sp, 2, front) != ESPANK_SUCCESS) {
        slurm_error("evo-farm: cannot put %s in front of the task's command on %s", evo_plugin.site.evo_farm,
                    node.host);
        return -1;
    }
#else
    /* Before 23.11 the task's argv is the step's own array, live in this
     * task's process: argv[0] becomes evo-farm, which finds the command's
     * own argv[0] in EVO_FARM_TASK_ARGV0 (cmd/evo-farm/main.c). */
    char *command = strdup(evo_plugin.site.evo_farm);
    if (command == NULL || spank_setenv(sp, EVO_VAR_TASK_ARGV0, argv[0], 1) != ESPANK_SUCCESS) {
        free(command);
        slurm_error("evo-farm: cannot put %s in front of the task's command on %s", evo_plugin.site.evo_farm,
                    node.host);
        return -1;
    }
    argv[0] = command;
#endif
    return 0;
}

/* A refused step fails its tasks; under an `optional` plugstack line
 * Slurm ignores that and runs them anyway, so each task's command becomes
 * an evo-farm that prints the refusal and exits 2 (EVO_FARM_REFUSED):
 * the user's command never runs unwrapped. -1 always. */
static int refuse_task(spank_t sp, const char *why)
{
    slurm_error("evo-farm: %s", why);
    if (spank_setenv(sp, EVO_VAR_REFUSED, why, 1) != ESPANK_SUCCESS || wrap_command(sp) < 0)
        slurm_error("evo-farm: cannot stop the refused task's command on %s: it fails only where the plugstack line "
                    "says required",
                    node.host);
    return -1;
}

int evo_slurmstepd_task_init(spank_t sp)
{
    struct evo_env_edits edits = {0};
    int rc = 0;
    if (node.skip)
        return 0;
    if (node.error[0])
        return refuse_task(sp, node.error);
    if (move_step_variables(sp) < 0 || wrap_command(sp) < 0)
        return refuse_task(sp, "this task could not be made a farm's (the line above says why)");
    spank_unsetenv(sp, EVO_PLUGIN_REPLAY_FARM); /* the task's own sruns are plain steps */
    spank_unsetenv(sp, EVO_PLUGIN_REPLAY_JOIN);
    if (evo_task_env(node.config, &node.modules, node.cpus_per_task, evo_plugin.site.threads, task_lookup, sp, &edits) <
        0)
        return refuse_task(sp, "out of memory preparing the task's environment");
    for (size_t i = 0; i < edits.count && rc == 0; i++) {
        const struct evo_env_edit *e = &edits.items[i];
        spank_err_t err = e->value ? spank_setenv(sp, e->name, e->value, 1) : spank_unsetenv(sp, e->name);
        if (err != ESPANK_SUCCESS && !(e->value == NULL && err == ESPANK_ENV_NOEXIST)) {
            slurm_error("evo-farm: cannot set %s in the task: %s", e->name, spank_strerror(err));
            rc = -1;
        }
    }
    evo_env_edits_free(&edits);
    if (rc == 0 && evo_plugin.site.bind[0] &&
        spank_setenv(sp, EVO_VAR_SITE_BIND, evo_plugin.site.bind, 1) != ESPANK_SUCCESS) {
        slurm_error("evo-farm: cannot set %s in the task", EVO_VAR_SITE_BIND);
        rc = -1;
    }
    return rc < 0 ? refuse_task(sp, "the task's environment could not be set (the line above says why)") : 0;
}
