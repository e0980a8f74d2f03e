/* status.h — `evo-farm status DIR|JOBID`: connects to a running farm with the
 * credentials its built-in optimiser left in DIR/farm.access (mode 0600),
 * asks the broker for its counters and prints them with the optimiser's
 * progress (DIR/progress.json). Under Slurm the driver records DIR in
 * ~/.evo-farm/jobs/JOBID, so the job id works in place of DIR. */
#ifndef EVO_STATUS_H
#define EVO_STATUS_H

/* argv[0] is "status". Exit status 0, 1 (farm not reachable: finished or
 * gone), 2 (bad arguments, no such directory). */
int evo_status_main(int argc, char **argv);

#endif
