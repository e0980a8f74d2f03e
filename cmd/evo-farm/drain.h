/* drain.h — `evo-farm drain JOBID[.STEP]|HOST [--farm FARM]`: the workers
 * of a Slurm job (or step), or of a host, get no more work from the user's
 * running farms (or from FARM alone) and leave once they have returned
 * what they hold; workers of that set that join later are sent away. It
 * connects with the control key each farm keeps in its record
 * (~/.evo-farm/farms/ID), which may read statistics and drain, nothing
 * else. */
#ifndef EVO_DRAIN_H
#define EVO_DRAIN_H

/* argv[0] is "drain". Exit status 0 (some worker drained), 1 (no running
 * farm had a worker of that set), 2 (bad arguments, no such farm). */
int evo_drain_main(int argc, char **argv);

#endif
