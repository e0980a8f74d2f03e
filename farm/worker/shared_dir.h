/* shared_dir.h — a farm's shared constants (SHARE, docs/protocol.md) as
 * files its evaluators read: one directory per farm and node, named in
 * EVO_FARM_SHARED_DIR, a file NAME per constant, each appearing whole
 * (written aside piece by piece as its SHARE pieces arrive, then renamed),
 * so a worker never holds a whole constant in memory and a node holds one
 * copy of it, whatever its number of workers. The directory,
 * $TMPDIR/evo-farm-shared-UID-TAG (TAG: of the farm's server key), is made
 * 0700 by the first worker of the farm on the node; every worker holds a
 * shared lock on it while it lives, and the last to leave removes it — a
 * worker killed with SIGKILL lets go of its lock, so the survivors, or the
 * launcher at the end (evo_shared_dir_remove_unused), still remove it. */
#ifndef EVO_SHARED_DIR_H
#define EVO_SHARED_DIR_H

#include <stddef.h>

#include "util/names.h"

struct evo_shared_dir {
    char path[EVO_PATH_MAX]; /* empty until created */
    int part_fd;             /* the file being written aside, plus 1 (0: none) */
    char part_name[72];      /* the constant it will be */
    int lock_fd;             /* the node's lock, held shared, plus 1 (0: a private directory) */
    int skipping;            /* the constant begun is on the node already: its pieces are not written */
};

/* Opens the directory of the farm whose server key is farm_key on this
 * node under $TMPDIR (else /tmp), making it when this is the farm's first
 * worker here, and sets EVO_FARM_SHARED_DIR to it, for the evaluators
 * started after. One that is not ours, not 0700 or a symbolic link (made
 * by another user, who may guess its name) is refused, and so is a
 * farm_key NULL or empty: a fresh private directory is used then. 0, or
 * -1 with errno. */
int evo_shared_dir_create(struct evo_shared_dir *dir, const char *farm_key);

/* The farm's directory on this node (what evo_shared_dir_create opens
 * for farm_key), in out. 0, or -1 when it does not fit. */
int evo_shared_dir_name(const char *farm_key, char *out, size_t size);

/* Begins the constant `name` (a name evo_proto_share_name_ok accepts) in
 * a file aside, abandoning one begun before; when another worker of the
 * farm has put it on the node already (a constant's value never changes
 * within a farm), its pieces are taken and not written. 0, or -1 with
 * errno. */
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

/* Leaves the directory: removes it and its files when no other worker of
 * the farm on this node holds it (a private one always); a zeroed or never
 * created one is fine. */
void evo_shared_dir_remove(struct evo_shared_dir *dir);

/* Removes the farm's directory on this node if no worker holds it: the
 * launcher's last word, after its workers ended however they ended. */
void evo_shared_dir_remove_unused(const char *farm_key);

#endif
