/* limits.c — the open-files limit (see limits.h). */
#include "limits.h"

#include <stdio.h>
#include <sys/resource.h>

#include "names.h"

static struct rlimit found;
static int raised;

unsigned long evo_limits_raise(void)
{
    struct rlimit now;
    if (getrlimit(RLIMIT_NOFILE, &now) != 0)
        return 0;
    if (!raised && now.rlim_cur < now.rlim_max) {
        struct rlimit up = {now.rlim_max, now.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
            found = now;
            raised = 1;
            now = up;
        }
    }
    return now.rlim_cur == RLIM_INFINITY ? (unsigned long)-1 : (unsigned long)now.rlim_cur;
}

unsigned long evo_limits_found(void)
{
    return raised ? (unsigned long)found.rlim_cur : 0;
}

void evo_limits_restore(void)
{
    if (raised)
        setrlimit(RLIMIT_NOFILE, &found);
}

unsigned long evo_limits_files_needed(unsigned long members)
{
    return members + EVO_FILES_RESERVE;
}

int evo_limits_check(unsigned long members, char *err, size_t size)
{
    struct rlimit now;
    unsigned long need = evo_limits_files_needed(members);
    if (getrlimit(RLIMIT_NOFILE, &now) != 0 || now.rlim_cur == RLIM_INFINITY || now.rlim_cur >= need)
        return 0;
    snprintf(err, size,
             "the open-files limit (ulimit -n) is %lu, hard limit %lu, and a farm of %lu members needs %lu: "
             "raise the nodes' hard limit (limits.conf nofile, slurmd's LimitNOFILE) or run fewer tasks",
             (unsigned long)now.rlim_cur,
             now.rlim_max == RLIM_INFINITY ? (unsigned long)-1 : (unsigned long)now.rlim_max, members, need);
    return -1;
}
