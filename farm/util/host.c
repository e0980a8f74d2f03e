/* host.c — the host name a member reports (see host.h). */
#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "names.h"

void evo_host_name(char *out, size_t size)
{
    const char *name = getenv(EVO_VAR_HOST);
    if (name == NULL || !name[0])
        name = getenv("PMIX_HOSTNAME");
    if (name && name[0]) {
        snprintf(out, size, "%s", name);
        return;
    }
    if (gethostname(out, size) != 0)
        snprintf(out, size, "unknown");
    out[size - 1] = '\0';
}
