/* shared_dir.h — a worker's shared constants (SHARE, docs/protocol.md) as
 * files its evaluators read: one private directory per worker process,
 * named in EVO_FARM_SHARED_DIR, a file NAME per constant, each appearing
 * whole (written aside piece by piece as its SHARE pieces arrive, then
 * renamed), so a worker never holds a whole constant in memory. */
#ifndef EVO_SHARED_DIR_H
#define EVO_SHARED_DIR_H

#include <stddef.h>

#include "util/names.h"

struct evo_shared_dir {
    char path[EVO_PATH_MAX]; /* empty until created */
    int part_fd;             /* the file being written aside, plus 1 (0: none) */
    char part_name[72];      /* the constant it will be */
};

/* Creates a fresh 0700 directory under $TMPDIR (else /tmp) and sets
 * EVO_FARM_SHARED_DIR to it, for the evaluators started after. 0, or -1
 * with errno. */
int evo_shared_dir_create(struct evo_shared_dir *dir);

/* Begins the constant `name` (a name evo_proto_share_name_ok accepts) in
 * a file aside, abandoning one begun before. 0, or -1 with errno. */
int evo_shared_dir_begin(struct evo_shared_dir *dir, const char *name);

/* Whether a constant is begun and not yet committed or abandoned. */
int evo_shared_dir_writing(const struct evo_shared_dir *dir);

/* Appends size bytes to the constant begun. 0, or -1 with errno (ENOENT:
 * none is begun); on an error the constant is abandoned. */
int evo_shared_dir_write(struct evo_shared_dir *dir, const void *data, size_t size);

/* Puts the constant begun in place as NAME, replacing any earlier copy. 0,
 * or -1 with errno (it is then abandoned). */
int evo_shared_dir_commit(struct evo_shared_dir *dir);

/* Removes the constant begun, if any; safe twice. */
void evo_shared_dir_abandon(struct evo_shared_dir *dir);

/* begin, write and commit in one: the constant `name` is value. */
int evo_shared_dir_put(struct evo_shared_dir *dir, const char *name, const void *value, size_t size);

/* Removes the directory and its files; a zeroed or never created one is
 * fine. */
void evo_shared_dir_remove(struct evo_shared_dir *dir);

#endif
