/* plugin.h — state shared by the SPANK entry points (spank_evo_farm.c)
 * and the code for each side: srun.c (srun, sbatch, salloc) and slurmstepd.c
 * (slurmstepd and the tasks). Messages start with "evo-farm: ". */
#ifndef EVO_PLUGIN_H
#define EVO_PLUGIN_H

#include <slurm/spank.h>

#include "site.h"

/* What names the configuration of a bare --evo-farm (every default). */
#define EVO_PLUGIN_DEFAULTS_NAME "--evo-farm"

/* The replay variables that carry an #SBATCH --evo-farm and
 * --evo-farm-join into the job's sruns (spank_process_env_options). Slurm
 * strips only names beginning with SPANK_ or _SLURM_SPANK_OPTION_ from a
 * task's environment (spank_clear_remote_options_env), so these reach the
 * tasks: slurmstepd.c removes them there, or an srun that a task runs
 * (an evaluator's MPI simulation) would be a farm too. */
#define EVO_PLUGIN_REPLAY_FARM "SLURM_SPANK__SLURM_SPANK_OPTION_evo_farm_evo_farm"
#define EVO_PLUGIN_REPLAY_JOIN "SLURM_SPANK__SLURM_SPANK_OPTION_evo_farm_evo_farm_join"

struct evo_plugin {
    struct evo_site site;
    char file[4096]; /* --evo-farm=FILE; EVO_PLUGIN_DEFAULTS_NAME for a bare --evo-farm; empty: none */
    int defaults;    /* a bare --evo-farm: no file, every default */
    char join[320];  /* --evo-farm-join=FARM: the running farm every task joins as a worker; empty: none */
};

extern struct evo_plugin evo_plugin;

/* Whether this step (or job) is a farm's or joins one. */
static inline int evo_plugin_active(void)
{
    return evo_plugin.file[0] || evo_plugin.join[0];
}

/* srun, in slurm_spank_init: when the command line (or an #SBATCH
 * replay) asks for a farm and nobody chose an MPI type, ask for PMIx or
 * PMI-2 (mpi.h). 0, or -1. */
int evo_srun_init(spank_t sp);

/* srun: validate FILE, hand config and step keys to the tasks through
 * srun's environment. sbatch/salloc: validate FILE, arrange a wire-up for
 * the steps of the job. With --evo-farm-join=FARM instead: read FARM's join
 * credential (~/.evo-farm/farms, shared with the nodes) and hand its
 * configuration, keys and endpoints to the tasks; sbatch/salloc only check
 * that it is there. 0, or -1 (the message was printed). */
int evo_srun_post_opt(spank_t sp, int allocator);

/* srun, once it has settled its MPI type: refuse one that cannot wire up a
 * farm, with the fix. 0, or -1. */
int evo_srun_user_init(spank_t sp);

/* slurmstepd, once per node: read the step's config, load modules, check
 * the venv; errors are kept for task_init (user_init's never reach srun). */
int evo_slurmstepd_user_init(spank_t sp);

/* In each task just before exec: apply the environment, or fail the task
 * with the error user_init kept. */
int evo_slurmstepd_task_init(spank_t sp);

#endif
