/* host.h — the host name a member of a farm reports to the broker. */
#ifndef EVO_HOST_H
#define EVO_HOST_H

#include <stddef.h>

/* Writes the host name peers report into out (always NUL-terminated):
 * $EVO_FARM_HOST, else $PMIX_HOSTNAME, else gethostname(), else "unknown". */
void evo_host_name(char *out, size_t size);

#endif
