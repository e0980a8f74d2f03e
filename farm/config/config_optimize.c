/* config_optimize.c — the optimize: section of evolution.yaml: the map
 * strategy's input, and the CMA-ES settings (docs/config.md), with the
 * checks that need several keys (dimension against centroid and bounds,
 * bounds in order, centroid inside them). */
#include <stdlib.h>
#include <string.h>

#include "config_walk.h"
#include "util/names.h"

#define OPT (w->config->optimize)

static int optimize_strategy(struct walk *w, yaml_node_t *v)
{
    static const char *names[] = {"map", "cma-es", NULL};
    int index;
    if (walk_choice(w, v, names, &index) < 0)
        return -1;
    free(OPT.strategy);
    OPT.strategy = strdup(names[index]);
    return OPT.strategy ? 0 : walk_fail(w, v, "out of memory");
}

static int optimize_input(struct walk *w, yaml_node_t *v)
{
    return walk_path(w, v, &OPT.input);
}

static int optimize_dimension(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned(w, v, 1, EVO_MAX_DIMENSION, &OPT.dimension);
}

static int optimize_centroid(struct walk *w, yaml_node_t *v)
{
    return walk_numbers(w, v, &OPT.centroid, &OPT.centroid_count);
}

static int optimize_sigma(struct walk *w, yaml_node_t *v)
{
    return walk_number(w, v, 0, 1e308, 1, &OPT.sigma);
}

static int optimize_lambda(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned_or_auto(w, v, 2, 1000000, &OPT.lambda);
}

static int optimize_generations(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned(w, v, 1, 100000000, &OPT.generations);
}

static int optimize_evaluations(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned(w, v, 1, 4000000000u, &OPT.evaluations);
}

static int optimize_seed(struct walk *w, yaml_node_t *v)
{
    OPT.has_seed = 1;
    return walk_unsigned(w, v, 0, 4294967295u, &OPT.seed);
}

static int optimize_target(struct walk *w, yaml_node_t *v)
{
    OPT.has_target = 1;
    return walk_number(w, v, -1e308, 1e308, 0, &OPT.target);
}

static int optimize_restarts(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned(w, v, 0, 20, &OPT.restarts);
}

static int optimize_checkpoint(struct walk *w, yaml_node_t *v)
{
    return walk_unsigned(w, v, 0, 100000000, &OPT.checkpoint);
}

static int optimize_tolfun(struct walk *w, yaml_node_t *v)
{
    return walk_number(w, v, 0, 1e308, 0, &OPT.tolfun);
}

static int optimize_tolx(struct walk *w, yaml_node_t *v)
{
    return walk_number(w, v, 0, 1e308, 0, &OPT.tolx);
}

/* One [LOW, HIGH] pair into *lo, *hi; `what` says what was expected. */
static int bounds_pair(struct walk *w, yaml_node_t *v, const char *what, double *lo, double *hi)
{
    double *flat = NULL;
    size_t count = 0;
    int rc = walk_numbers(w, v, &flat, &count);
    if (rc == 0 && (count != 2 || v->type != YAML_SEQUENCE_NODE))
        rc = walk_fail(w, v, "expected %s", what);
    if (rc == 0)
        *lo = flat[0], *hi = flat[1];
    free(flat);
    return rc;
}

/* [LOW, HIGH] for every coordinate, or a list of [LOW, HIGH] pairs. The
 * pairs are stored as given (bounds_count of them); evo_check_optimize
 * expands and checks them. */
static int optimize_bounds(struct walk *w, yaml_node_t *v)
{
    yaml_node_item_t *items = v->type == YAML_SEQUENCE_NODE ? v->data.sequence.items.start : NULL;
    size_t n = items ? (size_t)(v->data.sequence.items.top - items) : 0;
    int nested = n > 0 && yaml_document_get_node(w->doc, items[0])->type == YAML_SEQUENCE_NODE;
    size_t count = nested ? n : 1;
    free(OPT.lower);
    free(OPT.upper);
    OPT.bounds_count = 0;
    OPT.lower = calloc(count, sizeof(double)), OPT.upper = calloc(count, sizeof(double));
    if (!OPT.lower || !OPT.upper)
        return walk_fail(w, v, "out of memory");
    for (size_t i = 0; i < count; i++)
        if (nested ? bounds_pair(w, yaml_document_get_node(w->doc, items[i]), "a [LOW, HIGH] pair", &OPT.lower[i],
                                 &OPT.upper[i])
                   : bounds_pair(w, v, "[LOW, HIGH] or a list of [LOW, HIGH] pairs", &OPT.lower[i], &OPT.upper[i]))
            return -1;
    OPT.bounds_count = count;
    return 0;
}

const struct walk_field evo_optimize_fields[] = {{"strategy", optimize_strategy},
                                                 {"input", optimize_input},
                                                 {"dimension", optimize_dimension},
                                                 {"centroid", optimize_centroid},
                                                 {"sigma", optimize_sigma},
                                                 {"lambda", optimize_lambda},
                                                 {"generations", optimize_generations},
                                                 {"evaluations", optimize_evaluations},
                                                 {"seed", optimize_seed},
                                                 {"bounds", optimize_bounds},
                                                 {"target", optimize_target},
                                                 {"restarts", optimize_restarts},
                                                 {"checkpoint", optimize_checkpoint},
                                                 {"tolfun", optimize_tolfun},
                                                 {"tolx", optimize_tolx},
                                                 {NULL, NULL}};

/* Makes *v hold n values: one given value repeated, or n given ones. */
static int expand(double **v, size_t given, unsigned n)
{
    if (given == n)
        return 0;
    double *all = malloc(n * sizeof *all);
    if (all == NULL)
        return -1;
    for (unsigned i = 0; i < n; i++)
        all[i] = (*v)[0];
    free(*v);
    *v = all;
    return 0;
}

static int check_cmaes(struct walk *w, yaml_node_t *optimize)
{
    yaml_node_t *centroid = walk_section_node(w, optimize, "centroid");
    yaml_node_t *bounds = walk_section_node(w, optimize, "bounds");
    size_t pairs = OPT.lower && OPT.bounds_count > 1 ? OPT.bounds_count : 0; /* one pair: every coordinate */
    if (OPT.dimension == 0)
        OPT.dimension = OPT.centroid_count > 1 ? (unsigned)OPT.centroid_count : (unsigned)pairs;
    if (OPT.dimension == 0)
        return walk_fail(w, optimize, "strategy 'cma-es' needs 'dimension' (or a centroid list giving it)");
    w->section = "optimize.centroid";
    if (centroid == NULL)
        return walk_fail(w, optimize,
                         "strategy 'cma-es' needs a centroid (a number for every coordinate, "
                         "or a list of %u numbers)",
                         OPT.dimension);
    if (OPT.centroid_count != 1 && OPT.centroid_count != OPT.dimension)
        return walk_fail(w, centroid, "has %zu values but dimension is %u", OPT.centroid_count, OPT.dimension);
    w->section = "optimize.bounds";
    if (pairs && pairs != OPT.dimension)
        return walk_fail(w, bounds, "has %zu pairs but dimension is %u", pairs, OPT.dimension);
    if (expand(&OPT.centroid, OPT.centroid_count, OPT.dimension) < 0 ||
        (OPT.lower && (expand(&OPT.lower, OPT.bounds_count, OPT.dimension) < 0 ||
                       expand(&OPT.upper, OPT.bounds_count, OPT.dimension) < 0)))
        return walk_fail(w, optimize, "out of memory");
    OPT.centroid_count = OPT.dimension;
    for (unsigned i = 0; OPT.lower && i < OPT.dimension; i++)
        if (!(OPT.lower[i] < OPT.upper[i]))
            return walk_fail(w, bounds, "coordinate %u: LOW %g must be below HIGH %g", i, OPT.lower[i], OPT.upper[i]);
    w->section = "optimize.centroid";
    for (unsigned i = 0; OPT.lower && i < OPT.dimension; i++)
        if (OPT.centroid[i] < OPT.lower[i] || OPT.centroid[i] > OPT.upper[i])
            return walk_fail(w, centroid, "coordinate %u (%g) is outside the bounds [%g, %g]", i, OPT.centroid[i],
                             OPT.lower[i], OPT.upper[i]);
    w->section = "optimize";
    if (w->config->evaluate.objectives != 1)
        return walk_fail(w, optimize, "strategy 'cma-es' minimises one objective; evaluate.objectives is %u",
                         w->config->evaluate.objectives);
    return 0;
}

int evo_check_optimize(struct walk *w, yaml_node_t *optimize)
{
    w->section = NULL;
    if (OPT.strategy == NULL)
        return walk_fail(w, optimize, "optimize: 'strategy' is required");
    if (strcmp(OPT.strategy, "map") == 0) {
        if (OPT.input == NULL)
            return walk_fail(w, optimize, "optimize: strategy 'map' needs 'input' (a file of vectors)");
        return 0;
    }
    return check_cmaes(w, optimize);
}
