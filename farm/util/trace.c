/* trace.c — see trace.h. */
#include "trace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "names.h"

int evo_trace_on;

static struct {
    const char *point;
    int64_t ns;
} * events;
static size_t nevents;
static char prefix[EVO_PATH_MAX];

static void write_events(void)
{
    char path[EVO_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s.%d", prefix, (int)getpid());
    FILE *f = fopen(path, "a"); /* a Python driver appends its own events to the same file */
    for (size_t i = 0; f && i < nevents; i++)
        fprintf(f, "%s %lld\n", events[i].point, (long long)events[i].ns);
    if (f)
        fclose(f);
}

void evo_trace_init(void)
{
    const char *p = getenv(EVO_VAR_TRACE);
    if (evo_trace_on || p == NULL || p[0] == '\0' || (size_t)snprintf(prefix, sizeof prefix, "%s", p) >= sizeof prefix)
        return;
    if ((events = calloc(EVO_TRACE_MAX, sizeof *events)) == NULL)
        return;
    evo_trace_on = 1;
    atexit(write_events);
}

void evo_trace_record(const char *point)
{
    if (nevents < EVO_TRACE_MAX) {
        events[nevents].point = point;
        events[nevents++].ns = evo_now_ns();
    }
}
