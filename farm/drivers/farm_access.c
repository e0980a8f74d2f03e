/* farm_access.c — farm.access, the job record and progress.json; see
 * farm_access.h. */
#include "farm_access.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/host.h"
#include "util/log.h"
#include "run_files.h"
#include "util/names.h"

/* PATH for reading, never through a symbolic link. NULL with errno. */
static FILE *open_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
    if (f == NULL && fd >= 0)
        close(fd);
    return f;
}

static const char access_format[] = "endpoints %s%s%s\nserver %s\npublic %s\nsecret %s\n";

/* ~/.evo-farm/LEAF (its name in dir), created 0700 with ~/.evo-farm when
 * missing and checked as a results directory is. Its fd, or -1 with err. */
static int open_home_dir(const char *leaf, char *dir, size_t size, char *err, size_t err_size)
{
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0' || (size_t)snprintf(dir, size, "%s/.evo-farm", home) >= size) {
        snprintf(err, err_size, "no HOME");
        return -1;
    }
    mkdir(dir, 0700);
    if ((size_t)snprintf(dir, size, "%s/.evo-farm/%s", home, leaf) >= size) {
        snprintf(err, err_size, "HOME too long");
        return -1;
    }
    return evo_results_dir_open(dir, 0700, err, err_size);
}

static void record_job(const char *dir)
{
    const char *job = getenv("SLURM_JOB_ID");
    char jobs[PATH_MAX], absolute[PATH_MAX], line[PATH_MAX + 1], err[EVO_ERROR_MAX];
    if (job == NULL || realpath(dir, absolute) == NULL)
        return;
    int jobs_fd = open_home_dir("jobs", jobs, sizeof jobs, err, sizeof err);
    if (jobs_fd < 0) {
        evo_warn("cannot record job %s: %s", job, err);
        return;
    }
    snprintf(line, sizeof line, "%s\n", absolute);
    if (evo_write_file(jobs_fd, job, line, 1) < 0)
        evo_warn("cannot record job %s in %s: %s", job, jobs, evo_file_error(errno));
    close(jobs_fd);
}

/* The access lines of this process's farm, from its environment: with
 * worker == 0 the status key (it may only read statistics); else this
 * process's own pair, which for the farm's launcher is the worker pair
 * (launcher.c), and the nested pair for the workers' evaluators. 0, or -1
 * when not inside a farm. */
static int access_text(char *text, size_t size, int worker)
{
    const char *endpoints = getenv(EVO_VAR_ENDPOINTS), *local = getenv(EVO_VAR_ENDPOINT);
    const char *server = getenv(EVO_VAR_SERVER_KEY);
    const char *public_key = getenv(worker ? EVO_VAR_CLIENT_PUBLIC : EVO_VAR_STATUS_PUBLIC);
    const char *secret = getenv(worker ? EVO_VAR_CLIENT_SECRET : EVO_VAR_STATUS_SECRET);
    const char *nested_public = getenv(EVO_VAR_NESTED_PUBLIC), *nested_secret = getenv(EVO_VAR_NESTED_SECRET);
    if (server == NULL || public_key == NULL || secret == NULL || (local == NULL && endpoints == NULL))
        return -1;
    int n = snprintf(text, size, access_format, endpoints ? endpoints : "", endpoints && local ? "," : "",
                     local ? local : "", server, public_key, secret);
    if (worker && nested_public && nested_secret && n > 0 && (size_t)n < size)
        snprintf(text + n, size - (size_t)n, "nested_public %s\nnested_secret %s\n", nested_public, nested_secret);
    return 0;
}

int evo_farm_records_dir(char *out, size_t size)
{
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0')
        return -1;
    return (size_t)snprintf(out, size, "%s/.evo-farm/farms", home) < size ? 0 : -1;
}

int evo_farm_record_write(const char *id, const char *kind, const char *command, const char *control_public,
                          const char *control_secret, char *path, size_t path_size)
{
    char dir[PATH_MAX], cwd[PATH_MAX], host[256], text[4096], err[EVO_ERROR_MAX];
    path[0] = '\0';
    if (access_text(text, sizeof text, 0) < 0)
        return -1;
    int fd = open_home_dir("farms", dir, sizeof dir, err, sizeof err);
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
    int fd = text && access_text(text, size, 1) == 0 ? open_home_dir("farms", dir, sizeof dir, err, sizeof err) : -1;
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

int evo_farm_record_name(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && strstr(name, ".tmp.") == NULL && !(len > 5 && strcmp(name + len - 5, ".join") == 0);
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
    char command[96], line[256];
    snprintf(command, sizeof command, "timeout 1 squeue -h -s -o %%i -j %.*s 2>&1", (int)job, id);
    FILE *p = popen(command, "r");
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

int evo_farm_record_stale(const struct evo_access *a, const char *path)
{
    char host[EVO_HOST_MAX], join[PATH_MAX];
    evo_host_name(host, sizeof host);
    int gone = 0;
    if (strcmp(a->host, host) == 0 && a->pid > 0) /* its process is on this machine: look */
        gone = !pid_is_evo_farm(a->pid);
    else if (strcmp(a->kind, "slurm") == 0) /* a step's rank 0 elsewhere: ask Slurm */
        gone = slurm_step_running(a->id) == 0;
    if (!gone)
        return 0;
    unlink(path);
    if ((size_t)snprintf(join, sizeof join, "%s.join", path) < sizeof join)
        unlink(join);
    return 1;
}

void evo_farm_record_remove(const char *path)
{
    if (path && path[0])
        unlink(path);
}

void evo_access_write(int dir_fd, const char *dir)
{
    char text[2048];
    if (access_text(text, sizeof text, 0) < 0) {
        evo_warn("not inside a farm: no %s/farm.access (evo-farm status will not reach this run)", dir);
        return;
    }
    if (evo_write_file(dir_fd, "farm.access", text, 1) < 0)
        evo_warn("cannot write %s/farm.access (evo-farm status will not reach this run): %s", dir,
                 evo_file_error(errno));
    record_job(dir);
}

int evo_access_read(const char *dir, struct evo_access *a, char *err, size_t err_size)
{
    char path[EVO_PATH_MAX];
    snprintf(path, sizeof path, "%s/farm.access", dir);
    int rc = evo_access_read_file(path, a, NULL, err, err_size);
    if (rc < 0 && errno == ENOENT)
        snprintf(err, err_size, "%.300s: %s (is DIR the results directory of a running cma-es farm?)", path,
                 strerror(ENOENT));
    return rc;
}

int evo_access_job_dir(const char *arg, char *out, size_t size)
{
    char path[EVO_PATH_MAX];
    struct stat st;
    const char *home = getenv("HOME");
    if (arg[0] == '\0' || arg[strspn(arg, "0123456789")] != '\0' || stat(arg, &st) == 0 || home == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/.evo-farm/jobs/%s", home, arg);
    FILE *f = open_read(path);
    if (f == NULL)
        return -1;
    int ok = fgets(out, (int)size, f) != NULL; /* an empty record leaves out untouched */
    fclose(f);
    if (ok)
        out[strcspn(out, "\n")] = '\0';
    return ok && out[0] ? 0 : -1;
}

int evo_progress_write(int dir_fd, const struct evo_progress *p)
{
    char json[512], best[32];
    snprintf(json, sizeof json,
             "{\"generation\": %llu, \"generations\": %u, \"evaluations\": %llu, \"best\": %s, \"running\": %s, "
             "\"nonfinite_evaluations\": %llu}\n",
             p->generation, p->generations, p->evaluations, evo_json_number(best, sizeof best, p->best),
             p->running ? "true" : "false", p->nonfinite);
    return evo_write_file(dir_fd, "progress.json", json, 0);
}

/* progress.json's text into p. 0, or -1 (p partly filled). */
static int parse_progress(const char *text, struct evo_progress *p)
{
    char running[8] = "", *end;
    int at = 0;
    if (sscanf(text, "{\"generation\": %llu, \"generations\": %u, \"evaluations\": %llu, \"best\": %n", &p->generation,
               &p->generations, &p->evaluations, &at) != 3 ||
        at == 0)
        return -1;
    const char *best = text + at;
    if (strncmp(best, "null", 4) == 0) {
        p->best = NAN;
        end = (char *)best + 4;
    } else if ((p->best = strtod(best, &end)), end == best) {
        return -1;
    }
    if (sscanf(end, ", \"running\": %5[a-z], \"nonfinite_evaluations\": %llu}", running, &p->nonfinite) != 2)
        return -1;
    p->running = strcmp(running, "true") == 0;
    return 0;
}

int evo_progress_read(const char *dir, struct evo_progress *out)
{
    char path[EVO_PATH_MAX], text[512];
    struct evo_progress p;
    snprintf(path, sizeof path, "%s/progress.json", dir);
    FILE *f = open_read(path);
    if (f == NULL)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    if (parse_progress(text, &p) < 0)
        return -1;
    *out = p;
    return 0;
}
