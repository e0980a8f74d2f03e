/* modules.h — the site's environment modules, loaded once per node. */
#ifndef EVO_PLUGIN_MODULES_H
#define EVO_PLUGIN_MODULES_H

#include <stddef.h>

#include "task_env.h"

/* Runs `module load NAMES...` in bash after sourcing `init`, with the
 * environment envp, as the calling (effective) user, for at most
 * timeout_ms, and turns the change it makes into edits. Whatever the shell
 * starts is killed with its process group when it ends. 0, or -1 with
 * "module load X failed on HOST: ..." (the module system's own message) or
 * "... no answer within N s (killed)" in err. */
int evo_modules_load(const char *init, char *const *modules, char *const *envp, const char *host, int timeout_ms,
                     struct evo_env_edits *out, char *err, size_t err_size);

/* The NAME=value entries of env -0 output data[0..len) as a NULL-terminated
 * array pointing into data, which must have room for one more byte (the
 * last entry may lack its NUL); entries without a name and '=' are left
 * out, and *garbage says whether there were any, or a last entry without
 * its NUL. NULL when out of memory. */
char **evo_modules_split_env(char *data, size_t len, int *garbage);

#endif
