/* forkserver.h — a worker's Python evaluator forked from its node's fork
 * server (evofarm._forkserver: one interpreter per farm and node that has
 * imported the driver's script once) rather than started afresh
 * (`evaluate: {python: ..., start: fork}`, the default).
 *
 * The server listens on DIR/.forkserver-HOST (DIR: the farm's directory on
 * this node, EVO_FARM_SHARED_DIR, 0700 and ours; HOST: this node's name,
 * for a DIR several nodes share). The first worker that finds none starts
 * one, under DIR/.forkserver-HOST.lock, detached from itself (it
 * outlives its starter: any worker may die); every worker keeps one
 * connection for its life, on which it asks for each child it needs and
 * hears when that child ended. The server kills a worker's child when the
 * worker's connection closes first, each child dies with the server, and
 * the server leaves when no worker is connected. The wire format is in
 * python/evofarm/_forkserver.py. */
#ifndef EVO_FORKSERVER_H
#define EVO_FORKSERVER_H

#include <stddef.h>
#include <sys/types.h>

struct evo_forkserver {
    int fd; /* the connection; -1: none */
};

/* Connects to the server a Python driver forked from itself for its own
 * farm (its socket in EVO_FARM_FORKSERVER: evofarm._embedded) while it
 * lives; else to the server of `dir`, starting it with `argv` (the
 * interpreter's command line; SOCKET and LOCK are appended) when there is
 * none: prepare(arg) runs in its process before the exec, and it has
 * wait_ms to import what it imports and listen. 0, or -1 with err. */
int evo_forkserver_connect(struct evo_forkserver *s, const char *dir, char *const argv[], void (*prepare)(void *),
                           void *arg, int wait_ms, char *err, size_t err_size);

/* A child whose stdin, stdout and stderr are child_in, child_out and this
 * process's stderr, with this process's environment and CPU affinity; its
 * pid. -1 with err when the server is gone or cannot fork (the connection
 * is then closed). */
pid_t evo_forkserver_spawn(struct evo_forkserver *s, int child_in, int child_out, char *err, size_t err_size);

/* Whether the server has said that the child ended (or is gone, and the
 * child with it); reads nothing. */
int evo_forkserver_child_ended(const struct evo_forkserver *s);

/* Waits up to wait_ms for the child's end: its wait status in *status and
 * 0; -1 after wait_ms; 1 when the server is gone (the child died with
 * it; the connection is then closed). */
int evo_forkserver_wait(struct evo_forkserver *s, int wait_ms, int *status);

/* Closes the connection (the server kills a child still running). */
void evo_forkserver_close(struct evo_forkserver *s);

#endif
