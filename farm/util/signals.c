/* signals.c — the launcher's signal mask and the job's signals every farm
 * process ignores (see signals.h). */
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

static const int job_signals[] = {SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGPOLL};
#define JOB_SIGNALS (sizeof job_signals / sizeof job_signals[0])
static struct sigaction found[JOB_SIGNALS];
static int ignored;

void evo_signals_job_ignore(void)
{
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigemptyset(&ignore.sa_mask);
    if (ignored)
        return;
    for (size_t i = 0; i < JOB_SIGNALS; i++)
        sigaction(job_signals[i], &ignore, &found[i]);
    ignored = 1;
}

static volatile sig_atomic_t forward_to; /* a pid; 0: none */

static void forward(int signo)
{
    pid_t pid = (pid_t)forward_to;
    if (pid > 0)
        kill(pid, signo);
}

void evo_signals_job_forward(pid_t pid)
{
    struct sigaction act = {.sa_handler = pid > 0 ? forward : SIG_IGN, .sa_flags = SA_RESTART};
    sigemptyset(&act.sa_mask);
    forward_to = pid;
    for (size_t i = 0; i < JOB_SIGNALS; i++)
        sigaction(job_signals[i], &act, NULL);
}

void evo_signals_job_restore(void)
{
    if (!ignored)
        return;
    for (size_t i = 0; i < JOB_SIGNALS; i++)
        sigaction(job_signals[i], &found[i], NULL);
}
