/* task_env.h — what a task's environment must become, as a list of edits
 * computed by pure functions (tested without Slurm) and applied by the
 * plugin's task_init with spank_setenv/spank_unsetenv. */
#ifndef EVO_PLUGIN_TASK_ENV_H
#define EVO_PLUGIN_TASK_ENV_H

#include <stddef.h>

#include "config/config.h"

struct evo_env_edit {
    char *name;
    char *value; /* NULL: unset */
};

struct evo_env_edits {
    struct evo_env_edit *items;
    size_t count, capacity;
};

/* The value `name` has now: `base` (may be NULL) as changed by the edits
 * so far. NULL when unset. */
typedef const char *evo_env_lookup(void *base, const char *name);
const char *evo_env_current(const struct evo_env_edits *edits, evo_env_lookup *lookup, void *base, const char *name);

/* Appends an edit (copies name and value). 0, or -1 out of memory. */
int evo_env_edits_add(struct evo_env_edits *edits, const char *name, const char *value);

/* The edits that turn `before` into `after` (NULL-terminated NAME=value
 * arrays, as `env -0` prints them split on NUL): changed and new variables
 * set, vanished ones unset. Shell noise (_, SHLVL, PWD, OLDPWD, BASH_*) is
 * ignored. 0, or -1 out of memory. */
int evo_env_diff(char *const *before, char *const *after, struct evo_env_edits *out);

/* The task's edits, in the order they apply: module edits, conda, venv,
 * thread counts from cpus_per_task (only where unset, when threads), then
 * environment.env in file order. 0, or -1 out of memory. */
int evo_task_env(const struct evo_config *config, const struct evo_env_edits *modules, unsigned cpus_per_task,
                 int threads, evo_env_lookup *lookup, void *base, struct evo_env_edits *out);

void evo_env_edits_free(struct evo_env_edits *edits);

#endif
