/* status.c — `evo-farm status DIR`; see status.h. */
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "evofarm/client.h"

struct access_file {
    char endpoints[1024], server[64], public_key[64], secret[64];
};

static int read_access(const char *dir, struct access_file *a, char *err, size_t err_size)
{
    char path[4200];
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

static void print_progress(const char *dir)
{
    char path[4200], text[512] = "";
    snprintf(path, sizeof path, "%s/progress.json", dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    unsigned long long gen = 0, evals = 0;
    unsigned total = 0;
    double best = 0;
    if (sscanf(text, "{\"generation\": %llu, \"generations\": %u, \"evaluations\": %llu, \"best\": %lf", &gen, &total,
               &evals, &best) == 4) {
        if (total)
            printf("generation   %llu of %u\n", gen, total);
        else
            printf("generation   %llu\n", gen);
        printf("best         %.10g\n", best);
    }
}

/* A Slurm job id (digits, not a directory here): the results directory its
 * driver recorded in ~/.evo-farm/jobs/JOBID. 0 with it in out, or -1. */
static int job_results(const char *arg, char *out, size_t size)
{
    char path[4200];
    struct stat st;
    const char *home = getenv("HOME");
    if (arg[strspn(arg, "0123456789")] != '\0' || stat(arg, &st) == 0 || home == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/.evo-farm/jobs/%s", home, arg);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int ok = fgets(out, (int)size, f) != NULL;
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
    return ok ? 0 : -1;
}

int evo_status_main(int argc, char **argv)
{
    char err[512];
    struct access_file a;
    if (argc != 2) {
        fprintf(
            stderr,
            "evo-farm: status takes the results DIR (or the Slurm job id) of a running farm\nTry 'evo-farm --help'.\n");
        return 2;
    }
    const char *dir = argv[1];
    char job_dir[4096];
    if (job_results(argv[1], job_dir, sizeof job_dir) == 0)
        dir = job_dir;
    if (read_access(dir, &a, err, sizeof err) < 0) {
        fprintf(stderr, "evo-farm: status: %s\n", err);
        return 2;
    }
    if (getenv("EVO_FARM_CONNECT_TIMEOUT") == NULL)
        setenv("EVO_FARM_CONNECT_TIMEOUT", "3", 1);
    struct evo_client *c = NULL;
    char *save = NULL;
    for (char *ep = strtok_r(a.endpoints, ",", &save); ep && c == NULL; ep = strtok_r(NULL, ",", &save))
        c = evo_client_connect(ep, a.server, a.public_key, a.secret, err, sizeof err);
    struct evo_stats s;
    if (c == NULL || evo_client_stats(c, &s) < 0) {
        fprintf(stderr, "evo-farm: status: the farm of %s does not answer (finished, or not reachable from here): %s\n",
                dir, c ? evo_client_last_error(c) : err);
        evo_client_close(c);
        return 1;
    }
    printf("workers      %u:", s.workers);
    for (unsigned h = 0; h < s.hosts; h++)
        printf("%s %s %u", h ? "," : "", s.host[h].name, s.host[h].workers);
    printf("\nqueued       %llu\nin flight    %llu\ndone         %llu\nfailed       %llu\nrate         %.0f "
           "evaluations/s\n",
           (unsigned long long)s.queued, (unsigned long long)s.in_flight, (unsigned long long)s.done,
           (unsigned long long)s.failed, s.evaluations_per_second);
    print_progress(dir);
    evo_client_close(c);
    return 0;
}
