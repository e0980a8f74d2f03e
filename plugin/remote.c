/* remote.c — the tasks' side (remote context). user_init runs once per
 * node in slurmstepd: it reads the step's configuration, loads the
 * environment modules and checks the venv there, once for all local
 * tasks. task_init runs in each task just before exec and applies the
 * environment edits. An error in user_init is kept and reported by
 * task_init, because what user_init says never reaches srun. */
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

#define BATCH_STEP 0xFFFFFFFBu  /* SLURM_BATCH_SCRIPT */
#define EXTERN_STEP 0xFFFFFFFCu /* SLURM_EXTERN_CONT */

static struct {
    int skip;                     /* the batch script or extern step: nothing to do */
    char error[EVO_ERROR_MAX];             /* kept for task_init */
    struct evo_config *config;
    struct evo_env_edits modules; /* what `module load` changed on this node */
    unsigned cpus_per_task;
    char host[256];
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
    if (spank_getenv(sp, EVO_VAR_CONFIG_TEXT, text, sizeof text) != ESPANK_SUCCESS ||
        spank_getenv(sp, EVO_VAR_CONFIG_NAME, name, sizeof name) != ESPANK_SUCCESS ||
        spank_getenv(sp, EVO_VAR_CONFIG_DIR, dir, sizeof dir) != ESPANK_SUCCESS) {
        snprintf(err, sizeof err, "%s on %s: the farm's configuration did not reach this step (srun "
                 "--export=NONE? the variables EVO_FARM_CONFIG_* and EVO_FARM_CLIENT_* must be exported)",
                 evo_plugin.file, node.host);
        keep_error(err);
        return;
    }
    if ((node.config = evo_config_parse(name, text, strlen(text), dir, err, sizeof err)) == NULL)
        keep_error(err);
}

static void check_venv(void)
{
    char python[EVO_PATH_MAX], err[EVO_ERROR_MAX];
    const char *venv = node.config->environment.venv;
    snprintf(python, sizeof python, "%s/bin/python", venv);
    if (access(python, X_OK) != 0) {
        snprintf(err, sizeof err, "%s: environment.venv %s has no %s on %s (make the venv with "
                 "`python3 -m venv %s` where every node can see it)", node.config->path, venv, python, node.host,
                 venv);
        keep_error(err);
    }
}

static void load_modules(spank_t sp)
{
    char **env = NULL, err[EVO_ERROR_MAX];
    if (spank_get_item(sp, S_JOB_ENV, &env) != ESPANK_SUCCESS || env == NULL) {
        keep_error("cannot read the step's environment to load modules");
        return;
    }
    if (evo_modules_load(evo_plugin.site.modules_init, node.config->environment.modules, env, node.host,
                         &node.modules, err, sizeof err) < 0)
        keep_error(err);
}

int evo_remote_user_init(spank_t sp)
{
    uint32_t step = 0;
    uint16_t cpus = 1;
    if (spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS && (step == BATCH_STEP || step == EXTERN_STEP)) {
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
    if (node.config && node.error[0] == '\0' && node.config->environment.modules &&
        node.config->environment.modules[0])
        load_modules(sp);
    return 0;
}

static const char *task_lookup(void *sp, const char *name)
{
    static char value[65536];
    return spank_getenv(sp, name, value, sizeof value) == ESPANK_SUCCESS ? value : NULL;
}

int evo_remote_task_init(spank_t sp)
{
    struct evo_env_edits edits = {0};
    int rc = 0;
    if (node.skip)
        return 0;
    if (node.error[0]) {
        slurm_error("evo-farm: %s", node.error);
        return -1;
    }
    if (evo_task_env(node.config, &node.modules, node.cpus_per_task, evo_plugin.site.threads, task_lookup, sp,
                     &edits) < 0) {
        slurm_error("evo-farm: out of memory preparing the task's environment");
        return -1;
    }
    for (size_t i = 0; i < edits.count && rc == 0; i++) {
        const struct evo_env_edit *e = &edits.items[i];
        spank_err_t err = e->value ? spank_setenv(sp, e->name, e->value, 1) : spank_unsetenv(sp, e->name);
        if (err != ESPANK_SUCCESS && !(e->value == NULL && err == ESPANK_ENV_NOEXIST)) {
            slurm_error("evo-farm: cannot set %s in the task: %s", e->name, spank_strerror(err));
            rc = -1;
        }
    }
    evo_env_edits_free(&edits);
    return rc;
}
