/* modules.h — the site's environment modules, loaded once per node. */
#ifndef EVO_PLUGIN_MODULES_H
#define EVO_PLUGIN_MODULES_H

#include <stddef.h>

#include "task_env.h"

/* Runs `module load NAMES...` in bash after sourcing `init`, with the
 * environment envp, as the calling (effective) user, and turns the change
 * it makes into edits. 0, or -1 with "module load X failed on HOST: ..."
 * (the module system's own message) in err. */
int evo_modules_load(const char *init, char *const *modules, char *const *envp, const char *host,
                     struct evo_env_edits *out, char *err, size_t err_size);

#endif
