/* fds.c — see fds.h. */
#include "fds.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void evo_fds_close_from(int first, int on_exec)
{
    struct rlimit lim;
    if (close_range((unsigned)first, ~0U, on_exec ? CLOSE_RANGE_CLOEXEC : 0) == 0)
        return;
    rlim_t top = getrlimit(RLIMIT_NOFILE, &lim) == 0 ? lim.rlim_cur : 65536;
    if (top == RLIM_INFINITY || top > (1 << 20))
        top = 1 << 20;
    for (rlim_t fd = (rlim_t)first; fd < top; fd++) {
        if (on_exec)
            fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        else
            close((int)fd);
    }
}
