/* test_registry.c — the registry (registry/registry.h), in a scratch
 * directory and HOME: farm.access written from the driver's environment
 * and read back (only when its owner alone may read it), the Slurm job
 * record, progress.json, the farm records and join credentials: listed,
 * found by id or job id, judged ended or running. */
#include "unit.h"
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/registry.h"
#include "drivers/run_files.h"
#include "wire/transport.h"

static char root[64], dir[128], home[128];
static int dir_fd = -1;              /* dir, as the driver holds it */
static struct evo_credentials creds; /* client pair: the status key of the farm */
static struct evo_role_keys keys;    /* the driver's own pair, the nested pair */

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

/* ROOT/run (the results directory) and ROOT/home ($HOME); the farm's
 * variables set as a driver inside `evo-farm run` sees them. */
static int setup(void **state)
{
    (void)state;
    strcpy(root, "/tmp/evo-farm-access-XXXXXX");
    if (mkdtemp(root) == NULL || evo_credentials_generate(&creds) < 0 || evo_role_keys_generate(&keys) < 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/run", root);
    snprintf(home, sizeof home, "%s/home", root);
    umask(022);
    char err[256];
    if (mkdir(dir, 0755) < 0 || mkdir(home, 0755) < 0 ||
        (dir_fd = evo_results_dir_open(dir, 0755, err, sizeof err)) < 0)
        return -1;
    setenv("HOME", home, 1);
    unsetenv("SLURM_JOB_ID");
    unsetenv("EVO_FARM_ENDPOINTS");
    setenv("EVO_FARM_ENDPOINT", "tcp://127.0.0.1:4000", 1);
    setenv("EVO_FARM_SERVER_KEY", creds.server_public, 1);
    setenv("EVO_FARM_STATUS_PUBLIC", creds.client_public, 1);
    setenv("EVO_FARM_STATUS_SECRET", creds.client_secret, 1);
    setenv("EVO_FARM_CLIENT_PUBLIC", keys.public_key[EVO_KEY_DRIVER], 1); /* never written by access_write */
    setenv("EVO_FARM_CLIENT_SECRET", keys.secret[EVO_KEY_DRIVER], 1);
    setenv("EVO_FARM_NESTED_PUBLIC", keys.public_key[EVO_KEY_NESTED], 1);
    setenv("EVO_FARM_NESTED_SECRET", keys.secret[EVO_KEY_NESTED], 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(dir_fd);
    umask(022);
    return nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *file_in(const char *where, const char *name)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", where, name);
    return path;
}

static unsigned mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

/* The whole file as a string (static buffer; "" when missing). */
static const char *contents(const char *path)
{
    static char text[1024];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    return text;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Outside Slurm (`evo-farm run`): the one local endpoint. */
static void access_round_trip(void **state)
{
    (void)state;
    struct evo_access a;
    char err[512];
    evo_access_write(dir_fd, dir);
    assert_int_equal(mode_of(file_in(dir, "farm.access")), 0600);
    memset(&a, 'x', sizeof a);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), 0);
    assert_string_equal(a.endpoints, "tcp://127.0.0.1:4000");
    assert_string_equal(a.server, creds.server_public);
    assert_string_equal(a.public_key, creds.client_public);
    assert_string_equal(a.secret, creds.client_secret);
    assert_null(strstr(contents(file_in(dir, "farm.access")), keys.secret[EVO_KEY_DRIVER]));
    assert_null(strstr(contents(file_in(dir, "farm.access")), keys.secret[EVO_KEY_NESTED]));
    /* Outside Slurm no job is recorded. */
    struct stat st;
    assert_int_equal(stat(file_in(home, ".evo-farm"), &st), -1);
}

/* In a Slurm step: the card's endpoints (routable ones first) come before
 * the driver's own. */
static void access_endpoints_from_card(void **state)
{
    (void)state;
    struct evo_access a;
    char err[512];
    setenv("EVO_FARM_ENDPOINTS", "tcp://10.0.0.5:4000,tcp://192.168.1.5:4000", 1);
    evo_access_write(dir_fd, dir);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), 0);
    assert_string_equal(a.endpoints, "tcp://10.0.0.5:4000,tcp://192.168.1.5:4000,tcp://127.0.0.1:4000");
    assert_string_equal(a.server, creds.server_public);
    /* Written again (a resumed run): replaced, still private. */
    setenv("EVO_FARM_ENDPOINT", "tcp://127.0.0.1:4001", 1);
    evo_access_write(dir_fd, dir);
    assert_int_equal(mode_of(file_in(dir, "farm.access")), 0600);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), 0);
    assert_string_equal(a.endpoints, "tcp://10.0.0.5:4000,tcp://192.168.1.5:4000,tcp://127.0.0.1:4001");
}

/* Keys others could read are leaked: refused, group or world alike. */
static void access_refuses_shared_file(void **state)
{
    (void)state;
    struct evo_access a;
    char err[512];
    evo_access_write(dir_fd, dir);
    const char *path = file_in(dir, "farm.access");
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "farm.access: readable by others (mode 644); refusing to use leaked keys"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "(mode 640)"));
    assert_int_equal(chmod(path, 0604), 0);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), -1);
    assert_int_equal(chmod(path, 0400), 0); /* owner-only, even read-only, is fine */
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), 0);
}

static void access_read_errors(void **state)
{
    (void)state;
    struct evo_access a;
    char err[512], expected[256];
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), -1);
    snprintf(expected, sizeof expected, "%s/farm.access: No such file or directory", dir);
    assert_int_equal(strncmp(err, expected, strlen(expected)), 0);
    const char *path = file_in(dir, "farm.access");
    write_text(path, "not an access file\n");
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), -1);
    snprintf(expected, sizeof expected, "%s/farm.access: not an evo-farm access file", dir);
    assert_string_equal(err, expected);
    write_text(path, "endpoints tcp://127.0.0.1:4000\nserver abc\npublic def\n"); /* no secret */
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), -1);
    assert_string_equal(err, expected);
}

/* Under Slurm the driver records DIR's absolute path under the job id, and
 * the job id then stands for DIR. */
/* Outside a farm (no keys in the environment) there is nothing to write:
 * no farm.access naming "(null)" keys that status would then accept. */
static void access_needs_the_farm(void **state)
{
    (void)state;
    struct evo_access a;
    char err[512];
    unsetenv("EVO_FARM_SERVER_KEY");
    evo_access_write(dir_fd, dir);
    assert_int_equal(access(file_in(dir, "farm.access"), F_OK), -1);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), -1);
    setenv("EVO_FARM_SERVER_KEY", creds.server_public, 1);
    /* Only the card's endpoints, no local one: no trailing comma. */
    unsetenv("EVO_FARM_ENDPOINT");
    setenv("EVO_FARM_ENDPOINTS", "tcp://10.0.0.1:4000", 1);
    evo_access_write(dir_fd, dir);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), 0);
    assert_string_equal(a.endpoints, "tcp://10.0.0.1:4000");
}

static void job_id_stands_for_its_results_dir(void **state)
{
    (void)state;
    char out[PATH_MAX], absolute[PATH_MAX], cwd[PATH_MAX], jobs[256];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_non_null(realpath(dir, absolute));
    assert_int_equal(chdir(root), 0);
    setenv("SLURM_JOB_ID", "4242", 1);
    evo_access_write(dir_fd, "run"); /* relative: the record is still absolute */
    snprintf(jobs, sizeof jobs, "%s/.evo-farm/jobs", home);
    assert_int_equal(mode_of(file_in(home, ".evo-farm")), 0700);
    assert_int_equal(mode_of(jobs), 0700);
    assert_int_equal(mode_of(file_in(jobs, "4242")), 0600);
    assert_int_equal(evo_access_job_dir("4242", out, sizeof out), 0);
    assert_string_equal(out, absolute);
    assert_int_equal(evo_access_job_dir("4343", out, sizeof out), -1); /* no such job */
    assert_int_equal(evo_access_job_dir("42a", out, sizeof out), -1);  /* not a job id */
    assert_int_equal(evo_access_job_dir("run", out, sizeof out), -1);
    /* A directory of that name here wins over the job record. */
    assert_int_equal(mkdir("4242", 0755), 0);
    assert_int_equal(evo_access_job_dir("4242", out, sizeof out), -1);
    assert_int_equal(rmdir("4242"), 0);
    /* An empty record names no directory and leaves out untouched. */
    char err[256];
    int jobs_fd = evo_results_dir_open(jobs, 0700, err, sizeof err);
    assert_true(jobs_fd >= 0);
    assert_int_equal(evo_write_file(jobs_fd, "4444", "", 1), 0);
    close(jobs_fd);
    strcpy(out, "before");
    assert_int_equal(evo_access_job_dir("4444", out, sizeof out), -1);
    assert_string_equal(out, "before");
    assert_int_equal(evo_access_job_dir("", out, sizeof out), -1);
    /* Without HOME (srun --export=NONE) the passwd entry's home holds the
     * registry: the path is computed, nothing there is read. */
    unsetenv("HOME");
    char path[4096], want[4096];
    struct passwd *pw = getpwuid(geteuid());
    assert_non_null(pw);
    snprintf(want, sizeof want, "%s/.evo-farm/jobs", pw->pw_dir);
    assert_int_equal(evo_registry_path("jobs", path, sizeof path), 0);
    assert_string_equal(path, want);
    setenv("HOME", "relative/home", 1); /* not a path to trust either */
    assert_int_equal(evo_registry_path("jobs", path, sizeof path), 0);
    assert_string_equal(path, want);
    setenv("HOME", home, 1);
    assert_int_equal(mode_of(file_in(absolute, "farm.access")), 0600);
    assert_int_equal(chdir(cwd), 0);
}

static void progress_round_trip(void **state)
{
    (void)state;
    struct evo_progress p = {12, 480, 100, -3.25, 1, 0}, back;
    char text[512];
    assert_int_equal(evo_progress_write(dir_fd, &p), 0);
    const char *path = file_in(dir, "progress.json");
    assert_int_equal(mode_of(path), 0644);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_string_equal(text, "{\"generation\": 12, \"generations\": 100, \"evaluations\": 480, \"best\": -3.25, "
                              "\"running\": true, \"nonfinite_evaluations\": 0}\n");
    memset(&back, 0, sizeof back);
    assert_int_equal(evo_progress_read(dir, &back), 0);
    assert_int_equal(back.generation, 12);
    assert_int_equal(back.evaluations, 480);
    assert_int_equal(back.generations, 100);
    assert_true(back.best == -3.25);
    assert_int_equal(back.running, 1);
    /* Finished, no generation limit, a best that needs all 17 digits. */
    struct evo_progress done = {7, 10000000000ULL, 0, 0.1, 0, 3};
    assert_int_equal(evo_progress_write(dir_fd, &done), 0);
    assert_int_equal(evo_progress_read(dir, &back), 0);
    assert_int_equal(back.generation, 7);
    assert_int_equal(back.evaluations, 10000000000ULL);
    assert_int_equal(back.generations, 0);
    assert_true(back.best == 0.1);
    assert_int_equal(back.running, 0);
    assert_int_equal(back.nonfinite, 3);
}

/* A best that is not finite (every evaluation so far failed, or gave NaN)
 * is null: JSON has no nan or inf. Read back as NaN. */
static void progress_without_best(void **state)
{
    (void)state;
    const double bests[] = {INFINITY, -INFINITY, NAN};
    for (int i = 0; i < 3; i++) {
        struct evo_progress p = {1, 24, 10, bests[i], 1, 24}, back;
        assert_int_equal(evo_progress_write(dir_fd, &p), 0);
        assert_string_equal(contents(file_in(dir, "progress.json")),
                            "{\"generation\": 1, \"generations\": 10, \"evaluations\": 24, \"best\": null, "
                            "\"running\": true, \"nonfinite_evaluations\": 24}\n");
        assert_int_equal(evo_progress_read(dir, &back), 0);
        assert_true(isnan(back.best));
        assert_int_equal(back.nonfinite, 24);
    }
}

static void progress_read_errors(void **state)
{
    (void)state;
    struct evo_progress p;
    assert_int_equal(evo_progress_read(dir, &p), -1); /* none yet */
    const char *path = file_in(dir, "progress.json");
    write_text(path, "{\"generation\": 3, \"generations\": 10, \"evaluations\": 30}\n");
    assert_int_equal(evo_progress_read(dir, &p), -1);
    write_text(path, "[1, 2, 3]\n");
    assert_int_equal(evo_progress_read(dir, &p), -1);
    write_text(path, "");
    assert_int_equal(evo_progress_read(dir, &p), -1);
    /* A failed read leaves its output as it was, even past the fields it
     * could parse. */
    write_text(path, "{\"generation\": 3, \"generations\": 10, \"evaluations\": 30, \"best\": 2, \"running\": x");
    struct evo_progress before;
    memset(&before, 0x5a, sizeof before);
    p = before;
    assert_int_equal(evo_progress_read(dir, &p), -1);
    assert_memory_equal(&p, &before, sizeof p);
    /* A link in the file's place is refused (not written through, not read). */
    char link_path[PATH_MAX + 64], precious[PATH_MAX + 64];
    strcpy(link_path, path);
    strcpy(precious, file_in(root, "precious"));
    unlink(link_path);
    write_text(precious, "precious\n");
    assert_int_equal(symlink(precious, link_path), 0);
    errno = 0;
    assert_int_equal(evo_progress_write(dir_fd, &(struct evo_progress){0}), -1);
    assert_int_equal(errno, ELOOP);
    assert_int_equal(evo_progress_read(dir, &p), -1);
    assert_string_equal(contents(precious), "precious\n");
}

/* farm.access is 0600 from its creation: a permissive umask changes
 * nothing, and no moment exists when others could read it. */
static void access_private_with_umask_0(void **state)
{
    (void)state;
    umask(0);
    evo_access_write(dir_fd, dir);
    assert_int_equal(mode_of(file_in(dir, "farm.access")), 0600);
    umask(022);
}

/* A link named farm.access is neither written through nor read. */
static void access_refuses_link(void **state)
{
    (void)state;
    struct evo_access a;
    char err[512];
    char target[PATH_MAX + 64];
    strcpy(target, file_in(root, "victim"));
    write_text(target, "the victim's file\n");
    assert_int_equal(symlink(target, file_in(dir, "farm.access")), 0);
    evo_access_write(dir_fd, dir);
    assert_string_equal(contents(target), "the victim's file\n");
    assert_int_equal(chmod(target, 0600), 0);
    assert_int_equal(evo_access_read(dir, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "farm.access: is a symbolic link"));
    struct stat st;
    assert_int_equal(lstat(file_in(dir, "farm.access"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
}

/* The join credential: the launcher's own pair (the worker pair, in a real
 * farm) and the nested pair, then the configuration however long it is;
 * the farm's record beside it holds the status key only. */
static void join_credential_round_trip(void **state)
{
    (void)state;
    char path[PATH_MAX], record[PATH_MAX], err[512], *text = NULL, config[9000];
    struct evo_access a;
    memset(config, 0, sizeof config);
    for (size_t at = 0; at + 40 < sizeof config; at += 33)
        memcpy(config + at, "# a line of a long configuration\n", 33);
    assert_int_equal(evo_farm_join_write("host-1", config, path, sizeof path), 0);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(evo_access_read_file(path, &a, &text, err, sizeof err), 0);
    assert_string_equal(a.public_key, keys.public_key[EVO_KEY_DRIVER]);
    assert_string_equal(a.nested_public, keys.public_key[EVO_KEY_NESTED]);
    assert_string_equal(a.nested_secret, keys.secret[EVO_KEY_NESTED]);
    assert_string_equal(text, config);
    free(text);
    assert_int_equal(evo_farm_record_write("host-1", "local", "cmd", keys.public_key[EVO_KEY_CONTROL],
                                           keys.secret[EVO_KEY_CONTROL], record, sizeof record),
                     0);
    assert_int_equal(evo_access_read_file(record, &a, NULL, err, sizeof err), 0);
    assert_string_equal(a.public_key, creds.client_public);
    assert_string_equal(a.nested_public, "");
    assert_string_equal(a.control_public, keys.public_key[EVO_KEY_CONTROL]);
    assert_string_equal(a.control_secret, keys.secret[EVO_KEY_CONTROL]);
    assert_string_equal(a.command, "cmd");
    assert_null(strstr(contents(record), keys.secret[EVO_KEY_NESTED]));
}

/* Overwrites the start of the value of the record line `key` (with its
 * newline before) in the file at path with `value`, keeping it 0600. */
static void overwrite_field(const char *path, const char *key, const char *value)
{
    char text[4096];
    snprintf(text, sizeof text, "%s", contents(path));
    char *at = strstr(text, key);
    assert_non_null(at);
    memcpy(at + strlen(key), value, strlen(value));
    write_text(path, text);
    chmod(path, 0600);
}

/* The records directory as status, drain, join and the plugin see it:
 * records listed without join credentials, temporaries or dot files; an
 * id or a job id (its lowest step) found; a record whose process is gone
 * judged ended and removed with its join credential; one of another host
 * that Slurm cannot be asked about left running. */
static void records_listed_found_and_judged(void **state)
{
    (void)state;
    char path[PATH_MAX + 32], farms[PATH_MAX], planted[PATH_MAX + 32], err[512];
    struct evo_access a;
    char **paths;
    size_t n;
    const char *ids[] = {"host-1", "7.2", "7.10", "7.1"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(evo_farm_record_write(ids[i], "local", "cmd", keys.public_key[EVO_KEY_CONTROL],
                                               keys.secret[EVO_KEY_CONTROL], path, sizeof path),
                         0);
    assert_int_equal(evo_farm_join_write("7.1", "evaluate: {python: python3}\n", path, sizeof path), 0);
    assert_int_equal(evo_registry_path("farms", farms, sizeof farms), 0);
    for (const char **name = (const char *[]){".hidden", "x.tmp.0123", "y.join", NULL}; *name; name++) {
        snprintf(planted, sizeof planted, "%s/%s", farms, *name);
        write_text(planted, "endpoints x\n");
    }
    assert_int_equal(evo_farm_records_list(&paths, &n, 100), 0);
    assert_int_equal(n, 4);
    evo_farm_records_free(paths, n);
    assert_int_equal(evo_farm_records_list(&paths, &n, 2), 0); /* at most max */
    assert_int_equal(n, 2);
    evo_farm_records_free(paths, n);
    assert_int_equal(evo_farm_record_find("7", path, sizeof path), 0); /* a job id: its lowest step */
    assert_string_equal(strrchr(path, '/'), "/7.1");
    assert_int_equal(evo_farm_join_find("7", path, sizeof path), 0);
    assert_string_equal(strrchr(path, '/'), "/7.1.join");
    assert_int_equal(evo_farm_record_find("7.10", path, sizeof path), 0);
    assert_int_equal(evo_farm_record_find("8", path, sizeof path), -1);
    assert_int_equal(evo_farm_record_find("../farms/7.1", path, sizeof path), -1);
    assert_int_equal(evo_farm_join_find("7.2", path, sizeof path), -1); /* no join credential */
    /* 7.1's process: gone (a pid no machine has) */
    snprintf(path, sizeof path, "%s/7.1", farms);
    overwrite_field(path, "\npid ", "999999999");
    assert_int_equal(evo_farm_record_load(path, &a, err, sizeof err), EVO_RECORD_ENDED);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(planted, sizeof planted, "%s/7.1.join", farms);
    assert_int_equal(access(planted, F_OK), -1);
    /* 7.2 on a host that is not this one, its id no Slurm step: cannot tell */
    snprintf(path, sizeof path, "%s/7.2", farms);
    overwrite_field(path, "\nhost ", "zz");
    assert_int_equal(evo_farm_record_load(path, &a, err, sizeof err), EVO_RECORD_RUNNING);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/y.join", farms);
    assert_int_equal(evo_farm_record_load(path, &a, err, sizeof err), EVO_RECORD_UNREADABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(records_listed_found_and_judged, setup, teardown),
        cmocka_unit_test_setup_teardown(access_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(access_endpoints_from_card, setup, teardown),
        cmocka_unit_test_setup_teardown(access_refuses_shared_file, setup, teardown),
        cmocka_unit_test_setup_teardown(access_read_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(access_needs_the_farm, setup, teardown),
        cmocka_unit_test_setup_teardown(job_id_stands_for_its_results_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(progress_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(progress_read_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(progress_without_best, setup, teardown),
        cmocka_unit_test_setup_teardown(access_private_with_umask_0, setup, teardown),
        cmocka_unit_test_setup_teardown(access_refuses_link, setup, teardown),
        cmocka_unit_test_setup_teardown(join_credential_round_trip, setup, teardown)};
    return EVO_RUN_TESTS(tests);
}
