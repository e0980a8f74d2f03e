/* mpi.h — which wire-up service a farm step asks srun for. A farm needs
 * PMIx or PMI-2 (the runtime speaks both, farm/bootstrap/); a cluster whose
 * MpiDefault is `none` gives neither unless the step asks. The plugin asks
 * in slurm_spank_init, before srun reads SLURM_MPI_TYPE (an explicit --mpi
 * on the command line still wins), and checks what srun settled on in
 * slurm_spank_local_user_init (reliable in every Slurm release; init_post_opt
 * runs before srun sets SLURM_MPI_TYPE from 23.11 on). The parsing is pure
 * and unit-tested; the probes read this process's files. */
#ifndef EVO_PLUGIN_MPI_H
#define EVO_PLUGIN_MPI_H

#include <stddef.h>

/* 1 when an MPI type as --mpi / SLURM_MPI_TYPE / MpiDefault names it can wire
 * up a farm: pmix, pmix_vN, pmi2. */
int evo_mpi_usable(const char *type);

/* The values of `PluginDir` and `MpiDefault` in slurm.conf text (keys are
 * case-insensitive; comments and other keys ignored). Empty when absent. */
void evo_mpi_conf_values(const char *conf_text, char *plugin_dir, size_t plugin_dir_size, char *mpi_default,
                         size_t mpi_default_size);

/* What to ask for when the user chose nothing: the site's setting when it
 * is not "auto"; nothing (NULL) when the cluster's MpiDefault already wires
 * up a farm; else "pmix" when have_pmix, else "pmi2" (built into every
 * Slurm). */
const char *evo_mpi_pick(const char *site_mpi, const char *mpi_default, int have_pmix);

/* What argv (NUL-separated, as /proc/self/cmdline holds it) says of
 * --evo-farm (whose value is optional, so given only as --evo-farm=FILE),
 * the last one winning: 1 a farm (of a FILE, or of every default), -1
 * "none" (the documented opt-out of a job's #SBATCH --evo-farm), 0
 * nothing. */
int evo_mpi_cmdline_wants_farm(const char *cmdline, size_t size);

/* Whether mpi_pmix.so is in one of the ':'-separated plugin directories. */
int evo_mpi_have_pmix(const char *dirs);

#endif
