/* parse.h — scalar syntax shared by the configuration, the command line and
 * the environment variables the runtime reads. Pure functions. */
#ifndef EVO_PARSE_H
#define EVO_PARSE_H

#include <stdint.h>

/* Durations: "250ms", "30s", "2m", "1h", "1.5s" or a bare number of seconds.
 * 0 and the value in milliseconds in *ms, or -1 (*ms untouched). */
int evo_parse_duration_ms(const char *text, unsigned *ms);

/* A whole decimal number without sign or junk, within [min, max]. 0 and the
 * value in *out, or -1 (*out untouched). */
int evo_parse_unsigned(const char *text, unsigned min, unsigned max, unsigned *out);

/* A TCP port range "FIRST-LAST", 1 <= FIRST <= LAST <= 65535. 0 and the
 * range in *first and *last, or -1 (both untouched). */
int evo_parse_port_range(const char *text, unsigned *first, unsigned *last);

/* An IPv4 network "A.B.C.D/N", 0 <= N <= 32. 0 and the network's address
 * and mask (host byte order) in *address and *netmask, or -1 (both
 * untouched). */
int evo_parse_cidr(const char *text, uint32_t *address, uint32_t *netmask);

/* The whole number (seconds, a count) in environment variable `name`,
 * within [1, max]; the default when it is unset or not such a number. */
unsigned evo_parse_env_unsigned(const char *name, unsigned max, unsigned fallback);

#endif
