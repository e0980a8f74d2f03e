/* config.c — loads evolution.yaml with libyaml's document API and checks it
 * against the schema below. Every error names FILE:LINE:COL of the node at
 * fault. Phases: parse (libyaml) → defaults → walk the sections (one table of
 * keys per section) → cross-key checks. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config_walk.h"
#include "util/files.h"
#include "util/networks.h"
#include "util/parse.h"
#include "util/names.h"

static int farm_workers(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned_or_auto(w, v, 1, EVO_MAX_LOCAL_WORKERS, &w->config->farm.workers);
}

static int farm_scheduling(struct walk *w, yaml_node_t *v)
{
    static const char *names[] = {"dynamic", "static", NULL};
    int index;
    if (walk_choice(w, v, names, &index) < 0)
        return -1;
    w->config->farm.scheduling = (enum evo_scheduling)index;
    return 0;
}

static int farm_batch(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned_or_auto(w, v, 1, 1u << 20, &w->config->farm.batch);
}

static int farm_prefetch(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned(w, v, 1, 64, &w->config->farm.prefetch);
}

static int farm_retries(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned(w, v, 0, 100, &w->config->farm.retries);
}

static int farm_timeout(struct walk *w, yaml_node_t *v)
{
    return walk_duration(w, v, 1, 1u << 31, 1, &w->config->farm.timeout_ms);
}

static int farm_heartbeat(struct walk *w, yaml_node_t *v)
{
    w->config->farm.heartbeat_set = 1;
    return walk_duration(w, v, 10, 60000, 0, &w->config->farm.heartbeat_ms);
}

static int farm_liveness(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned(w, v, 2, 100, &w->config->farm.liveness);
}

static int farm_bind(struct walk *w, yaml_node_t *v)
{
    char why[EVO_ENDPOINT_MAX + 128];
    if (walk_string(w, v, &w->config->farm.bind) < 0)
        return -1;
    return evo_bind_check(w->config->farm.bind, why, sizeof why) < 0 ? walk_fail(w, v, "%s", why) : 0;
}

static const struct walk_field farm_fields[] = {{"workers", farm_workers},     {"scheduling", farm_scheduling},
                                                {"batch", farm_batch},         {"prefetch", farm_prefetch},
                                                {"retries", farm_retries},     {"timeout", farm_timeout},
                                                {"heartbeat", farm_heartbeat}, {"liveness", farm_liveness},
                                                {"bind", farm_bind},           {NULL, NULL}};

static int evaluate_library(struct walk *w, yaml_node_t *v)
{
    return walk_path(w, v, &w->config->evaluate.library);
}

static int evaluate_function(struct walk *w, yaml_node_t *v)
{
    return walk_identifier(w, v, &w->config->evaluate.function);
}

static int evaluate_command(struct walk *w, yaml_node_t *v)
{
    return walk_string_list(w, v, 1, &w->config->evaluate.command);
}

static int evaluate_python(struct walk *w, yaml_node_t *v)
{
    return walk_string(w, v, &w->config->evaluate.python);
}

static int evaluate_workdir(struct walk *w, yaml_node_t *v)
{
    return walk_path(w, v, &w->config->evaluate.workdir);
}

static int evaluate_objectives(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned(w, v, 1, EVO_MAX_OBJECTIVES, &w->config->evaluate.objectives);
}

static int evaluate_startup_timeout(struct walk *w, yaml_node_t *v)
{
    return walk_duration(w, v, 0, 1u << 31, 1, &w->config->evaluate.startup_timeout_ms);
}

static int evaluate_start(struct walk *w, yaml_node_t *v)
{
    static const char *names[] = {"fork", "spawn", NULL};
    int index;
    if (walk_choice(w, v, names, &index) < 0)
        return -1;
    w->config->evaluate.spawn = index == 1;
    w->config->evaluate.start_set = 1;
    return 0;
}

static const struct walk_field evaluate_fields[] = {{"library", evaluate_library},
                                                    {"function", evaluate_function},
                                                    {"command", evaluate_command},
                                                    {"python", evaluate_python},
                                                    {"workdir", evaluate_workdir},
                                                    {"objectives", evaluate_objectives},
                                                    {"startup_timeout", evaluate_startup_timeout},
                                                    {"start", evaluate_start},
                                                    {NULL, NULL}};

static int environment_venv(struct walk *w, yaml_node_t *v)
{
    return walk_path(w, v, &w->config->environment.venv);
}

static int environment_conda(struct walk *w, yaml_node_t *v)
{
    return walk_path(w, v, &w->config->environment.conda);
}

static int environment_modules(struct walk *w, yaml_node_t *v)
{
    return walk_string_list(w, v, 0, &w->config->environment.modules);
}

static int environment_env(struct walk *w, yaml_node_t *v)
{
    return walk_env(w, v, &w->config->environment.env, &w->config->environment.env_count);
}

static const struct walk_field environment_fields[] = {{"venv", environment_venv},
                                                       {"conda", environment_conda},
                                                       {"modules", environment_modules},
                                                       {"env", environment_env},
                                                       {NULL, NULL}};

static int output_dir(struct walk *w, yaml_node_t *v)
{
    char bad = 0;
    if (walk_string(w, v, &w->config->output.dir) < 0)
        return -1;
    if (evo_output_dir_check(w->config->output.dir, &bad) < 0)
        return walk_fail(w, v,
                         "'%%%c' is not a pattern here (%%j the job id, %%A the array's, %%a the array index, "
                         "%%%% a %%)",
                         bad ? bad : '?');
    return 0;
}

static int journal_dir(struct walk *w, yaml_node_t *v)
{
    return walk_string(w, v, &w->config->output.journal);
}

static int journal_version(struct walk *w, yaml_node_t *v)
{
    return walk_string(w, v, &w->config->output.journal_version);
}

static const struct walk_field journal_fields[] = {{"dir", journal_dir}, {"version", journal_version}, {NULL, NULL}};

/* journal: DIR, or {dir: DIR, version: TEXT} (TEXT joins the journal's
 * identity: a new version of the code behind `evaluate:` starts afresh). */
static int output_journal(struct walk *w, yaml_node_t *v)
{
    if (v->type != YAML_MAPPING_NODE)
        return journal_dir(w, v);
    if (walk_mapping(w, v, "output.journal", journal_fields) < 0)
        return -1;
    if (w->config->output.journal == NULL)
        return walk_fail(w, v, "a journal given as a mapping names its directory: {dir: DIR, version: TEXT}");
    return 0;
}

static const struct walk_field output_fields[] = {{"dir", output_dir}, {"journal", output_journal}, {NULL, NULL}};

static const struct walk_section sections[] = {{"farm", farm_fields},
                                               {"evaluate", evaluate_fields},
                                               {"environment", environment_fields},
                                               {"optimize", evo_optimize_fields},
                                               {"output", output_fields},
                                               {NULL, NULL}};

static int set_defaults(struct evo_config *c)
{
    c->farm.scheduling = EVO_SCHEDULING_DYNAMIC;
    c->farm.prefetch = 2;
    c->farm.retries = 2;
    c->farm.timeout_ms = 30000;
    c->farm.heartbeat_ms = 1000;
    c->farm.liveness = 3;
    c->evaluate.objectives = 1;
    c->evaluate.startup_timeout_ms = 30000;
    c->farm.bind = strdup(EVO_DEFAULT_BIND);
    c->output.dir = strdup("results");
    c->optimize.sigma = 1.0;
    c->optimize.checkpoint = 10;
    c->optimize.tolfun = 1e-12;
    c->optimize.tolx = 1e-12;
    return (c->farm.bind && c->output.dir) ? 0 : -1;
}

/* The bundled Python evaluator's command line for interpreter `python`; kind PYTHON.
 * 0, or -1 out of memory. */
static int python_evaluator_command(struct evo_config *c)
{
    const char *argv[] = {c->evaluate.python, "-u", "-m", "evofarm._evaluator"};
    c->evaluate.kind = EVO_EVALUATOR_PYTHON;
    if ((c->evaluate.command = calloc(5, sizeof *c->evaluate.command)) == NULL)
        return -1;
    for (int i = 0; i < 4; i++)
        if ((c->evaluate.command[i] = strdup(argv[i])) == NULL)
            return -1;
    return 0;
}

static int python_command(struct walk *w, yaml_node_t *evaluate)
{
    if (w->config->evaluate.function)
        return walk_fail(w, evaluate, "evaluate: 'function' goes with 'library' (a Python driver sends its functions)");
    return python_evaluator_command(w->config) < 0 ? walk_fail(w, evaluate, "out of memory") : 0;
}

int evo_config_default_python(struct evo_config *c, const char *interpreter)
{
    if (c->evaluate.kind != EVO_EVALUATOR_NONE)
        return 0;
    if ((c->evaluate.python = strdup(interpreter)) == NULL || python_evaluator_command(c) < 0) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int evo_config_is_python(const char *command)
{
    const char *base = command ? strrchr(command, '/') : NULL;
    base = base ? base + 1 : command;
    return base && strncmp(base, "python", 6) == 0 && strspn(base + 6, "0123456789.") == strlen(base + 6);
}

unsigned evo_config_heartbeat_for(const struct evo_config *c, unsigned workers)
{
    unsigned scaled = (unsigned)((unsigned long long)workers * 1000 / EVO_HEARTBEAT_WORKERS_PER_S);
    if (c->farm.heartbeat_set || scaled <= c->farm.heartbeat_ms)
        return c->farm.heartbeat_ms;
    return scaled < 10000 ? scaled : 10000;
}

/* Checks that involve several keys; `root` locates the messages. */
static int check_config(struct walk *w, yaml_node_t *root)
{
    struct evo_config *c = w->config;
    yaml_node_t *evaluate = walk_section_node(w, root, "evaluate");
    yaml_node_t *optimize = walk_section_node(w, root, "optimize");
    if (evaluate == NULL) /* a Python driver's own interpreter (evo_config_default_python) */
        return optimize ? evo_check_optimize(w, optimize) : 0;
    if (!!c->evaluate.library + !!c->evaluate.command + !!c->evaluate.python > 1)
        return walk_fail(w, evaluate, "evaluate: give one of 'library', 'command' or 'python'");
    /* python: the bundled Python evaluator, found through the PYTHONPATH that
     * python_setup (cmd/evo-farm/main.c) gives every member */
    if (c->evaluate.python) {
        if (python_command(w, evaluate) < 0)
            return -1;
    } else if (c->evaluate.function && !c->evaluate.library)
        return walk_fail(w, evaluate, "evaluate: 'function' goes with 'library'");
    else if (!c->evaluate.library && !c->evaluate.command)
        return walk_fail(w, evaluate,
                         "evaluate: one of 'library' (with 'function'), 'command' or 'python' is required");
    else if (c->evaluate.library && !c->evaluate.function)
        return walk_fail(w, evaluate, "evaluate: 'library' needs 'function' (the symbol to call)");
    else
        c->evaluate.kind = c->evaluate.library ? EVO_EVALUATOR_LIBRARY : EVO_EVALUATOR_COMMAND;
    if (c->evaluate.start_set && c->evaluate.kind != EVO_EVALUATOR_PYTHON)
        return walk_fail(w, evaluate, "evaluate: 'start' (fork or spawn) goes with 'python'");
    /* A library or command runs beside the file that names it; the Python
     * evaluator, the driver's twin, where its member runs (NULL) */
    if (c->evaluate.kind != EVO_EVALUATOR_PYTHON && c->evaluate.workdir == NULL &&
        (c->evaluate.workdir = strdup(c->dir)) == NULL)
        return walk_fail(w, evaluate, "out of memory");
    return optimize ? evo_check_optimize(w, optimize) : 0;
}

static char *absolute_dir(const char *base_dir)
{
    char resolved[PATH_MAX];
    if (base_dir == NULL)
        base_dir = ".";
    if (realpath(base_dir, resolved) == NULL)
        return base_dir[0] == '/' ? strdup(base_dir) : NULL; /* another node's directory */
    return strdup(resolved);
}

struct evo_config *evo_config_parse(const char *name, const char *text, size_t size, const char *base_dir, char *err,
                                    size_t err_size)
{
    char home[EVO_PATH_MAX];
    int known = evo_home_dir(home, sizeof home) == 0; /* --export=NONE: no HOME */
    return evo_config_parse_home(name, text, size, base_dir, known ? home : getenv("HOME"), err, err_size);
}

struct evo_config *evo_config_parse_home(const char *name, const char *text, size_t size, const char *base_dir,
                                         const char *home, char *err, size_t err_size)
{
    struct evo_config *config = calloc(1, sizeof *config);
    struct walk w = {.file = name, .config = config, .err = err, .err_size = err_size, .home = home};
    if (config == NULL || (config->path = strdup(name)) == NULL || (config->dir = absolute_dir(base_dir)) == NULL ||
        set_defaults(config) < 0) {
        snprintf(err, err_size, "%s: %s", name, strerror(errno ? errno : ENOMEM));
        evo_config_destroy(config);
        return NULL;
    }
    if (walk_document(&w, text, size, sections, check_config) < 0) {
        evo_config_destroy(config);
        return NULL;
    }
    if ((config->text = malloc(size + 1)) == NULL) {
        snprintf(err, err_size, "%s: out of memory", name);
        evo_config_destroy(config);
        return NULL;
    }
    memcpy(config->text, text, size);
    config->text[size] = '\0';
    config->text_size = size;
    return config;
}

char *evo_config_read_file(const char *path, size_t *size, char *err, size_t err_size)
{
    char *text = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    FILE *mem = open_memstream(&text, size);
    char chunk[8192];
    size_t n;
    while (mem && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, mem);
    int read_error = ferror(f);
    fclose(f);
    if (mem == NULL || fclose(mem) != 0 || read_error) {
        snprintf(err, err_size, "%s: cannot read: %s", path, strerror(errno ? errno : EIO));
        free(text);
        return NULL;
    }
    return text;
}

char *evo_config_dir_of(const char *path)
{
    char *dir = strdup(path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    else if (dir)
        strcpy(dir, ".");
    return dir;
}

struct evo_config *evo_config_load(const char *path, char *err, size_t err_size)
{
    size_t size = 0;
    struct evo_config *config = NULL;
    char *text = evo_config_read_file(path, &size, err, err_size), *dir = NULL;
    if (text == NULL)
        return NULL;
    if ((dir = evo_config_dir_of(path)) == NULL)
        snprintf(err, err_size, "%s: out of memory", path);
    else
        config = evo_config_parse(path, text, size, dir, err, err_size);
    free(dir);
    free(text);
    return config;
}

static void free_list(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

void evo_config_destroy(struct evo_config *c)
{
    if (c == NULL)
        return;
    free(c->path);
    free(c->dir);
    free(c->text);
    free(c->farm.bind);
    free(c->evaluate.library);
    free(c->evaluate.python);
    free(c->evaluate.function);
    free_list(c->evaluate.command);
    free(c->evaluate.workdir);
    free(c->environment.venv);
    free(c->environment.conda);
    free_list(c->environment.modules);
    for (size_t i = 0; i < c->environment.env_count; i++) {
        free(c->environment.env[i].name);
        free(c->environment.env[i].value);
    }
    free(c->environment.env);
    free(c->optimize.strategy);
    free(c->optimize.input);
    free(c->optimize.centroid);
    free(c->optimize.lower);
    free(c->optimize.upper);
    free(c->output.dir);
    free(c->output.journal);
    free(c->output.journal_version);
    free(c);
}

struct evo_config *evo_config_from_step_env(char *err, size_t err_size)
{
    const char *text = getenv(EVO_VAR_CONFIG_TEXT), *name = getenv(EVO_VAR_CONFIG_NAME),
               *dir = getenv(EVO_VAR_CONFIG_DIR);
    if (text == NULL || name == NULL || dir == NULL) {
        snprintf(err, err_size,
                 "this is not an --evo-farm step (%s is not set): run it as "
                 "`srun --evo-farm=FILE ... evo-farm`, or use `evo-farm run FILE` on one machine",
                 EVO_VAR_CONFIG_TEXT);
        errno = ENOENT;
        return NULL;
    }
    return evo_config_parse(name, text, strlen(text), dir, err, err_size);
}
