/* test_mpi.c — the plugin's choice of a farm step's wire-up (plugin/mpi.h):
 * which MPI types can wire up a farm, slurm.conf's PluginDir and
 * MpiDefault, what to ask for, and reading --evo-farm off a command line. */
#include "unit.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpi.h"

static void only_pmix_and_pmi2_wire_up_a_farm(void **state)
{
    (void)state;
    assert_true(evo_mpi_usable("pmix"));
    assert_true(evo_mpi_usable("pmix_v4"));
    assert_true(evo_mpi_usable("pmix_v5"));
    assert_true(evo_mpi_usable("pmi2"));
    assert_false(evo_mpi_usable("none"));
    assert_false(evo_mpi_usable("cray_shasta"));
    assert_false(evo_mpi_usable("pmix_vx"));
    assert_false(evo_mpi_usable("pmix_v"));
    assert_false(evo_mpi_usable(""));
    assert_false(evo_mpi_usable(NULL));
}

static void slurm_conf_values_read_as_slurm_does(void **state)
{
    (void)state;
    char dir[256], mpi[64];
    evo_mpi_conf_values("ClusterName=t\n  pluginDIR = /usr/lib/slurm:/opt/slurm \r\n"
                        "#MpiDefault=pmi2\nMpiDefault=pmix # the site's\nMpiParams=ports=1-2\n",
                        dir, sizeof dir, mpi, sizeof mpi);
    assert_string_equal(dir, "/usr/lib/slurm:/opt/slurm");
    assert_string_equal(mpi, "pmix");
    evo_mpi_conf_values("MpiDefaultX=pmix\nPluginDirs=/x\n", dir, sizeof dir, mpi, sizeof mpi);
    assert_string_equal(dir, "");
    assert_string_equal(mpi, "");
    evo_mpi_conf_values("", dir, sizeof dir, mpi, sizeof mpi);
    assert_string_equal(mpi, "");
}

static void mpi_picked_unless_the_user_or_site_chose(void **state)
{
    (void)state;
    assert_string_equal(evo_mpi_pick("auto", "none", 1), "pmix");
    assert_string_equal(evo_mpi_pick("auto", "", 0), "pmi2");
    assert_null(evo_mpi_pick("auto", "pmix_v4", 1)); /* the cluster's default wires up a farm */
    assert_null(evo_mpi_pick("auto", "pmi2", 1));
    assert_string_equal(evo_mpi_pick("pmi2", "none", 1), "pmi2"); /* the site decides */
    assert_string_equal(evo_mpi_pick("pmix", "pmi2", 0), "pmix");
}

static void command_line_says_whether_a_farm_is_wanted(void **state)
{
    (void)state;
#define CMD(s) s, sizeof s - 1
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0--evo-farm=e.yaml\0-n2\0python3\0")), 1);
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0--evo-farm\0e.yaml\0python3\0")), 1);
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0-n2\0python3\0")), 0);
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0--evo-farm=none\0cp\0a\0b\0")), -1);
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0--evo-farm=a\0--evo-farm=none\0cp\0")), -1);
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0--evo-farm=none\0--evo-farm=a\0x\0")), 1);
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0--evo-farm\0")), 1); /* every default */
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0--evo-farm=\0-n2\0")), 1);
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0--evo-farm\0none\0")), 1); /* none is a command here */
    assert_int_equal(evo_mpi_cmdline_wants_farm(CMD("srun\0--evo-farmer=x\0")), 0);
#undef CMD
}

static void pmix_plugin_found(void **state)
{
    (void)state;
    char a[] = "/tmp/evo-mpi-XXXXXX", b[] = "/tmp/evo-mpi-XXXXXX", dirs[128], path[128];
    assert_non_null(mkdtemp(a));
    assert_non_null(mkdtemp(b));
    snprintf(dirs, sizeof dirs, "%s:%s", a, b);
    assert_false(evo_mpi_have_pmix(dirs));
    assert_false(evo_mpi_have_pmix(""));
    snprintf(path, sizeof path, "%s/mpi_pmix.so", b);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_true(evo_mpi_have_pmix(dirs));
    assert_false(evo_mpi_have_pmix(a));
    unlink(path);
    rmdir(a);
    rmdir(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(only_pmix_and_pmi2_wire_up_a_farm),
        cmocka_unit_test(slurm_conf_values_read_as_slurm_does),
        cmocka_unit_test(mpi_picked_unless_the_user_or_site_chose),
        cmocka_unit_test(command_line_says_whether_a_farm_is_wanted),
        cmocka_unit_test(pmix_plugin_found),
    };
    return EVO_RUN_TESTS(tests);
}
