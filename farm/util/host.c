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
    if (name && name[0])
        snprintf(out, size, "%s", name);
    else if (gethostname(out, size) != 0)
        snprintf(out, size, "unknown");
    out[size - 1] = '\0';
    /* One word of printable ASCII, as HELLO carries it (wire/proto.c):
     * whatever else a variable holds becomes '_'. */
    for (char *c = out; *c; c++)
        if ((unsigned char)*c <= ' ' || (unsigned char)*c > '~')
            *c = '_';
}
