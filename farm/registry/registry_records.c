/* registry_records.c — ~/.evo-farm/farms/ID (a running farm's record)
 * and ID.join (its join credential): written by the farm, listed, found,
 * judged and removed for status, drain, join and the plugin; see
 * registry.h. */
#include "registry_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/files.h"
#include "util/host.h"
#include "util/log.h"
#include "util/names.h"

int evo_farm_record_write(const char *id, const char *kind, const char *command, const char *control_public,
                          const char *control_secret, char *path, size_t path_size)
{
    char dir[PATH_MAX], cwd[PATH_MAX], host[256], text[4096], err[EVO_ERROR_MAX];
    path[0] = '\0';
    if (registry_access_text(text, sizeof text, 0) < 0)
        return -1;
    int fd = registry_home_open("farms", dir, sizeof dir, err, sizeof err);
    if (fd < 0) {
        evo_warn("cannot record this farm for evo-farm status: %s", err);
        return -1;
    }
    if (getcwd(cwd, sizeof cwd) == NULL)
        strcpy(cwd, "?");
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    size_t used = strlen(text);
    int n =
        snprintf(text + used, sizeof text - used,
                 "control_public %s\ncontrol_secret %s\nid %s\nkind %s\nhost %s\npid %ld\nstarted %lld\ndir %s\n"
                 "command %s\n",
                 control_public, control_secret, id, kind, host, (long)getpid(), (long long)time(NULL), cwd, command);
    if (n < 0 || (size_t)n >= sizeof text - used)
        text[sizeof text - 2] = '\n'; /* a very long command cut short: the record stays one line per field */
    int rc = evo_write_file(fd, id, text, 1);
    if (rc < 0)
        evo_warn("cannot record this farm in %s: %s", dir, evo_file_error(errno));
    else
        snprintf(path, path_size, "%s/%s", dir, id);
    close(fd);
    return rc;
}

int evo_farm_join_write(const char *id, const char *config_text, char *path, size_t path_size)
{
    char dir[PATH_MAX], name[400], err[EVO_ERROR_MAX];
    path[0] = '\0';
    size_t size = strlen(config_text) + 4096;
    char *text = malloc(size);
    int fd = text && registry_access_text(text, size, 1) == 0
                 ? registry_home_open("farms", dir, sizeof dir, err, sizeof err)
                 : -1;
    if (fd < 0) {
        free(text);
        return -1;
    }
    size_t used = strlen(text);
    snprintf(text + used, size - used, "config\n%s", config_text);
    snprintf(name, sizeof name, "%s.join", id);
    int rc = evo_write_file(fd, name, text, 1);
    if (rc == 0)
        snprintf(path, path_size, "%s/%s", dir, name);
    else
        evo_warn("cannot write the join credential in %s: %s", dir, evo_file_error(errno));
    close(fd);
    free(text);
    return rc;
}

void evo_farm_record_remove(const char *path)
{
    if (path && path[0])
        unlink(path);
}

/* Whether an entry of the records directory is a farm's record: not a
 * join credential, a temporary of evo_write_file or a dot file. */
static int record_name(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && strstr(name, ".tmp.") == NULL && !(len > 5 && strcmp(name + len - 5, ".join") == 0);
}

void evo_farm_records_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

int evo_farm_records_list(char ***paths, size_t *n, size_t max)
{
    char dir[EVO_PATH_MAX], path[EVO_PATH_MAX + 256];
    size_t cap = 0;
    *paths = NULL;
    *n = 0;
    if (evo_registry_path("farms", dir, sizeof dir) < 0)
        return -1;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && *n < max && (e = readdir(d)) != NULL) {
        if (!record_name(e->d_name) || (size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
            continue;
        char **more = *n < cap ? *paths : realloc(*paths, (cap = cap ? 2 * cap : 16) * sizeof *more);
        char *copy = more ? strdup(path) : NULL;
        if (more)
            *paths = more;
        if (copy == NULL) {
            closedir(d);
            evo_farm_records_free(*paths, *n);
            *paths = NULL;
            *n = 0;
            return -1;
        }
        (*paths)[(*n)++] = copy;
    }
    if (d)
        closedir(d);
    return 0;
}

/* `timeout 1 squeue -h OPTIONS -j JOB` (the first job_len bytes of job),
 * its errors with its output, to read; NULL when it cannot start. The
 * one place the records ask Slurm. */
static FILE *squeue(const char *options, const char *job, int job_len)
{
    char command[160];
    snprintf(command, sizeof command, "timeout 1 squeue -h %s -j %.*s 2>&1", options, job_len, job);
    return popen(command, "r");
}

/* A job array's element ARRAYJOB_INDEX[.STEP] as its own JOBID[.STEP],
 * which squeue knows while it is queued or running (%A). 0 with it in
 * out, or -1: not such a name, or Slurm does not know it. */
static int array_element(const char *farm, char *out, size_t size)
{
    size_t job = strspn(farm, "0123456789");
    if (job == 0 || job > 20 || farm[job] != '_')
        return -1;
    size_t index = strspn(farm + job + 1, "0123456789");
    const char *rest = farm + job + 1 + index;
    if (index == 0 || index > 10 ||
        (rest[0] != '\0' && (rest[0] != '.' || rest[1] == '\0' || rest[1 + strspn(rest + 1, "0123456789")] != '\0')))
        return -1;
    char line[64] = "";
    FILE *p = squeue("-o %A", farm, (int)(job + 1 + index));
    if (p == NULL)
        return -1;
    int got = 0; /* the first line that is a job id (errors and warnings are not) */
    while (!got && fgets(line, sizeof line, p)) {
        line[strcspn(line, " \n")] = '\0';
        got = line[0] != '\0' && line[strspn(line, "0123456789")] == '\0';
    }
    pclose(p);
    if (!got)
        return -1;
    int n = snprintf(out, size, "%s%s", line, rest);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* FARM's file in the records directory with suffix (".join" or ""): FARM
 * itself, else the lowest step FARM.N of job FARM (a job id stands for its
 * first step); a job array's element (ARRAYJOB_INDEX) as its own job. */
static int find(const char *farm, const char *suffix, char *out, size_t size)
{
    char dir[EVO_PATH_MAX], element[64];
    if (array_element(farm, element, sizeof element) == 0)
        farm = element;
    size_t len = strlen(farm), suffix_len = strlen(suffix);
    if (farm[0] == '\0' || strchr(farm, '/') || farm[0] == '.' || evo_registry_path("farms", dir, sizeof dir) < 0)
        return -1;
    int n = snprintf(out, size, "%s/%s%s", dir, farm, suffix);
    if (n > 0 && (size_t)n < size && access(out, R_OK) == 0)
        return 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned long best = (unsigned long)-1;
    char name[256] = ""; /* the lowest step's entry */
    while (d && (e = readdir(d)) != NULL) {
        const char *step = e->d_name + len + 1;
        size_t digits = strncmp(e->d_name, farm, len) == 0 && e->d_name[len] == '.' ? strspn(step, "0123456789") : 0;
        if (digits == 0 || strcmp(step + digits, suffix) != 0 || (suffix_len == 0 && step[digits] != '\0'))
            continue;
        unsigned long number = strtoul(step, NULL, 10);
        if (number < best && (size_t)snprintf(name, sizeof name, "%s", e->d_name) < sizeof name)
            best = number;
    }
    if (d)
        closedir(d);
    if (name[0] && (size_t)snprintf(out, size, "%s/%s", dir, name) < size)
        return 0;
    return -1;
}

int evo_farm_record_find(const char *farm, char *out, size_t size)
{
    size_t len = strlen(farm);
    return len > 5 && strcmp(farm + len - 5, ".join") == 0 ? -1 : find(farm, "", out, size);
}

int evo_farm_join_find(const char *farm, char *out, size_t size)
{
    return find(farm, ".join", out, size);
}

/* Whether process pid of this machine is an evo-farm (its argv[0] says so). */
static int pid_is_evo_farm(long long pid)
{
    char proc[64], cmdline[4096];
    snprintf(proc, sizeof proc, "/proc/%lld/cmdline", pid);
    FILE *f = fopen(proc, "r");
    size_t n = f ? fread(cmdline, 1, sizeof cmdline - 1, f) : 0;
    if (f)
        fclose(f);
    cmdline[n] = '\0'; /* argv[0] alone: the command's path */
    return f && strstr(cmdline, "evo-farm") != NULL;
}

/* What Slurm says of the step `id` (JOBID.STEP): 1 running, 0 gone (not
 * among its job's steps, or the job unknown), -1 cannot tell (not such an
 * id, no squeue, or no answer within a second: a controller down or far).
 * squeue asks slurmctld alone, as any user may. */
static int slurm_step_running(const char *id)
{
    size_t job = strspn(id, "0123456789"), step = job ? strspn(id + job + 1, "0123456789") : 0;
    if (job == 0 || job > 20 || id[job] != '.' || step == 0 || id[job + 1 + step] != '\0')
        return -1;
    char line[256];
    FILE *p = squeue("-s -o %i", id, (int)job);
    if (p == NULL)
        return -1;
    int listed = 0, unknown_job = 0;
    while (fgets(line, sizeof line, p)) {
        unknown_job |= strstr(line, "Invalid job id") != NULL;
        line[strcspn(line, " \n")] = '\0';
        listed |= strcmp(line, id) == 0;
    }
    int status = pclose(p);
    if (listed)
        return 1;
    return unknown_job || (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : -1;
}

enum evo_record_state evo_farm_record_load(const char *path, struct evo_access *a, char *err, size_t err_size)
{
    char host[EVO_HOST_MAX], join[PATH_MAX];
    if (evo_access_read_file(path, a, NULL, err, err_size) < 0)
        return EVO_RECORD_UNREADABLE;
    evo_host_name(host, sizeof host);
    int ended = 0;
    if (strcmp(a->host, host) == 0 && a->pid > 0) /* its process is on this machine: look */
        ended = !pid_is_evo_farm(a->pid);
    else if (strcmp(a->kind, "slurm") == 0) /* a step's rank 0 elsewhere: ask Slurm */
        ended = slurm_step_running(a->id) == 0;
    if (!ended)
        return EVO_RECORD_RUNNING;
    unlink(path);
    if ((size_t)snprintf(join, sizeof join, "%s.join", path) < sizeof join)
        unlink(join);
    return EVO_RECORD_ENDED;
}
