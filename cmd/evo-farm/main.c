/* main.c — the `evo-farm` command: parses the command line and hands over
 * to one module per subcommand. Internal subcommands (__worker, __drive,
 * __evaluate-library) are how the farm starts its own processes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "drivers/driver_cmaes.h"
#include "drivers/driver_map.h"
#include "worker/evaluator.h"
#include "launcher.h"
#include "util/limits.h"
#include "util/log.h"
#include "drain.h"
#include "join.h"
#include "plot.h"
#include "status.h"
#include "step.h"
#include "wire/transport.h"
#include "worker/worker.h"
#include "util/names.h"
#include "util/parse.h"
#include "util/signals.h"
#include "util/trace.h"

static const char usage[] =
    "usage: evo-farm run FILE [-n N] [-q] [--resume DIR] [--journal DIR] [-- COMMAND [ARG...]]\n"
    "       evo-farm check FILE\n"
    "       evo-farm status [--json] [--watch] [FARM|JOBID[.STEP]|DIR]\n"
    "       evo-farm plot DIR [-o FILE] [--title TEXT]\n"
    "       evo-farm join FARM|FILE [-n N]\n"
    "       evo-farm drain JOBID[.STEP]|HOST [--farm FARM]\n"
    "       srun --evo-farm=FILE -n N evo-farm [--resume DIR] [COMMAND [ARG...]]\n"
    "       evo-farm --version | --help\n"
    "\n"
    "  run    start a farm on this machine: a broker, N workers (default: farm.workers,\n"
    "         else one per CPU it may use) and a driver, COMMAND if given (it finds the farm through\n"
    "         EVO_FARM_* variables), else the built-in driver that optimize: names\n"
    "  check  validate FILE and print the resolved configuration\n"
    "  status list your running farms (local and Slurm, any driver), or show one: workers\n"
    "         per host, queue, rate, generation, best (FARM: an id from the list; JOBID;\n"
    "         DIR: a built-in optimiser's results directory); --json, --watch\n"
    "  join   N workers of this machine join a running farm (FARM: an id from status);\n"
    "         they leave when it ends or when this is stopped (their tasks requeued)\n"
    "  drain  the workers of a Slurm job or of a host get no more work and leave once\n"
    "         they have returned what they hold (every running farm, or FARM)\n"
    "  plot   redraw DIR/convergence.svg (or FILE; - for stdout) from DIR/logbook.csv:\n"
    "         best so far and sigma on log axes, restarts marked\n"
    "  --resume DIR  continue the built-in optimiser from DIR/checkpoint\n"
    "  --journal DIR answer the inputs DIR/journal knows from it, record every evaluation\n"
    "                in it (any driver's rerun resumes; output.journal)\n"
    "  (none) a task of an srun --evo-farm step: rank 0 runs the broker and the driver\n"
    "         (COMMAND, else the built-in one), every other task is a worker\n"
    "\n"
    "Exit status: the driver's (run), 0 (check ok), 2 for bad arguments or configuration.\n";

static int bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "evo-farm: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'evo-farm --help'.\n");
    return 2;
}

static struct evo_config *load(const char *path)
{
    char err[EVO_ERROR_MAX];
    struct evo_config *config = evo_config_load(path, err, sizeof err);
    if (config == NULL)
        fprintf(stderr, "%s\n", err);
    return config;
}

static int cmd_check(int argc, char **argv)
{
    if (argc != 3)
        return bad_usage("check takes exactly one FILE%s", "");
    struct evo_config *config = load(argv[2]);
    if (config == NULL)
        return 2;
    evo_config_print(config, stdout);
    evo_config_destroy(config);
    return 0;
}

/* --resume DIR: the built-in driver continues from DIR/checkpoint. */
static int set_resume(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    if (access(path, R_OK) < 0)
        return -1;
    return setenv(EVO_VAR_RESUME, dir, 1);
}

static int cmd_run(int argc, char **argv, const char *self)
{
    struct evo_run_options options = {0};
    const char *path = NULL, *journal = NULL;
    int i;
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            if (i + 1 == argc)
                return bad_usage("nothing after '--'%s", "");
            options.driver_argv = &argv[i + 1];
            break;
        } else if (strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--workers") == 0) {
            if (i + 1 == argc || evo_parse_unsigned(argv[i + 1], 1, EVO_MAX_LOCAL_WORKERS, &options.workers) < 0)
                return bad_usage("-n needs a number of workers from 1 to 4096, got '%s'",
                                 i + 1 < argc ? argv[i + 1] : "nothing");
            i++;
        } else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            options.quiet = 1;
        } else if (strcmp(argv[i], "--journal") == 0) {
            if (i + 1 == argc || argv[i + 1][0] == '\0')
                return bad_usage("--journal needs a directory, got '%s'", i + 1 < argc ? argv[i + 1] : "nothing");
            journal = argv[++i];
        } else if (strcmp(argv[i], "--resume") == 0) {
            if (i + 1 == argc || set_resume(argv[i + 1]) < 0)
                return bad_usage("--resume needs a results DIR holding a checkpoint, got '%s'",
                                 i + 1 < argc ? argv[i + 1] : "nothing");
            i++;
        } else if (argv[i][0] == '-') {
            return bad_usage("unknown option '%s' for run", argv[i]);
        } else if (path == NULL) {
            path = argv[i];
        } else {
            return bad_usage("unexpected argument '%s' (put the driver command after --)", argv[i]);
        }
    }
    if (path == NULL)
        return bad_usage("run needs a configuration FILE%s", "");
    struct evo_config *config = load(path);
    if (config == NULL)
        return 2;
    if (journal) { /* the command line's, over the file's output.journal */
        free(config->output.journal);
        if ((config->output.journal = strdup(journal)) == NULL) {
            evo_config_destroy(config);
            return 2;
        }
    }
    if (options.driver_argv == NULL && config->optimize.strategy == NULL) {
        fprintf(stderr, "%s: no driver: add an 'optimize:' section or give a command after --\n", path);
        evo_config_destroy(config);
        return 2;
    }
    if (evo_default_evaluator(config, options.driver_argv) < 0) {
        evo_config_destroy(config);
        return 2;
    }
    int rc = evo_run_main(config, path, &options, self);
    evo_config_destroy(config);
    return rc;
}

/* Internal: `evo-farm run FILE -q -- evo-farm __hold` is the farm that a
 * Python driver started outside any farm makes for itself (evofarm's
 * embedded farm): this driver hands its farm's variables to the embedding
 * process on the descriptor $EVO_FARM_READY_FD, as NAME=VALUE lines ended
 * by "end", then holds the farm up until its standard input ends (the
 * embedding process closed it or exited). */
static int hold_for_embedder(void)
{
    static const char *const names[] = {EVO_VAR_ENDPOINT,      EVO_VAR_SERVER_KEY, EVO_VAR_CLIENT_PUBLIC,
                                        EVO_VAR_CLIENT_SECRET, EVO_VAR_WORKERS,    EVO_VAR_LIBRARY,
                                        EVO_VAR_UNIX_SOCKET};
    const char *fd_text = getenv(EVO_VAR_READY_FD);
    unsigned fd = 0;
    FILE *ready = NULL;
    if (fd_text == NULL || evo_parse_unsigned(fd_text, 3, 1024, &fd) < 0 || (ready = fdopen((int)fd, "w")) == NULL) {
        fprintf(stderr, "evo-farm: __hold needs %s, a descriptor open for writing\n", EVO_VAR_READY_FD);
        return 2;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (getenv(names[i]))
            fprintf(ready, "%s=%s\n", names[i], getenv(names[i]));
    fputs("end\n", ready);
    if (fclose(ready) != 0)
        return 1;
    char buffer[256];
    while (read(0, buffer, sizeof buffer) > 0)
        ;
    return 0;
}

/* Internal: `__worker FILE` and `__drive FILE`, started by `run`. */
static int cmd_internal(int argc, char **argv, const char *self)
{
    char err[EVO_ERROR_MAX], prefix[64];
    if (strcmp(argv[1], "__evaluate-library") == 0 && argc == 4)
        return evo_library_child_main(argv[2], argv[3]);
    if (strcmp(argv[1], "__hold") == 0 && argc == 2)
        return hold_for_embedder();
    if (strcmp(argv[1], "__library") == 0 && argc == 2) { /* for a Python package installed elsewhere (a venv) */
        const char *library = getenv(EVO_VAR_LIBRARY);
        return library ? (puts(library), 0) : 1;
    }
    if (argc != 3 && !(argc == 2 && strcmp(argv[1], "__drive") == 0))
        return bad_usage("bad internal command '%s'", argv[1]);
    struct evo_config *config = argc == 3 ? load(argv[2]) : evo_config_from_step_env(err, sizeof err);
    int rc = 2;
    if (config == NULL) {
        if (argc == 2)
            fprintf(stderr, "evo-farm: %s\n", err);
        return 2;
    }
    if (strcmp(argv[1], "__worker") == 0) {
        struct evo_credentials creds;
        if (evo_default_evaluator(config, NULL) < 0) {
            evo_config_destroy(config);
            return 2;
        }
        snprintf(prefix, sizeof prefix, "evo-farm worker %d", (int)getpid());
        evo_log_set_prefix(prefix);
        if (evo_credentials_from_env(&creds, err, sizeof err) < 0)
            evo_error("%s", err);
        else
            rc = evo_worker_main(config, &creds, self);
    } else if (strcmp(argv[1], "__drive") == 0) {
        evo_log_set_prefix("evo-farm driver");
        if (config->optimize.strategy == NULL)
            rc = bad_usage("%s has no optimize: section; give a driver COMMAND to run instead", config->path);
        else if (strcmp(config->optimize.strategy, "cma-es") == 0)
            rc = evo_driver_cmaes_main(config);
        else
            rc = evo_driver_map_main(config);
    } else {
        rc = bad_usage("unknown internal command '%s'", argv[1]);
    }
    evo_config_destroy(config);
    return rc;
}

/* Lets Python drivers and the python evaluator find the evofarm package
 * and libevofarm: the package's directory goes first on PYTHONPATH (venv or
 * not), the library's path into EVO_FARM_LIBRARY. Installed: PREFIX/bin/
 * evo-farm with PREFIX/lib/evo-farm/python and PREFIX/lib/libevofarm.so;
 * build tree: build/bin/evo-farm with python/ and build/lib/. */
static void python_setup(const char *self)
{
    char base[PATH_MAX], dir[PATH_MAX + 64], lib[PATH_MAX + 64];
    snprintf(base, sizeof base, "%s", self);
    char *slash = strrchr(base, '/');
    if (slash == NULL)
        return;
    *slash = '\0'; /* .../bin */
    snprintf(lib, sizeof lib, "%s/../lib/libevofarm.so", base);
    if (getenv(EVO_VAR_LIBRARY) == NULL && access(lib, R_OK) == 0)
        setenv(EVO_VAR_LIBRARY, lib, 1);
    snprintf(dir, sizeof dir, "%s/../lib/evo-farm/python", base);
    if (access(dir, R_OK) < 0)
        snprintf(dir, sizeof dir, "%s/../../python", base);
    if (access(dir, R_OK) < 0)
        return;
    const char *old = getenv("PYTHONPATH");
    char *path = NULL;
    size_t n = strlen(dir);
    if (old && strncmp(old, dir, n) == 0 && (old[n] == '\0' || old[n] == ':'))
        return; /* an evo-farm process started by another one */
    if ((old && *old ? asprintf(&path, "%s:%s", dir, old) : asprintf(&path, "%s", dir)) >= 0) {
        setenv("PYTHONPATH", path, 1);
        free(path);
    }
}

int main(int argc, char **argv)
{
    char self[PATH_MAX];
    evo_trace_init();
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        snprintf(self, sizeof self, "%s", argv[0]);
    else
        self[n] = '\0';
    evo_log_init();
    unsigned long files = evo_limits_raise(); /* a broker holds one descriptor per member (util/limits.h) */
    if (evo_limits_found())
        evo_info("open files: soft limit %lu raised to the hard limit, %lu", evo_limits_found(), files);
    const char *refused = getenv(EVO_VAR_REFUSED);
    if (refused) { /* the plugin refused this step: nothing of the user's runs */
        fprintf(stderr, "evo-farm: step refused: %s\n", refused);
        return 2;
    }
    evo_signals_job_ignore(); /* a farm outlives USR1 and the rest; its driver gets them (signals.h) */
    python_setup(self);
    int in_step = getenv(EVO_VAR_CONFIG_TEXT) != NULL;
    const char *task_argv0 = getenv(EVO_VAR_TASK_ARGV0);
    if (in_step && task_argv0) { /* the plugin put us in argv[0] (Slurm < 23.11) */
        argv[0] = strdup(task_argv0);
        unsetenv(EVO_VAR_TASK_ARGV0);
        return argv[0] ? evo_step_main(argv, self) : 1;
    }
    if (in_step && argc > 1 && strcmp(argv[1], "--") == 0) /* the plugin put us in front */
        return evo_step_main(argc > 2 ? &argv[2] : NULL, self);
    if (argc < 2)
        return in_step ? evo_step_main(NULL, self) : bad_usage("missing subcommand%s", "");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("evo-farm %s (protocol %d)\n", EVO_VERSION, EVO_PROTO_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc, argv);
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc, argv, self);
    if (strncmp(argv[1], "__", 2) == 0)
        return cmd_internal(argc, argv, self);
    if (strcmp(argv[1], "status") == 0)
        return evo_status_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "plot") == 0)
        return evo_plot_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "drain") == 0)
        return evo_drain_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "join") == 0)
        return evo_join_main(argc - 1, argv + 1, self);
    if (in_step && strcmp(argv[1], "--resume") == 0) {
        if (argc < 3) /* checked by the driver on rank 0: other nodes may not see DIR */
            return bad_usage("--resume needs a results DIR%s", "");
        setenv(EVO_VAR_RESUME, argv[2], 1);
        return evo_step_main(argc > 3 ? &argv[3] : NULL, self);
    }
    if (in_step)
        return evo_step_main(&argv[1], self);
    return bad_usage("unknown subcommand '%s' (a driver COMMAND is run this way only as a task of "
                     "srun --evo-farm=FILE; on one machine use evo-farm run FILE -- COMMAND)",
                     argv[1]);
}
