/* config_print.c — prints a resolved config as YAML (`evo-farm check`). */
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void print_duration(FILE *out, const char *key, unsigned ms)
{
    if (ms == 0)
        fprintf(out, "  %s: none\n", key);
    else if (ms % 1000 == 0)
        fprintf(out, "  %s: %us\n", key, ms / 1000);
    else
        fprintf(out, "  %s: %ums\n", key, ms);
}

/* Strings are printed double-quoted with the characters YAML needs escaped:
 * the quote, the backslash and every control character (a raw line break
 * or carriage return inside quotes would be folded into a space when the
 * text is read again). */
static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_list(FILE *out, char **list)
{
    fputc('[', out);
    for (size_t i = 0; list && list[i]; i++) {
        if (i)
            fputs(", ", out);
        print_string(out, list[i]);
    }
    fputs("]\n", out);
}

static void print_farm(const struct evo_config *c, FILE *out)
{
    fputs("farm:\n", out);
    if (c->farm.workers)
        fprintf(out, "  workers: %u\n", c->farm.workers);
    else
        fputs("  workers: auto\n", out);
    fprintf(out, "  scheduling: %s\n", c->farm.scheduling == EVO_SCHEDULING_STATIC ? "static" : "dynamic");
    if (c->farm.batch)
        fprintf(out, "  batch: %u\n", c->farm.batch);
    else
        fputs("  batch: auto\n", out);
    fprintf(out, "  prefetch: %u\n  retries: %u\n", c->farm.prefetch, c->farm.retries);
    print_duration(out, "timeout", c->farm.timeout_ms);
    print_duration(out, "heartbeat", c->farm.heartbeat_ms);
    fprintf(out, "  liveness: %u\n  bind: ", c->farm.liveness);
    print_string(out, c->farm.bind);
    fputc('\n', out);
}

static void print_environment(const struct evo_config *c, FILE *out)
{
    static const char *ops[] = {"set", "prepend", "append", "unset"};
    if (!c->environment.venv && !c->environment.conda && !c->environment.modules && !c->environment.env_count)
        return;
    fputs("environment:\n", out);
    if (c->environment.venv) {
        fputs("  venv: ", out);
        print_string(out, c->environment.venv);
        fputc('\n', out);
    }
    if (c->environment.conda) {
        fputs("  conda: ", out);
        print_string(out, c->environment.conda);
        fputc('\n', out);
    }
    if (c->environment.modules) {
        fputs("  modules: ", out);
        print_list(out, c->environment.modules);
    }
    if (c->environment.env_count)
        fputs("  env:\n", out);
    for (size_t i = 0; i < c->environment.env_count; i++) {
        const struct evo_env_change *e = &c->environment.env[i];
        fprintf(out, "    %s: ", e->name);
        if (e->op == EVO_ENV_UNSET) {
            fputs("null\n", out);
            continue;
        }
        if (e->op != EVO_ENV_SET)
            fprintf(out, "{%s: ", ops[e->op]);
        print_string(out, e->value);
        fputs(e->op != EVO_ENV_SET ? "}\n" : "\n", out);
    }
}

/* The shortest of %.15g / %.17g that reads back as the same double. */
static void print_number(FILE *out, double v)
{
    char text[40];
    snprintf(text, sizeof text, "%.15g", v);
    if (strtod(text, NULL) != v)
        snprintf(text, sizeof text, "%.17g", v);
    fputs(text, out);
}

static void print_vector(FILE *out, const char *key, const double *v, unsigned n)
{
    fprintf(out, "  %s: [", key);
    for (unsigned i = 0; i < n; i++) {
        fputs(i ? ", " : "", out);
        print_number(out, v[i]);
    }
    fputs("]\n", out);
}

static void print_cmaes(const struct evo_config *c, FILE *out)
{
    unsigned n = c->optimize.dimension;
    print_vector(out, "centroid", c->optimize.centroid, n);
    fputs("  sigma: ", out);
    print_number(out, c->optimize.sigma);
    fputc('\n', out);
    if (c->optimize.lambda)
        fprintf(out, "  lambda: %u\n", c->optimize.lambda);
    else
        fputs("  lambda: auto\n", out);
    if (c->optimize.generations)
        fprintf(out, "  generations: %u\n", c->optimize.generations);
    if (c->optimize.evaluations)
        fprintf(out, "  evaluations: %u\n", c->optimize.evaluations);
    if (c->optimize.has_seed)
        fprintf(out, "  seed: %u\n", c->optimize.seed);
    if (c->optimize.lower) {
        fputs("  bounds: [", out);
        for (unsigned i = 0; i < n; i++) {
            fputs(i ? ", [" : "[", out);
            print_number(out, c->optimize.lower[i]);
            fputs(", ", out);
            print_number(out, c->optimize.upper[i]);
            fputc(']', out);
        }
        fputs("]\n", out);
    }
    if (c->optimize.has_target) {
        fputs("  target: ", out);
        print_number(out, c->optimize.target);
        fputc('\n', out);
    }
    fprintf(out, "  restarts: %u\n  checkpoint: %u\n  tolfun: %g\n  tolx: %g\n", c->optimize.restarts,
            c->optimize.checkpoint, c->optimize.tolfun, c->optimize.tolx);
}

static void print_evaluate(const struct evo_config *c, FILE *out)
{
    if (c->evaluate.kind == EVO_EVALUATOR_NONE) {
        fputs("# evaluate: none given: a Python driver's own interpreter runs its calls\n", out);
        return;
    }
    fputs("evaluate:\n", out);
    if (c->evaluate.kind == EVO_EVALUATOR_LIBRARY) {
        fputs("  library: ", out);
        print_string(out, c->evaluate.library);
        fprintf(out, "\n  function: %s\n", c->evaluate.function);
    } else if (c->evaluate.kind == EVO_EVALUATOR_PYTHON) { /* its command is ours: the kind must survive */
        fputs("  python: ", out);
        print_string(out, c->evaluate.python);
        fputc('\n', out);
        if (c->evaluate.spawn)
            fputs("  start: spawn\n", out);
    } else {
        fputs("  command: ", out);
        print_list(out, c->evaluate.command);
    }
    if (c->evaluate.workdir) {
        fputs("  workdir: ", out);
        print_string(out, c->evaluate.workdir);
        fputc('\n', out);
    }
    fprintf(out, "  objectives: %u\n", c->evaluate.objectives);
    print_duration(out, "startup_timeout", c->evaluate.startup_timeout_ms);
}

void evo_config_print(const struct evo_config *c, FILE *out)
{
    fprintf(out, "# %s, resolved\n", c->path);
    print_farm(c, out);
    print_evaluate(c, out);
    print_environment(c, out);
    if (c->optimize.strategy) {
        fprintf(out, "optimize:\n  strategy: %s\n", c->optimize.strategy);
        if (c->optimize.input) {
            fputs("  input: ", out);
            print_string(out, c->optimize.input);
            fputc('\n', out);
        }
        if (c->optimize.dimension)
            fprintf(out, "  dimension: %u\n", c->optimize.dimension);
        if (strcmp(c->optimize.strategy, "cma-es") == 0)
            print_cmaes(c, out);
    }
    fputs("output:\n  dir: ", out);
    print_string(out, c->output.dir);
    fputc('\n', out);
    if (c->output.journal) {
        fputs(c->output.journal_version ? "  journal: {dir: " : "  journal: ", out);
        print_string(out, c->output.journal);
        if (c->output.journal_version) {
            fputs(", version: ", out);
            print_string(out, c->output.journal_version);
            fputc('}', out);
        }
        fputc('\n', out);
    }
}
