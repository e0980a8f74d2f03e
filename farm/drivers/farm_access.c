/* farm_access.c — farm.access, the job record and progress.json; see
 * farm_access.h. */
#include "farm_access.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"
#include "run_files.h"
#include "util/names.h"

static const char access_format[] = "endpoints %s%s%s\nserver %s\npublic %s\nsecret %s\n";

static void record_job(const char *dir)
{
    const char *job = getenv("SLURM_JOB_ID"), *home = getenv("HOME");
    char jobs[PATH_MAX], absolute[PATH_MAX], line[PATH_MAX + 1];
    if (job == NULL || home == NULL || realpath(dir, absolute) == NULL)
        return;
    snprintf(jobs, sizeof jobs, "%s/.evo-farm", home);
    mkdir(jobs, 0700);
    snprintf(jobs, sizeof jobs, "%s/.evo-farm/jobs", home);
    mkdir(jobs, 0700);
    snprintf(line, sizeof line, "%s\n", absolute);
    if (evo_write_file(jobs, job, line, 1) < 0)
        evo_warn("cannot record job %s in %s: %s", job, jobs, strerror(errno));
}

void evo_access_write(const char *dir)
{
    const char *endpoints = getenv(EVO_VAR_ENDPOINTS), *local = getenv(EVO_VAR_ENDPOINT);
    const char *server = getenv(EVO_VAR_SERVER_KEY), *public_key = getenv(EVO_VAR_CLIENT_PUBLIC),
               *secret = getenv(EVO_VAR_CLIENT_SECRET);
    char text[2048];
    if (server == NULL || public_key == NULL || secret == NULL || (local == NULL && endpoints == NULL)) {
        evo_warn("not inside a farm: no %s/farm.access (evo-farm status will not reach this run)", dir);
        return;
    }
    snprintf(text, sizeof text, access_format, endpoints ? endpoints : "", endpoints && local ? "," : "",
             local ? local : "", server, public_key, secret);
    if (evo_write_file(dir, "farm.access", text, 1) < 0)
        evo_warn("cannot write %s/farm.access (evo-farm status will not reach this run): %s", dir, strerror(errno));
    record_job(dir);
}

int evo_access_read(const char *dir, struct evo_access *a, char *err, size_t err_size)
{
    char path[EVO_PATH_MAX];
    struct stat st;
    snprintf(path, sizeof path, "%s/farm.access", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, err_size, "%.300s: %s (is DIR the results directory of a running cma-es farm?)", path,
                 strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
        snprintf(err, err_size, "%.300s: readable by others (mode %03o); refusing to use leaked keys", path,
                 (unsigned)(st.st_mode & 0777));
        fclose(f);
        return -1;
    }
    int ok = fscanf(f, "endpoints %1023s server %63s public %63s secret %63s", a->endpoints, a->server, a->public_key,
                    a->secret) == 4;
    fclose(f);
    if (!ok)
        snprintf(err, err_size, "%.300s: not an evo-farm access file", path);
    return ok ? 0 : -1;
}

int evo_access_job_dir(const char *arg, char *out, size_t size)
{
    char path[EVO_PATH_MAX];
    struct stat st;
    const char *home = getenv("HOME");
    if (arg[0] == '\0' || arg[strspn(arg, "0123456789")] != '\0' || stat(arg, &st) == 0 || home == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/.evo-farm/jobs/%s", home, arg);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int ok = fgets(out, (int)size, f) != NULL; /* an empty record leaves out untouched */
    fclose(f);
    if (ok)
        out[strcspn(out, "\n")] = '\0';
    return ok && out[0] ? 0 : -1;
}

int evo_progress_write(const char *dir, const struct evo_progress *p)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"generation\": %llu, \"generations\": %u, \"evaluations\": %llu, \"best\": %.17g, \"running\": %s}\n",
             p->generation, p->generations, p->evaluations, p->best, p->running ? "true" : "false");
    return evo_write_file(dir, "progress.json", json, 0);
}

int evo_progress_read(const char *dir, struct evo_progress *p)
{
    char path[EVO_PATH_MAX], running[8] = "";
    snprintf(path, sizeof path, "%s/progress.json", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int n = fscanf(
        f, "{\"generation\": %llu, \"generations\": %u, \"evaluations\": %llu, \"best\": %lf, \"running\": %5[a-z]",
        &p->generation, &p->generations, &p->evaluations, &p->best, running);
    fclose(f);
    p->running = strcmp(running, "true") == 0;
    return n == 5 ? 0 : -1;
}
