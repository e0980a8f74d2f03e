/* registry_internal.h — what the registry's files share (registry.h). */
#ifndef EVO_REGISTRY_INTERNAL_H
#define EVO_REGISTRY_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "registry.h"

/* ~/.evo-farm/LEAF (its name in dir), created 0700 with ~/.evo-farm when
 * missing and checked as a results directory is. Its fd, or -1 with err. */
int registry_home_open(const char *leaf, char *dir, size_t size, char *err, size_t err_size);

/* The access lines of this process's farm, from its environment: with
 * worker == 0 the status key (it may only read statistics); else this
 * process's own pair, which for the farm's launcher is the worker pair,
 * and the nested pair for the workers' evaluators. 0, or -1 when not
 * inside a farm. */
int registry_access_text(char *text, size_t size, int worker);

/* PATH for reading, never through a symbolic link. NULL with errno. */
FILE *registry_open_read(const char *path);

#endif
