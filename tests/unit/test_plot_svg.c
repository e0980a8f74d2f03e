/* test_plot_svg.c — the convergence plot's SVG from plot points: a tick
 * label for every decade on both log axes, a linear axis said so when a
 * value is <= 0, one marker per restart, titles escaped, "no data" for a
 * logbook without rows or finite values, and thinned curves. */
#include "unit.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "drivers/plot_svg.h"

/* How many <text class="CLASS" ...>LABEL</text> the document holds. */
static int texts(const char *svg, const char *class, const char *label)
{
    char start[64], end[96];
    int n = 0;
    snprintf(start, sizeof start, "class=\"%s\"", class);
    snprintf(end, sizeof end, ">%s</text>", label);
    for (const char *p = strstr(svg, start); p; p = strstr(p + 1, start)) {
        const char *close = strstr(p, "</text>");
        const char *gt = strchr(p, '>');
        if (close && gt && strncmp(gt, end, strlen(end)) == 0 && gt + strlen(end) - strlen("</text>") == close)
            n++;
    }
    return n;
}

static int count(const char *svg, const char *what)
{
    int n = 0;
    for (const char *p = strstr(svg, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Every SVG made here ends the document and holds no number printf could
 * not write as a coordinate. */
static void assert_whole(const char *svg)
{
    assert_non_null(svg);
    assert_int_equal(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44), 0);
    assert_non_null(strstr(svg, "version=\"1.1\""));
    size_t n = strlen(svg);
    assert_true(n > 7 && strcmp(svg + n - 7, "</svg>\n") == 0);
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    assert_null(strstr(svg, "href")); /* nothing external */
}

/* A CMA-ES-like run: best falling from 900 to 1.5e-4 over n rows of 10
 * evaluations, sigma from 1.8 to 2e-3, restarts after a quarter, a half
 * and three quarters of the rows. (No value sits on a decade: which side
 * of it log10 falls is not the test's business.) */
static struct evo_plot_point *descent(size_t n)
{
    struct evo_plot_point *p = calloc(n, sizeof *p);
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / (double)(n - 1);
        p[i] = (struct evo_plot_point){10.0 * (double)(i + 1), 900 * pow(1.5e-4 / 900, t), 1.8 * pow(2e-3 / 1.8, t), 10,
                                       (long)(i * 4 / n)};
    }
    return p;
}

static void decades_labelled_on_both_axes(void **state)
{
    (void)state;
    struct evo_plot plot = {"sphere", 1, descent(80), 80};
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    const char *decades[] = {"1e-4", "0.001", "0.01", "0.1", "1", "10", "100", "1000"};
    for (size_t i = 0; i < sizeof decades / sizeof *decades; i++)
        assert_int_equal(texts(svg, "y-tick", decades[i]), 1);
    assert_int_equal(texts(svg, "y-tick", "1e-5"), 0);
    assert_int_equal(texts(svg, "y-tick", "10000"), 0);
    for (size_t i = 1; i <= 5; i++) /* sigma: 0.001 to 10 (decades[1..5]) */
        assert_int_equal(texts(svg, "sigma-tick", decades[i]), 1);
    assert_non_null(strstr(svg, "best fitness (log scale)"));
    assert_non_null(strstr(svg, "step size \xCF\x83 (log scale)"));
    assert_int_equal(texts(svg, "x-label", "evaluations"), 1);
    assert_int_equal(texts(svg, "x-tick", "0"), 1);
    assert_int_equal(texts(svg, "x-tick", "800"), 1);
    assert_non_null(strstr(svg, "80 generations, 800 evaluations, best 0.00015, 3 restarts"));
    assert_int_equal(texts(svg, "legend", "best so far"), 1);
    assert_int_equal(texts(svg, "legend", "\xCF\x83 (right axis)"), 1);
    free(svg);
    free(plot.points);
}

/* Twenty decades: every other one labelled, the even exponents. */
static void many_decades_labelled_every_other(void **state)
{
    (void)state;
    struct evo_plot_point p[] = {{1, 5e9, NAN, 1, 0}, {2, 3e-10, NAN, 1, 0}};
    struct evo_plot plot = {NULL, 1, p, 2};
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_int_equal(texts(svg, "y-tick", "1e10"), 1);
    assert_int_equal(texts(svg, "y-tick", "1e8"), 1);
    assert_int_equal(texts(svg, "y-tick", "1e9"), 0);
    assert_int_equal(texts(svg, "y-tick", "1"), 1);
    assert_int_equal(texts(svg, "y-tick", "0.01"), 1);
    assert_int_equal(texts(svg, "y-tick", "1e-10"), 1);
    assert_int_equal(count(svg, "class=\"y-tick\""), 11);
    assert_int_equal(count(svg, "class=\"sigma-tick\""), 0);
    assert_int_equal(texts(svg, "legend", "\xCF\x83: not in the logbook"), 1);
    assert_int_equal(texts(svg, "title", "Convergence"), 1);
    free(svg);
}

/* Within one decade, 2 and 5 are labelled too. */
static void one_decade_gets_intermediate_labels(void **state)
{
    (void)state;
    struct evo_plot_point p[] = {{1, 3.5, NAN, 1, 0}, {2, 1.5, NAN, 1, 0}};
    struct evo_plot plot = {NULL, 1, p, 2};
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_int_equal(texts(svg, "y-tick", "1"), 1);
    assert_int_equal(texts(svg, "y-tick", "2"), 1);
    assert_int_equal(texts(svg, "y-tick", "5"), 1);
    assert_int_equal(texts(svg, "y-tick", "10"), 1);
    free(svg);
}

static void restarts_marked_once_each(void **state)
{
    (void)state;
    struct evo_plot plot = {"r", 1, descent(80), 80};
    char *svg = evo_plot_svg(&plot);
    assert_int_equal(count(svg, "class=\"restart\""), 3);
    /* each label twice: its white halo, then itself */
    assert_int_equal(count(svg, ">restart 1, \xCE\xBB 10</text>"), 2);
    assert_int_equal(count(svg, ">restart 3, \xCE\xBB 10</text>"), 2);
    assert_int_equal(count(svg, ">restart 4"), 0);
    assert_int_equal(texts(svg, "legend", "restart"), 1);
    free(svg);
    /* Unknown restarts (a logbook without the column) mark nothing, nor
     * does going from unknown to known (a resumed old logbook). */
    for (size_t i = 0; i < 80; i++)
        plot.points[i].restart = i < 30 ? -1 : i < 50 ? 0 : 1;
    svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_int_equal(count(svg, "class=\"restart\""), 1);
    assert_non_null(strstr(svg, ", 1 restart</text>"));
    free(svg);
    for (size_t i = 0; i < 80; i++)
        plot.points[i].restart = -1;
    svg = evo_plot_svg(&plot);
    assert_int_equal(count(svg, "class=\"restart\""), 0);
    assert_int_equal(texts(svg, "legend", "restart"), 0);
    free(svg);
    free(plot.points);
}

/* Negative fitness: a linear axis, and the axis label says why. */
static void negative_fitness_linear_axis(void **state)
{
    (void)state;
    struct evo_plot_point p[] = {{5, 40, 1, 5, 0}, {10, -3, 0.5, 5, 0}, {15, -17, 0.2, 5, 0}};
    struct evo_plot plot = {"negative", 1, p, 3};
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_non_null(strstr(svg, "best fitness (linear scale: some values are below 0)"));
    assert_int_equal(texts(svg, "y-tick", "-20"), 1);
    assert_int_equal(texts(svg, "y-tick", "0"), 1);
    assert_int_equal(texts(svg, "y-tick", "40"), 1);
    assert_int_equal(texts(svg, "sigma-tick", "0.1"), 1); /* sigma stays logarithmic */
    assert_int_equal(texts(svg, "sigma-tick", "1"), 1);
    free(svg);
}

/* An exact optimum (Rastrigin reaches 0.0) keeps the log axis: a decade
 * below the least positive value, 0 drawn on its bottom edge. Only zeros:
 * a linear axis. */
static void zero_on_the_log_axis(void **state)
{
    (void)state;
    struct evo_plot_point p[] = {{10, 50, 1, 10, 0}, {20, 0.3, 0.1, 10, 0}, {30, 0, 0.01, 10, 0}};
    struct evo_plot plot = {"zero", 1, p, 3};
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_non_null(strstr(svg, "best fitness (log scale; 0 on the bottom edge)"));
    assert_int_equal(texts(svg, "y-tick", "0.01"), 1); /* 0.3 is in the decade of 0.1; 0 one below */
    assert_int_equal(texts(svg, "y-tick", "100"), 1);
    assert_int_equal(texts(svg, "y-tick", "0.001"), 0);
    assert_non_null(strstr(svg, " 668.0,356.0\"/>")); /* the best so far ends in the bottom right corner */
    assert_non_null(strstr(svg, "best 0, 0 restarts"));
    free(svg);
    for (size_t i = 0; i < 3; i++)
        p[i].best = 0;
    svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_non_null(strstr(svg, "best fitness (linear scale: every value is 0)"));
    free(svg);
}

/* Markup, control characters and bytes that are not UTF-8 in the title
 * cannot break the document. */
static void title_cannot_break_the_document(void **state)
{
    (void)state;
    struct evo_plot_point p[] = {{1, 2, NAN, 1, 0}};
    struct evo_plot plot = {"runs/<a&b> \"q\" 'x'\x01\xff\xc3\xa9", 1, p, 1};
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    const char *want = "runs/&lt;a&amp;b&gt; &quot;q&quot; &apos;x&apos;\xEF\xBF\xBD\xEF\xBF\xBD\xC3\xA9";
    assert_int_equal(count(svg, want), 2); /* <title> and the heading */
    assert_null(strstr(svg, "<a&"));
    assert_null(strchr(svg, '\x01'));
    assert_null(strstr(svg, "\xff"));
    free(svg);
    /* A long title is cut, on a character, with an ellipsis. */
    char title[400];
    for (size_t i = 0; i + 2 < sizeof title; i += 2)
        memcpy(title + i, "\xC3\xA9", 2);
    title[sizeof title - 2] = '\0';
    plot.title = title;
    svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_non_null(strstr(svg, "\xC3\xA9\xE2\x80\xA6</title>"));
    free(svg);
}

/* No rows, or no finite fitness: a valid document that says so. */
static void no_data_is_a_document_that_says_so(void **state)
{
    (void)state;
    struct evo_plot plot = {"empty", 1, NULL, 0};
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_int_equal(texts(svg, "no-data", "no data: the logbook has no rows yet"), 1);
    assert_null(strstr(svg, "<polyline"));
    assert_non_null(strstr(svg, "0 generations, 0 restarts"));
    free(svg);
    struct evo_plot_point p[] = {{10, INFINITY, 1, 10, 0}, {20, NAN, 1, 10, 0}, {30, INFINITY, 1, 10, 0}};
    plot = (struct evo_plot){"failed", 1, p, 3};
    svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_int_equal(texts(svg, "no-data", "no data: no finite fitness in 3 rows"), 1);
    free(svg);
}

/* One row: a dot for each series, no line and no "no data". */
static void one_row_is_a_dot(void **state)
{
    (void)state;
    struct evo_plot_point p[] = {{12, 3.5, 2, 12, 0}};
    struct evo_plot plot = {"one", 1, p, 1};
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_null(strstr(svg, "no data"));
    assert_null(strstr(svg, "<polyline"));
    assert_int_equal(count(svg, "<circle"), 3); /* generation best, sigma, best so far */
    assert_non_null(strstr(svg, "1 generation, 12 evaluations, best 3.5, 0 restarts"));
    free(svg);
}

/* A failed generation (inf) breaks the generation-best line, not the best
 * so far; x as generations is labelled so. */
static void gaps_and_generations(void **state)
{
    (void)state;
    struct evo_plot_point p[] = {{0, 10, NAN, NAN, -1},
                                 {1, 8, NAN, NAN, -1},
                                 {2, INFINITY, NAN, NAN, -1},
                                 {3, 4, NAN, NAN, -1},
                                 {4, 2, NAN, NAN, -1}};
    struct evo_plot plot = {"gens", 0, p, 5};
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_int_equal(count(svg, "<polyline"), 3); /* generation best in two pieces, best so far whole */
    assert_int_equal(texts(svg, "x-label", "generation (the logbook has no nevals column)"), 1);
    assert_null(strstr(svg, "evaluations,"));
    free(svg);
}

/* Extreme values (found by mutating a real logbook): x sums that end in
 * inf, fitness of +-1e308 and denormals, a huge constant. Every
 * coordinate stays a number, the summary is not cut into the stack, and
 * the tick loops end. */
static void extreme_values_stay_finite(void **state)
{
    (void)state;
    const struct evo_plot_point cases[][3] = {
        {{1e308, 5, 1, 1e308, 0}, {INFINITY, 4, 1, 1e308, 0}, {INFINITY, 3, 1, 3, 1}},
        {{1, 1e308, 1e-320, 1, 0}, {2, -1.7e308, 5e-324, 1, 0}, {3, 0, 1e308, 1, 0}},
        {{1, 5e-324, 1, 1, 0}, {2, 0, 1, 1, 0}, {3, 1e308, 1, 1, 0}},
        {{1, 1e16, 1, 1, 0}, {2, 10000000000000002.0, 1, 1, 0}, {3, 1e16, 1, 1, 0}},
        {{9e18, -1e16, 1, 9e18, 0}, {1.8e19, -10000000000000002.0, 1, 9e18, 0}, {2.7e19, -1e16, 1, 9e18, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct evo_plot_point p[3];
        memcpy(p, cases[i], sizeof p);
        struct evo_plot plot = {"extreme", 1, p, 3};
        char *svg = evo_plot_svg(&plot);
        assert_whole(svg);
        if (strlen(svg) >= 40000)
            fail_msg("case %zu: %zu bytes", i, strlen(svg));
        free(svg);
    }
}

/* 20,000 rows draw in a few hundred points per curve, not 20,000. */
static void long_runs_thinned(void **state)
{
    (void)state;
    size_t n = 20000;
    struct evo_plot plot = {"long", 1, descent(n), n};
    for (size_t i = 0; i < n; i++) /* a noisy generation best */
        plot.points[i].best *= 1 + 0.5 * (double)(i % 7);
    char *svg = evo_plot_svg(&plot);
    assert_whole(svg);
    assert_true(strlen(svg) < 120000);
    assert_int_equal(count(svg, "class=\"restart\""), 3);
    free(svg);
    free(plot.points);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decades_labelled_on_both_axes),
        cmocka_unit_test(many_decades_labelled_every_other),
        cmocka_unit_test(one_decade_gets_intermediate_labels),
        cmocka_unit_test(restarts_marked_once_each),
        cmocka_unit_test(negative_fitness_linear_axis),
        cmocka_unit_test(zero_on_the_log_axis),
        cmocka_unit_test(title_cannot_break_the_document),
        cmocka_unit_test(no_data_is_a_document_that_says_so),
        cmocka_unit_test(one_row_is_a_dot),
        cmocka_unit_test(gaps_and_generations),
        cmocka_unit_test(extreme_values_stay_finite),
        cmocka_unit_test(long_runs_thinned),
    };
    return EVO_RUN_TESTS(tests);
}
