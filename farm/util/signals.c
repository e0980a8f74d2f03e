/* signals.c — the launcher's signal mask (see signals.h). */
#include "signals.h"

void evo_signals_farm_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

int evo_signals_block(sigset_t *old)
{
    sigset_t set;
    evo_signals_farm_set(&set);
    return sigprocmask(SIG_BLOCK, &set, old);
}

int evo_signals_unblock(const sigset_t *old)
{
    sigset_t set;
    evo_signals_farm_set(&set);
    if (old && sigprocmask(SIG_SETMASK, old, NULL) < 0)
        return -1;
    return sigprocmask(SIG_UNBLOCK, &set, NULL);
}
