/* status.c — `evo-farm status`; see status.h. Phases: find the farm (a
 * results DIR's farm.access, a farm record by id or job id, or every
 * record), connect with the status key, ask the broker for its counters,
 * print them (text or JSON), again every second with --watch. */
#include "status.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reach.h"
#include "registry/registry.h"
#include "evofarm/client.h"
#include "util/names.h"

struct target {
    struct evo_access access;
    char dir[EVO_PATH_MAX]; /* a results directory with progress.json, or empty */
};

/* The counters of the farm behind `a`, from the first of its endpoints
 * that answers (reach.h). 0, or -1 with err. */
static int ask(const struct evo_access *a, struct evo_stats *s, char *err, size_t err_size)
{
    struct evo_reach r;
    const char *ep;
    int rc = -1;
    snprintf(err, err_size, "no endpoint to ask");
    evo_reach_start(&r, a);
    while (rc < 0 && (ep = evo_reach_next(&r)) != NULL) {
        struct evo_client *c = evo_client_connect(ep, a->server, a->public_key, a->secret, err, err_size);
        rc = c ? evo_client_stats(c, s) : -1;
        if (c && rc < 0)
            snprintf(err, err_size, "%s", evo_client_last_error(c));
        evo_client_close(c);
    }
    if (rc < 0)
        evo_reach_failed(&r, err, err_size);
    return rc;
}

static void json_string(const char *key, const char *value, const char *after)
{
    printf("\"%s\": \"", key);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    printf("\"%s", after);
}

static void print_json(const struct target *t, const struct evo_stats *s, const struct evo_progress *p)
{
    const struct evo_access *a = &t->access;
    putchar('{');
    json_string("id", a->id, ", ");
    json_string("kind", a->kind[0] ? a->kind : "local", ", ");
    json_string("command", a->command, ", ");
    printf("\"pid\": %lld, \"started\": %lld, \"workers\": %u, \"drivers\": %u, \"hosts\": [", a->pid, a->started,
           s->workers, s->drivers);
    for (unsigned h = 0; h < s->hosts; h++) {
        printf("%s{", h ? ", " : "");
        json_string("name", s->host[h].name, ", ");
        printf("\"workers\": %u}", s->host[h].workers);
    }
    printf("], \"queued\": %llu, \"in_flight\": %llu, \"done\": %llu, \"failed\": %llu, \"retried\": %llu, "
           "\"requeued\": %llu, \"late_dropped\": %llu, \"malformed\": %llu, \"refused\": %llu, "
           "\"evaluations_per_second\": %.1f",
           (unsigned long long)s->queued, (unsigned long long)s->in_flight, (unsigned long long)s->done,
           (unsigned long long)s->failed, (unsigned long long)s->retried, (unsigned long long)s->requeued,
           (unsigned long long)s->late_dropped, (unsigned long long)s->malformed, (unsigned long long)s->auth_refused,
           s->evaluations_per_second);
    if (p) {
        printf(", \"generation\": %llu, \"generations\": %u, ", p->generation, p->generations);
        if (isfinite(p->best))
            printf("\"best\": %.17g", p->best);
        else
            printf("\"best\": null");
    }
    printf("}\n");
}

static void print_text(const struct target *t, const struct evo_stats *s, const struct evo_progress *p)
{
    const struct evo_access *a = &t->access;
    if (a->id[0])
        printf("farm         %s (%s, %s pid %lld): %s\n", a->id, a->kind, a->host, a->pid, a->command);
    printf("workers      %u:", s->workers);
    for (unsigned h = 0; h < s->hosts; h++)
        printf("%s %s %u", h ? "," : "", s->host[h].name, s->host[h].workers);
    printf("\nqueued       %llu\nin flight    %llu\ndone         %llu\nfailed       %llu\nretried      %llu\n"
           "requeued     %llu (from lost workers)\nrate         %.0f evaluations/s\n",
           (unsigned long long)s->queued, (unsigned long long)s->in_flight, (unsigned long long)s->done,
           (unsigned long long)s->failed, (unsigned long long)s->retried, (unsigned long long)s->requeued,
           s->evaluations_per_second);
    if (p == NULL)
        return;
    if (p->generations)
        printf("generation   %llu of %u\n", p->generation, p->generations);
    else
        printf("generation   %llu\n", p->generation);
    if (isnan(p->best))
        printf("best         none yet\n");
    else
        printf("best         %.10g\n", p->best);
    if (p->nonfinite)
        printf("not finite   %llu (NaN or infinite objectives, ranked last)\n", p->nonfinite);
    if (p->generations && p->generation && a->started) {
        double per = (double)(time(NULL) - a->started) / (double)p->generation;
        printf("eta          %.0f s (at most %u generations)\n", per * (double)(p->generations - p->generation),
               p->generations);
    }
}

/* One record of the list, looked at by one of the threads. */
struct row {
    const char *path;
    struct target t;
    struct evo_stats s;
    enum evo_record_state state;
    int up;
};

#define LIST_MAX     4096 /* records listed, at most */
#define LIST_THREADS 32

struct rows {
    struct row *row;
    size_t n, next;
    pthread_mutex_t lock;
};

/* Reads, judges and asks records until none is left: each record's wait
 * (a farm not answering costs the connect timeout) overlaps the others'. */
static void *look(void *arg)
{
    struct rows *rows = arg;
    char err[EVO_ERROR_MAX];
    for (;;) {
        pthread_mutex_lock(&rows->lock);
        size_t i = rows->next++;
        pthread_mutex_unlock(&rows->lock);
        if (i >= rows->n)
            return NULL;
        struct row *r = &rows->row[i];
        r->state = evo_farm_record_load(r->path, &r->t.access, err, sizeof err);
        r->up = r->state == EVO_RECORD_RUNNING && ask(&r->t.access, &r->s, err, sizeof err) == 0;
    }
}

/* Every record of paths, each looked at by one of up to LIST_THREADS
 * threads. 0, or -1 out of memory. */
static int look_all(char **paths, size_t n, struct rows *rows)
{
    if ((rows->row = calloc(n ? n : 1, sizeof *rows->row)) == NULL)
        return -1;
    rows->n = n;
    for (size_t i = 0; i < n; i++)
        rows->row[i].path = paths[i];
    pthread_t threads[LIST_THREADS];
    size_t started = 0;
    pthread_mutex_init(&rows->lock, NULL);
    while (started < LIST_THREADS && started < n && pthread_create(&threads[started], NULL, look, rows) == 0)
        started++;
    if (started == 0)
        look(rows); /* no thread could start: one at a time */
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&rows->lock);
    return 0;
}

/* Every record: one line each (or a JSON array); stale ones removed. The
 * records are looked at in parallel, each farm given a second to answer
 * unless EVO_FARM_CONNECT_TIMEOUT says otherwise, so a listing takes
 * about that long however many farms have ended without a word. */
static int list(int json)
{
    char dir[EVO_PATH_MAX];
    struct rows rows = {0};
    char **paths = NULL;
    size_t n = 0;
    int shown = 0;
    if (evo_farm_records_list(&paths, &n, LIST_MAX) < 0 || look_all(paths, n, &rows) < 0)
        rows.n = 0;
    if (evo_registry_path("farms", dir, sizeof dir) < 0)
        dir[0] = '\0';
    if (json)
        printf("[");
    else
        printf("%-28s %-6s %8s %12s %10s %s\n", "FARM", "KIND", "WORKERS", "DONE", "RATE/s", "DRIVER");
    for (size_t i = 0; i < rows.n; i++) {
        const struct row *r = &rows.row[i];
        const struct evo_access *a = &r->t.access;
        if (r->state != EVO_RECORD_RUNNING)
            continue;
        if (json && r->up) {
            printf("%s", shown ? ", " : "");
            print_json(&r->t, &r->s, NULL);
        } else if (!json) {
            if (r->up)
                printf("%-28s %-6s %8u %12llu %10.0f %s\n", a->id, a->kind, r->s.workers, (unsigned long long)r->s.done,
                       r->s.evaluations_per_second, a->command);
            else
                printf("%-28s %-6s %8s %12s %10s %s (not answering: ended?)\n", a->id, a->kind, "-", "-", "-",
                       a->command);
        }
        shown += r->up || !json;
    }
    free(rows.row);
    evo_farm_records_free(paths, n);
    if (json)
        printf("]\n");
    else if (shown == 0)
        printf("(no running farm of yours: records are kept in %s)\n", dir[0] ? dir : "~/" EVO_REGISTRY_DIR "/farms");
    return 0;
}

/* A record whose id is `id`, or (a job id alone) the first of that job. */
static int find_record(const char *id, struct target *t)
{
    char path[EVO_PATH_MAX], err[EVO_ERROR_MAX];
    return evo_farm_record_find(id, path, sizeof path) == 0
               ? evo_access_read_file(path, &t->access, NULL, err, sizeof err)
               : -1;
}

/* DIR (farm.access), a record id, JOBID[.STEP], or a job's results DIR. */
static int resolve(const char *arg, struct target *t, char *err, size_t err_size)
{
    struct stat st;
    char job_dir[EVO_PATH_MAX];
    memset(t, 0, sizeof *t);
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(t->dir, sizeof t->dir, "%s", arg);
        return evo_access_read(arg, &t->access, err, err_size);
    }
    if (find_record(arg, t) == 0) {
        char job[64]; /* a job's built-in optimiser recorded its results DIR: its progress */
        snprintf(job, sizeof job, "%.*s", (int)strspn(arg, "0123456789"), arg);
        if (job[0] && evo_access_job_dir(job, job_dir, sizeof job_dir) == 0)
            snprintf(t->dir, sizeof t->dir, "%s", job_dir);
        return 0;
    }
    if (evo_access_job_dir(arg, job_dir, sizeof job_dir) == 0) {
        snprintf(t->dir, sizeof t->dir, "%s", job_dir);
        return evo_access_read(job_dir, &t->access, err, err_size);
    }
    snprintf(err, err_size,
             "no running farm '%s': not a results directory, nor a farm or job of yours (evo-farm status "
             "lists them)",
             arg);
    return -1;
}

static int show(const struct target *t, int json, int watch)
{
    char err[EVO_ERROR_MAX];
    struct evo_stats *s = malloc(sizeof *s);
    struct evo_progress p;
    int shown = 0;
    for (;;) {
        if (s == NULL || ask(&t->access, s, err, sizeof err) < 0) {
            if (!shown)
                fprintf(stderr,
                        "evo-farm: status: the farm %s does not answer (finished, or not reachable from here): %s\n",
                        t->access.id[0] ? t->access.id : t->dir, s ? err : "out of memory");
            free(s);
            return shown ? 0 : 1;
        }
        int progress = t->dir[0] && evo_progress_read(t->dir, &p) == 0;
        if (watch)
            printf("\033[H\033[J"); /* redraw in place */
        if (json)
            print_json(t, s, progress ? &p : NULL);
        else
            print_text(t, s, progress ? &p : NULL);
        fflush(stdout);
        shown = 1;
        if (!watch)
            break;
        sleep(1);
    }
    free(s);
    return 0;
}

int evo_status_main(int argc, char **argv)
{
    char err[EVO_ERROR_MAX];
    const char *arg = NULL;
    int json = 0, watch = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--watch") == 0)
            watch = 1;
        else if (argv[i][0] == '-' || arg) {
            fprintf(stderr,
                    "evo-farm: status [--json] [--watch] [FARM|JOBID[.STEP]|DIR]: unexpected '%s'\n"
                    "Try 'evo-farm --help'.\n",
                    argv[i]);
            return 2;
        } else
            arg = argv[i];
    }
    if (getenv(EVO_VAR_CONNECT_TIMEOUT) == NULL)
        setenv(EVO_VAR_CONNECT_TIMEOUT, arg ? "3" : "1", 1);
    if (arg == NULL)
        return list(json);
    struct target t;
    if (resolve(arg, &t, err, sizeof err) < 0) {
        fprintf(stderr, "evo-farm: status: %s\n", err);
        return 2;
    }
    return show(&t, json, watch);
}
