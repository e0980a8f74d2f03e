/* cmaes_io.c — exact save and restore of a CMA-ES state (cmaes.h): every
 * double as a C99 hex float, so a resumed run continues bit for bit. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmaes.h"

static void put_array(FILE *out, const char *name, const double *v, size_t count)
{
    fprintf(out, "%s %zu", name, count);
    for (size_t i = 0; i < count; i++)
        fprintf(out, " %a", v[i]);
    fputc('\n', out);
}

/* The history in generation order, oldest first. */
static void put_history(FILE *out, const char *name, const struct evo_cmaes *es, const double *h)
{
    fprintf(out, "%s %zu", name, es->hist_len);
    for (size_t i = es->hist_len; i-- > 0;)
        fprintf(out, " %a", h[(size_t)((es->generation - 1 - i) % es->hist_cap)]);
    fputc('\n', out);
}

int evo_cmaes_save(const struct evo_cmaes *es, FILE *out)
{
    size_t nn = (size_t)es->n * es->n;
    fprintf(out, "cmaes 1 %u %u\n", es->n, es->lambda);
    fprintf(out, "sigma %a\ngeneration %llu\nevaluations %llu\neigen_at %llu\n", es->sigma, es->generation,
            es->evaluations, es->eigen_at);
    put_array(out, "mean", es->mean, es->n);
    put_array(out, "pc", es->pc, es->n);
    put_array(out, "ps", es->ps, es->n);
    put_array(out, "C", es->C, nn);
    put_array(out, "B", es->B, nn);
    put_array(out, "D", es->D, es->n);
    put_array(out, "fitness", es->fitness, es->lambda);
    fprintf(out, "order %u", es->lambda);
    for (unsigned k = 0; k < es->lambda; k++)
        fprintf(out, " %u", es->order[k]);
    fputc('\n', out);
    put_history(out, "best_hist", es, es->best_hist);
    put_history(out, "median_hist", es, es->median_hist);
    return ferror(out) ? -1 : 0;
}

static int get_array(FILE *in, const char *name, double *v, size_t count)
{
    char word[32];
    size_t got;
    if (fscanf(in, "%31s %zu", word, &got) != 2 || strcmp(word, name) != 0 || got != count)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (fscanf(in, "%la", &v[i]) != 1)
            return -1;
    return 0;
}

static int get_history(FILE *in, const char *name, struct evo_cmaes *es, double *h, size_t len)
{
    char word[32];
    size_t got;
    if (fscanf(in, "%31s %zu", word, &got) != 2 || strcmp(word, name) != 0 || got != len)
        return -1;
    for (size_t i = len; i-- > 0;)
        if (fscanf(in, "%la", &h[(size_t)((es->generation - 1 - i) % es->hist_cap)]) != 1)
            return -1;
    return 0;
}

int evo_cmaes_load(struct evo_cmaes *es, FILE *in)
{
    unsigned version, n, lambda;
    size_t nn = (size_t)es->n * es->n, len;
    if (fscanf(in, " cmaes %u %u %u", &version, &n, &lambda) != 3 || version != 1 || n != es->n || lambda != es->lambda)
        return -1;
    if (fscanf(in, " sigma %la generation %llu evaluations %llu eigen_at %llu", &es->sigma, &es->generation,
               &es->evaluations, &es->eigen_at) != 4)
        return -1;
    if (get_array(in, "mean", es->mean, n) || get_array(in, "pc", es->pc, n) || get_array(in, "ps", es->ps, n) ||
        get_array(in, "C", es->C, nn) || get_array(in, "B", es->B, nn) || get_array(in, "D", es->D, n) ||
        get_array(in, "fitness", es->fitness, lambda))
        return -1;
    unsigned count;
    if (fscanf(in, " order %u", &count) != 1 || count != lambda)
        return -1;
    for (unsigned k = 0; k < lambda; k++)
        if (fscanf(in, "%u", &es->order[k]) != 1 || es->order[k] >= lambda)
            return -1;
    len = es->generation < es->hist_cap ? (size_t)es->generation : es->hist_cap;
    es->hist_len = len;
    if (get_history(in, "best_hist", es, es->best_hist, len) ||
        get_history(in, "median_hist", es, es->median_hist, len))
        return -1;
    return 0;
}
