/* registry.h — every file by which a running farm is found from outside
 * it, each writer beside its reader. libc only: the command and the SPANK
 * plugin link it alike.
 *
 * Every file, its mode, who writes it and who reads it (the format after
 * the table):
 *
 *   DIR/farm.access            0600  a built-in driver (evo_access_write)
 *                                    read by: status DIR          access lines
 *   DIR/progress.json          0644  the CMA-ES driver, per generation
 *                                    read by: status DIR          one JSON object
 *   ~/.evo-farm/farms/ID       0600  the launcher, rank 0 of a step
 *                                    read by: status, drain       access + record lines
 *   ~/.evo-farm/farms/ID.join  0600  the launcher, rank 0 of a step
 *                                    read by: join, srun --evo-farm-join
 *                                                                 access lines, "config", YAML
 *   ~/.evo-farm/jobs/JOBID     0600  a built-in driver under Slurm
 *                                    read by: status JOBID        DIR's absolute path, one line
 *
 * Access lines: "endpoints E1,E2,...", "server KEY", "public KEY", "secret
 * KEY" (the status key in farm.access and a record, the worker pair in a
 * join credential), then "key value" lines: nested_public/_secret (join),
 * control_public/_secret, id, kind (local or slurm), host, pid, started,
 * dir, command (a record). ~/.evo-farm and its folders are 0700 and
 * checked as a results directory is (util/files.h); every file is written
 * atomically and read only when its owner alone may read it, never
 * through a symbolic link. docs/ARCHITECTURE.md, "The registry". */
#ifndef EVO_REGISTRY_H
#define EVO_REGISTRY_H

#include <stddef.h>

/* What the access lines of any of these files say. */
struct evo_access {
    char endpoints[1024]; /* comma-separated, the most routable first */
    char server[64], public_key[64], secret[64];
    char nested_public[64], nested_secret[64];   /* a join credential's: for the workers' evaluators */
    char control_public[64], control_secret[64]; /* a farm record's: for evo-farm drain */
    /* a farm record's (evo_farm_record_write); empty / 0 in farm.access */
    char id[320], kind[16], host[256], dir[1024], command[512];
    long long pid, started;
};

/* The most a join credential may hold: its access lines and a
 * configuration of EVO_CONFIG_TEXT_MAX (util/names.h). */
#define EVO_ACCESS_FILE_MAX (100 * 1024)

/* $HOME/.evo-farm/LEAF (LEAF "" for ~/.evo-farm itself) into out. 0, or -1
 * without HOME or when it does not fit. */
int evo_registry_path(const char *leaf, char *out, size_t size);

/* ---- any access file: the reader (registry_access.c) ---- */

/* Reads the access file, record or join credential at path (never through
 * a symbolic link; refused when others may read it or it is not this
 * user's) into a. A join credential's configuration text goes into
 * *config_text (malloc'd, the caller frees it) when config_text is not
 * NULL; a file without one then fails. 0, or -1 with errno and a one-line
 * message naming the file in err. */
int evo_access_read_file(const char *path, struct evo_access *a, char **config_text, char *err, size_t err_size);

/* ---- DIR/farm.access (registry_access.c) ---- */

/* Writes farm.access (0600 from its creation) into dir_fd, the results
 * directory DIR, from this driver's environment (EVO_FARM_ENDPOINTS from a
 * Slurm step's card, then EVO_FARM_ENDPOINT, and the status key) and,
 * under Slurm, the job record below. Warns about what it cannot write. */
void evo_access_write(int dir_fd, const char *dir);
/* Reads DIR/farm.access (never through a symbolic link). 0, or -1 with a
 * message in err (missing, a link, readable by others, not an access
 * file). */
int evo_access_read(const char *dir, struct evo_access *out, char *err, size_t err_size);

/* ---- ~/.evo-farm/jobs/JOBID (registry_jobs.c) ---- */

/* Records DIR's absolute path as ~/.evo-farm/jobs/$SLURM_JOB_ID, when
 * SLURM_JOB_ID and HOME are set, so that a job id can stand for DIR.
 * Warns about what it cannot write. */
void evo_job_record_write(const char *dir);
/* `arg` as a Slurm job id (digits, and no such directory here): the DIR its
 * driver recorded. 0 with it in out, or -1. */
int evo_access_job_dir(const char *arg, char *out, size_t size);

/* ---- ~/.evo-farm/farms/ID and ID.join (registry_records.c) ---- */

/* Every farm, whatever its driver, keeps a record while it runs:
 * ~/.evo-farm/farms/ID with the access lines — the status key, which may
 * only read statistics, never a key that submits or takes work — the
 * control pair (it may read statistics and drain workers), and id, kind
 * ("local" or "slurm"), host, pid, started (Unix seconds), dir (the working
 * directory) and command (the driver's). On a cluster whose home is shared
 * the login node sees its jobs' farms. The record's path goes into path.
 * 0, or -1 (warned: status will not list it). */
int evo_farm_record_write(const char *id, const char *kind, const char *command, const char *control_public,
                          const char *control_secret, char *path, size_t path_size);
/* The farm's join credential beside its record, ID.join: the endpoints, the
 * server key, the worker pair (this process's own: the launcher keeps it as
 * EVO_FARM_CLIENT_*) and the nested pair (for the joined workers'
 * evaluators), then a line "config" and the farm's resolved configuration
 * (config_text, every path absolute), for `evo-farm join` and `srun
 * --evo-farm-join`. Whoever can read it can take work and submit nested
 * work, never drive the farm. Its path goes into path. 0, or -1 (warned). */
int evo_farm_join_write(const char *id, const char *config_text, char *path, size_t path_size);
/* Removes a record or join credential written above (path empty: nothing). */
void evo_farm_record_remove(const char *path);

/* The user's farm records (not join credentials, temporaries or dot
 * files), their paths in *paths (an array of n strings, freed with
 * evo_farm_records_free), at most max of them. 0, or -1 without HOME or
 * out of memory. */
int evo_farm_records_list(char ***paths, size_t *n, size_t max);
void evo_farm_records_free(char **paths, size_t n);

/* The record of FARM: an id, or a job id standing for its job's first
 * step (ID.0). Its path in out; 0, or -1 when there is none. */
int evo_farm_record_find(const char *farm, char *out, size_t size);
/* The join credential of FARM, as evo_farm_record_find finds a record. */
int evo_farm_join_find(const char *farm, char *out, size_t size);

enum evo_record_state {
    EVO_RECORD_UNREADABLE = -1, /* not a record of this user's (err says why) */
    EVO_RECORD_RUNNING = 0,     /* its farm runs, or cannot be told to have ended */
    EVO_RECORD_ENDED = 1,       /* its farm has ended: the record and its join credential are removed */
};

/* Reads the record at path into a and tells whether its farm has ended:
 * a farm of this host whose process is gone or is no longer evo-farm (its
 * pid reused), or a Slurm step's farm elsewhere that Slurm says has ended
 * (squeue, at most 1 s). A farm of another host, or one Slurm does not
 * answer for, counts as running: asking it is the caller's. */
enum evo_record_state evo_farm_record_load(const char *path, struct evo_access *a, char *err, size_t err_size);

/* ---- DIR/progress.json (registry_progress.c) ---- */

struct evo_progress {
    unsigned long long generation, evaluations;
    unsigned generations; /* the limit, 0 = none */
    double best;          /* NaN while there is none (null in the file) */
    int running;
    unsigned long long nonfinite; /* evaluations whose objective was NaN or infinite */
};

/* progress.json in dir_fd, replaced atomically (util/files.h); a best that
 * is not finite is written null. 0, or -1 with errno. */
int evo_progress_write(int dir_fd, const struct evo_progress *p);
/* Reads DIR/progress.json (never through a symbolic link). 0 with out
 * filled, or -1 with out untouched when there is none or it is not one. */
int evo_progress_read(const char *dir, struct evo_progress *out);

#endif
