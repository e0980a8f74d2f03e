/* config_walk.h — schema-walking helpers over a libyaml document: each helper
 * checks one node and stores a typed value, or reports FILE:LINE:COL. Used by
 * config.c; internal to the farm library. */
#ifndef EVO_CONFIG_WALK_H
#define EVO_CONFIG_WALK_H

#include <yaml.h>

#include "config.h"

struct walk {
    const char *file;
    struct evo_config *config;
    yaml_document_t *doc;
    const char *section; /* current "section.key", for messages */
    const char *home;    /* what ~/ stands for in paths; NULL: no expansion */
    char *err;
    size_t err_size;
};

struct walk_field {
    const char *key;
    int (*set)(struct walk *w, yaml_node_t *value);
};

struct walk_section {
    const char *name;
    const struct walk_field *fields;
};

/* Writes "FILE:LINE:COL: <section>: message" for node and returns -1. */
int walk_fail(struct walk *w, yaml_node_t *node, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parses text, walks the root mapping against `sections`, then calls
 * `check(w, root)`. 0 or -1 (error written). */
int walk_document(struct walk *w, const char *text, size_t size, const struct walk_section *sections,
                  int (*check)(struct walk *w, yaml_node_t *root));

/* The value node of `name` in the root mapping, or NULL. */
yaml_node_t *walk_section_node(struct walk *w, yaml_node_t *root, const char *name);

int walk_unsigned(struct walk *w, yaml_node_t *v, unsigned min, unsigned max, unsigned *out);
/* As walk_unsigned, and "auto" stores 0. */
int walk_unsigned_or_auto(struct walk *w, yaml_node_t *v, unsigned min, unsigned max, unsigned *out);
/* A duration in [min_ms, max_ms]; with allow_none, "none"/0 store 0. */
int walk_duration(struct walk *w, yaml_node_t *v, unsigned min_ms, unsigned max_ms, int allow_none, unsigned *out);
/* A finite decimal number in [min, max]; with above_min, > min. */
int walk_number(struct walk *w, yaml_node_t *v, double min, double max, int above_min, double *out);
/* One number or a list of numbers (at least one) into a malloc'd array. */
int walk_numbers(struct walk *w, yaml_node_t *v, double **out, size_t *count);
int walk_choice(struct walk *w, yaml_node_t *v, const char **names, int *index);
int walk_string(struct walk *w, yaml_node_t *v, char **out);
/* A string made absolute against the config's directory ("~/" is $HOME). */
int walk_path(struct walk *w, yaml_node_t *v, char **out);
int walk_identifier(struct walk *w, yaml_node_t *v, char **out);
/* A sequence of strings (or, when allow_scalar, one string split on blanks)
 * into a NULL-terminated array. */
int walk_string_list(struct walk *w, yaml_node_t *v, int allow_scalar, char ***out);
/* The environment.env mapping: NAME: value | {prepend: v} | {append: v} | null. */
int walk_env(struct walk *w, yaml_node_t *v, struct evo_env_change **out, size_t *count);

/* Walks one mapping against its key table (`name` for messages): unknown
 * and repeated keys are errors. */
int walk_mapping(struct walk *w, yaml_node_t *node, const char *name, const struct walk_field *fields);

/* config_optimize.c: the optimize: section's keys and its cross checks. */
extern const struct walk_field evo_optimize_fields[];
int evo_check_optimize(struct walk *w, yaml_node_t *optimize);

#endif
