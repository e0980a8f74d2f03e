/* farm_access.h — how a running farm is reached from outside it, for
 * `evo-farm status`: DIR/farm.access (the broker's endpoints and the
 * farm's keys, mode 0600), DIR/progress.json (the optimiser's progress)
 * and, under Slurm, ~/.evo-farm/jobs/JOBID (DIR, so a job id can stand for
 * it). Each format's writer and reader live here side by side. */
#ifndef EVO_FARM_ACCESS_H
#define EVO_FARM_ACCESS_H

#include <stddef.h>

#include "util/access_file.h" /* struct evo_access, evo_access_read_file */

struct evo_progress {
    unsigned long long generation, evaluations;
    unsigned generations; /* the limit, 0 = none */
    double best;          /* NaN while there is none (null in the file) */
    int running;
    unsigned long long nonfinite; /* evaluations whose objective was NaN or infinite */
};

/* Writes farm.access (0600 from its creation) into dir_fd, the results
 * directory DIR, from this driver's environment (EVO_FARM_ENDPOINTS from a
 * Slurm step's card, then EVO_FARM_ENDPOINT, and the keys) and, when
 * SLURM_JOB_ID and HOME are set, records DIR's absolute path in
 * ~/.evo-farm/jobs/JOBID (0600; ~/.evo-farm/jobs checked as a results
 * directory is). Warns about what it cannot write. */
void evo_access_write(int dir_fd, const char *dir);

/* Every farm, whatever its driver, keeps a record while it runs:
 * ~/.evo-farm/farms/ID (0600, the directory 0700 and checked as a results
 * directory is) with the access lines above — the status key, which may
 * only read statistics, never a key that submits or takes work — the
 * control pair (control_public, control_secret: it may read statistics and
 * drain workers, for `evo-farm drain`), and id, kind ("local" or "slurm"),
 * host, pid, started (Unix seconds), dir (the working directory) and
 * command (the driver's). `evo-farm status` lists and reads them; on a
 * cluster whose home is shared the login node sees its jobs' farms. The
 * record's path goes into path. 0, or -1 (warned: status will not list it). */
int evo_farm_record_write(const char *id, const char *kind, const char *command, const char *control_public,
                          const char *control_secret, char *path, size_t path_size);
/* The farm's join credential beside its record, ~/.evo-farm/farms/ID.join
 * (0600): the endpoints, the server key, the worker pair (this process's
 * own: the launcher keeps it as EVO_FARM_CLIENT_*) and the nested pair (for
 * the joined workers' evaluators), then a line
 * "config" and the farm's resolved configuration (config_text, as
 * evo_config_print writes it, every path absolute), for `evo-farm join`.
 * Whoever can read it can take work and submit nested work, never drive
 * the farm or read its driver's key; it is the user's alone.
 * Its path goes into path. 0, or -1 (warned). */
int evo_farm_join_write(const char *id, const char *config_text, char *path, size_t path_size);
/* Whether an entry of the records directory is a farm's record: not a
 * join credential, a temporary of evo_write_file or a dot file. */
int evo_farm_record_name(const char *name);

/* Whether the record at path (read into a) is stale: a farm of this host
 * whose process is gone or is no longer evo-farm (its pid reused), or a
 * Slurm step's farm elsewhere that Slurm says has ended (squeue, at most
 * 1 s); such a record and its join credential are removed. 1 if so, else
 * 0 (running, or cannot tell: a farm of another host, Slurm not
 * answering). */
int evo_farm_record_stale(const struct evo_access *a, const char *path);

/* Removes a record written above (path empty: nothing). */
void evo_farm_record_remove(const char *path);
/* ~/.evo-farm/farms, or -1 without HOME. */
int evo_farm_records_dir(char *out, size_t size);
/* Reads DIR/farm.access (never through a symbolic link). 0, or -1 with a
 * message in err (missing, a link, readable by others, not an access
 * file). */
int evo_access_read(const char *dir, struct evo_access *out, char *err, size_t err_size);

/* `arg` as a Slurm job id (digits, and no such directory here): the DIR its
 * driver recorded. 0 with it in out, or -1. */
int evo_access_job_dir(const char *arg, char *out, size_t size);

/* progress.json in dir_fd, replaced atomically (run_files.h); a best that
 * is not finite is written null. 0, or -1 with errno. */
int evo_progress_write(int dir_fd, const struct evo_progress *p);
/* Reads DIR/progress.json (never through a symbolic link). 0 with out
 * filled, or -1 with out untouched when there is none or it is not one. */
int evo_progress_read(const char *dir, struct evo_progress *out);

#endif
