/* registry_home.c — where the registry lives: ~/.evo-farm; see
 * registry.h. */
#include "registry_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "util/files.h"
#include "util/names.h"

int evo_registry_path(const char *leaf, char *out, size_t size)
{
    char home[EVO_PATH_MAX];
    if (evo_home_dir(home, sizeof home) < 0)
        return -1;
    int n = snprintf(out, size, "%s/%s%s%s", home, EVO_REGISTRY_DIR, leaf[0] ? "/" : "", leaf);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int registry_home_open(const char *leaf, char *dir, size_t size, char *err, size_t err_size)
{
    if (evo_registry_path("", dir, size) < 0 || (mkdir(dir, 0700), evo_registry_path(leaf, dir, size) < 0)) {
        snprintf(err, err_size, "no home directory (neither HOME nor the passwd entry gives one), or one too long");
        return -1;
    }
    return evo_results_dir_open(dir, 0700, err, err_size);
}
