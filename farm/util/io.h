/* io.h — whole writes to a descriptor. */
#ifndef EVO_IO_H
#define EVO_IO_H

#include <stddef.h>

/* Writes all `size` bytes at p to fd, going on after EINTR and short
 * writes. 0, or -1 with errno (EIO when write wrote nothing). */
int evo_write_all(int fd, const void *p, size_t size);

#endif
