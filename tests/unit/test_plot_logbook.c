/* test_plot_logbook.c — logbooks read for the plot: the built-in driver's
 * columns, DEAP's six, any order and extra columns, CRLF and blank lines;
 * one line "FILE:LINE: what" for each malformed input; and the plot drawn
 * from a directory, never through a link. */
#include "unit.h"
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/plot_logbook.h"

static int parse(const char *text, struct evo_plot *plot, char *err, size_t err_size)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(in);
    int rc = evo_plot_parse_logbook(in, "run/logbook.csv", plot, err, err_size);
    fclose(in);
    return rc;
}

/* The driver's logbook: x sums nevals, sigma and restart as written. */
static void driver_logbook_read_as_written(void **state)
{
    (void)state;
    char err[512];
    struct evo_plot plot = {0};
    assert_int_equal(parse("gen,nevals,avg,std,min,max,sigma,restart\n"
                           "0,12,5,1,4,9,2,0\n"
                           "1,12,4,1,3,8,1.5,0\n"
                           "2,24,inf,nan,inf,inf,2,1\n",
                           &plot, err, sizeof err),
                     0);
    assert_int_equal(plot.count, 3);
    assert_true(plot.x_is_evaluations);
    assert_true(plot.points[0].x == 12 && plot.points[1].x == 24 && plot.points[2].x == 48);
    assert_true(plot.points[1].best == 3 && plot.points[1].sigma == 1.5 && plot.points[1].lambda == 12);
    assert_true(isinf(plot.points[2].best));
    assert_int_equal(plot.points[2].restart, 1);
    evo_plot_clear(&plot);
    assert_null(plot.points);
}

/* DEAP's columns, reordered, with extras, quoted names, CRLF, blank lines
 * and empty fields (unknown). */
static void any_logbook_read_by_its_header(void **state)
{
    (void)state;
    char err[512];
    struct evo_plot plot = {0};
    assert_int_equal(parse("gen,nevals,avg,std,min,max\n0,50,3,1,2,5\n1,20,2,1,1.5,4\n\n", &plot, err, sizeof err), 0);
    assert_int_equal(plot.count, 2);
    assert_true(plot.points[1].x == 70 && isnan(plot.points[1].sigma));
    assert_int_equal(plot.points[1].restart, -1);
    evo_plot_clear(&plot);
    assert_int_equal(
        parse("\"min\", note ,Gen,restart,sigma\r\n0.5,a b,3,,\r\n0.25,c,4,2,0.1\r\n", &plot, err, sizeof err), 0);
    assert_false(plot.x_is_evaluations);
    assert_true(plot.points[0].x == 3 && plot.points[1].x == 4 && plot.points[1].best == 0.25);
    assert_int_equal(plot.points[0].restart, -1);
    assert_int_equal(plot.points[1].restart, 2);
    assert_true(isnan(plot.points[0].sigma) && plot.points[1].sigma == 0.1);
    evo_plot_clear(&plot);
    assert_int_equal(parse("gen,min\n", &plot, err, sizeof err), 0); /* a run killed before its first generation */
    assert_int_equal(plot.count, 0);
    evo_plot_clear(&plot);
}

/* Each malformed input: -1, one line naming the file and line, and the
 * plot untouched. */
static void malformed_named_by_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *message;
    } cases[] = {
        {"", "run/logbook.csv: empty (no header line)"},
        {"gen,avg\n0,1\n", "run/logbook.csv:1: the header names no min column"},
        {"avg,min\n0,1\n", "run/logbook.csv:1: the header names no nevals or gen column"},
        {"gen,nevals,min\n0,1,2\n1,1\n", "run/logbook.csv:3: 2 fields, but the header names 3"},
        {"gen,nevals,min\n0,1,2,3\n", "run/logbook.csv:2: 4 fields, but the header names 3"},
        {"gen,nevals,min\n0,1,2\n1,1,x2\n", "run/logbook.csv:3: min is not a number: 'x2'"},
        {"gen,nevals,min\n0,-4,2\n", "run/logbook.csv:2: nevals is not a count: '-4'"},
        {"gen,nevals,min\n0,,2\n", "run/logbook.csv:2: nevals is not a count: ''"},
        {"gen,min\n0,1\ninf,1\n", "run/logbook.csv:3: gen is not a count: 'inf'"},
        {"gen,min,sigma\n0,1,big\n", "run/logbook.csv:2: sigma is not a number: 'big'"},
        {"gen,min,restart\n0,1,1.5\n", "run/logbook.csv:2: restart is not a count: '1.5'"},
        {"gen,min,restart\n0,1,-1\n", "run/logbook.csv:2: restart is not a count: '-1'"},
        {"gen,min\n0,\x1b[31m\n", "run/logbook.csv:2: min is not a number: '?[31m'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[512] = "";
        struct evo_plot plot = {0};
        assert_int_equal(parse(cases[i].text, &plot, err, sizeof err), -1);
        if (strncmp(err, cases[i].message, strlen(cases[i].message)) != 0)
            fail_msg("case %zu: got \"%s\", wanted \"%s...\"", i, err, cases[i].message);
        assert_null(strchr(err, '\n'));
        assert_null(plot.points);
    }
    /* A NUL byte in a row. */
    char err[512];
    struct evo_plot plot = {0};
    static const char nul[] = "gen,min\n0,1\n1,\0\n";
    FILE *in = fmemopen((void *)nul, sizeof nul - 1, "r");
    assert_int_equal(evo_plot_parse_logbook(in, "run/logbook.csv", &plot, err, sizeof err), -1);
    fclose(in);
    assert_string_equal(err, "run/logbook.csv:3: a NUL byte in the line");
}

/* From a directory: the title defaults to it; a missing logbook, a link
 * and a directory in its place are refused with the path. */
static void drawn_from_a_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/evo-plot-XXXXXX", path[128], target[128], err[512];
    assert_non_null(mkdtemp(dir));
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    char *svg = evo_plot_draw(fd, dir, NULL, err, sizeof err);
    assert_null(svg);
    snprintf(path, sizeof path, "%s/logbook.csv: No such file or directory", dir);
    assert_string_equal(err, path);
    snprintf(path, sizeof path, "%s/logbook.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("gen,nevals,avg,std,min,max,sigma,restart\n0,10,2,1,1,3,0.5,0\n1,10,2,1,0.5,3,0.4,0\n", f);
    fclose(f);
    svg = evo_plot_draw(fd, dir, NULL, err, sizeof err);
    assert_non_null(svg);
    char title[128];
    snprintf(title, sizeof title, ">Convergence of %s</text>", dir);
    assert_non_null(strstr(svg, title));
    free(svg);
    svg = evo_plot_draw(fd, dir, "mine", err, sizeof err);
    assert_non_null(strstr(svg, ">mine</text>"));
    free(svg);
    snprintf(target, sizeof target, "%s/elsewhere.csv", dir);
    assert_int_equal(rename(path, target), 0);
    assert_int_equal(symlink(target, path), 0);
    assert_null(evo_plot_draw(fd, dir, NULL, err, sizeof err));
    assert_non_null(strstr(err, "logbook.csv: is a symbolic link; refusing it"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_null(evo_plot_draw(fd, dir, NULL, err, sizeof err));
    assert_non_null(strstr(err, "logbook.csv: not a regular file"));
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(unlink(target), 0);
    close(fd);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(driver_logbook_read_as_written),
        cmocka_unit_test(any_logbook_read_by_its_header),
        cmocka_unit_test(malformed_named_by_line),
        cmocka_unit_test(drawn_from_a_directory),
    };
    return EVO_RUN_TESTS(tests);
}
