/* test_plugin.c — the SPANK plugin's pure parts: site arguments and
 * environment edits (venv, conda, threads, env ops, module diffs). */
#include "unit.h"
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "site.h"
#include "task_env.h"

static void site_arguments_parsed_unknown_refused(void **state)
{
    (void)state;
    struct evo_site site;
    char err[512];
    char *good[] = {"modules_init=/etc/profile.d/modules.sh", "venv_roots=/home:/scratch/", "threads=no"};
    assert_int_equal(evo_site_parse(&site, 3, good, err, sizeof err), 0);
    assert_string_equal(site.modules_init, "/etc/profile.d/modules.sh");
    assert_int_equal(site.threads, 0);
    assert_true(evo_site_venv_allowed(&site, "/scratch/u/venv"));
    assert_true(evo_site_venv_allowed(&site, "/home/u/v"));
    assert_false(evo_site_venv_allowed(&site, "/homer/v"));
    assert_false(evo_site_venv_allowed(&site, "/tmp/v"));
    char *unknown[] = {"threads=yes", "batch_size=4"};
    assert_int_equal(evo_site_parse(&site, 2, unknown, err, sizeof err), -1);
    assert_non_null(strstr(err, "argument 2 'batch_size=4': unknown setting"));
    char *relative[] = {"modules_init=modules.sh"};
    assert_int_equal(evo_site_parse(&site, 1, relative, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected an absolute path"));
    char *bad_bool[] = {"threads=maybe"};
    assert_int_equal(evo_site_parse(&site, 1, bad_bool, err, sizeof err), -1);
    assert_int_equal(evo_site_parse(&site, 0, NULL, err, sizeof err), 0);
    assert_true(evo_site_venv_allowed(&site, "/anywhere"));
    assert_string_equal(site.mpi, "auto");
    assert_int_equal(site.evo_farm[0], '/'); /* the installed command by default */
    char *wiring[] = {"mpi=pmi2", "evo_farm=/opt/evo/bin/evo-farm"};
    assert_int_equal(evo_site_parse(&site, 2, wiring, err, sizeof err), 0);
    assert_string_equal(site.mpi, "pmi2");
    assert_string_equal(site.evo_farm, "/opt/evo/bin/evo-farm");
    char *bad_mpi[] = {"mpi=openmpi"};
    assert_int_equal(evo_site_parse(&site, 1, bad_mpi, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected mpi=auto, mpi=pmix or mpi=pmi2"));
    char *relative_command[] = {"evo_farm=evo-farm"};
    assert_int_equal(evo_site_parse(&site, 1, relative_command, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected an absolute path"));
    char *bind[] = {"bind=tcp://ib0:41000-41099"};
    assert_int_equal(evo_site_parse(&site, 1, bind, err, sizeof err), 0);
    assert_string_equal(site.bind, "tcp://ib0:41000-41099");
    char *bad_bind[] = {"bind=ib0"};
    assert_int_equal(evo_site_parse(&site, 1, bad_bind, err, sizeof err), -1);
    assert_non_null(strstr(err, "argument 1 'bind=ib0': expected tcp://HOST:PORT"));
    char *bad_range[] = {"bind=tcp://*:9-2"};
    assert_int_equal(evo_site_parse(&site, 1, bad_range, err, sizeof err), -1);
    assert_non_null(strstr(err, "port range '9-2'"));
    char *empty_bind[] = {"bind="};
    assert_int_equal(evo_site_parse(&site, 1, empty_bind, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected bind=tcp://HOST:PORT"));
}

static const char *fake_env(void *base, const char *name)
{
    char **env = base;
    size_t n = strlen(name);
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

static const char *edit(const struct evo_env_edits *e, const char *name)
{
    return evo_env_current(e, NULL, NULL, name);
}

static void task_environment_from_the_config(void **state)
{
    (void)state;
    char err[512];
    const char *yaml = "evaluate: {command: [x]}\n"
                       "environment: {venv: /v, conda: /c, env: {A: '1', PATH: {append: /z}, OMP_NUM_THREADS: '3',"
                       " GONE: null, NEWLIST: {prepend: /n}}}\n";
    struct evo_config *c = evo_config_parse("t.yaml", yaml, strlen(yaml), "/tmp", err, sizeof err);
    assert_non_null(c);
    char *env[] = {"PATH=/usr/bin", "PYTHONHOME=/p", "GONE=x", "MKL_NUM_THREADS=8", NULL};
    struct evo_env_edits modules = {0}, out = {0};
    assert_int_equal(evo_env_edits_add(&modules, "MODVAR", "m"), 0);
    assert_int_equal(evo_task_env(c, &modules, 4, 1, fake_env, env, &out), 0);
    assert_string_equal(edit(&out, "MODVAR"), "m");
    assert_string_equal(edit(&out, "VIRTUAL_ENV"), "/v");
    assert_string_equal(edit(&out, "CONDA_PREFIX"), "/c");
    assert_string_equal(edit(&out, "PATH"), "/v/bin:/c/bin:/usr/bin:/z");
    assert_null(edit(&out, "PYTHONHOME"));
    assert_string_equal(edit(&out, "OPENBLAS_NUM_THREADS"), "4");
    assert_string_equal(edit(&out, "OMP_NUM_THREADS"), "3"); /* the YAML wins */
    assert_null(edit(&out, "MKL_NUM_THREADS"));              /* already set: not edited */
    assert_null(edit(&out, "GONE"));
    assert_string_equal(edit(&out, "NEWLIST"), "/n");
    assert_string_equal(edit(&out, "A"), "1");
    evo_env_edits_free(&out);
    evo_env_edits_free(&modules);
    evo_config_destroy(c);
}

static void module_change_is_the_environment_diff(void **state)
{
    (void)state;
    char *before[] = {"A=1", "B=2", "GONE=x", "SHLVL=1", NULL};
    char *after[] = {"A=1", "B=3", "NEW=n", "SHLVL=2", "_=/usr/bin/env", "BASH_FUNC_module%%=() {}", NULL};
    struct evo_env_edits d = {0};
    assert_int_equal(evo_env_diff(before, after, &d), 0);
    assert_int_equal(d.count, 3);
    assert_string_equal(edit(&d, "B"), "3");
    assert_string_equal(edit(&d, "NEW"), "n");
    assert_null(edit(&d, "GONE"));
    assert_null(evo_env_current(&d, NULL, NULL, "A"));
    evo_env_edits_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(site_arguments_parsed_unknown_refused),
                                       cmocka_unit_test(task_environment_from_the_config),
                                       cmocka_unit_test(module_change_is_the_environment_diff)};
    return EVO_RUN_TESTS(tests);
}
