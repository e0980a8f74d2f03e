/* config.h — evolution.yaml as a typed struct (docs/config.md is the
 * reference for every key). Loading is strict: an unknown key, a wrong type,
 * an out-of-range value or a missing required section is an error of the
 * form "FILE:LINE:COL: message". */
#ifndef EVO_CONFIG_H
#define EVO_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum evo_scheduling { EVO_SCHEDULING_DYNAMIC = 0, EVO_SCHEDULING_STATIC = 1 };
enum evo_evaluator_kind {
    EVO_EVALUATOR_NONE = 0,
    EVO_EVALUATOR_LIBRARY = 1,
    EVO_EVALUATOR_COMMAND = 2,
    EVO_EVALUATOR_PYTHON = 3, /* the bundled Python evaluator under `python`: pickled calls */
};
enum evo_env_op { EVO_ENV_SET, EVO_ENV_PREPEND, EVO_ENV_APPEND, EVO_ENV_UNSET };

struct evo_env_change {
    char *name;
    enum evo_env_op op;
    char *value; /* NULL for EVO_ENV_UNSET */
};

struct evo_config {
    char *path; /* the file as named by the user */
    char *dir;  /* absolute directory of the file: the base of relative paths */
    char *text; /* the file's text as loaded (NUL-terminated) */
    size_t text_size;
    struct {
        unsigned workers; /* local workers for `evo-farm run`; 0 = one per core */
        enum evo_scheduling scheduling;
        unsigned batch;      /* tasks per dispatch; 0 = auto */
        unsigned prefetch;   /* batches a worker may hold (dynamic scheduling) */
        unsigned retries;    /* extra attempts after a failed one */
        unsigned timeout_ms; /* per evaluation; 0 = none */
        unsigned heartbeat_ms;
        int heartbeat_set; /* the file gave farm.heartbeat (else the default, scaled: evo_config_heartbeat_for) */
        unsigned liveness; /* missed heartbeats before a peer is lost */
        char *bind;        /* broker endpoint to bind */
    } farm;
    struct {
        enum evo_evaluator_kind kind;
        char *library; /* absolute path */
        char *function;
        char **command; /* NULL-terminated argv (python: the Python evaluator's command line) */
        char *python;   /* interpreter for the Python evaluator, e.g. "python3" */
        int spawn;      /* python: each evaluator a fresh interpreter (start: spawn), not
                         * forked from the node's fork server (start: fork, the default) */
        int start_set;  /* `start` was given */
        char *workdir;  /* absolute; default: the config's directory, but NULL
                         * (the member's own) for the Python evaluator */
        unsigned objectives;
        unsigned startup_timeout_ms; /* extra time for a fresh evaluator's first answer */
    } evaluate;
    struct {
        char *venv;
        char *conda;
        char **modules; /* NULL-terminated */
        struct evo_env_change *env;
        size_t env_count;
    } environment;
    struct {
        char *strategy;     /* NULL when there is no optimize: section */
        char *input;        /* absolute path, strategy "map" */
        unsigned dimension; /* 0 = any (map); cma-es: from centroid if unset */
        /* strategy "cma-es" (docs/config.md) */
        double *centroid; /* dimension values after the checks */
        size_t centroid_count;
        double sigma;
        unsigned lambda;      /* 0 = 4 + floor(3 ln n) */
        unsigned generations; /* 0 = no limit */
        unsigned evaluations; /* 0 = no limit */
        int has_seed;
        unsigned seed;
        double *lower, *upper; /* dimension values each, or NULL: no bounds */
        size_t bounds_count;   /* pairs given: 1 ([LOW, HIGH] for all) or dimension */
        int has_target;
        double target;
        unsigned restarts;   /* IPOP restarts, each doubling lambda */
        unsigned checkpoint; /* every N generations; 0 = never */
        double tolfun, tolx; /* tolx relative to sigma */
    } optimize;
    struct {
        char *dir;             /* relative to the working directory of the run */
        char *journal;         /* the journal's directory (as dir), or NULL: none */
        char *journal_version; /* joins the journal's identity (journal: {dir, version}), or NULL */
    } output;
};

/* Loads and validates `path`. Returns a config the caller frees with
 * evo_config_destroy, or NULL with a one-line "FILE:LINE:COL: message" in err. */
struct evo_config *evo_config_load(const char *path, char *err, size_t err_size);

/* The same from a string; `name` is used in messages and `base_dir` for
 * relative paths (NULL: the current directory). */
struct evo_config *evo_config_parse(const char *name, const char *text, size_t size, const char *base_dir, char *err,
                                    size_t err_size);

/* The same with `home` as what ~/ stands for in paths (evo_config_parse
 * takes $HOME, or the effective user's home when HOME is unset): the
 * plugin inside slurmstepd passes the job user's. */
struct evo_config *evo_config_parse_home(const char *name, const char *text, size_t size, const char *base_dir,
                                         const char *home, char *err, size_t err_size);

/* The whole file as a NUL-terminated string (*size bytes without the NUL)
 * for the caller to free, or NULL with "PATH: cannot open: ..." in err. */
char *evo_config_read_file(const char *path, size_t *size, char *err, size_t err_size);

/* The directory part of path ("." when it has none); the caller frees it. */
char *evo_config_dir_of(const char *path);

/* Loads the configuration the plugin passed to this task. NULL with a
 * message in err; errno is ENOENT when this is not an --evo-farm step. */
struct evo_config *evo_config_from_step_env(char *err, size_t err_size);

/* A file without an evaluate: section (kind EVO_EVALUATOR_NONE) is the
 * farm of a Python driver: its workers run the bundled Python evaluator with the
 * driver's interpreter. This sets evaluate.python to `interpreter` and the
 * evaluator's command; nothing when the file says how to evaluate. 0, or -1
 * with errno. */
int evo_config_default_python(struct evo_config *config, const char *interpreter);

/* The heartbeat a farm of `workers` workers runs with: farm.heartbeat when
 * the file gives it; else the default (1 s), raised for more than 2,000
 * workers to 1 s per 2,000 (at most 10 s), since every idle worker costs
 * the broker a heartbeat each way per interval (docs/config.md). */
#define EVO_HEARTBEAT_WORKERS_PER_S 2000
unsigned evo_config_heartbeat_for(const struct evo_config *config, unsigned workers);

/* The job a run belongs to, for output.dir's patterns: SLURM_JOB_ID,
 * SLURM_ARRAY_JOB_ID and SLURM_ARRAY_TASK_ID, each NULL where unset
 * (outside Slurm, outside an array). */
struct evo_job_names {
    const char *job, *array_job, *array_task;
};

/* Whether output.dir's patterns are all known: %j (the job id), %A (the
 * array's job id; the job id outside an array), %a (the array index) and
 * %% (a %). 0, or -1 with the unknown letter in *bad. */
int evo_output_dir_check(const char *dir, char *bad);

/* output.dir with its patterns replaced (each is `local` outside Slurm);
 * in a job array element, a directory naming neither %a nor %j gets
 * /%A_%a appended, so the elements never share one. 0, or -1 when it
 * does not fit in size bytes. */
int evo_output_dir_expand(const char *dir, const struct evo_job_names *job, char *out, size_t size);

/* Whether a driver command is a Python interpreter (python, python3,
 * python3.11, by any path). */
int evo_config_is_python(const char *command);

/* Frees everything; NULL is fine. */
void evo_config_destroy(struct evo_config *config);

/* Prints the resolved config (every default filled in) as YAML. */
void evo_config_print(const struct evo_config *config, FILE *out);

#endif
