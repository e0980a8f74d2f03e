/* plot_svg.c — the convergence plot as SVG text; see plot_svg.h. The
 * layout is fixed (760 x 440 px): title and summary on top, the plot area
 * between the fitness axis (left) and the sigma axis (right), the x axis
 * and the legend below. Curves are thinned to what the pixels can show (a
 * point per half pixel), so a 20,000-generation run stays a small file. */
#include "plot_svg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH  760
#define HEIGHT 440
#define LEFT   84.0
#define RIGHT  668.0
#define TOP    58.0
#define BOTTOM 356.0

#define COLOR_BEST       "#1f4e9c"
#define COLOR_GENERATION "#8fb3e0"
#define COLOR_SIGMA      "#c0392b"
#define COLOR_RESTART    "#555555"

#define STYLE_BEST       "stroke=\"" COLOR_BEST "\" stroke-width=\"2\""
#define STYLE_GENERATION "stroke=\"" COLOR_GENERATION "\" stroke-width=\"1\""
#define STYLE_SIGMA      "stroke=\"" COLOR_SIGMA "\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\""
#define STYLE_RESTART    "stroke=\"" COLOR_RESTART "\" stroke-dasharray=\"5 4\""

/* An axis maps a value to pixels: lo..hi (decade exponents on a log
 * axis, values on a linear one) onto p_lo..p_hi. */
struct axis {
    double lo, hi;
    int log;
    double p_lo, p_hi;
    double step; /* between labelled ticks: 1 decade, or a linear step */
};

static double axis_at(const struct axis *a, double v)
{
    if (a->log)
        v = log10(v);
    return a->p_lo + (a->p_hi - a->p_lo) * ((v - a->lo) / (a->hi - a->lo));
}

/* ---- text ---- */

/* Length in bytes of the valid UTF-8 character at s that XML allows, or 0. */
static size_t utf8_length(const unsigned char *s)
{
    static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n <= 1)
        return n;
    unsigned cp = c & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return n;
}

/* s as XML character data: & < > " ' as entities, control characters and
 * bytes that are not UTF-8 as U+FFFD; after max characters, "…". */
static void put_text(FILE *out, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t chars = 0; *p; chars++) {
        if (chars == max) {
            fputs("\xE2\x80\xA6", out);
            return;
        }
        size_t n = utf8_length(p);
        if (*p == '&' || *p == '<' || *p == '>' || *p == '"' || *p == '\'')
            fputs(*p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '"' ? "&quot;" : "&apos;", out);
        else if (n == 0 || *p < 0x20 || *p == 0x7F)
            fputs("\xEF\xBF\xBD", out);
        else
            fwrite(p, 1, n, out);
        p += n ? n : 1;
    }
}

/* A text element: attributes as given, then the escaped text. */
static void text_at(FILE *out, const char *attributes, const char *text)
{
    fprintf(out, "<text %s>", attributes);
    put_text(out, text, 160);
    fputs("</text>\n", out);
}

/* A decade as a tick label: 0.001 to 10000 written out, else 1e-8, 1e12. */
static void decade_label(char *buf, size_t size, int exponent)
{
    if (exponent >= -3 && exponent <= 4)
        snprintf(buf, size, "%g", pow(10, exponent));
    else
        snprintf(buf, size, "1e%d", exponent);
}

/* A linear tick label; on the x axis, thousands as k and millions as M. */
static void value_label(char *buf, size_t size, double v, double step, int abbreviate)
{
    if (fabs(v) < step * 1e-9)
        v = 0;
    if (v == 0)
        snprintf(buf, size, "0");
    else if (abbreviate && step >= 1e6)
        snprintf(buf, size, "%.6gM", v / 1e6);
    else if (abbreviate && step >= 1e3)
        snprintf(buf, size, "%.6gk", v / 1e3);
    else
        snprintf(buf, size, "%.6g", v);
}

/* ---- axes ---- */

/* 1, 2 or 5 times a power of ten, near span / count. */
static double nice_step(double span, int count)
{
    double raw = span / count, magnitude = pow(10, floor(log10(raw))), f = raw / magnitude;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
}

/* A log axis over [lo, hi] (both > 0): whole decades, at least one, none
 * beyond 1e-300..1e300 (what is beyond is drawn on the edge). */
static struct axis log_axis(double lo, double hi, double p_lo, double p_hi)
{
    struct axis a = {fmax(floor(log10(lo)), -300), fmin(ceil(log10(hi)), 300), 1, p_lo, p_hi, 1};
    if (a.hi <= a.lo)
        a.lo = a.hi - 1;
    return a;
}

/* A linear axis over [lo, hi] with about ticks steps, widened to whole
 * steps. */
static struct axis linear_axis(double lo, double hi, double p_lo, double p_hi, int ticks)
{
    lo = fmax(lo, -1e300), hi = fmin(hi, 1e300); /* beyond: on the edge; hi - lo stays finite */
    if (hi <= lo)
        hi = lo + (lo == 0 ? 1 : fabs(lo) * 0.1);
    double step = nice_step(hi - lo, ticks);
    struct axis a = {floor(lo / step) * step, ceil(hi / step) * step, 0, p_lo, p_hi, step};
    return a;
}

/* Ticks of a vertical axis, labels left (side -1) or right (side 1) of
 * it, with grid lines across the plot for the left one. Every decade is
 * labelled up to 12 of them (more: those divisible by k, the others only
 * ticked while k <= 5); a single decade also gets 2 and 5; up to 4
 * decades get unlabelled ticks at 2..9. */
static void vertical_ticks(FILE *out, const struct axis *a, int side, const char *class)
{
    double x = side < 0 ? LEFT : RIGHT;
    char label[32];
    int span = (int)(a->hi - a->lo), every = a->log ? (span + 11) / 12 : 1;
    double step = a->step;
    int ticks = (int)fmin(round((a->hi - a->lo) / step), 1000); /* counted: v += step may not move a huge v */
    for (int k = 0; k <= ticks; k++) {
        double v = a->lo + k * step, y = a->p_lo + (a->p_hi - a->p_lo) * (k * step / (a->hi - a->lo));
        int labelled = !a->log || (int)v % every == 0;
        if (!labelled && every > 5)
            continue;
        if (side < 0 && k > 0 && labelled)
            fprintf(out, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", LEFT, y, RIGHT,
                    y);
        fprintf(out, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x, y, x + 5 * side,
                y);
        if (!labelled)
            continue;
        if (a->log)
            decade_label(label, sizeof label, (int)v);
        else
            value_label(label, sizeof label, v, step, 0);
        fprintf(out, "<text class=\"%s\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", class, x + 8 * side,
                y + 4, side < 0 ? "end" : "start", label);
    }
    for (int e = (int)a->lo; a->log && span <= 4 && e < (int)a->hi; e++)
        for (int m = 2; m <= 9; m++) {
            double y = axis_at(a, m * pow(10, e));
            fprintf(out, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x, y,
                    x + 3 * side, y);
            if (span == 1 && (m == 2 || m == 5))
                fprintf(out, "<text class=\"%s\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"%s\">%g</text>\n", class,
                        x + 8 * side, y + 4, side < 0 ? "end" : "start", m * pow(10, e));
        }
}

static void x_ticks(FILE *out, const struct axis *a, int abbreviate)
{
    char label[32];
    double step = a->step;
    int ticks = (int)fmin(round((a->hi - a->lo) / step), 1000);
    for (int k = 0; k <= ticks; k++) {
        double v = a->lo + k * step, x = a->p_lo + (a->p_hi - a->p_lo) * (k * step / (a->hi - a->lo));
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#333\"/>\n", x, BOTTOM, x,
                BOTTOM + 5);
        value_label(label, sizeof label, v, step, abbreviate);
        fprintf(out, "<text class=\"x-tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n", x, BOTTOM + 19,
                label);
    }
}

/* ---- curves ---- */

/* Writes polylines point by point, skipping points within half a pixel
 * of the last one written (envelope: within half a pixel across, keeping
 * the lowest value of them); a line of one point is a dot. */
struct pen {
    FILE *out;
    const char *style;
    int envelope;
    size_t drawn; /* points of the current line; the first is held until a second comes */
    double first_x, first_y, last_x, last_y;
    int pending;
    double pending_x, pending_y;
};

static void pen_write(struct pen *p, double x, double y)
{
    if (p->drawn == 0) {
        p->first_x = x, p->first_y = y;
    } else {
        if (p->drawn == 1)
            fprintf(p->out, "<polyline fill=\"none\" %s points=\"%.1f,%.1f", p->style, p->first_x, p->first_y);
        fprintf(p->out, " %.1f,%.1f", x, y);
    }
    p->drawn++;
    p->last_x = x, p->last_y = y;
}

static void pen_point(struct pen *p, double x, double y)
{
    int near = fabs(x - p->last_x) < 0.5 && (p->envelope || fabs(y - p->last_y) < 0.5);
    if (p->drawn > 0 && near) {
        if (!p->pending || !p->envelope || y > p->pending_y)
            p->pending = 1, p->pending_x = x, p->pending_y = y;
        return;
    }
    if (p->pending)
        pen_write(p, p->pending_x, p->pending_y);
    p->pending = 0;
    pen_write(p, x, y);
}

static void pen_break(struct pen *p)
{
    if (p->pending)
        pen_write(p, p->pending_x, p->pending_y);
    if (p->drawn == 1)
        fprintf(p->out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" %s/>\n", p->first_x, p->first_y, p->style);
    else if (p->drawn > 1)
        fputs("\"/>\n", p->out);
    p->drawn = 0, p->pending = 0;
}

enum series { BEST_SO_FAR, GENERATION_BEST, SIGMA };

/* Draws one series; a value the axis cannot show breaks the line, and so
 * does each restart for sigma (a fresh strategy starts again at the
 * configured sigma). A fitness of exactly 0 on a log axis (whose lowest
 * decade is then below every other value) is drawn on its bottom edge, and
 * so is anything beyond an axis's limits (1e+-300) on that edge. */
static void draw_series(FILE *out, const struct evo_plot *plot, const struct axis *xa, const struct axis *ya,
                        enum series which, const char *style)
{
    struct pen pen = {.out = out, .style = style, .envelope = which == GENERATION_BEST};
    double best = INFINITY, lo = ya->log ? pow(10, ya->lo) : ya->lo, hi = ya->log ? pow(10, ya->hi) : ya->hi;
    for (size_t i = 0; i < plot->count; i++) {
        const struct evo_plot_point *pt = &plot->points[i];
        double v = which == SIGMA ? pt->sigma : pt->best;
        if (which == BEST_SO_FAR && isfinite(pt->best) && pt->best < best)
            best = pt->best;
        if (which == BEST_SO_FAR)
            v = best;
        if (which == SIGMA && i > 0 && pt->restart != plot->points[i - 1].restart)
            pen_break(&pen);
        if (ya->log && v == 0 && which != SIGMA) /* an exact optimum: on the bottom edge */
            v = pow(10, ya->lo);
        if (!isfinite(v) || (ya->log && v <= 0) || !isfinite(pt->x)) {
            pen_break(&pen);
            continue;
        }
        pen_point(&pen, axis_at(xa, fmin(pt->x, xa->hi)), axis_at(ya, fmin(fmax(v, lo), hi)));
    }
    pen_break(&pen);
}

/* ---- the parts of the picture ---- */

/* What the data span: fitness (finite; the least above 0 apart), sigma
 * (finite, > 0), x. */
struct extent {
    double best_lo, best_hi, best_positive, sigma_lo, sigma_hi, x_hi, final_best;
    size_t finite, sigmas, restarts;
};

static struct extent extent_of(const struct evo_plot *plot)
{
    struct extent e = {INFINITY, -INFINITY, INFINITY, INFINITY, -INFINITY, 0, INFINITY, 0, 0, 0};
    for (size_t i = 0; i < plot->count; i++) {
        const struct evo_plot_point *pt = &plot->points[i];
        if (isfinite(pt->best)) {
            e.best_lo = fmin(e.best_lo, pt->best), e.best_hi = fmax(e.best_hi, pt->best);
            e.finite++;
            if (pt->best > 0)
                e.best_positive = fmin(e.best_positive, pt->best);
        }
        if (isfinite(pt->sigma) && pt->sigma > 0) {
            e.sigma_lo = fmin(e.sigma_lo, pt->sigma), e.sigma_hi = fmax(e.sigma_hi, pt->sigma);
            e.sigmas++;
        }
        if (isfinite(pt->x))
            e.x_hi = fmax(e.x_hi, pt->x);
        if (i > 0 && plot->points[i - 1].restart >= 0 && pt->restart > plot->points[i - 1].restart)
            e.restarts++;
    }
    e.final_best = e.best_lo;
    return e;
}

static void header(FILE *out, const struct evo_plot *plot, const struct extent *e)
{
    const char *title = plot->title ? plot->title : "Convergence";
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n",
            WIDTH, HEIGHT, WIDTH, HEIGHT);
    fputs("<title>", out);
    put_text(out, title, 160);
    fprintf(out, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", WIDTH, HEIGHT);
    text_at(out, "class=\"title\" x=\"376\" y=\"24\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\"",
            title);
    /* numbers only: nothing to escape */
    fprintf(out,
            "<text class=\"summary\" x=\"376\" y=\"44\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">%zu "
            "generation%s",
            plot->count, plot->count == 1 ? "" : "s");
    if (plot->x_is_evaluations && plot->count)
        fprintf(out, e->x_hi < 1e15 ? ", %.0f evaluations" : ", %.3g evaluations", e->x_hi);
    if (e->finite)
        fprintf(out, ", best %.6g", e->final_best);
    fprintf(out, ", %zu restart%s</text>\n", e->restarts, e->restarts == 1 ? "" : "s");
    fprintf(out,
            "<defs><clipPath id=\"plot-area\"><rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\"/>"
            "</clipPath></defs>\n",
            LEFT - 3, TOP - 3, RIGHT - LEFT + 6, BOTTOM - TOP + 6);
}

/* The frame, the axes' ticks and their labels. */
static void axes(FILE *out, const struct evo_plot *plot, const struct extent *e, const struct axis *xa,
                 const struct axis *ya, const struct axis *sa)
{
    fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#333\"/>\n", LEFT,
            TOP, RIGHT - LEFT, BOTTOM - TOP);
    vertical_ticks(out, ya, -1, "y-tick");
    x_ticks(out, xa, plot->x_is_evaluations);
    fprintf(out, "<text class=\"x-label\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n", (LEFT + RIGHT) / 2,
            BOTTOM + 38, plot->x_is_evaluations ? "evaluations" : "generation (the logbook has no nevals column)");
    fprintf(out,
            "<text class=\"y-label\" transform=\"translate(20,%.0f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
            (TOP + BOTTOM) / 2,
            e->best_lo < 0    ? "best fitness (linear scale: some values are below 0)"
            : !ya->log        ? "best fitness (linear scale: every value is 0)"
            : e->best_lo == 0 ? "best fitness (log scale; 0 on the bottom edge)"
                              : "best fitness (log scale)");
    if (sa == NULL)
        return;
    vertical_ticks(out, sa, 1, "sigma-tick");
    fprintf(out,
            "<text class=\"sigma-label\" transform=\"translate(%d,%.0f) rotate(90)\" text-anchor=\"middle\" "
            "fill=\"" COLOR_SIGMA "\">step size \xCF\x83 (log scale)</text>\n",
            WIDTH - 22, (TOP + BOTTOM) / 2);
}

/* A dashed line where each restart begins, labelled (over a white halo,
 * on top of the curves) with its number and population. */
static void restarts(FILE *out, const struct evo_plot *plot, const struct axis *xa)
{
    for (size_t i = 1; i < plot->count; i++) {
        const struct evo_plot_point *before = &plot->points[i - 1], *pt = &plot->points[i];
        if (before->restart < 0 || pt->restart <= before->restart || !isfinite(before->x))
            continue;
        double x = axis_at(xa, fmin(before->x, xa->hi));
        char label[64];
        int n = snprintf(label, sizeof label, "restart %ld", pt->restart);
        if (isfinite(pt->lambda))
            snprintf(label + n, sizeof label - (size_t)n, ", \xCE\xBB %.0f", pt->lambda);
        fprintf(out, "<g class=\"restart\"><line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" " STYLE_RESTART "/>\n",
                x, TOP, x, BOTTOM);
        for (int halo = 1; halo >= 0; halo--)
            fprintf(out,
                    "<text transform=\"translate(%.1f,%.0f) rotate(90)\" font-size=\"10\" fill=\"" COLOR_RESTART
                    "\"%s>%s</text>\n",
                    x + 3, TOP + 6, halo ? " stroke=\"white\" stroke-width=\"3\"" : "", label);
        fputs("</g>\n", out);
    }
}

/* One legend entry at x: a sample of the line (or nothing) and its text.
 * Returns the x of the next entry. */
static double legend_entry(FILE *out, double x, const char *line_style, const char *text)
{
    const double y = HEIGHT - 16;
    if (line_style) {
        fprintf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" %s/>\n", x, y - 4, x + 24, y - 4,
                line_style);
        x += 30;
    }
    fprintf(out, "<text class=\"legend\" x=\"%.0f\" y=\"%.0f\">%s</text>\n", x, y, text);
    return x + 6.6 * (double)strlen(text) + 22;
}

static void legend(FILE *out, const struct extent *e)
{
    double x = legend_entry(out, LEFT, STYLE_BEST, "best so far");
    x = legend_entry(out, x, STYLE_GENERATION, "best of the generation");
    x = legend_entry(out, x, e->sigmas ? STYLE_SIGMA : NULL,
                     e->sigmas ? "\xCF\x83 (right axis)" : "\xCF\x83: not in the logbook");
    if (e->restarts)
        legend_entry(out, x, STYLE_RESTART, "restart");
}

static void no_data(FILE *out, const struct evo_plot *plot)
{
    char why[96];
    if (plot->count == 0)
        snprintf(why, sizeof why, "no data: the logbook has no rows yet");
    else
        snprintf(why, sizeof why, "no data: no finite fitness in %zu row%s", plot->count, plot->count == 1 ? "" : "s");
    fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#333\"/>\n", LEFT,
            TOP, RIGHT - LEFT, BOTTOM - TOP);
    fprintf(out, "<text class=\"no-data\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n",
            (LEFT + RIGHT) / 2, (TOP + BOTTOM) / 2, why);
}

/* Log scale unless a value is negative (or every one is 0); exact zeros
 * get a decade of their own below the rest. */
static struct axis fitness_axis(const struct extent *e)
{
    if (e->best_lo < 0 || !isfinite(e->best_positive))
        return linear_axis(e->best_lo, e->best_hi, BOTTOM, TOP, 5);
    struct axis a = log_axis(e->best_positive, e->best_hi, BOTTOM, TOP);
    if (e->best_lo == 0)
        a.lo -= 1;
    return a;
}

/* Phases: the extent of the data, the header, then either "no data" or
 * the axes, the curves (clipped to the plot), the restarts and the legend. */
char *evo_plot_svg(const struct evo_plot *plot)
{
    char *svg = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&svg, &size);
    if (out == NULL)
        return NULL;
    struct extent e = extent_of(plot);
    header(out, plot, &e);
    if (e.finite == 0) {
        no_data(out, plot);
    } else {
        struct axis xa = linear_axis(0, e.x_hi, LEFT, RIGHT, 6);
        struct axis ya = fitness_axis(&e);
        struct axis sa = e.sigmas ? log_axis(e.sigma_lo, e.sigma_hi, BOTTOM, TOP) : ya;
        axes(out, plot, &e, &xa, &ya, e.sigmas ? &sa : NULL);
        fputs("<g clip-path=\"url(#plot-area)\">\n", out);
        draw_series(out, plot, &xa, &ya, GENERATION_BEST, STYLE_GENERATION);
        if (e.sigmas)
            draw_series(out, plot, &xa, &sa, SIGMA, STYLE_SIGMA);
        draw_series(out, plot, &xa, &ya, BEST_SO_FAR, STYLE_BEST);
        fputs("</g>\n", out);
        restarts(out, plot, &xa);
        legend(out, &e);
    }
    fputs("</svg>\n", out);
    if (fclose(out) != 0) {
        free(svg);
        errno = ENOMEM;
        return NULL;
    }
    return svg;
}
