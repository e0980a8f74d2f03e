/* io.c — see io.h. */
#include "io.h"

#include <errno.h>
#include <unistd.h>

int evo_write_all(int fd, const void *p, size_t size)
{
    const char *at = p;
    while (size > 0) {
        ssize_t n = write(fd, at, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        at += n;
        size -= (size_t)n;
    }
    return 0;
}
