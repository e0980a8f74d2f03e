/* launcher.h — `evo-farm run`: a whole farm on this machine. Starts the
 * broker, N local worker processes (restarted if they die) and one driver
 * process, and ends when the driver ends. */
#ifndef EVO_LAUNCHER_H
#define EVO_LAUNCHER_H

#include "config/config.h"
#include "wire/transport.h"

struct evo_run_options {
    unsigned workers;   /* 0: the config's farm.workers, else one per core */
    char **driver_argv; /* NULL: the built-in driver the config names */
    int quiet;          /* no summary line */
    /* Rank 0 of a Slurm step: no local workers (the other tasks are), the
     * keys the plugin made for the step, a bind address, and a callback
     * that publishes the bound broker (it may rewrite creds->endpoint to
     * the one the local driver should use). */
    int no_local_workers;
    const struct evo_role_keys *keys; /* NULL: make fresh ones */
    const char *bind;                 /* NULL: farm.bind */
    int (*publish)(void *arg, struct evo_credentials *creds);
    void *publish_arg;
    /* Worker tasks started by someone else (the step's other ranks): when
     * the driver ends, the broker stays until this many workers have said
     * HELLO, each latecomer getting BYE, for at most one liveness period
     * (farm.heartbeat x farm.liveness). 0: no wait. */
    unsigned expected_workers;
    /* The job's signals (USR1 and the rest, signals.h) passed on to the
     * driver rather than ignored: Slurm gives them to the step's tasks
     * alone (proctrack/cgroup), so the driver would never see them. */
    int forward_job_signals;
};

/* A file without an evaluate: section is a Python driver's farm: its
 * workers run calls with the driver's interpreter, driver_argv[0] (or
 * $EVO_FARM_PYTHON in a worker of such a farm, which this also sets for
 * the farm's processes). 0, or -1 after saying why (not a Python driver). */
int evo_default_evaluator(struct evo_config *config, char *const *driver_argv);

/* Runs the farm; returns the driver's exit status (128+signal if it was
 * killed), or 1 if the farm could not start. `self` is the path of the
 * evo-farm executable; config_path NULL means the built-in driver reads the
 * configuration from the step environment. */
int evo_run_main(const struct evo_config *config, const char *config_path, const struct evo_run_options *options,
                 const char *self);

#endif
