/* log.c — one-line diagnostics on stderr (see log.h). */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "names.h"

static char log_prefix[64] = "evo-farm";
static enum evo_log_level log_level = EVO_LOG_WARN;

void evo_log_set_prefix(const char *prefix)
{
    snprintf(log_prefix, sizeof log_prefix, "%s", prefix);
}

void evo_log_set_level(enum evo_log_level level)
{
    log_level = level;
}

void evo_log_init(void)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    const char *value = getenv(EVO_VAR_LOG);
    if (value == NULL)
        return;
    for (int i = 0; i < 4; i++)
        if (strcmp(value, names[i]) == 0)
            log_level = (enum evo_log_level)i;
}

int evo_log_enabled(enum evo_log_level level)
{
    return level <= log_level;
}

void evo_log(enum evo_log_level level, const char *fmt, ...)
{
    if (!evo_log_enabled(level))
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per message so lines from many processes do not interleave. */
    fprintf(stderr, "%s: %s%s\n", log_prefix,
            level == EVO_LOG_ERROR  ? "error: "
            : level == EVO_LOG_WARN ? "warning: "
                                    : "",
            line);
}
