/* driver_cmaes.c — the CMA-ES driver loop: ask, map through the farm,
 * tell; IPOP restarts; logbook, progress, checkpoints and resume, asked
 * for (--resume) or found (a checkpoint of this configuration and no
 * result.json: a requeued or rerun job); on SIGTERM or SIGINT (a time
 * limit, scancel, preemption) a checkpoint of the last whole generation
 * before it exits. */
#include "driver_cmaes.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmaes/cmaes.h"
#include "evofarm/client.h"
#include "registry/registry.h"
#include "util/clock.h"
#include "plot_logbook.h"
#include "run_files.h"
#include "util/log.h"
#include "util/names.h"

/* Everything a checkpoint must hold besides the strategy itself. */
struct run {
    const struct evo_config *config;
    char digest[65]; /* SHA-256 of the configuration's text, hex */
    const char *dir;
    int dir_fd; /* dir, checked (run_files.h) */
    unsigned seed;
    struct evo_rng rng;
    struct evo_rng rng_at_ask; /* before this generation's samples: what a checkpoint holds mid-generation */
    int in_generation;         /* between ask and the generation's counters */
    struct evo_cmaes *es;
    unsigned restarts_done, lambda;
    unsigned long long generations, evaluations, failed;
    unsigned long long nonfinite; /* evaluations whose objective was NaN or infinite */
    double elapsed_before;        /* seconds spent before a resume */
    double best_f;                /* +inf until a finite objective was seen */
    double *best_x;
    const char *stop;
    /* not saved */
    struct evo_client *client;
    FILE *logbook;
    int64_t started_ms, last_progress_ms;
    unsigned workers;
    int tty;
};

/* SIGTERM or SIGINT: the map in progress is interrupted (evo_client_wake
 * is async-signal-safe) and optimise stops. */
static volatile sig_atomic_t stop_signal;
static struct evo_client *volatile signal_client;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
    evo_client_wake(signal_client);
}

static void catch_stop_signals(struct evo_client *client)
{
    struct sigaction sa = {.sa_handler = on_stop_signal}; /* no SA_RESTART: nothing here blocks without EINTR */
    sigemptyset(&sa.sa_mask);
    signal_client = client;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

/* A checkpoint belongs to the configuration text it was made with. */
static void config_digest(struct run *r)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, (const unsigned char *)r->config->text, r->config->text_size);
    sodium_bin2hex(r->digest, sizeof r->digest, hash, sizeof hash);
}

static struct evo_cmaes *new_strategy(struct run *r, const double *centroid)
{
    char err[EVO_ERROR_MAX];
    const struct evo_config *c = r->config;
    struct evo_cmaes_params p = {c->optimize.dimension,
                                 centroid,
                                 c->optimize.sigma,
                                 r->lambda,
                                 c->optimize.lower,
                                 c->optimize.upper,
                                 c->optimize.has_target ? c->optimize.target : -INFINITY,
                                 c->optimize.tolfun,
                                 c->optimize.tolx};
    struct evo_cmaes *es = evo_cmaes_create(&p, err, sizeof err);
    if (es == NULL)
        evo_error("%s", err);
    return es;
}

/* IPOP: a fresh strategy with twice the population, from a uniformly drawn
 * point of the box (or the configured centroid without one). */
static int restart(struct run *r, const char *why)
{
    unsigned n = r->config->optimize.dimension;
    double x0[n];
    for (unsigned i = 0; i < n; i++)
        x0[i] = r->config->optimize.lower
                    ? r->config->optimize.lower[i] +
                          (r->config->optimize.upper[i] - r->config->optimize.lower[i]) * evo_rng_uniform(&r->rng)
                    : r->config->optimize.centroid[i];
    r->lambda = r->es->lambda * 2;
    r->restarts_done++;
    evo_info("restart %u of %u after %s: lambda %u", r->restarts_done, r->config->optimize.restarts, why, r->lambda);
    fprintf(stderr, "%scma-es: restart %u of %u after %s, lambda %u\n", r->tty ? "\n" : "", r->restarts_done,
            r->config->optimize.restarts, why, r->lambda);
    evo_cmaes_destroy(r->es);
    r->es = new_strategy(r, x0);
    return r->es ? 0 : -1;
}

/* Seconds of optimisation, those before a resume included. */
static double elapsed(const struct run *r)
{
    return r->elapsed_before + (double)(evo_now_ms() - r->started_ms) / 1000.0;
}

/* Printed straight into the checkpoint's temporary: it holds up to 20,000
 * generations of history (about 1 MB of text), which a memory buffer
 * rebuilt every 10 generations made the driver's RSS grow by (glibc keeps
 * the freed pages). */
static void build_checkpoint(FILE *out, const void *arg)
{
    const struct run *r = arg;
    unsigned n = r->config->optimize.dimension;
    /* Mid-generation (a stop signal) the strategy has only sampled, which
     * changed nothing it saves but the generator: the checkpoint is the
     * last whole generation's, and a resume samples the same vectors. */
    const struct evo_rng *rng = r->in_generation ? &r->rng_at_ask : &r->rng;
    fprintf(out, "evo-farm-checkpoint 2\ndigest %s\nseed %u\nrng %llx %llx %llx %llx\n", r->digest, r->seed,
            (unsigned long long)rng->s[0], (unsigned long long)rng->s[1], (unsigned long long)rng->s[2],
            (unsigned long long)rng->s[3]);
    fprintf(out,
            "restarts %u\nlambda %u\ngenerations %llu\nevaluations %llu\nfailed %llu\nnonfinite %llu\nelapsed "
            "%a\nbest_f %a\n",
            r->restarts_done, r->lambda, r->generations, r->evaluations, r->failed, r->nonfinite, elapsed(r),
            r->best_f);
    fputs("best_x", out);
    for (unsigned i = 0; i < n; i++)
        fprintf(out, " %a", r->best_x[i]);
    fputc('\n', out);
    evo_cmaes_save(r->es, out);
}

/* The logbook first: a checkpoint on disk never counts more generations
 * than the logbook on disk (a resume cuts the logbook back to it). */
static int save_checkpoint(struct run *r)
{
    if (evo_logbook_sync(r->logbook) < 0) {
        evo_error("cannot write %s/logbook.csv: %s", r->dir, evo_file_error(errno));
        return -1;
    }
    int rc = evo_write_file_built(r->dir_fd, "checkpoint", 0, build_checkpoint, r);
    if (rc < 0)
        evo_error("cannot write %s/checkpoint: %s (the previous checkpoint is kept)", r->dir, evo_file_error(errno));
    return rc;
}

/* Version 1 (no nonfinite count) is still read. 0, or -1. */
static int read_counters(struct run *r, FILE *in, unsigned version)
{
    if (fscanf(in, " restarts %u lambda %u generations %llu evaluations %llu failed %llu", &r->restarts_done,
               &r->lambda, &r->generations, &r->evaluations, &r->failed) != 5)
        return -1;
    if (version >= 2 && fscanf(in, " nonfinite %llu", &r->nonfinite) != 1)
        return -1;
    return fscanf(in, " elapsed %la best_f %la best_x", &r->elapsed_before, &r->best_f) == 2 ? 0 : -1;
}

/* 0; 1 when `automatic` and the checkpoint is of another configuration
 * (said in one line: the run starts afresh); or -1 after saying why (exit
 * status 2). */
static int load_checkpoint(struct run *r, int automatic)
{
    char path[EVO_PATH_MAX], digest[80];
    unsigned n = r->config->optimize.dimension, version = 0;
    unsigned long long s[4];
    snprintf(path, sizeof path, "%s/checkpoint", r->dir);
    int fd = openat(r->dir_fd, "checkpoint", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    FILE *in = fd < 0 ? NULL : fdopen(fd, "r");
    if (in == NULL) {
        evo_error("cannot resume: %s: %s", path, evo_file_error(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok = fscanf(in, " evo-farm-checkpoint %u digest %79s seed %u rng %llx %llx %llx %llx", &version, digest,
                    &r->seed, &s[0], &s[1], &s[2], &s[3]) == 7 &&
             (version == 1 || version == 2);
    if (ok && strcmp(digest, r->digest) != 0) {
        if (automatic)
            fprintf(stderr,
                    "cma-es: not resuming: %s was made with another configuration (digest %.12s…, this file "
                    "%.12s…); starting afresh\n",
                    path, digest, r->digest);
        else
            evo_error("cannot resume: %s was made with another configuration (digest %.12s…, this file %.12s…)", path,
                      digest, r->digest);
        fclose(in);
        return automatic ? 1 : -1;
    }
    ok = ok && read_counters(r, in, version) == 0;
    for (unsigned i = 0; ok && i < n; i++)
        ok = fscanf(in, "%la", &r->best_x[i]) == 1;
    for (int i = 0; i < 4; i++)
        r->rng.s[i] = s[i];
    ok = ok && (r->es = new_strategy(r, r->config->optimize.centroid)) != NULL && evo_cmaes_load(r->es, in) == 0;
    fclose(in);
    if (!ok)
        evo_error("cannot resume: %s is damaged or not a checkpoint of this run", path);
    return ok ? 0 : -1;
}

static void progress(struct run *r, int final)
{
    int64_t now = evo_now_ms();
    if (!final && now - r->last_progress_ms < (r->tty ? 200 : 2000))
        return;
    r->last_progress_ms = now;
    struct evo_stats st;
    if (evo_client_stats(r->client, &st) == 0)
        r->workers = st.workers;
    double seconds = elapsed(r), rate = seconds > 0 ? (double)r->evaluations / seconds : 0;
    unsigned total = r->config->optimize.generations;
    char eta[48] = "";
    if (total && r->generations > 0 && !final)
        snprintf(eta, sizeof eta, ", ETA %.0f s", seconds / (double)r->generations * (double)(total - r->generations));
    char gens[48];
    snprintf(gens, sizeof gens, total ? "%llu/%u" : "%llu", r->generations, total);
    fprintf(stderr, "%scma-es: generation %s, %llu evaluations, %.0f evaluations/s, best %.6g, %u workers%s%s",
            r->tty ? "\r\033[K" : "", gens, r->evaluations, rate, r->best_f, r->workers, eta,
            r->tty && !final ? "" : "\n");
    struct evo_progress p = {r->generations, r->evaluations, total, r->best_f, !final, r->nonfinite};
    evo_progress_write(r->dir_fd, &p); /* best effort: status only */
}

/* solution and fit are null when no evaluation gave a finite objective. */
static void build_result(FILE *out, const void *arg)
{
    const struct run *r = arg;
    unsigned n = r->config->optimize.dimension;
    char fit[32];
    fputs("{\n  \"solution\": ", out);
    for (unsigned i = 0; i < n && isfinite(r->best_f); i++)
        fprintf(out, "%s%.17g", i ? ", " : "[", r->best_x[i]);
    fprintf(out,
            "%s,\n  \"fit\": %s,\n  \"time\": %.3f,\n  \"cores\": %u,\n  \"dimensions\": %u,\n"
            "  \"evaluations\": %llu,\n  \"generations\": %llu,\n  \"failed_evaluations\": %llu,\n"
            "  \"nonfinite_evaluations\": %llu,\n  \"restarts\": %u,\n  \"stop\": \"%s\",\n  \"seed\": %u,\n"
            "  \"config_digest\": \"sha256:%s\"\n}\n",
            isfinite(r->best_f) ? "]" : "null", evo_json_number(fit, sizeof fit, r->best_f), elapsed(r), r->workers, n,
            r->evaluations, r->generations, r->failed, r->nonfinite, r->restarts_done, r->stop, r->seed, r->digest);
}

/* The value CMA-ES ranks a result by: its first objective, or +inf (last)
 * when the evaluation failed or its objective is NaN or infinite; such
 * results are counted and the first few reported. */
static double ranked_fitness(struct run *r, const struct evo_result *res)
{
    if (!res->ok) {
        if (r->failed++ < 5)
            evo_warn("evaluation failed, ranked last: %s", res->error);
        return INFINITY;
    }
    if (!isfinite(res->objectives[0])) {
        if (r->nonfinite++ < 5)
            evo_warn("evaluation gave %g, not a finite objective: ranked last", res->objectives[0]);
        return INFINITY;
    }
    return res->objectives[0];
}

/* One generation through the farm. 0, or -1 if the farm failed or the
 * logbook cannot be written. */
static int generation(struct run *r)
{
    struct evo_cmaes *es = r->es;
    unsigned n = es->n, lambda = es->lambda;
    struct evo_result *res = malloc(lambda * sizeof *res);
    double *fit = malloc(lambda * sizeof *fit);
    if (res == NULL || fit == NULL) {
        free(res);
        free(fit);
        return -1;
    }
    r->rng_at_ask = r->rng;
    r->in_generation = 1;
    evo_cmaes_ask(es, &r->rng);
    long bad = evo_client_map(r->client, es->X, lambda, n, res);
    if (bad < 0) {
        if (!stop_signal)
            evo_error("%s", evo_client_last_error(r->client));
        free(res);
        free(fit);
        return -1;
    }
    double sigma = es->sigma; /* the one this generation was sampled with */
    for (unsigned k = 0; k < lambda; k++) {
        fit[k] = ranked_fitness(r, &res[k]);
        if (fit[k] < r->best_f) { /* only a finite value is below +inf */
            r->best_f = fit[k];
            memcpy(r->best_x, es->X + (size_t)k * n, n * sizeof(double));
        }
    }
    evo_cmaes_tell(es, fit);
    struct evo_log_row row;
    evo_log_row_of(&row, r->generations, fit, lambda);
    row.sigma = sigma;
    row.restart = r->restarts_done;
    int rc = evo_logbook_append(r->logbook, &row);
    if (rc < 0)
        evo_error("cannot write %s/logbook.csv: %s", r->dir, evo_file_error(errno));
    r->generations++;
    r->evaluations += lambda;
    r->in_generation = 0;
    free(res);
    free(fit);
    return rc;
}

/* Runs until a limit, a final stop or a stop signal; sets r->stop. 0 or -1. */
static int optimise(struct run *r)
{
    const struct evo_config *c = r->config;
    for (;;) {
        if (stop_signal)
            return r->stop = "signal", 0;
        if (c->optimize.generations && r->generations >= c->optimize.generations)
            return r->stop = "generations", 0;
        if (c->optimize.evaluations && r->evaluations + r->es->lambda > c->optimize.evaluations)
            return r->stop = "evaluations", 0;
        if (generation(r) < 0)
            return stop_signal ? (r->stop = "signal", 0) : -1;
        progress(r, 0);
        enum evo_cmaes_stop why = evo_cmaes_stop_reason(r->es);
        if (why == EVO_CMAES_TARGET)
            return r->stop = "target", 0;
        if (why != EVO_CMAES_RUNNING) {
            if (r->restarts_done >= c->optimize.restarts)
                return r->stop = evo_cmaes_stop_name(why), 0;
            if (restart(r, evo_cmaes_stop_name(why)) < 0)
                return -1;
        }
        if (c->optimize.checkpoint && r->generations % c->optimize.checkpoint == 0 && save_checkpoint(r) < 0)
            return -1;
    }
}

/* Whether the results directory holds a checkpoint of a run that did not
 * finish (no result.json: a finished run writes it last, a fresh one
 * removes it first). */
static int unfinished_checkpoint(const struct run *r)
{
    return faccessat(r->dir_fd, "checkpoint", F_OK, 0) == 0 && faccessat(r->dir_fd, "result.json", F_OK, 0) != 0;
}

/* A fresh run: its seed (configured or random), generator and strategy.
 * 0 or -1. */
static int start_fresh(struct run *r)
{
    const struct evo_config *c = r->config;
    if (c->optimize.has_seed)
        r->seed = c->optimize.seed;
    else if (getrandom(&r->seed, sizeof r->seed, 0) != sizeof r->seed)
        r->seed = (unsigned)getpid() ^ (unsigned)evo_now_ns();
    evo_rng_seed(&r->rng, r->seed);
    r->lambda = c->optimize.lambda;
    return (r->es = new_strategy(r, c->optimize.centroid)) ? 0 : -1;
}

/* convergence.svg from the logbook on disk, as `evo-farm plot DIR` draws
 * it. 0, or -1 after saying why. */
static int plot(struct run *r)
{
    char err[EVO_ERROR_MAX];
    char *svg = evo_plot_draw(r->dir_fd, r->dir, NULL, err, sizeof err);
    if (svg == NULL) {
        evo_error("cannot draw %s/convergence.svg: %s", r->dir, err);
        return -1;
    }
    int rc = evo_write_file(r->dir_fd, "convergence.svg", svg, 0);
    if (rc < 0)
        evo_error("cannot write %s/convergence.svg: %s", r->dir, evo_file_error(errno));
    free(svg);
    return rc;
}

/* After the last generation: progress, the logbook on disk, result.json
 * and the plot. The exit status: 0, or 1 after saying what could not be
 * written. */
static int finish(struct run *r)
{
    if (stop_signal) { /* not the end: the checkpoint, for the job that runs again */
        int64_t start = evo_now_ms();
        if (save_checkpoint(r) < 0)
            return 1;
        fprintf(stderr,
                "cma-es: stopped by signal %d at generation %llu: checkpoint written in %lld ms; the same job or "
                "file run again resumes from %s/checkpoint\n",
                (int)stop_signal, r->generations, (long long)(evo_now_ms() - start), r->dir);
        return 128 + (int)stop_signal;
    }
    progress(r, 1);
    if (evo_logbook_sync(r->logbook) < 0 || evo_write_file_built(r->dir_fd, "result.json", 0, build_result, r) < 0) {
        evo_error("cannot write the results in %s: %s", r->dir, evo_file_error(errno));
        return 1;
    }
    if (plot(r) < 0)
        return 1;
    fprintf(stderr, "cma-es: best %.10g after %llu evaluations (%llu generations, stop: %s); %s/result.json\n",
            r->best_f, r->evaluations, r->generations, r->stop, r->dir);
    return 0;
}

int evo_driver_cmaes_main(const struct evo_config *c)
{
    char err[EVO_ERROR_MAX], dir[EVO_PATH_MAX];
    const char *resume = getenv(EVO_VAR_RESUME);
    int asked = resume && *resume; /* --resume DIR */
    if (!asked && evo_run_dir(c, dir, sizeof dir) < 0)
        return 1;
    struct run r = {.config = c,
                    .dir = asked ? resume : dir,
                    .dir_fd = -1,
                    .best_f = INFINITY,
                    .tty = isatty(2),
                    .started_ms = evo_now_ms()};
    int rc = 1;
    config_digest(&r);
    if ((r.best_x = calloc(c->optimize.dimension, sizeof(double))) == NULL) {
        evo_error("out of memory");
        return 1;
    }
    if ((r.dir_fd = evo_results_dir_open(r.dir, 0755, err, sizeof err)) < 0) {
        evo_error("%s", err);
        goto out_bad;
    }
    int resumed = asked;
    if (asked) {
        if (load_checkpoint(&r, 0) < 0)
            goto out_bad;
        fprintf(stderr, "cma-es: resuming %s at generation %llu (seed %u)\n", r.dir, r.generations, r.seed);
    } else if (unfinished_checkpoint(&r)) {
        int loaded = load_checkpoint(&r, 1);
        if (loaded < 0)
            goto out_bad;
        resumed = loaded == 0;
        if (resumed)
            fprintf(stderr,
                    "cma-es: resuming %s at generation %llu (seed %u): its checkpoint is of this configuration and "
                    "the run had not finished (remove %s/checkpoint to start afresh)\n",
                    r.dir, r.generations, r.seed, r.dir);
    }
    if (!resumed) {
        struct stat st; /* an earlier run's: a requeue of this one must resume (a planted link stays, refused) */
        if (fstatat(r.dir_fd, "result.json", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            unlinkat(r.dir_fd, "result.json", 0);
        if (start_fresh(&r) < 0)
            goto out;
    }
    if ((r.logbook = evo_logbook_open(r.dir_fd, r.dir, r.generations, err, sizeof err)) == NULL) {
        evo_error("%s", err);
        goto out_bad;
    }
    if ((r.client = evo_client_open(err, sizeof err)) == NULL) {
        evo_error("%s", err);
        goto out;
    }
    evo_access_write(r.dir_fd, r.dir);
    catch_stop_signals(r.client);
    fprintf(stderr, "cma-es: dimension %u, lambda %u, seed %u, results in %s\n", c->optimize.dimension, r.es->lambda,
            r.seed, r.dir);
    if (optimise(&r) == 0)
        rc = finish(&r);
    goto out;
out_bad:
    rc = 2;
out:
    if (r.logbook)
        fclose(r.logbook);
    if (r.dir_fd >= 0)
        close(r.dir_fd);
    evo_client_close(r.client);
    evo_cmaes_destroy(r.es);
    free(r.best_x);
    return rc;
}
