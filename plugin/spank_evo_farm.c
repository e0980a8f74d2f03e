/* spank_evo_farm.c — the SPANK entry points of the evo-farm plugin: one
 * option, --evo-farm=FILE (and --evo-farm-join=FARM), registered with spank_option_register (which
 * sbatch and salloc need), and a dispatch on the context to srun.c or
 * slurmstepd.c. Site settings come from the plugstack.conf arguments. */
#include <slurm/slurm_version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.h"
#include "util/names.h"

SPANK_PLUGIN(evo_farm, 1);

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
/* A failing slurm_spank_init of a required plugin fails the job instead
 * of draining the node (spank.h, 25.05 and later). */
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE; /* spank.h declares it int */
#endif

struct evo_plugin evo_plugin;

/* Slurm may call this twice with the same value (an #SBATCH option is
 * replayed into srun; remote callbacks run twice per step): the last one
 * wins. A bare `--evo-farm` (the value is optional) is a farm of every
 * default, a Python driver's; `--evo-farm=none` is how one srun of a farm
 * job opts out. */
static int on_option(int value, const char *arg, int remote)
{
    (void)value;
    (void)remote;
    /* sbatch hands a bare #SBATCH --evo-farm to the job's sruns as the
     * text "(null)" (it formats the missing value with %s) */
    evo_plugin.defaults = arg == NULL || arg[0] == '\0' || strcmp(arg, "(null)") == 0;
    if (evo_plugin.defaults) {
        strcpy(evo_plugin.file, EVO_PLUGIN_DEFAULTS_NAME);
        return 0;
    }
    if (strlen(arg) >= sizeof evo_plugin.file) {
        slurm_error("evo-farm: --evo-farm=FILE: the file name is too long");
        return -1;
    }
    strcpy(evo_plugin.file, strcmp(arg, "none") == 0 ? "" : arg);
    return 0;
}

static struct spank_option option = {"evo-farm", "FILE", "Run as an evo-farm task farm (described by FILE)",
                                     2,          0,      on_option};

/* --evo-farm-join=FARM: an id from `evo-farm status` (JOBID.STEP, or a job
 * id for its first step); `none` opts one srun of a joining job out. */
static int on_join_option(int value, const char *arg, int remote)
{
    (void)value;
    (void)remote;
    if (arg == NULL || arg[0] == '\0' || strchr(arg, '/') || arg[0] == '.' || strlen(arg) >= sizeof evo_plugin.join) {
        slurm_error("evo-farm: --evo-farm-join=FARM needs the id of a running farm (JOBID[.STEP], as evo-farm status "
                    "lists them)");
        return -1;
    }
    strcpy(evo_plugin.join, strcmp(arg, "none") == 0 ? "" : arg);
    return 0;
}

static struct spank_option join_option = {
    "evo-farm-join", "FARM", "Join the running evo-farm FARM (JOBID[.STEP], from evo-farm status) as its workers", 1, 0,
    on_join_option};

int slurm_spank_init(spank_t sp, int argc, char **argv)
{
    char err[EVO_ERROR_MAX];
    spank_context_t context = spank_context();
    if (context == S_CTX_SLURMD || context == S_CTX_ERROR)
        return 0;
    if (evo_site_parse(&evo_plugin.site, argc, argv, err, sizeof err) < 0) {
        slurm_error("evo-farm: plugstack.conf: %s", err);
        return -1;
    }
    spank_err_t rc = spank_option_register(sp, &option);
    if (rc == ESPANK_SUCCESS)
        rc = spank_option_register(sp, &join_option);
    if (rc != ESPANK_SUCCESS) {
        slurm_error("evo-farm: cannot register --evo-farm and --evo-farm-join: %s", spank_strerror(rc));
        return -1;
    }
    /* srun reads SLURM_MPI_TYPE after this callback: ask for a wire-up now. */
    return context == S_CTX_LOCAL ? evo_srun_init(sp) : 0;
}

/* A refusal of the option in srun, sbatch or salloc (the message said),
 * before any allocation, stops it there,
 * whatever the plugstack line says: Slurm drops an optional plugin's
 * failure (_do_call_stack, src/common/plugstack.c) and would go on to
 * allocate and launch. Exits 1, as srun does on a bad option. */
static int stop_if_refused(int rc)
{
    if (rc < 0)
        exit(1);
    return rc;
}

int slurm_spank_local_user_init(spank_t sp, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    /* Not stopped here: srun may hold an allocation of its own by now. A
     * refused --mpi under an optional line launches tasks whose evo-farm
     * cannot wire up, and fail: nothing of the user's runs. */
    return evo_plugin.file[0] && !evo_plugin.join[0] ? evo_srun_user_init(sp) : 0; /* joiners need no wire-up */
}

int slurm_spank_init_post_opt(spank_t sp, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (!evo_plugin_active())
        return 0;
    switch (spank_context()) {
    case S_CTX_LOCAL:
        return stop_if_refused(evo_srun_post_opt(sp, 0));
    case S_CTX_ALLOCATOR:
        return stop_if_refused(evo_srun_post_opt(sp, 1));
    default:
        return 0;
    }
}

int slurm_spank_user_init(spank_t sp, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return evo_plugin_active() ? evo_slurmstepd_user_init(sp) : 0;
}

int slurm_spank_task_init(spank_t sp, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return evo_plugin_active() ? evo_slurmstepd_task_init(sp) : 0;
}
