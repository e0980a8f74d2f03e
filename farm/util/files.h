/* files.h — files a farm writes for people and for other processes: a
 * directory checked before anything is written into it (its own, not a
 * link, writable by no one else), files in it opened relative to its
 * descriptor and never through a symbolic link, and the atomic
 * replacement every rewritten file goes through (a fresh temporary beside
 * it, fsynced, then renamed). The results directory (drivers/run_files.h)
 * and the registry (registry/registry.h) are made of these. libc only. */
#ifndef EVO_FILES_H
#define EVO_FILES_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Opens the directory DIR for the files below, creating it and its
 * missing parents with mode (less the umask) when it is missing. Refuses a symbolic link, a
 * directory owned by another user than the one running the farm (the
 * effective uid) and one that group or others may write (anyone who may
 * create names in it could plant a link or read a file as it is made).
 * Returns an O_DIRECTORY, close-on-exec descriptor the caller closes, or
 * -1 with a one-line message naming DIR in err. */
int evo_results_dir_open(const char *dir, mode_t mode, char *err, size_t err_size);

/* evo_results_dir_open for another kind of directory: WHAT ("journal
 * directory") names it in the message. */
int evo_owned_dir_open(const char *dir, const char *what, mode_t mode, char *err, size_t err_size);

/* What the farm may trust as its own: owned by its effective uid, not
 * writable by group or others. 0, or -1 with the one-line reason ("WHAT
 * PATH is owned by another user (owner uid ...); refusing it") in err. */
struct stat;
int evo_owned_refuse(const struct stat *st, const char *what, const char *path, char *err, size_t err_size);

/* Opens NAME in the directory dir_fd (named dir, for messages) with flags
 * (O_RDONLY, O_WRONLY or O_RDWR, and O_CREAT: mode 0644 less the umask),
 * never following a symbolic link; refuses anything but a regular file
 * owned by the effective uid. Truncates nothing. A descriptor, or -1 with
 * a one-line message in err. */
int evo_results_file_open(int dir_fd, const char *dir, const char *name, int flags, char *err, size_t err_size);

/* Atomically replaces NAME in dir_fd with text: a temporary with an
 * unguessable name is created (O_EXCL, mode 0644, or 0600 when private,
 * less the umask: a private file is never readable by others, even for a
 * moment), written, fsynced and renamed over NAME, then the directory is
 * fsynced. On failure (a full disk, a read-only directory, NAME a symbolic
 * link or a directory) returns -1 with errno, the temporary is gone and
 * the old NAME is untouched (but for a failed fsync of the directory,
 * after the rename); 0 on success. */
int evo_write_file(int dir_fd, const char *name, const char *text, int private_file);

/* The same with the text printed by build(out, arg) straight into the
 * temporary (a large file is never held in memory whole); a write error on
 * `out` is the call's failure. */
int evo_write_file_built(int dir_fd, const char *name, int private_file, void (*build)(FILE *out, const void *arg),
                         const void *arg);

/* strerror(errnum), but ELOOP (what opening a planted symbolic link with
 * O_NOFOLLOW, or replacing one, fails with) said plainly. */
const char *evo_file_error(int errnum);

/* v as a JSON value in buf (at least 32 bytes): "%.17g", or null for NaN
 * and infinities, which JSON cannot hold. Returns buf. */
const char *evo_json_number(char *buf, size_t size, double v);

/* The user's home: $HOME when it is an absolute path, else the effective
 * user's passwd entry (a task of srun --export=NONE has no HOME). 0 with
 * it in out, or -1 when neither gives one that fits. */
int evo_home_dir(char *out, size_t size);

#endif
