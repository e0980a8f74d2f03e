/* mpi.c — choosing and checking a farm step's wire-up (see mpi.h). */
#include "mpi.h"

#include "util/names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int evo_mpi_usable(const char *type)
{
    if (type == NULL)
        return 0;
    if (strcmp(type, "pmi2") == 0 || strcmp(type, "pmix") == 0)
        return 1;
    return strncmp(type, "pmix_v", 6) == 0 && type[6] && strspn(type + 6, "0123456789") == strlen(type + 6);
}

/* Copies the value of KEY=VALUE at line into out when KEY matches name. */
static void conf_value(const char *line, size_t length, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    while (length && isspace((unsigned char)*line))
        line++, length--;
    if (length <= n || strncasecmp(line, name, n) != 0)
        return;
    const char *p = line + n, *end = line + length;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p == end || *p != '=')
        return;
    p++;
    while (p < end && isspace((unsigned char)*p))
        p++;
    size_t v = (size_t)(end - p);
    while (v && (isspace((unsigned char)p[v - 1]) || p[v - 1] == '\r'))
        v--;
    snprintf(out, size, "%.*s", (int)v, p);
}

void evo_mpi_conf_values(const char *text, char *plugin_dir, size_t plugin_dir_size, char *mpi_default,
                         size_t mpi_default_size)
{
    plugin_dir[0] = mpi_default[0] = '\0';
    for (const char *line = text; line && *line;) {
        const char *newline = strchr(line, '\n');
        size_t length = newline ? (size_t)(newline - line) : strlen(line);
        const char *hash = memchr(line, '#', length);
        size_t used = hash ? (size_t)(hash - line) : length;
        conf_value(line, used, "PluginDir", plugin_dir, plugin_dir_size);
        conf_value(line, used, "MpiDefault", mpi_default, mpi_default_size);
        line = newline ? newline + 1 : NULL;
    }
}

const char *evo_mpi_pick(const char *site_mpi, const char *mpi_default, int have_pmix)
{
    if (site_mpi && site_mpi[0] && strcmp(site_mpi, "auto") != 0)
        return site_mpi;
    if (evo_mpi_usable(mpi_default))
        return NULL;
    return have_pmix ? "pmix" : "pmi2";
}

int evo_mpi_cmdline_wants_farm(const char *cmdline, size_t size)
{
    int wants = 0;
    for (size_t i = 0; i < size; i += strnlen(cmdline + i, size - i) + 1) {
        const char *arg = cmdline + i;
        if (strcmp(arg, "--evo-farm") == 0) /* its value is optional: given only with = */
            wants = 1;
        else if (strncmp(arg, "--evo-farm=", 11) == 0) /* the last one wins, as for the option */
            wants = strcmp(arg + 11, "none") == 0 ? -1 : 1;
    }
    return wants;
}

int evo_mpi_have_pmix(const char *dirs)
{
    char path[EVO_PATH_MAX];
    for (const char *p = dirs ? dirs : ""; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(path, sizeof path, "%.*s/mpi_pmix.so", (int)n, p);
        if (n && access(path, R_OK) == 0)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}
