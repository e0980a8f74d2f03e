/* task_env.c — computing a task's environment edits (see task_env.h). */
#include "task_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/names.h"

int evo_env_edits_add(struct evo_env_edits *e, const char *name, const char *value)
{
    if (e->count == e->capacity) {
        size_t capacity = e->capacity ? e->capacity * 2 : 16;
        struct evo_env_edit *items = realloc(e->items, capacity * sizeof *items);
        if (items == NULL)
            return -1;
        e->items = items;
        e->capacity = capacity;
    }
    struct evo_env_edit *edit = &e->items[e->count];
    edit->name = strdup(name);
    edit->value = value ? strdup(value) : NULL;
    if (edit->name == NULL || (value && edit->value == NULL)) {
        free(edit->name);
        free(edit->value);
        return -1;
    }
    e->count++;
    return 0;
}

void evo_env_edits_free(struct evo_env_edits *e)
{
    for (size_t i = 0; i < e->count; i++) {
        free(e->items[i].name);
        free(e->items[i].value);
    }
    free(e->items);
    memset(e, 0, sizeof *e);
}

const char *evo_env_current(const struct evo_env_edits *e, evo_env_lookup *lookup, void *base, const char *name)
{
    for (size_t i = e->count; i-- > 0;)
        if (strcmp(e->items[i].name, name) == 0)
            return e->items[i].value;
    return lookup ? lookup(base, name) : NULL;
}

static int noise(const char *entry, size_t name_length)
{
    static const char *names[] = {"_", "SHLVL", "PWD", "OLDPWD", NULL};
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == name_length && strncmp(entry, names[i], name_length) == 0)
            return 1;
    return strncmp(entry, "BASH_", 5) == 0;
}

/* The entry of `list` for the name of `entry` (the part before '='). */
static const char *find(char *const *list, const char *entry, size_t name_length)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strncmp(list[i], entry, name_length) == 0 && list[i][name_length] == '=')
            return list[i];
    return NULL;
}

int evo_env_diff(char *const *before, char *const *after, struct evo_env_edits *out)
{
    char name[1024];
    for (size_t i = 0; after && after[i]; i++) {
        const char *eq = strchr(after[i], '=');
        size_t n = eq ? (size_t)(eq - after[i]) : 0;
        if (n == 0 || n >= sizeof name || noise(after[i], n))
            continue;
        const char *old = find(before, after[i], n);
        if (old && strcmp(old, after[i]) == 0)
            continue;
        memcpy(name, after[i], n);
        name[n] = '\0';
        if (evo_env_edits_add(out, name, eq + 1) < 0)
            return -1;
    }
    for (size_t i = 0; before && before[i]; i++) {
        const char *eq = strchr(before[i], '=');
        size_t n = eq ? (size_t)(eq - before[i]) : 0;
        if (n == 0 || n >= sizeof name || noise(before[i], n) || find(after, before[i], n))
            continue;
        memcpy(name, before[i], n);
        name[n] = '\0';
        if (evo_env_edits_add(out, name, NULL) < 0)
            return -1;
    }
    return 0;
}

/* name = front + ':' + current (or just front when unset/empty); back when
 * appending. */
static int add_to_list(struct evo_env_edits *out, evo_env_lookup *lookup, void *base, const char *name,
                       const char *part, int append)
{
    const char *now = evo_env_current(out, lookup, base, name);
    char *value = NULL;
    int n = now && now[0] ? asprintf(&value, "%s:%s", append ? now : part, append ? part : now)
                          : asprintf(&value, "%s", part);
    if (n < 0)
        return -1;
    int rc = evo_env_edits_add(out, name, value);
    free(value);
    return rc;
}

static int prefix_env(struct evo_env_edits *out, evo_env_lookup *lookup, void *base, const char *dir,
                      const char *variable)
{
    char bin[EVO_PATH_MAX];
    if (snprintf(bin, sizeof bin, "%s/bin", dir) >= (int)sizeof bin)
        return -1;
    return evo_env_edits_add(out, variable, dir) < 0 ? -1 : add_to_list(out, lookup, base, "PATH", bin, 0);
}

int evo_task_env(const struct evo_config *c, const struct evo_env_edits *modules, unsigned cpus_per_task, int threads,
                 evo_env_lookup *lookup, void *base, struct evo_env_edits *out)
{
    static const char *thread_vars[] = {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", NULL};
    char number[16];
    for (size_t i = 0; modules && i < modules->count; i++)
        if (evo_env_edits_add(out, modules->items[i].name, modules->items[i].value) < 0)
            return -1;
    if (c->environment.conda && prefix_env(out, lookup, base, c->environment.conda, "CONDA_PREFIX") < 0)
        return -1;
    if (c->environment.venv && (prefix_env(out, lookup, base, c->environment.venv, "VIRTUAL_ENV") < 0 ||
                                evo_env_edits_add(out, "PYTHONHOME", NULL) < 0))
        return -1;
    snprintf(number, sizeof number, "%u", cpus_per_task ? cpus_per_task : 1);
    for (int i = 0; threads && thread_vars[i]; i++)
        if (evo_env_current(out, lookup, base, thread_vars[i]) == NULL &&
            evo_env_edits_add(out, thread_vars[i], number) < 0)
            return -1;
    for (size_t i = 0; i < c->environment.env_count; i++) {
        const struct evo_env_change *change = &c->environment.env[i];
        int rc = change->op == EVO_ENV_SET ? evo_env_edits_add(out, change->name, change->value)
                 : change->op == EVO_ENV_UNSET
                     ? evo_env_edits_add(out, change->name, NULL)
                     : add_to_list(out, lookup, base, change->name, change->value, change->op == EVO_ENV_APPEND);
        if (rc < 0)
            return -1;
    }
    return 0;
}
