/* registry_jobs.c — ~/.evo-farm/jobs/JOBID: which results directory a
 * Slurm job's built-in driver writes, so that its job id can stand for
 * it; see registry.h. */
#include "registry_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/files.h"
#include "util/log.h"
#include "util/names.h"

void evo_job_record_write(const char *dir)
{
    const char *job = getenv("SLURM_JOB_ID");
    char jobs[PATH_MAX], absolute[PATH_MAX], line[PATH_MAX + 1], err[EVO_ERROR_MAX];
    if (job == NULL || realpath(dir, absolute) == NULL)
        return;
    int jobs_fd = registry_home_open("jobs", jobs, sizeof jobs, err, sizeof err);
    if (jobs_fd < 0) {
        evo_warn("cannot record job %s: %s", job, err);
        return;
    }
    snprintf(line, sizeof line, "%s\n", absolute);
    if (evo_write_file(jobs_fd, job, line, 1) < 0)
        evo_warn("cannot record job %s in %s: %s", job, jobs, evo_file_error(errno));
    close(jobs_fd);
}

int evo_access_job_dir(const char *arg, char *out, size_t size)
{
    char path[EVO_PATH_MAX];
    struct stat st;
    char leaf[64];
    if (arg[0] == '\0' || strlen(arg) > 32 || arg[strspn(arg, "0123456789")] != '\0' || stat(arg, &st) == 0)
        return -1;
    snprintf(leaf, sizeof leaf, "jobs/%s", arg);
    if (evo_registry_path(leaf, path, sizeof path) < 0)
        return -1;
    FILE *f = registry_open_read(path);
    if (f == NULL)
        return -1;
    int ok = fgets(out, (int)size, f) != NULL; /* an empty record leaves out untouched */
    fclose(f);
    if (ok)
        out[strcspn(out, "\n")] = '\0';
    return ok && out[0] ? 0 : -1;
}
