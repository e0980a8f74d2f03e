/* test_run_files.c — the results directory's files, in a scratch directory:
 * atomic replacement with the documented modes, the logbook's CSV (fresh,
 * resumed, and resumed from before sigma was logged), and -1 where nothing
 * can be written. (The convergence plot: test_plot_svg.c,
 * test_plot_logbook.c.) */
#include "unit.h"
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/plot_logbook.h"
#include "drivers/run_files.h"

#define HEADER     "gen,nevals,avg,std,min,max,sigma,restart\n"
#define OLD_HEADER "gen,nevals,avg,std,min,max\n"

static char dir[64];
static char path[256];
static int dir_fd = -1; /* dir, as the driver holds it */

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static int make_dir(void **state)
{
    (void)state;
    char err[256];
    strcpy(dir, "/tmp/evo-run-files-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    dir_fd = evo_results_dir_open(dir, 0755, err, sizeof err);
    return dir_fd < 0 ? -1 : 0;
}

static int remove_dir(void **state)
{
    (void)state;
    umask(022);
    close(dir_fd);
    char small[128];
    snprintf(small, sizeof small, "%s/small", dir);
    umount2(small, MNT_DETACH); /* full_disk's tmpfs, had it failed */
    return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *in_dir(const char *name)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* The whole file as a string (static buffer; "" when missing). */
static const char *contents(const char *name)
{
    static char text[8192];
    FILE *f = fopen(in_dir(name), "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    return text;
}

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(in_dir(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static unsigned mode_of(const char *name)
{
    struct stat st;
    assert_int_equal(stat(in_dir(name), &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

/* Fails when the directory holds anything but the expected names (in
 * particular a "NAME.tmp.PID" left behind). */
static void only_files(const char *const *names, size_t count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t seen = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t i = 0;
        while (i < count && strcmp(names[i], e->d_name) != 0)
            i++;
        if (i == count)
            fail_msg("unexpected file %s in %s", e->d_name, dir);
        seen++;
    }
    closedir(d);
    assert_int_equal(seen, count);
}

static void write_file_modes(void **state)
{
    (void)state;
    umask(022);
    assert_int_equal(evo_write_file(dir_fd, "public", "hello\n", 0), 0);
    assert_int_equal(evo_write_file(dir_fd, "private", "secret\n", 1), 0);
    assert_string_equal(contents("public"), "hello\n");
    assert_string_equal(contents("private"), "secret\n");
    assert_int_equal(mode_of("public"), 0644);
    assert_int_equal(mode_of("private"), 0600);
    /* A permissive umask must not open up a private file. */
    umask(0);
    assert_int_equal(evo_write_file(dir_fd, "private0", "secret\n", 1), 0);
    assert_int_equal(evo_write_file(dir_fd, "public0", "", 0), 0);
    assert_int_equal(mode_of("private0"), 0600);
    assert_int_equal(mode_of("public0"), 0644);
    assert_string_equal(contents("public0"), "");
    umask(022);
    only_files((const char *[]){"public", "private", "private0", "public0"}, 4);
}

/* Replacing is a rename of a whole new file: a reader holding the old one
 * (here a hard link) keeps the old text, and the new file has the new mode
 * even where the old one was read-only. */
static void write_file_replaces_atomically(void **state)
{
    (void)state;
    struct stat before, after;
    umask(022);
    assert_int_equal(evo_write_file(dir_fd, "result.json", "{\"old\": 1}\n", 0), 0);
    assert_int_equal(chmod(in_dir("result.json"), 0444), 0);
    assert_int_equal(stat(in_dir("result.json"), &before), 0);
    char old[256], link_path[256];
    strcpy(old, in_dir("result.json"));
    strcpy(link_path, in_dir("reader"));
    assert_int_equal(link(old, link_path), 0);
    assert_int_equal(evo_write_file(dir_fd, "result.json", "{\"new\": 2}\n", 1), 0);
    assert_int_equal(stat(in_dir("result.json"), &after), 0);
    assert_true(after.st_ino != before.st_ino);
    assert_int_equal(after.st_mode & 07777, 0600);
    assert_string_equal(contents("result.json"), "{\"new\": 2}\n");
    assert_string_equal(contents("reader"), "{\"old\": 1}\n");
    only_files((const char *[]){"result.json", "reader"}, 2);
}

static void write_file_errors(void **state)
{
    (void)state;
    /* The rename fails (a directory is in the way): the temporary goes. */
    assert_int_equal(mkdir(in_dir("taken"), 0755), 0);
    assert_int_equal(evo_write_file(dir_fd, "taken", "x", 0), -1);
    only_files((const char *[]){"taken"}, 1);
    /* A short write (the file size limit) fails, closes its descriptor and
     * leaves no temporary behind. */
    struct rlimit old_limit, small = {8, 8};
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
    small.rlim_max = old_limit.rlim_max;
    signal(SIGXFSZ, SIG_IGN);
    int before = open("/dev/null", O_RDONLY);
    close(before);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(evo_write_file(dir_fd, "big", "more than eight bytes", 0), -1);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    int after = open("/dev/null", O_RDONLY);
    close(after);
    assert_int_equal(after, before); /* no descriptor leaked */
    only_files((const char *[]){"taken"}, 1);
    /* A directory we may not write to (root may write anywhere). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(dir, 0500), 0);
        assert_int_equal(evo_write_file(dir_fd, "f", "x", 0), -1);
        assert_int_equal(errno, EACCES);
        assert_int_equal(chmod(dir, 0700), 0);
    }
}

/* DEAP's columns; std is the population's (numpy.std), not the sample's;
 * sigma unknown and restart 0 until the driver sets them. */
static void log_row_of(void **state)
{
    (void)state;
    struct evo_log_row row;
    const double f[] = {4, -2, 1, 3};
    evo_log_row_of(&row, 7, f, 4);
    assert_int_equal(row.gen, 7);
    assert_int_equal(row.nevals, 4);
    assert_true(row.avg == 1.5);
    assert_true(fabs(row.std - sqrt(5.25)) < 1e-15);
    assert_true(row.min == -2);
    assert_true(row.max == 4);
    assert_true(isnan(row.sigma) && row.restart == 0);
    evo_log_row_of(&row, 0, (const double[]){0.25}, 1);
    assert_true(row.avg == 0.25 && row.std == 0 && row.min == 0.25 && row.max == 0.25);
}

/* A row of two fitness values, sampled with sigma 0.5 in restart 1. */
static void append(FILE *logbook, unsigned long long gen, double lo, double hi)
{
    struct evo_log_row row;
    evo_log_row_of(&row, gen, (const double[]){lo, hi}, 2);
    row.sigma = 0.5;
    row.restart = 1;
    evo_logbook_append(logbook, &row);
}

static void fresh_logbook_has_the_header_and_rows(void **state)
{
    (void)state;
    char err[512];
    write_text("logbook.csv", "stale\n");
    FILE *f = evo_logbook_open(dir_fd, dir, 0, err, sizeof err);
    assert_non_null(f);
    /* The header is on disk before any row (a crash before generation 0
     * still leaves a logbook with DEAP's columns). */
    assert_string_equal(contents("logbook.csv"), HEADER);
    append(f, 0, 1, 3);
    struct evo_log_row tenth;
    evo_log_row_of(&tenth, 1, (const double[]){0.1}, 1);
    evo_logbook_append(f, &tenth);
    /* Each row is flushed as it is appended. */
    assert_string_equal(contents("logbook.csv"), HEADER "0,2,2,1,1,3,0.5,1\n"
                                                        "1,1,0.10000000000000001,0,0.10000000000000001,"
                                                        "0.10000000000000001,nan,0\n");
    fclose(f);
}

/* A resumed run keeps the header and the checkpoint's rows, drops the rest
 * and appends after them; too few rows is an error that changes nothing. */
static void resumed_logbook_keeps_the_checkpoint_rows(void **state)
{
    (void)state;
    char err[512];
    const char *three = HEADER "0,2,2,1,1,3,2,0\n1,2,3,1,2,4,1,0\n2,2,4,1,3,5,0.5,1\n";
    write_text("logbook.csv", three);
    FILE *f = evo_logbook_open(dir_fd, dir, 2, err, sizeof err);
    assert_non_null(f);
    assert_string_equal(contents("logbook.csv"), HEADER "0,2,2,1,1,3,2,0\n1,2,3,1,2,4,1,0\n");
    append(f, 2, 10, 20);
    fclose(f);
    assert_string_equal(contents("logbook.csv"), HEADER "0,2,2,1,1,3,2,0\n1,2,3,1,2,4,1,0\n2,2,15,5,10,20,0.5,1\n");
    /* Exactly as many rows as the checkpoint: nothing dropped. */
    write_text("logbook.csv", three);
    f = evo_logbook_open(dir_fd, dir, 3, err, sizeof err);
    assert_non_null(f);
    append(f, 3, 0, 0);
    fclose(f);
    assert_string_equal(contents("logbook.csv"),
                        HEADER "0,2,2,1,1,3,2,0\n1,2,3,1,2,4,1,0\n2,2,4,1,3,5,0.5,1\n3,2,0,0,0,0,0.5,1\n");
    write_text("logbook.csv", three);
    assert_null(evo_logbook_open(dir_fd, dir, 4, err, sizeof err));
    assert_non_null(strstr(err, "logbook.csv: has fewer rows than the checkpoint"));
    assert_string_equal(contents("logbook.csv"), three);
    assert_int_equal(unlink(in_dir("logbook.csv")), 0);
    assert_null(evo_logbook_open(dir_fd, dir, 1, err, sizeof err));
    assert_non_null(strstr(err, "logbook.csv: No such file or directory"));
}

/* A run checkpointed by an evo-farm that logged no sigma and restart:
 * resumed, its kept rows get those fields empty under today's header (a
 * new file renamed over the old), and the rows appended match it. */
static void logbook_resume_adds_sigma_columns(void **state)
{
    (void)state;
    char err[512];
    write_text("logbook.csv", OLD_HEADER "0,2,2,1,1,3\n1,2,3,1,2,4\n2,2,4,1,3,5\n");
    struct stat before, after;
    assert_int_equal(stat(in_dir("logbook.csv"), &before), 0);
    FILE *f = evo_logbook_open(dir_fd, dir, 2, err, sizeof err);
    assert_non_null(f);
    assert_string_equal(contents("logbook.csv"), HEADER "0,2,2,1,1,3,,\n1,2,3,1,2,4,,\n");
    append(f, 2, 10, 20);
    assert_int_equal(evo_logbook_sync(f), 0);
    fclose(f);
    assert_string_equal(contents("logbook.csv"), HEADER "0,2,2,1,1,3,,\n1,2,3,1,2,4,,\n2,2,15,5,10,20,0.5,1\n");
    assert_int_equal(stat(in_dir("logbook.csv"), &after), 0);
    assert_true(after.st_ino != before.st_ino);
    assert_int_equal(mode_of("logbook.csv"), 0644);
    only_files((const char *[]){"logbook.csv"}, 1);
    /* and the plot reads it: no restart marked between unknown and 1 */
    char *svg = evo_plot_draw(dir_fd, dir, NULL, err, sizeof err);
    assert_non_null(svg);
    assert_null(strstr(svg, "class=\"restart\""));
    free(svg);
}

/* A logbook that is a link, a directory or another user's file is
 * refused, fresh or resumed, and what the link names is untouched. */
static void logbook_link_dir_or_strangers_refused(void **state)
{
    (void)state;
    char err[512], target[256];
    snprintf(target, sizeof target, "%s.victim", dir);
    FILE *v = fopen(target, "w");
    assert_non_null(v);
    fputs(HEADER "0,2,2,1,1,3\n", v);
    fclose(v);
    assert_int_equal(symlink(target, in_dir("logbook.csv")), 0);
    for (unsigned long long keep = 0; keep < 2; keep++) {
        assert_null(evo_logbook_open(dir_fd, dir, keep, err, sizeof err));
        assert_non_null(strstr(err, "logbook.csv: is a symbolic link; refusing it"));
    }
    char *svg = evo_plot_draw(dir_fd, dir, NULL, err, sizeof err); /* not read through the link either */
    assert_null(svg);
    assert_non_null(strstr(err, "logbook.csv: is a symbolic link; refusing it"));
    FILE *check = fopen(target, "r");
    char line[64] = "";
    assert_non_null(check);
    assert_non_null(fgets(line, sizeof line, check));
    fclose(check);
    assert_string_equal(line, HEADER);
    unlink(target);
    assert_int_equal(unlink(in_dir("logbook.csv")), 0);
    assert_int_equal(mkdir(in_dir("logbook.csv"), 0755), 0);
    assert_null(evo_logbook_open(dir_fd, dir, 0, err, sizeof err));
    assert_int_equal(rmdir(in_dir("logbook.csv")), 0);
    write_text("logbook.csv", HEADER);
    if (geteuid() != 0) /* only root can give a file to another user (make check as root does) */
        return;
    assert_int_equal(chown(in_dir("logbook.csv"), 65534, 65534), 0);
    assert_null(evo_logbook_open(dir_fd, dir, 0, err, sizeof err));
    assert_non_null(strstr(err, "logbook.csv: not a regular file of uid"));
    assert_string_equal(contents("logbook.csv"), HEADER); /* not truncated */
}

/* The directory itself: created when missing (its mode less the umask),
 * refused when it is a link, another user's, or writable by group or
 * others (a sticky bit is no excuse), each with one line naming it. */
static void results_dir_checks(void **state)
{
    (void)state;
    char err[512], sub[128], link_path[128];
    snprintf(sub, sizeof sub, "%s/results", dir);
    umask(022);
    int fd = evo_results_dir_open(sub, 0755, err, sizeof err);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mode_of("results"), 0755);
    fd = evo_results_dir_open(sub, 0755, err, sizeof err); /* existing: accepted */
    assert_true(fd >= 0);
    close(fd);
    const unsigned shared[] = {0775, 0757, 0777, 01777, 0730};
    for (size_t i = 0; i < sizeof shared / sizeof *shared; i++) {
        assert_int_equal(chmod(sub, shared[i]), 0);
        assert_int_equal(evo_results_dir_open(sub, 0755, err, sizeof err), -1);
        assert_non_null(strstr(err, "may be written by group or others"));
        assert_non_null(strstr(err, sub));
        assert_null(strchr(err, '\n'));
    }
    assert_int_equal(chmod(sub, 0700), 0);
    if (geteuid() == 0) {                              /* only root can give a directory to another user */
        assert_int_equal(chown(sub, 65534, 65534), 0); /* root bypasses permissions: the owner check must refuse it */
        assert_int_equal(evo_results_dir_open(sub, 0755, err, sizeof err), -1);
        assert_non_null(strstr(err, "is owned by another user (owner uid 65534"));
        assert_int_equal(chown(sub, geteuid(), getegid()), 0);
    }
    snprintf(link_path, sizeof link_path, "%s/link", dir);
    assert_int_equal(symlink(sub, link_path), 0);
    assert_int_equal(evo_results_dir_open(link_path, 0755, err, sizeof err), -1);
    assert_non_null(strstr(err, "link: is a symbolic link"));
    snprintf(sub, sizeof sub, "%s/no/such/", dir); /* missing parents are made: results/%A_%a */
    int made = evo_results_dir_open(sub, 0755, err, sizeof err);
    assert_true(made >= 0);
    close(made);
    write_text("plain", "x");
    snprintf(sub, sizeof sub, "%s/plain/under", dir);
    assert_int_equal(evo_results_dir_open(sub, 0755, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create the results directory"));
    assert_non_null(strstr(err, "Not a directory"));
    assert_int_equal(evo_results_dir_open(in_dir("plain"), 0755, err, sizeof err), -1);
    assert_non_null(strstr(err, "Not a directory"));
}

/* A link in the place of any replaced file is refused, not followed and
 * not replaced; a link planted at a predictable temporary name (the old
 * NAME.tmp.PID) is never opened. */
static void write_file_refuses_links(void **state)
{
    (void)state;
    char target[256], tmp_name[64];
    const char *names[] = {"checkpoint", "result.json", "progress.json", "convergence.svg", "farm.access"};
    snprintf(target, sizeof target, "%s.victim", dir);
    FILE *v = fopen(target, "w");
    assert_non_null(v);
    fputs("the victim's file\n", v);
    fclose(v);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        assert_int_equal(symlink(target, in_dir(names[i])), 0);
        errno = 0;
        assert_int_equal(evo_write_file(dir_fd, names[i], "farm text\n", i == 4), -1);
        assert_int_equal(errno, ELOOP);
        assert_int_equal(unlink(in_dir(names[i])), 0);
        snprintf(tmp_name, sizeof tmp_name, "%s.tmp.%d", names[i], (int)getpid());
        assert_int_equal(symlink(target, in_dir(tmp_name)), 0);
        assert_int_equal(evo_write_file(dir_fd, names[i], "farm text\n", i == 4), 0);
        assert_string_equal(contents(names[i]), "farm text\n");
        assert_int_equal(unlink(in_dir(tmp_name)), 0);
    }
    FILE *check = fopen(target, "r");
    char line[64] = "";
    assert_non_null(check);
    assert_non_null(fgets(line, sizeof line, check));
    fclose(check);
    unlink(target);
    assert_string_equal(line, "the victim's file\n");
    only_files(names, 5);
}

/* A full disk (a 64 KiB tmpfs): replacing fails with ENOSPC, leaves the
 * old file whole and no temporary; appending to the logbook fails too. */
static void full_disk_leaves_the_old_file_whole(void **state)
{
    (void)state;
    char err[512], small[128], big[16384];
    snprintf(small, sizeof small, "%s/small", dir);
    assert_int_equal(mkdir(small, 0700), 0);
    if (mount("tmpfs", small, "tmpfs", 0, "size=64k,mode=0700") < 0)
        skip(); /* not root, or no mount namespace rights */
    int fd = evo_results_dir_open(small, 0700, err, sizeof err);
    assert_true(fd >= 0);
    assert_int_equal(evo_write_file(fd, "checkpoint", "old checkpoint\n", 0), 0);
    FILE *logbook = evo_logbook_open(fd, small, 0, err, sizeof err);
    assert_non_null(logbook);
    int filler = openat(fd, "filler", O_WRONLY | O_CREAT, 0600);
    memset(big, 'x', sizeof big);
    while (write(filler, big, sizeof big) > 0)
        ;
    close(filler);
    big[sizeof big - 1] = '\0';
    errno = 0;
    assert_int_equal(evo_write_file(fd, "checkpoint", big, 0), -1);
    assert_int_equal(errno, ENOSPC);
    int failed = 0;
    for (int i = 0; i < 5000 && !failed; i++)
        failed = evo_logbook_append(logbook, &(struct evo_log_row){(unsigned long long)i, 24, 1, 2, 3, 4, 0.5, 0}) < 0;
    assert_true(failed);
    fclose(logbook);
    char text[64] = "";
    int in = openat(fd, "checkpoint", O_RDONLY);
    assert_true(read(in, text, sizeof text - 1) > 0);
    close(in);
    assert_string_equal(text, "old checkpoint\n");
    DIR *d = fdopendir(dup(fd));
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        assert_null(strstr(e->d_name, ".tmp."));
    closedir(d);
    close(fd);
    assert_int_equal(umount(small), 0);
}

/* JSON has no nan or inf: they are written null. */
static void json_has_no_nan_or_inf(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(evo_json_number(buf, sizeof buf, 0.1), "0.10000000000000001");
    assert_string_equal(evo_json_number(buf, sizeof buf, -2), "-2");
    assert_string_equal(evo_json_number(buf, sizeof buf, NAN), "null");
    assert_string_equal(evo_json_number(buf, sizeof buf, INFINITY), "null");
    assert_string_equal(evo_json_number(buf, sizeof buf, -INFINITY), "null");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(write_file_modes, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(write_file_replaces_atomically, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(write_file_errors, make_dir, remove_dir),
        cmocka_unit_test(log_row_of),
        cmocka_unit_test_setup_teardown(fresh_logbook_has_the_header_and_rows, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(resumed_logbook_keeps_the_checkpoint_rows, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(logbook_resume_adds_sigma_columns, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(logbook_link_dir_or_strangers_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(results_dir_checks, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(write_file_refuses_links, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(full_disk_leaves_the_old_file_whole, make_dir, remove_dir),
        cmocka_unit_test(json_has_no_nan_or_inf)};
    return EVO_RUN_TESTS(tests);
}
