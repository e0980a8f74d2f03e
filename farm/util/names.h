/* names.h — the one place for the runtime's limits, sizes and names: every
 * other file takes them from here (the public ones come from
 * include/evofarm/, the version from the VERSION file through the build). */
#ifndef EVO_NAMES_H
#define EVO_NAMES_H

#include <limits.h>

#include "evo_version.h" /* EVO_VERSION, made by the Makefile from VERSION */
#include "evofarm/evaluator.h"

/* Objectives an evaluation may return (the wire, the config and the public
 * struct evo_result all use this one). */
#define EVO_MAX_OBJECTIVES EVO_EVALUATOR_MAX_OBJECTIVES
/* Values in one vector. */
#define EVO_MAX_DIMENSION 65536u

/* Workers `evo-farm run` starts on one machine at most (farm.workers, -n). */
#define EVO_MAX_LOCAL_WORKERS 4096u

/* A file name built from a directory and a name (the longest path Linux
 * takes plus room for a suffix such as ".tmp.PID"). */
#define EVO_PATH_MAX (PATH_MAX + 104)

/* The registry of running farms, under $HOME (registry/registry.h). */
#define EVO_REGISTRY_DIR ".evo-farm"
/* A one-line error message for the user: long enough for a path, a YAML
 * position and the reason (module output is cut to fit). */
#define EVO_ERROR_MAX (EVO_PATH_MAX + 1024)

/* The descriptors a broker keeps for itself beside one per member
 * (ZeroMQ's sockets, mailboxes and poller, PMIx, the journal, the logs,
 * the driver's pipes; util/limits.h). */
#define EVO_FILES_RESERVE 64

/* The longest host name a member reports (the wire carries it). */
#define EVO_HOST_MAX 255

/* The Z85 text of a CURVE key plus its NUL, and the longest endpoint. */
#define EVO_KEY_TEXT     41
#define EVO_ENDPOINT_MAX 256

/* What a farm binds when the configuration says nothing (farm.bind). */
#define EVO_DEFAULT_BIND "tcp://127.0.0.1:*"

/* Environment variables the runtime reads or sets (docs/ARCHITECTURE.md). */
#define EVO_VAR_ENDPOINT      "EVO_FARM_ENDPOINT"
#define EVO_VAR_ENDPOINTS     "EVO_FARM_ENDPOINTS"
#define EVO_VAR_SERVER_KEY    "EVO_FARM_SERVER_KEY"
#define EVO_VAR_CLIENT_PUBLIC "EVO_FARM_CLIENT_PUBLIC"
#define EVO_VAR_CLIENT_SECRET "EVO_FARM_CLIENT_SECRET"
#define EVO_VAR_STATUS_PUBLIC "EVO_FARM_STATUS_PUBLIC" /* the status key: statistics only */
#define EVO_VAR_STATUS_SECRET "EVO_FARM_STATUS_SECRET"
/* Beside a process's own pair (CLIENT, its role's: wire/credentials.h): a
 * worker holds the nested pair, which it gives its evaluator as the
 * evaluator's own; rank 0 of a step holds the worker pair too, for the
 * farm's join credential. */
#define EVO_VAR_WORKER_PUBLIC   "EVO_FARM_WORKER_PUBLIC"
#define EVO_VAR_WORKER_SECRET   "EVO_FARM_WORKER_SECRET"
#define EVO_VAR_NESTED_PUBLIC   "EVO_FARM_NESTED_PUBLIC"
#define EVO_VAR_NESTED_SECRET   "EVO_FARM_NESTED_SECRET"
#define EVO_VAR_CONNECT_TIMEOUT "EVO_FARM_CONNECT_TIMEOUT"
#define EVO_VAR_WINDOW          "EVO_FARM_WINDOW" /* a C client's tasks in the farm at once */
#define EVO_VAR_GIVE_UP         "EVO_FARM_GIVE_UP"
#define EVO_VAR_HOST            "EVO_FARM_HOST"
/* The plugin's bind= (plugin/site.h), for rank 0 when farm.bind says nothing. */
#define EVO_VAR_SITE_BIND   "EVO_FARM_SITE_BIND"
#define EVO_VAR_LIBRARY     "EVO_FARM_LIBRARY"
#define EVO_VAR_LOG         "EVO_FARM_LOG"
#define EVO_VAR_RESUME      "EVO_FARM_RESUME"
#define EVO_VAR_WORKERS     "EVO_FARM_WORKERS"
#define EVO_VAR_READY_FD    "EVO_FARM_READY_FD"    /* evofarm's embedded farm: where __hold reports */
#define EVO_VAR_PYTHON      "EVO_FARM_PYTHON"      /* a Python driver's interpreter, for its workers */
#define EVO_VAR_UNIX_SOCKET "EVO_FARM_UNIX_SOCKET" /* the broker's Unix socket, for members on its machine */
#define EVO_VAR_PYTHON_MAIN "EVO_FARM_PYTHON_MAIN" /* a Python driver's script, imported ahead by the workers */
#define EVO_VAR_PYTHON_ARGV "EVO_FARM_PYTHON_ARGV" /* its sys.argv, each argument in hex, comma-separated */
#define EVO_VAR_PYTHON_PATH "EVO_FARM_PYTHON_PATH" /* its sys.path, the same way (an embedded farm's) */
#define EVO_VAR_TRACE       "EVO_FARM_TRACE"       /* bench: timestamps along the hot path (util/trace.h) */
#define EVO_VAR_SHARED_DIR  "EVO_FARM_SHARED_DIR"  /* a worker's constants, one file each (SHARE) */
#define EVO_VAR_FORKSERVER  "EVO_FARM_FORKSERVER"  /* a fork server a Python driver forked from itself */
#define EVO_VAR_MEMBER_PID  "EVO_FARM_MEMBER_PID"  /* an evaluator's worker (its parent, unless forked by a server) */
/* Set ("1") for a driver whose farm keeps a journal: a Python driver then
 * cuts its maps into chunks as Pool.map does, never from measured times,
 * so that a rerun sends the very tasks the journal answers. */
#define EVO_VAR_JOURNALED "EVO_FARM_JOURNALED"
/* Under `srun --evo-farm=FILE` the SPANK plugin hands the tasks the file's
 * text, its name as the user gave it and its absolute directory in these, so
 * no shared filesystem is needed for the configuration. */
#define EVO_VAR_CONFIG_TEXT "EVO_FARM_CONFIG_TEXT"
#define EVO_VAR_CONFIG_NAME "EVO_FARM_CONFIG_NAME"
#define EVO_VAR_CONFIG_DIR  "EVO_FARM_CONFIG_DIR"
/* How srun carries them (and the step's keys) to the tasks: under a
 * SLURM_ prefix, the one kind of variable srun and sbatch pass even with
 * --export=NONE. The plugin's task_init moves each to its EVO_FARM_ name
 * and removes the SLURM_ copy before the task runs; of the keys, each task
 * gets only its rank's (rank 0 the driver pair as its own, the others the
 * worker pair; the nested pair both). */
#define EVO_STEP_VAR(name)         "SLURM_" name
#define EVO_STEP_VAR_CONFIG_TEXT   EVO_STEP_VAR(EVO_VAR_CONFIG_TEXT)
#define EVO_STEP_VAR_CONFIG_NAME   EVO_STEP_VAR(EVO_VAR_CONFIG_NAME)
#define EVO_STEP_VAR_CONFIG_DIR    EVO_STEP_VAR(EVO_VAR_CONFIG_DIR)
#define EVO_STEP_VAR_DRIVER_PUBLIC "SLURM_EVO_FARM_DRIVER_PUBLIC"
#define EVO_STEP_VAR_DRIVER_SECRET "SLURM_EVO_FARM_DRIVER_SECRET"
#define EVO_STEP_VAR_WORKER_PUBLIC EVO_STEP_VAR(EVO_VAR_WORKER_PUBLIC)
#define EVO_STEP_VAR_WORKER_SECRET EVO_STEP_VAR(EVO_VAR_WORKER_SECRET)
#define EVO_STEP_VAR_NESTED_PUBLIC EVO_STEP_VAR(EVO_VAR_NESTED_PUBLIC)
#define EVO_STEP_VAR_NESTED_SECRET EVO_STEP_VAR(EVO_VAR_NESTED_SECRET)
/* Under `srun --evo-farm-join=FARM` every task is a worker of the running
 * farm FARM: the plugin read FARM's join credential in srun and hands the
 * tasks its configuration (above), its worker and nested pairs, the
 * broker's endpoints (here) and its server key (EVO_FARM_SERVER_KEY). */
#define EVO_VAR_JOIN            "EVO_FARM_JOIN"
#define EVO_STEP_VAR_JOIN       EVO_STEP_VAR(EVO_VAR_JOIN)
#define EVO_STEP_VAR_SERVER_KEY EVO_STEP_VAR(EVO_VAR_SERVER_KEY)
/* On Slurm before 23.11 (no spank_prepend_task_argv) the plugin puts
 * evo-farm in the task's argv[0] and the command's own argv[0] here. */
#define EVO_VAR_TASK_ARGV0 "EVO_FARM_TASK_ARGV0"
/* Set by the plugin in a task of a step it refused (under an `optional`
 * plugstack line Slurm would run the task anyway): the task is evo-farm,
 * which prints this and exits 2, never the user's command. */
#define EVO_VAR_REFUSED "EVO_FARM_REFUSED"
/* The most configuration text a step carries: an environment string is at
 * most 128 KiB. */
#define EVO_CONFIG_TEXT_MAX (96 * 1024)

#endif
