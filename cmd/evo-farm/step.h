/* step.h — evo-farm as the tasks of an `srun --evo-farm=FILE` step. */
#ifndef EVO_STEP_H
#define EVO_STEP_H

/* Runs this task's part of the farm: rank 0 the broker and the driver
 * (driver_argv, or the built-in one when NULL), every other rank a worker.
 * Returns the exit status: the driver's on rank 0, 0 for a worker the
 * broker dismissed, 1 for a wire-up failure, 2 outside an --evo-farm step. */
int evo_step_main(char **driver_argv, const char *self);

#endif
