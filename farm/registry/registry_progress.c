/* registry_progress.c — DIR/progress.json, the built-in optimiser's
 * progress for `evo-farm status DIR`; see registry.h. */
#include "registry_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/files.h"
#include "util/names.h"

int evo_progress_write(int dir_fd, const struct evo_progress *p)
{
    char json[512], best[32];
    snprintf(json, sizeof json,
             "{\"generation\": %llu, \"generations\": %u, \"evaluations\": %llu, \"best\": %s, \"running\": %s, "
             "\"nonfinite_evaluations\": %llu}\n",
             p->generation, p->generations, p->evaluations, evo_json_number(best, sizeof best, p->best),
             p->running ? "true" : "false", p->nonfinite);
    return evo_write_file(dir_fd, "progress.json", json, 0);
}

/* progress.json's text into p. 0, or -1 (p partly filled). */
static int parse_progress(const char *text, struct evo_progress *p)
{
    char running[8] = "", *end;
    int at = 0;
    if (sscanf(text, "{\"generation\": %llu, \"generations\": %u, \"evaluations\": %llu, \"best\": %n", &p->generation,
               &p->generations, &p->evaluations, &at) != 3 ||
        at == 0)
        return -1;
    const char *best = text + at;
    if (strncmp(best, "null", 4) == 0) {
        p->best = NAN;
        end = (char *)best + 4;
    } else if ((p->best = strtod(best, &end)), end == best) {
        return -1;
    }
    if (sscanf(end, ", \"running\": %5[a-z], \"nonfinite_evaluations\": %llu}", running, &p->nonfinite) != 2)
        return -1;
    p->running = strcmp(running, "true") == 0;
    return 0;
}

int evo_progress_read(const char *dir, struct evo_progress *out)
{
    char path[EVO_PATH_MAX], text[512];
    struct evo_progress p;
    snprintf(path, sizeof path, "%s/progress.json", dir);
    FILE *f = registry_open_read(path);
    if (f == NULL)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    if (parse_progress(text, &p) < 0)
        return -1;
    *out = p;
    return 0;
}
