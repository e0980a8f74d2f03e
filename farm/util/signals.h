/* signals.h — the signals a farm's launcher takes through its signalfd
 * (SIGCHLD, SIGINT, SIGTERM), blocked and unblocked in one place: a step
 * blocks them before PMIx starts its progress thread (which would otherwise
 * swallow a SIGCHLD meant for the signalfd), and every child gets them
 * back before it runs anything. */
#ifndef EVO_SIGNALS_H
#define EVO_SIGNALS_H

#include <signal.h>

/* Fills set with exactly the launcher's signals. */
void evo_signals_farm_set(sigset_t *set);

/* Blocks them in the calling thread; the previous mask goes to *old when
 * old is not NULL. 0, or -1 with errno. */
int evo_signals_block(sigset_t *old);

/* Restores *old when it is not NULL, then unblocks the launcher's signals
 * whatever it held: for a child about to exec and for a step's worker,
 * which must end on SIGTERM. 0, or -1 with errno. */
int evo_signals_unblock(const sigset_t *old);

#endif
