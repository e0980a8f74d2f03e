/* signals.h — the signals a farm's launcher takes through its signalfd
 * (SIGCHLD, SIGINT, SIGTERM), blocked and unblocked in one place: a step
 * blocks them before PMIx starts its progress thread (which would otherwise
 * swallow a SIGCHLD meant for the signalfd), and every child gets them
 * back before it runs anything. */
#ifndef EVO_SIGNALS_H
#define EVO_SIGNALS_H

#include <signal.h>

/* Fills set with exactly the launcher's signals. */
void evo_signals_farm_set(sigset_t *set);

/* Blocks them in the calling thread; the previous mask goes to *old when
 * old is not NULL. 0, or -1 with errno. */
int evo_signals_block(sigset_t *old);

/* Restores *old when it is not NULL, then unblocks the launcher's signals
 * whatever it held: for a child about to exec and for a step's worker,
 * which must end on SIGTERM. 0, or -1 with errno. */
int evo_signals_unblock(const sigset_t *old);

/* The job's signals: those a job's end or a checkpoint recipe sends
 * (scancel -s, --signal=SIG@T) that would end a process by default, other
 * than the launcher's SIGINT and SIGTERM: SIGHUP, SIGUSR1, SIGUSR2,
 * SIGALRM, SIGVTALRM, SIGPROF, SIGPOLL. Slurm sends them to every process
 * of the step; they are the driver's to act on, never a reason for the
 * farm to die. */

/* Ignores the job's signals in this process, keeping the dispositions it
 * found for evo_signals_job_restore. Once per process. */
void evo_signals_job_ignore(void);

/* Passes the job's signals on to pid (the driver) instead of ignoring
 * them, for a step whose signals Slurm gives to its tasks alone
 * (proctrack/cgroup signals a pid only when slurmstepd is its parent):
 * the driver, a child of the task, gets them as its user expects. pid 0
 * ignores them again (the driver has ended). */
void evo_signals_job_forward(pid_t pid);

/* In a child between fork and exec (async-signal-safe): the job's signals
 * back to what the process found, for the driver, which must get them as
 * the user's program expects. */
void evo_signals_job_restore(void);

#endif
