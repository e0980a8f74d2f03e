/* test_run_files.c — the results directory's files, in a scratch directory:
 * atomic replacement with the documented modes, the logbook's CSV (fresh
 * and resumed), the convergence plot, and -1 where nothing can be written. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/run_files.h"

#define HEADER "gen,nevals,avg,std,min,max\n"

static char dir[64];
static char path[256];

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static int make_dir(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/evo-run-files-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    umask(022);
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
    assert_int_equal(evo_write_file(dir, "public", "hello\n", 0), 0);
    assert_int_equal(evo_write_file(dir, "private", "secret\n", 1), 0);
    assert_string_equal(contents("public"), "hello\n");
    assert_string_equal(contents("private"), "secret\n");
    assert_int_equal(mode_of("public"), 0644);
    assert_int_equal(mode_of("private"), 0600);
    /* A permissive umask must not open up a private file. */
    umask(0);
    assert_int_equal(evo_write_file(dir, "private0", "secret\n", 1), 0);
    assert_int_equal(evo_write_file(dir, "public0", "", 0), 0);
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
    assert_int_equal(evo_write_file(dir, "result.json", "{\"old\": 1}\n", 0), 0);
    assert_int_equal(chmod(in_dir("result.json"), 0444), 0);
    assert_int_equal(stat(in_dir("result.json"), &before), 0);
    char old[256], link_path[256];
    strcpy(old, in_dir("result.json"));
    strcpy(link_path, in_dir("reader"));
    assert_int_equal(link(old, link_path), 0);
    assert_int_equal(evo_write_file(dir, "result.json", "{\"new\": 2}\n", 1), 0);
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
    char missing[128], not_dir[128];
    snprintf(missing, sizeof missing, "%s/no/such/dir", dir);
    errno = 0;
    assert_int_equal(evo_write_file(missing, "f", "x", 0), -1);
    assert_int_equal(errno, ENOENT);
    write_text("plain", "x");
    strcpy(not_dir, in_dir("plain"));
    errno = 0;
    assert_int_equal(evo_write_file(not_dir, "f", "x", 1), -1);
    assert_int_equal(errno, ENOTDIR);
    /* The rename fails (a directory is in the way): the temporary goes. */
    assert_int_equal(mkdir(in_dir("taken"), 0755), 0);
    assert_int_equal(evo_write_file(dir, "taken", "x", 0), -1);
    only_files((const char *[]){"plain", "taken"}, 2);
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
        assert_int_equal(evo_write_file(dir, "big", "more than eight bytes", 0), -1);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
    int after = open("/dev/null", O_RDONLY);
    close(after);
    assert_int_equal(after, before); /* no descriptor leaked */
    only_files((const char *[]){"plain", "taken"}, 2);
    /* A directory we may not write to (root may write anywhere). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(dir, 0500), 0);
        assert_int_equal(evo_write_file(dir, "f", "x", 0), -1);
        assert_int_equal(errno, EACCES);
        assert_int_equal(chmod(dir, 0700), 0);
    }
}

/* DEAP's columns; std is the population's (numpy.std), not the sample's. */
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
    evo_log_row_of(&row, 0, (const double[]){0.25}, 1);
    assert_true(row.avg == 0.25 && row.std == 0 && row.min == 0.25 && row.max == 0.25);
}

static void append(FILE *logbook, unsigned long long gen, double lo, double hi)
{
    struct evo_log_row row;
    evo_log_row_of(&row, gen, (const double[]){lo, hi}, 2);
    evo_logbook_append(logbook, &row);
}

static void logbook_fresh(void **state)
{
    (void)state;
    char err[512];
    write_text("logbook.csv", "stale\n");
    FILE *f = evo_logbook_open(dir, 0, err, sizeof err);
    assert_non_null(f);
    /* The header is on disk before any row (a crash before generation 0
     * still leaves a logbook with DEAP's columns). */
    assert_string_equal(contents("logbook.csv"), HEADER);
    append(f, 0, 1, 3);
    struct evo_log_row tenth;
    evo_log_row_of(&tenth, 1, (const double[]){0.1}, 1);
    evo_logbook_append(f, &tenth);
    /* Each row is flushed as it is appended. */
    assert_string_equal(contents("logbook.csv"), HEADER "0,2,2,1,1,3\n"
                                                        "1,1,0.10000000000000001,0,0.10000000000000001,"
                                                        "0.10000000000000001\n");
    fclose(f);
}

/* A resumed run keeps the header and the checkpoint's rows, drops the rest
 * and appends after them; too few rows is an error that changes nothing. */
static void logbook_resume(void **state)
{
    (void)state;
    char err[512];
    const char *three = HEADER "0,2,2,1,1,3\n1,2,3,1,2,4\n2,2,4,1,3,5\n";
    write_text("logbook.csv", three);
    FILE *f = evo_logbook_open(dir, 2, err, sizeof err);
    assert_non_null(f);
    assert_string_equal(contents("logbook.csv"), HEADER "0,2,2,1,1,3\n1,2,3,1,2,4\n");
    append(f, 2, 10, 20);
    fclose(f);
    assert_string_equal(contents("logbook.csv"), HEADER "0,2,2,1,1,3\n1,2,3,1,2,4\n2,2,15,5,10,20\n");
    /* Exactly as many rows as the checkpoint: nothing dropped. */
    write_text("logbook.csv", three);
    f = evo_logbook_open(dir, 3, err, sizeof err);
    assert_non_null(f);
    append(f, 3, 0, 0);
    fclose(f);
    assert_string_equal(contents("logbook.csv"), HEADER "0,2,2,1,1,3\n1,2,3,1,2,4\n2,2,4,1,3,5\n3,2,0,0,0,0\n");
    write_text("logbook.csv", three);
    assert_null(evo_logbook_open(dir, 4, err, sizeof err));
    assert_non_null(strstr(err, "logbook.csv: has fewer rows than the checkpoint"));
    assert_string_equal(contents("logbook.csv"), three);
    assert_int_equal(unlink(in_dir("logbook.csv")), 0);
    assert_null(evo_logbook_open(dir, 1, err, sizeof err));
    assert_non_null(strstr(err, "logbook.csv: No such file or directory"));
}

static void logbook_unwritable(void **state)
{
    (void)state;
    char err[512], missing[128], expected[256];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    assert_null(evo_logbook_open(missing, 0, err, sizeof err));
    snprintf(expected, sizeof expected, "cannot write %s/logbook.csv: No such file or directory", missing);
    assert_string_equal(err, expected);
}

static void convergence_plot(void **state)
{
    (void)state;
    umask(022);
    write_text("logbook.csv", HEADER "0,4,10,1,5,12\n1,4,6,1,2,8\n2,4,2,1,0.5,3\n");
    assert_int_equal(evo_convergence_svg(dir), 0);
    const char *svg = contents("convergence.svg");
    assert_true(strncmp(svg, "<svg", 4) == 0 || strncmp(svg, "<?xml", 5) == 0);
    assert_non_null(strstr(svg, "</svg>\n"));
    assert_non_null(strstr(svg, "Convergence (log scale)"));
    assert_non_null(strstr(svg, "generation (0 to 2)"));
    const char *first = strstr(svg, "<polyline");
    assert_non_null(first);
    assert_non_null(strstr(first + 1, "<polyline")); /* best and average */
    assert_int_equal(mode_of("convergence.svg"), 0644);
    /* A best value at or below zero: a linear axis. */
    write_text("logbook.csv", HEADER "0,4,10,1,-1,12\n1,4,6,1,2,8\n");
    assert_int_equal(evo_convergence_svg(dir), 0);
    svg = contents("convergence.svg");
    assert_non_null(strstr(svg, "Convergence (linear scale)"));
    assert_non_null(strstr(svg, "generation (0 to 1)"));
    only_files((const char *[]){"logbook.csv", "convergence.svg"}, 2);
}

static void convergence_errors(void **state)
{
    (void)state;
    assert_int_equal(evo_convergence_svg(dir), -1); /* no logbook */
    write_text("logbook.csv", HEADER "0,4,10,1,5,12\n");
    assert_int_equal(mkdir(in_dir("convergence.svg"), 0755), 0); /* cannot be replaced */
    assert_int_equal(evo_convergence_svg(dir), -1);
    only_files((const char *[]){"logbook.csv", "convergence.svg"}, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(write_file_modes, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(write_file_replaces_atomically, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(write_file_errors, make_dir, remove_dir),
        cmocka_unit_test(log_row_of),
        cmocka_unit_test_setup_teardown(logbook_fresh, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(logbook_resume, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(logbook_unwritable, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(convergence_plot, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(convergence_errors, make_dir, remove_dir)};
    return EVO_RUN_TESTS(tests);
}
