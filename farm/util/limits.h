/* limits.h — the open-files limit a farm runs with. A broker holds a
 * descriptor for each member's connection, and srun hands every task the
 * submitting shell's soft RLIMIT_NOFILE (often 1024, sometimes far less):
 * every evo-farm process raises its soft limit to the hard one at start,
 * and gives what it runs (the user's driver, the evaluators) the limit it
 * was started with. Where the hard limit cannot hold a farm, the farm says
 * so in one line before it starts instead of losing the workers that do
 * not fit. */
#ifndef EVO_LIMITS_H
#define EVO_LIMITS_H

#include <stddef.h>

/* Raises the soft open-files limit to the hard one, once, remembering the
 * limit found for evo_limits_restore. The soft limit in force after, or 0
 * when it cannot be read. */
unsigned long evo_limits_raise(void);

/* The soft limit evo_limits_raise found (what the user asked for), or 0
 * when it did not run or did not change it. */
unsigned long evo_limits_found(void);

/* In a child about to exec the user's code: the soft limit it was started
 * with again. Async-signal-safe. */
void evo_limits_restore(void);

/* The descriptors a broker needs for members connections: one each, and
 * EVO_FILES_RESERVE for its own (ZeroMQ's, the journal, the logs). Pure. */
unsigned long evo_limits_files_needed(unsigned long members);

/* 0 when the open-files limit in force holds a farm of members members;
 * else -1 with one line in err naming the limit, what the farm needs and
 * the fix. Pure but for getrlimit. */
int evo_limits_check(unsigned long members, char *err, size_t size);

#endif
