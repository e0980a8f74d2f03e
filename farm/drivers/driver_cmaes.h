/* driver_cmaes.h — the built-in optimiser: `optimize.strategy: cma-es`.
 * Runs CMA-ES (cmaes.h) with IPOP restarts, evaluating each generation
 * through the farm, and keeps its results directory up to date
 * (run_files.h): logbook.csv every generation, a checkpoint every
 * optimize.checkpoint generations, result.json and convergence.svg at the
 * end. */
#ifndef EVO_DRIVER_CMAES_H
#define EVO_DRIVER_CMAES_H

#include "config/config.h"

/* Resumes from the checkpoint in the results directory named by
 * $EVO_FARM_RESUME (util/names.h) when it is set (`evo-farm run FILE
 * --resume DIR`). Exit status: 0 done, 1 the farm failed or a results
 * file could not be written (a full disk), 2 bad input (e.g. a checkpoint
 * of another configuration, or a results directory refused as unsafe:
 * run_files.h). */
int evo_driver_cmaes_main(const struct evo_config *config);

#endif
