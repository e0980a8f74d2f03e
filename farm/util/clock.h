/* clock.h — monotonic time in milliseconds and nanoseconds. */
#ifndef EVO_CLOCK_H
#define EVO_CLOCK_H

#include <stdint.h>

/* Milliseconds / nanoseconds on CLOCK_MONOTONIC. */
int64_t evo_now_ms(void);
int64_t evo_now_ns(void);

#endif
