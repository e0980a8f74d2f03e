/* fds.h — what a child process inherits: only the descriptors it is
 * given. A worker, an evaluator or a module command started from a
 * process that holds a step's PMI socket, an embedder's ready pipe or a
 * farm's own sockets would otherwise hold them too (keeping a pipe's
 * reader waiting, a socket open after its owner closed it). */
#ifndef EVO_FDS_H
#define EVO_FDS_H

/* Every descriptor from `first` up: closed now (on_exec 0), or marked to
 * close at the next exec (on_exec 1: a child still reporting a failed
 * exec on a pipe keeps it until then). close_range where the kernel has
 * it; some kernels and sandboxes answer ENOSYS, and then each descriptor
 * below the limit is handled in turn. Async-signal-safe: for a child
 * between fork and exec. */
void evo_fds_close_from(int first, int on_exec);

#endif
