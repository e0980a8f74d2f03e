/* shared_dir.h — a worker's shared constants (SHARE, docs/protocol.md) as
 * files its evaluators read: one private directory per worker process,
 * named in EVO_FARM_SHARED_DIR, a file NAME per constant, each appearing
 * whole (written aside, then renamed). */
#ifndef EVO_SHARED_DIR_H
#define EVO_SHARED_DIR_H

#include <stddef.h>

#include "util/names.h"

struct evo_shared_dir {
    char path[EVO_PATH_MAX]; /* empty until created */
};

/* Creates a fresh 0700 directory under $TMPDIR (else /tmp) and sets
 * EVO_FARM_SHARED_DIR to it, for the evaluators started after. 0, or -1
 * with errno. */
int evo_shared_dir_create(struct evo_shared_dir *dir);

/* Stores one constant as the file `name` (a name evo_proto_share_name_ok
 * accepts), replacing any earlier copy. 0, or -1 with errno. */
int evo_shared_dir_put(struct evo_shared_dir *dir, const char *name, const void *value, size_t size);

/* Removes the directory and its files; a zeroed or never created one is
 * fine. */
void evo_shared_dir_remove(struct evo_shared_dir *dir);

#endif
