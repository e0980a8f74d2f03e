/* config_walk.c — typed checks of libyaml nodes for the config schema. */
#include "config_walk.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/parse.h"

int walk_fail(struct walk *w, yaml_node_t *node, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    unsigned long line = node ? node->start_mark.line + 1 : 1, col = node ? node->start_mark.column + 1 : 1;
    if (w->section)
        snprintf(w->err, w->err_size, "%s:%lu:%lu: %s: %s", w->file, line, col, w->section, message);
    else
        snprintf(w->err, w->err_size, "%s:%lu:%lu: %s", w->file, line, col, message);
    return -1;
}

static const char *scalar(yaml_node_t *v)
{
    return v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : NULL;
}

static int is_null(yaml_node_t *v)
{
    const char *s = scalar(v);
    return s && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

static const char *node_kind(yaml_node_t *v)
{
    return v->type == YAML_MAPPING_NODE ? "a mapping" : v->type == YAML_SEQUENCE_NODE ? "a list" : "a scalar";
}

int walk_unsigned(struct walk *w, yaml_node_t *v, unsigned min, unsigned max, unsigned *out)
{
    const char *s = scalar(v);
    if (s == NULL)
        return walk_fail(w, v, "expected a whole number from %u to %u, got %s", min, max, node_kind(v));
    if (evo_parse_unsigned(s, min, max, out) < 0)
        return walk_fail(w, v, "expected a whole number from %u to %u, got '%s'", min, max, s);
    return 0;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    if (s == NULL || s[0] == '\0' || isspace((unsigned char)s[0]))
        return -1;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*out) ? 0 : -1;
}

int walk_number(struct walk *w, yaml_node_t *v, double min, double max, int above_min, double *out)
{
    const char *s = scalar(v);
    char range[96], got[600];
    if (parse_number(s, out) == 0 && *out >= min && !(above_min && *out == min) && *out <= max)
        return 0;
    if (max < 1e300)
        snprintf(range, sizeof range, "from %g to %g", min, max);
    else if (min > -1e300)
        snprintf(range, sizeof range, "%s %g", above_min ? ">" : ">=", min);
    else
        snprintf(range, sizeof range, "(a finite decimal)");
    snprintf(got, sizeof got, s ? "'%.500s'" : "%s", s ? s : node_kind(v));
    return walk_fail(w, v, "expected a number %s, got %s", range, got);
}

int walk_numbers(struct walk *w, yaml_node_t *v, double **out, size_t *count)
{
    free(*out);
    *out = NULL;
    *count = 0;
    if (v->type == YAML_SCALAR_NODE) {
        if ((*out = malloc(sizeof **out)) == NULL)
            return walk_fail(w, v, "out of memory");
        *count = 1;
        return walk_number(w, v, -1e308, 1e308, 0, *out);
    }
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start)
        return walk_fail(w, v, "expected a number or a non-empty list of numbers, got %s", node_kind(v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if ((*out = calloc(n, sizeof **out)) == NULL)
        return walk_fail(w, v, "out of memory");
    *count = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(w->doc, v->data.sequence.items.start[i]);
        if (walk_number(w, item, -1e308, 1e308, 0, &(*out)[i]) < 0)
            return -1;
    }
    return 0;
}

int walk_unsigned_or_auto(struct walk *w, yaml_node_t *v, unsigned min, unsigned max, unsigned *out)
{
    const char *s = scalar(v);
    if (s && strcmp(s, "auto") == 0) {
        *out = 0;
        return 0;
    }
    if (s == NULL || evo_parse_unsigned(s, min, max, out) < 0)
        return walk_fail(w, v, "expected 'auto' or a whole number from %u to %u, got '%s'", min, max,
                         s ? s : node_kind(v));
    return 0;
}

int walk_duration(struct walk *w, yaml_node_t *v, unsigned min_ms, unsigned max_ms, int allow_none, unsigned *out)
{
    const char *s = scalar(v);
    unsigned ms;
    if (allow_none && s && (strcmp(s, "none") == 0 || strcmp(s, "0") == 0)) {
        *out = 0;
        return 0;
    }
    if (s == NULL || evo_parse_duration_ms(s, &ms) < 0)
        return walk_fail(w, v, "expected a duration such as 500ms, 30s, 2m or 1h%s, got '%s'",
                         allow_none ? " (or none)" : "", s ? s : node_kind(v));
    if (ms < min_ms || ms > max_ms)
        return walk_fail(w, v, "'%s' is out of range (%ums to %ums)", s, min_ms, max_ms);
    *out = ms;
    return 0;
}

int walk_choice(struct walk *w, yaml_node_t *v, const char **names, int *index)
{
    const char *s = scalar(v);
    char expected[256] = "";
    for (int i = 0; s && names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *index = i;
            return 0;
        }
    for (int i = 0; names[i]; i++) {
        size_t used = strlen(expected);
        snprintf(expected + used, sizeof expected - used, "%s'%s'", i ? ", " : "", names[i]);
    }
    return walk_fail(w, v, "expected one of %s, got '%s'", expected, s ? s : node_kind(v));
}

int walk_string(struct walk *w, yaml_node_t *v, char **out)
{
    const char *s = scalar(v);
    if (s == NULL || is_null(v))
        return walk_fail(w, v, "expected a non-empty string, got %s", s ? "nothing" : node_kind(v));
    char *copy = strdup(s);
    if (copy == NULL)
        return walk_fail(w, v, "out of memory");
    free(*out);
    *out = copy;
    return 0;
}

int walk_path(struct walk *w, yaml_node_t *v, char **out)
{
    char *path = NULL;
    if (walk_string(w, v, &path) < 0)
        return -1;
    const char *home = w->home;
    if (path[0] == '~' && path[1] == '/' && home && home[0] == '/') {
        char *expanded = NULL;
        if (asprintf(&expanded, "%s%s", home, path + 1) < 0) {
            free(path);
            return walk_fail(w, v, "out of memory");
        }
        free(path);
        path = expanded;
    } else if (path[0] != '/') {
        size_t size = strlen(w->config->dir) + strlen(path) + 2;
        char *absolute = malloc(size);
        if (absolute == NULL) {
            free(path);
            return walk_fail(w, v, "out of memory");
        }
        snprintf(absolute, size, "%s/%s", w->config->dir, path[0] == '.' && path[1] == '/' ? path + 2 : path);
        free(path);
        path = absolute;
    }
    free(*out);
    *out = path;
    return 0;
}

int walk_identifier(struct walk *w, yaml_node_t *v, char **out)
{
    const char *s = scalar(v);
    int ok = s && (isalpha((unsigned char)s[0]) || s[0] == '_');
    for (size_t i = 0; ok && s[i]; i++)
        ok = isalnum((unsigned char)s[i]) || s[i] == '_';
    if (!ok)
        return walk_fail(w, v, "expected a C identifier (the function's symbol name), got '%s'", s ? s : node_kind(v));
    return walk_string(w, v, out);
}

static void free_strings(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

/* A scalar split on blanks, as a NULL-terminated list (no quoting rules:
 * arguments containing blanks need the list form). */
static int split_words(struct walk *w, yaml_node_t *v, char ***out)
{
    const char *s = scalar(v);
    size_t count = 0, len = s ? strlen(s) : 0;
    char **list = calloc(len / 2 + 2, sizeof *list);
    if (list == NULL)
        return walk_fail(w, v, "out of memory");
    for (const char *p = s ? s : ""; *p;) {
        size_t n = strcspn(p, " \t");
        if (n && (list[count++] = strndup(p, n)) == NULL) {
            free_strings(list);
            return walk_fail(w, v, "out of memory");
        }
        p += n + strspn(p + n, " \t");
    }
    if (count == 0) {
        free(list);
        return walk_fail(w, v, "expected a command, got nothing");
    }
    free_strings(*out);
    *out = list;
    return 0;
}

int walk_string_list(struct walk *w, yaml_node_t *v, int allow_scalar, char ***out)
{
    if (allow_scalar && v->type == YAML_SCALAR_NODE)
        return split_words(w, v, out);
    if (v->type != YAML_SEQUENCE_NODE)
        return walk_fail(w, v, "expected a list of strings, got %s", node_kind(v));
    size_t count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (allow_scalar && count == 0)
        return walk_fail(w, v, "expected a non-empty list");
    char **list = calloc(count + 1, sizeof *list);
    if (list == NULL)
        return walk_fail(w, v, "out of memory");
    for (size_t i = 0; i < count; i++) {
        if (walk_string(w, yaml_document_get_node(w->doc, v->data.sequence.items.start[i]), &list[i]) < 0) {
            free_strings(list);
            return -1;
        }
    }
    free_strings(*out);
    *out = list;
    return 0;
}

static int env_name_ok(const char *s)
{
    int ok = s && (isalpha((unsigned char)s[0]) || s[0] == '_');
    for (size_t i = 0; ok && s[i]; i++)
        ok = isalnum((unsigned char)s[i]) || s[i] == '_';
    return ok;
}

/* One `NAME: value` entry of environment.env. */
static int env_entry(struct walk *w, yaml_node_t *key, yaml_node_t *v, struct evo_env_change *change)
{
    const char *name = scalar(key);
    if (!env_name_ok(name))
        return walk_fail(w, key, "'%s' is not a valid variable name", name ? name : node_kind(key));
    if ((change->name = strdup(name)) == NULL)
        return walk_fail(w, key, "out of memory");
    if (is_null(v)) {
        change->op = EVO_ENV_UNSET;
        return 0;
    }
    if (v->type == YAML_SCALAR_NODE) {
        change->op = EVO_ENV_SET;
        return walk_string(w, v, &change->value);
    }
    yaml_node_pair_t *pair = v->data.mapping.pairs.start;
    if (v->type != YAML_MAPPING_NODE || v->data.mapping.pairs.top - pair != 1)
        return walk_fail(w, v, "%s: expected a value, null (unset), {prepend: VALUE} or {append: VALUE}", name);
    yaml_node_t *op = yaml_document_get_node(w->doc, pair->key);
    const char *op_name = scalar(op);
    if (op_name && strcmp(op_name, "prepend") == 0)
        change->op = EVO_ENV_PREPEND;
    else if (op_name && strcmp(op_name, "append") == 0)
        change->op = EVO_ENV_APPEND;
    else
        return walk_fail(w, op, "%s: unknown operation '%s' (expected prepend or append)", name,
                         op_name ? op_name : node_kind(op));
    return walk_string(w, yaml_document_get_node(w->doc, pair->value), &change->value);
}

int walk_env(struct walk *w, yaml_node_t *v, struct evo_env_change **out, size_t *count)
{
    if (v->type != YAML_MAPPING_NODE)
        return walk_fail(w, v, "expected a mapping of variable names, got %s", node_kind(v));
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    struct evo_env_change *changes = calloc(n ? n : 1, sizeof *changes);
    if (changes == NULL)
        return walk_fail(w, v, "out of memory");
    /* Hand the array over first so evo_config_destroy releases partial work. */
    *out = changes;
    *count = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *pair = &v->data.mapping.pairs.start[i];
        if (env_entry(w, yaml_document_get_node(w->doc, pair->key), yaml_document_get_node(w->doc, pair->value),
                      &changes[i]) < 0)
            return -1;
    }
    return 0;
}

int walk_mapping(struct walk *w, yaml_node_t *node, const char *name, const struct walk_field *fields)
{
    char where[128];
    w->section = NULL;
    if (node->type != YAML_MAPPING_NODE)
        return walk_fail(w, node, "section '%s' must be a mapping, got %s", name, node_kind(node));
    unsigned seen = 0;
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(w->doc, pair->key);
        const char *k = scalar(key);
        int index = -1;
        for (int i = 0; k && fields[i].key; i++)
            if (strcmp(k, fields[i].key) == 0)
                index = i;
        w->section = NULL;
        if (index < 0) {
            char known[512] = "";
            for (int i = 0; fields[i].key; i++) {
                size_t used = strlen(known);
                snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", fields[i].key);
            }
            return walk_fail(w, key, "unknown key '%s' in section '%s' (known: %s)", k ? k : "?", name, known);
        }
        if (seen & (1u << index))
            return walk_fail(w, key, "key '%s' appears twice in section '%s'", k, name);
        seen |= 1u << index;
        snprintf(where, sizeof where, "%s.%s", name, k);
        w->section = where;
        if (fields[index].set(w, yaml_document_get_node(w->doc, pair->value)) < 0)
            return -1;
    }
    w->section = NULL;
    return 0;
}

yaml_node_t *walk_section_node(struct walk *w, yaml_node_t *root, const char *name)
{
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
        const char *k = scalar(yaml_document_get_node(w->doc, pair->key));
        if (k && strcmp(k, name) == 0)
            return yaml_document_get_node(w->doc, pair->value);
    }
    return NULL;
}

static int walk_root(struct walk *w, yaml_node_t *root, const struct walk_section *sections)
{
    unsigned seen = 0;
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(w->doc, pair->key);
        const char *k = scalar(key);
        int index = -1;
        for (int i = 0; k && sections[i].name; i++)
            if (strcmp(k, sections[i].name) == 0)
                index = i;
        if (index < 0)
            return walk_fail(w, key, "unknown section '%s' (known: farm, evaluate, environment, optimize, output)",
                             k ? k : "?");
        if (seen & (1u << index))
            return walk_fail(w, key, "section '%s' appears twice", k);
        seen |= 1u << index;
        if (walk_mapping(w, yaml_document_get_node(w->doc, pair->value), k, sections[index].fields) < 0)
            return -1;
    }
    return 0;
}

/* FILE:LINE:COL of the parser's problem. -1. */
static int syntax_error(struct walk *w, const yaml_parser_t *parser)
{
    snprintf(w->err, w->err_size, "%s:%lu:%lu: YAML syntax error: %s%s%s", w->file,
             (unsigned long)parser->problem_mark.line + 1, (unsigned long)parser->problem_mark.column + 1,
             parser->problem ? parser->problem : "unknown problem", parser->context ? " " : "",
             parser->context ? parser->context : "");
    return -1;
}

/* A file holds one farm: a second document (after `---`) would otherwise be
 * silently ignored. */
static int walk_no_second_document(struct walk *w, yaml_parser_t *parser)
{
    yaml_document_t next;
    if (!yaml_parser_load(parser, &next))
        return syntax_error(w, parser);
    yaml_node_t *root = yaml_document_get_root_node(&next);
    int rc = root ? walk_fail(w, root, "a second YAML document is not allowed: one file describes one farm") : 0;
    yaml_document_delete(&next);
    return rc;
}

int walk_document(struct walk *w, const char *text, size_t size, const struct walk_section *sections,
                  int (*check)(struct walk *w, yaml_node_t *root))
{
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = -1;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(w->err, w->err_size, "%s: out of memory", w->file);
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
    if (!yaml_parser_load(&parser, &doc)) {
        syntax_error(w, &parser);
        yaml_parser_delete(&parser);
        return -1;
    }
    w->doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL)
        rc = 0; /* an empty file: every default (a Python driver's farm) */
    else if (root->type != YAML_MAPPING_NODE)
        walk_fail(w, root, "the configuration must be a mapping of sections, got %s", node_kind(root));
    else if (walk_root(w, root, sections) == 0)
        rc = check(w, root);
    w->doc = NULL;
    yaml_document_delete(&doc);
    if (rc == 0)
        rc = walk_no_second_document(w, &parser);
    yaml_parser_delete(&parser);
    return rc;
}
