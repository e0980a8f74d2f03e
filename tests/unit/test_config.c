/* test_config.c — the config loader: values, defaults, and one test per
 * class of error, each checking the exact FILE:LINE:COL. */
#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pwd.h>
#include <unistd.h>

#include "broker/journal.h"
#include "config/config.h"

static char err[1200];

static struct evo_config *parse(const char *text)
{
    err[0] = '\0';
    return evo_config_parse("t.yaml", text, strlen(text), "/tmp", err, sizeof err);
}

/* The text must be rejected with a message starting with `where` and
 * containing `what`. */
static void expect_error(const char *text, const char *where, const char *what)
{
    struct evo_config *c = parse(text);
    if (c != NULL || strncmp(err, where, strlen(where)) != 0 || strstr(err, what) == NULL)
        fail_msg("text:\n%s\nexpected '%s...%s', got '%s'", text, where, what, c ? "(accepted)" : err);
}

static void every_key_loaded(void **state)
{
    (void)state;
    struct evo_config *c = parse("farm: {workers: 4, scheduling: static, batch: 16, prefetch: 3, retries: 5,\n"
                                 "       timeout: 1.5s, heartbeat: 250ms, liveness: 4, bind: 'tcp://*:5555'}\n"
                                 "evaluate:\n  library: ./lib.so\n  function: f_1\n  objectives: 2\n"
                                 "environment:\n  venv: /opt/venv\n  modules: [gcc, openmpi/4]\n"
                                 "  env: {OMP_NUM_THREADS: '1', PATH: {prepend: /x/bin}, LD_LIBRARY_PATH: {append: /l},"
                                 " DISPLAY: null}\n"
                                 "optimize: {strategy: map, input: v.txt, dimension: 3}\n"
                                 "output: {dir: out}\n");
    assert_non_null(c);
    assert_int_equal(c->farm.workers, 4);
    assert_int_equal(c->farm.scheduling, EVO_SCHEDULING_STATIC);
    assert_int_equal(c->farm.batch, 16);
    assert_int_equal(c->farm.prefetch, 3);
    assert_int_equal(c->farm.retries, 5);
    assert_int_equal(c->farm.timeout_ms, 1500);
    assert_int_equal(c->farm.heartbeat_ms, 250);
    assert_int_equal(c->farm.liveness, 4);
    assert_string_equal(c->farm.bind, "tcp://*:5555");
    assert_int_equal(c->evaluate.kind, EVO_EVALUATOR_LIBRARY);
    assert_string_equal(c->evaluate.library, "/tmp/lib.so");
    assert_string_equal(c->evaluate.function, "f_1");
    assert_int_equal(c->evaluate.objectives, 2);
    assert_string_equal(c->environment.modules[1], "openmpi/4");
    assert_null(c->environment.modules[2]);
    assert_int_equal(c->environment.env_count, 4);
    assert_int_equal(c->environment.env[0].op, EVO_ENV_SET);
    assert_string_equal(c->environment.env[0].value, "1");
    assert_int_equal(c->environment.env[1].op, EVO_ENV_PREPEND);
    assert_int_equal(c->environment.env[2].op, EVO_ENV_APPEND);
    assert_int_equal(c->environment.env[3].op, EVO_ENV_UNSET);
    assert_null(c->environment.env[3].value);
    assert_string_equal(c->optimize.input, "/tmp/v.txt");
    assert_int_equal(c->optimize.dimension, 3);
    assert_string_equal(c->output.dir, "out");
    evo_config_destroy(c);
}

static void defaults_for_what_the_file_omits(void **state)
{
    (void)state;
    struct evo_config *c = parse("evaluate: {command: [python3, fitness.py]}\n");
    assert_non_null(c);
    assert_int_equal(c->farm.workers, 0);
    assert_int_equal(c->farm.scheduling, EVO_SCHEDULING_DYNAMIC);
    assert_int_equal(c->farm.batch, 0);
    assert_int_equal(c->farm.prefetch, 2);
    assert_int_equal(c->farm.retries, 2);
    assert_int_equal(c->farm.timeout_ms, 30000);
    assert_int_equal(c->farm.heartbeat_ms, 1000);
    assert_int_equal(c->evaluate.kind, EVO_EVALUATOR_COMMAND);
    assert_string_equal(c->evaluate.command[0], "python3");
    assert_string_equal(c->evaluate.command[1], "fitness.py");
    assert_null(c->evaluate.command[2]);
    assert_string_equal(c->evaluate.workdir, "/tmp");
    assert_int_equal(c->evaluate.startup_timeout_ms, 30000);
    assert_null(c->optimize.strategy);
    assert_string_equal(c->output.dir, "results");
    evo_config_destroy(c);
    /* The Python evaluator is the driver's twin: it runs where its member
     * runs (the task's directory under Slurm), unless the file says */
    c = parse("evaluate: {python: python3}\n");
    assert_non_null(c);
    assert_null(c->evaluate.workdir);
    evo_config_destroy(c);
    c = parse("evaluate: {python: python3, workdir: data}\n");
    assert_non_null(c);
    assert_string_equal(c->evaluate.workdir, "/tmp/data");
    evo_config_destroy(c);
    /* its evaluators are forked from the node's fork server unless the file says spawn */
    c = parse("evaluate: {python: python3}\n");
    assert_non_null(c);
    assert_false(c->evaluate.spawn);
    evo_config_destroy(c);
    c = parse("evaluate: {python: python3, start: spawn}\n");
    assert_non_null(c);
    assert_true(c->evaluate.spawn);
    evo_config_destroy(c);
    c = parse("evaluate: {command: [python3, fitness.py]}\n");
    assert_non_null(c);
    assert_null(c->optimize.strategy);
    assert_string_equal(c->output.dir, "results");
    evo_config_destroy(c);
    c = parse("farm: {workers: auto, batch: auto, timeout: none}\nevaluate: {command: ./f}\n");
    assert_non_null(c);
    assert_int_equal(c->farm.timeout_ms, 0);
    assert_string_equal(c->evaluate.command[0], "./f");
    evo_config_destroy(c);
}

static void errors_name_the_place(void **state)
{
    (void)state;
    expect_error("evaluate: {command: [x]}\nfarm:\n  workerz: 3\n", "t.yaml:3:3:", "unknown key 'workerz'");
    expect_error("evaluate: {command: [x]}\nfarm:\n  retries: many\n",
                 "t.yaml:3:12:", "farm.retries: expected a whole number from 0 to 100, got 'many'");
    expect_error("evaluate: {command: [x]}\nfarm: {retries: 101}\n", "t.yaml:2:17:", "from 0 to 100");
    expect_error("evaluate: {command: [x], start: fork}\n",
                 "t.yaml:1:11:", "'start' (fork or spawn) goes with 'python'");
    expect_error("evaluate: {python: python3, start: clone}\n", "t.yaml:1:36:", "clone");
    expect_error("evaluate: {command: [x]}\nfarm: {retries: -1}\n", "t.yaml:2:17:", "got '-1'");
    expect_error("evaluate: {command: [x]}\nfarm: {workers: 0}\n", "t.yaml:2:17:", "'auto' or a whole number");
    expect_error("evaluate: {command: [x]}\nfarm: {timeout: 3 days}\n", "t.yaml:2:17:", "expected a duration");
    expect_error("evaluate: {command: [x]}\nfarm: {heartbeat: 2ms}\n", "t.yaml:2:19:", "out of range");
    expect_error("evaluate: {command: [x]}\nfarm: {bind: eth0}\n", "t.yaml:2:14:", "expected tcp://HOST:PORT");
    expect_error("evaluate: {command: [x]}\nfarm: {bind: 'tcp://*:9-2'}\n", "t.yaml:2:14:", "port range '9-2'");
    expect_error("evaluate: {command: [x]}\nfarm: {scheduling: greedy}\n",
                 "t.yaml:2:20:", "expected one of 'dynamic', 'static'");
    expect_error("evaluate: {command: [x]}\nfarm: [1, 2]\n", "t.yaml:2:7:", "section 'farm' must be a mapping");
    expect_error("evaluate: {objectives: 2}\n", "t.yaml:1:11:", "evaluate: one of 'library'");
    expect_error("- a\n- b\n", "t.yaml:1:1:", "must be a mapping of sections");
    expect_error("evaluate: {command: [x]}\nevolve: {}\n", "t.yaml:2:1:", "unknown section 'evolve'");
    expect_error("evaluate: {command: [x]}\nevaluate: {command: [y]}\n", "t.yaml:2:1:", "appears twice");
    expect_error("evaluate: {command: [x], command: [y]}\n", "t.yaml:1:26:", "key 'command' appears twice");
    expect_error("evaluate:\n  library: a.so\n  command: [x]\n",
                 "t.yaml:2:3:", "give one of 'library', 'command' or 'python'");
    expect_error("evaluate:\n  library: a.so\n", "t.yaml:2:3:", "needs 'function'");
    expect_error("evaluate:\n  function: f\n", "t.yaml:2:3:", "'function' goes with 'library'");
    expect_error("evaluate: {library: a.so, function: 'f-g'}\n", "t.yaml:1:37:", "C identifier");
    expect_error("evaluate: {command: []}\n", "t.yaml:1:21:", "non-empty list");
    expect_error("evaluate: {command: {a: b}}\n", "t.yaml:1:21:", "expected a list of strings");
    expect_error("evaluate: {command: [x]}\nenvironment: {env: {'1X': a}}\n",
                 "t.yaml:2:21:", "'1X' is not a valid variable name");
    expect_error("evaluate: {command: [x]}\nenvironment: {env: {P: {insert: a}}}\n",
                 "t.yaml:2:25:", "unknown operation 'insert'");
    expect_error("evaluate: {command: [x]}\noptimize: {input: v.txt}\n", "t.yaml:2:11:", "'strategy' is required");
    expect_error("evaluate: {command: [x]}\noptimize: {strategy: map}\n", "t.yaml:2:11:", "needs 'input'");
    expect_error("evaluate: {command: [x]}\noptimize: {strategy: cma}\n", "t.yaml:2:22:", "expected one of 'map'");
    expect_error("evaluate: {command: [x]\nfarm: {}\n", "t.yaml:2:1:", "did not find expected ',' or '}'");
    expect_error("evaluate:\n\tcommand: x\n", "t.yaml:2:1:", "YAML syntax error");
    expect_error("evaluate: {command: '   '}\n", "t.yaml:1:21:", "expected a command");
    expect_error("evaluate: {command: [x]}\n---\nfarm: {workers: 2}\n", "t.yaml:3:1:", "second YAML document");
    expect_error("evaluate: {command: [x]}\n---\nfarm: {\n", "t.yaml:4:1:", "YAML syntax error");
}

static void command_string_and_home(void **state)
{
    (void)state;
    setenv("HOME", "/home/u", 1);
    struct evo_config *c =
        parse("evaluate: {command: ' python3  fit.py\t-v '}\nenvironment: {venv: ~/venv, conda: ~x}\n");
    assert_non_null(c);
    assert_string_equal(c->evaluate.command[0], "python3");
    assert_string_equal(c->evaluate.command[1], "fit.py");
    assert_string_equal(c->evaluate.command[2], "-v");
    assert_null(c->evaluate.command[3]);
    assert_string_equal(c->environment.venv, "/home/u/venv");
    assert_string_equal(c->environment.conda, "/tmp/~x"); /* only "~/" means home */
    evo_config_destroy(c);
    /* the plugin inside slurmstepd: the job user's home, whatever $HOME says */
    const char *text = "evaluate: {command: [x]}\nenvironment: {venv: ~/venv}\n";
    assert_non_null(c = evo_config_parse_home("t.yaml", text, strlen(text), "/tmp", "/home/job", err, sizeof err));
    assert_string_equal(c->environment.venv, "/home/job/venv");
    evo_config_destroy(c);
    /* --export=NONE: no HOME at all, the effective user's home instead */
    unsetenv("HOME");
    struct passwd *pw = getpwuid(geteuid());
    assert_non_null(pw);
    assert_non_null(c = parse("evaluate: {command: [x]}\nenvironment: {venv: ~/venv}\n"));
    assert_true(strncmp(c->environment.venv, pw->pw_dir, strlen(pw->pw_dir)) == 0);
    assert_string_equal(c->environment.venv + strlen(pw->pw_dir), "/venv");
    evo_config_destroy(c);
    setenv("HOME", "/home/u", 1);
    /* a document end marker alone is not a second document */
    assert_non_null(c = parse("evaluate: {command: [x]}\n...\n"));
    evo_config_destroy(c);
}

/* No evaluate: (or nothing at all) is a Python driver's farm: kind NONE
 * until the driver's interpreter is known. */
static void no_evaluate_is_a_python_farm(void **state)
{
    (void)state;
    struct evo_config *c = parse("farm: {workers: 2}\n");
    assert_non_null(c);
    assert_int_equal(c->evaluate.kind, EVO_EVALUATOR_NONE);
    assert_int_equal(evo_config_default_python(c, "/venv/bin/python3"), 0);
    assert_int_equal(c->evaluate.kind, EVO_EVALUATOR_PYTHON);
    assert_string_equal(c->evaluate.command[0], "/venv/bin/python3");
    assert_string_equal(c->evaluate.command[3], "evofarm._evaluator");
    evo_config_destroy(c);
    assert_non_null(c = parse(""));
    assert_int_equal(c->farm.heartbeat_ms, 1000); /* every default */
    evo_config_destroy(c);
    assert_non_null(c = parse("evaluate: {command: [x]}\n"));
    assert_int_equal(evo_config_default_python(c, "python3"), 0); /* the file's evaluator stands */
    assert_int_equal(c->evaluate.kind, EVO_EVALUATOR_COMMAND);
    evo_config_destroy(c);
    assert_true(evo_config_is_python("python3"));
    assert_true(evo_config_is_python("/usr/bin/python3.11"));
    assert_true(evo_config_is_python("python"));
    assert_false(evo_config_is_python("python-config"));
    assert_false(evo_config_is_python("/bin/true"));
    assert_false(evo_config_is_python(NULL));
}

/* The default heartbeat grows with the farm past 2,000 workers (1 s per
 * 2,000, at most 10 s); one the file gives is kept whatever the size. */
static void heartbeat_scales_unless_given(void **state)
{
    (void)state;
    struct evo_config *c = parse("evaluate: {command: [x]}\n");
    assert_non_null(c);
    assert_int_equal(evo_config_heartbeat_for(c, 1), 1000);
    assert_int_equal(evo_config_heartbeat_for(c, 2000), 1000);
    assert_int_equal(evo_config_heartbeat_for(c, 3000), 1500);
    assert_int_equal(evo_config_heartbeat_for(c, 10000), 5000);
    assert_int_equal(evo_config_heartbeat_for(c, 100000), 10000);
    evo_config_destroy(c);
    c = parse("farm: {heartbeat: 200ms}\nevaluate: {command: [x]}\n");
    assert_non_null(c);
    assert_int_equal(evo_config_heartbeat_for(c, 10000), 200);
    evo_config_destroy(c);
    c = parse("farm: {heartbeat: 1s}\nevaluate: {command: [x]}\n");
    assert_non_null(c);
    assert_int_equal(evo_config_heartbeat_for(c, 10000), 1000);
    evo_config_destroy(c);
}

/* output.dir's job patterns: checked where the file says them, expanded
 * from the job's ids, and an array element never shares a directory. */
static void output_dir_job_patterns(void **state)
{
    (void)state;
    char out[64];
    expect_error("evaluate: {command: [x]}\noutput: {dir: res/%x}\n", "t.yaml:2:15:", "'%x' is not a pattern here");
    expect_error("evaluate: {command: [x]}\noutput: {dir: 'res%'}\n", "t.yaml:2:15:", "'% ' is not a pattern here");
    struct evo_config *c = parse("evaluate: {command: [x]}\noutput: {dir: 'res/%A_%a/100%%'}\n");
    assert_non_null(c);
    evo_config_destroy(c);
    const struct evo_job_names none = {NULL, NULL, NULL}, plain = {"41", NULL, NULL}, element = {"43", "42", "1"};
    const struct {
        const char *dir;
        const struct evo_job_names *job;
        const char *want;
    } cases[] = {
        {"results", &none, "results"},           {"results/%j", &none, "results/local"},
        {"results", &plain, "results"},          {"results/%j", &plain, "results/41"},
        {"r/%A_%a", &plain, "r/41_local"},       {"results", &element, "results/42_1"},
        {"results//", &element, "results/42_1"}, {"out/%j", &element, "out/43"},
        {"out/%A-%a", &element, "out/42-1"},     {"100%%", &plain, "100%"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(evo_output_dir_expand(cases[i].dir, cases[i].job, out, sizeof out), 0);
        assert_string_equal(out, cases[i].want);
    }
    assert_int_equal(evo_output_dir_expand("results/%A_%a", &element, out, 8), -1); /* does not fit */
}

/* journal: DIR, or {dir, version}: the version joins the journal's
 * identity (a new version of the evaluator's code starts afresh), and a
 * journal without one keeps the identity it always had. */
static void journal_version_salts_its_identity(void **state)
{
    (void)state;
    char plain[2 * EVO_JOURNAL_DIGEST + 1], v1[sizeof plain], v2[sizeof plain];
    struct evo_config *c = parse("evaluate: {command: [x]}\noutput: {journal: /j}\n");
    assert_non_null(c);
    assert_string_equal(c->output.journal, "/j");
    assert_null(c->output.journal_version);
    evo_journal_identity(c, plain);
    evo_config_destroy(c);
    assert_string_equal(plain, "6fba097a6f0583e3081e71b2fcb93afe"); /* as every earlier release computed it */
    c = parse("evaluate: {command: [x]}\noutput: {journal: {dir: /j, version: '1'}}\n");
    assert_non_null(c);
    assert_string_equal(c->output.journal, "/j");
    assert_string_equal(c->output.journal_version, "1");
    evo_journal_identity(c, v1);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    evo_config_print(c, f);
    fclose(f);
    assert_non_null(strstr(text, "journal: {dir: \"/j\", version: \"1\"}"));
    free(text);
    evo_config_destroy(c);
    c = parse("evaluate: {command: [x]}\noutput: {journal: {dir: /j, version: '2'}}\n");
    assert_non_null(c);
    evo_journal_identity(c, v2);
    evo_config_destroy(c);
    assert_string_not_equal(plain, v1);
    assert_string_not_equal(v1, v2);
    expect_error("evaluate: {command: [x]}\noutput: {journal: {version: '2'}}\n",
                 "t.yaml:2:19:", "a journal given as a mapping names its directory");
    expect_error("evaluate: {command: [x]}\noutput: {journal: {dir: /j, salt: x}}\n",
                 "t.yaml:2:29:", "unknown key 'salt' in section 'output.journal' (known: dir, version)");
}

static void missing_file_is_one_line_error(void **state)
{
    (void)state;
    assert_null(evo_config_load("/nonexistent/evolution.yaml", err, sizeof err));
    assert_string_equal(err, "/nonexistent/evolution.yaml: cannot open: No such file or directory");
}

static void print_round_trips(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    struct evo_config *c = parse("farm: {batch: 8, timeout: 250ms}\n"
                                 "evaluate: {command: [python3, \"a \\\"b\\\"\"]}\n"
                                 "environment: {modules: [m1], env: {A: x, B: {append: y}, C: null}}\n"
                                 "optimize: {strategy: map, input: /v}\n");
    assert_non_null(c);
    FILE *f = open_memstream(&text, &size);
    evo_config_print(c, f);
    fclose(f);
    /* The printed form loads back to the same values. */
    struct evo_config *again = evo_config_parse("printed", text, size, "/tmp", err, sizeof err);
    if (again == NULL)
        fail_msg("printed config does not load: %s\n%s", err, text);
    assert_int_equal(again->farm.batch, 8);
    assert_int_equal(again->farm.timeout_ms, 250);
    assert_string_equal(again->evaluate.command[1], "a \"b\"");
    assert_int_equal(again->environment.env[1].op, EVO_ENV_APPEND);
    assert_int_equal(again->environment.env[2].op, EVO_ENV_UNSET);
    assert_string_equal(again->optimize.input, "/v");
    evo_config_destroy(again);
    evo_config_destroy(c);
    free(text);
    /* A Python farm prints as one (a joining worker reads the printed
     * form: a command: there made it a vector evaluator). */
    c = parse("evaluate: {python: /usr/bin/python3}\n");
    assert_non_null(c);
    f = open_memstream(&text, &size);
    evo_config_print(c, f);
    fclose(f);
    again = evo_config_parse("printed", text, size, "/tmp", err, sizeof err);
    if (again == NULL)
        fail_msg("printed config does not load: %s\n%s", err, text);
    assert_int_equal(again->evaluate.kind, EVO_EVALUATOR_PYTHON);
    assert_string_equal(again->evaluate.python, "/usr/bin/python3");
    assert_null(again->evaluate.workdir); /* where its member runs, on any node */
    assert_false(again->evaluate.spawn);
    evo_config_destroy(again);
    evo_config_destroy(c);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_key_loaded),        cmocka_unit_test(defaults_for_what_the_file_omits),
        cmocka_unit_test(errors_name_the_place),   cmocka_unit_test(missing_file_is_one_line_error),
        cmocka_unit_test(output_dir_job_patterns), cmocka_unit_test(no_evaluate_is_a_python_farm),
        cmocka_unit_test(print_round_trips),       cmocka_unit_test(heartbeat_scales_unless_given),
        cmocka_unit_test(command_string_and_home), cmocka_unit_test(journal_version_salts_its_identity),
    };
    return EVO_RUN_TESTS(tests);
}
