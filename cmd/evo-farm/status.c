/* status.c — `evo-farm status DIR`; see status.h. */
#include "status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evofarm/client.h"
#include "drivers/farm_access.h"
#include "util/names.h"

static void print_progress(const char *dir)
{
    struct evo_progress p;
    if (evo_progress_read(dir, &p) < 0)
        return;
    if (p.generations)
        printf("generation   %llu of %u\n", p.generation, p.generations);
    else
        printf("generation   %llu\n", p.generation);
    if (isnan(p.best))
        printf("best         none yet\n");
    else
        printf("best         %.10g\n", p.best);
    if (p.nonfinite)
        printf("not finite   %llu (NaN or infinite objectives, ranked last)\n", p.nonfinite);
}

int evo_status_main(int argc, char **argv)
{
    char err[EVO_ERROR_MAX];
    struct evo_access a;
    if (argc != 2) {
        fprintf(
            stderr,
            "evo-farm: status takes the results DIR (or the Slurm job id) of a running farm\nTry 'evo-farm --help'.\n");
        return 2;
    }
    const char *dir = argv[1];
    char job_dir[EVO_PATH_MAX];
    if (evo_access_job_dir(argv[1], job_dir, sizeof job_dir) == 0)
        dir = job_dir;
    if (evo_access_read(dir, &a, err, sizeof err) < 0) {
        fprintf(stderr, "evo-farm: status: %s\n", err);
        return 2;
    }
    if (getenv(EVO_VAR_CONNECT_TIMEOUT) == NULL)
        setenv(EVO_VAR_CONNECT_TIMEOUT, "3", 1);
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
