/* site.c — plugstack.conf arguments (see site.h); an unknown key is an
 * error, never ignored, so a typo cannot silently weaken a site policy. */
#include "site.h"

#include "config/config.h"
#include "util/networks.h"
#include "util/parse.h"

#include "evo_paths.h" /* EVO_FARM_COMMAND: $(PREFIX)/bin/evo-farm, made by the Makefile */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int set(char *field, size_t size, const char *value)
{
    if (strlen(value) >= size || value[0] == '\0')
        return -1;
    strcpy(field, value);
    return 0;
}

/* The first of the usual places of the script that defines `module` that
 * exists on this machine (Debian's environment-modules first, as before),
 * else Debian's: each distribution puts it elsewhere, and Lmod's
 * init/bash is a drop-in for Tcl's. */
static void default_modules_init(char *out, size_t size)
{
    static const char *const places[] = {
        "/usr/share/modules/init/bash",        /* environment-modules: Debian, Ubuntu */
        "/usr/share/Modules/init/bash",        /* environment-modules: RHEL, Rocky, Alma */
        "/usr/share/lmod/lmod/init/bash",      /* Lmod: Debian, Ubuntu, EPEL */
        "/opt/ohpc/admin/lmod/lmod/init/bash", /* Lmod: OpenHPC */
    };
    const char *found = places[0];
    for (size_t i = 0; i < sizeof places / sizeof places[0]; i++)
        if (access(places[i], R_OK) == 0) {
            found = places[i];
            break;
        }
    snprintf(out, size, "%s", found);
}

int evo_site_parse(struct evo_site *site, int argc, char **argv, char *err, size_t err_size)
{
    memset(site, 0, sizeof *site);
    default_modules_init(site->modules_init, sizeof site->modules_init);
    site->threads = 1;
    site->modules_timeout_s = 60;
    strcpy(site->mpi, "auto");
    snprintf(site->evo_farm, sizeof site->evo_farm, "%s", EVO_FARM_COMMAND);
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '='), *value = eq ? eq + 1 : "";
        size_t key = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        int bad;
        if (key == 12 && strncmp(argv[i], "modules_init", key) == 0)
            bad = set(site->modules_init, sizeof site->modules_init, value) < 0 || value[0] != '/';
        else if (key == 10 && strncmp(argv[i], "venv_roots", key) == 0)
            bad = set(site->venv_roots, sizeof site->venv_roots, value) < 0 || value[0] != '/';
        else if (key == 7 && strncmp(argv[i], "threads", key) == 0)
            bad = !(strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) || !(site->threads = value[0] == 'y', 1);
        else if (key == 15 && strncmp(argv[i], "modules_timeout", key) == 0)
            bad = evo_parse_unsigned(value, 1, 3600, &site->modules_timeout_s) < 0;
        else if (key == 3 && strncmp(argv[i], "mpi", key) == 0)
            bad = !(strcmp(value, "auto") == 0 || strcmp(value, "pmix") == 0 || strcmp(value, "pmi2") == 0) ||
                  set(site->mpi, sizeof site->mpi, value) < 0;
        else if (key == 8 && strncmp(argv[i], "evo_farm", key) == 0)
            bad = set(site->evo_farm, sizeof site->evo_farm, value) < 0 || value[0] != '/';
        else if (key == 4 && strncmp(argv[i], "bind", key) == 0) {
            char why[384] = "expected bind=tcp://HOST:PORT";
            if (set(site->bind, sizeof site->bind, value) < 0 || evo_bind_check(value, why, sizeof why) < 0) {
                snprintf(err, err_size, "argument %d '%s': %s", i + 1, argv[i], why);
                return -1;
            }
            bad = 0;
        } else {
            snprintf(err, err_size,
                     "argument %d '%s': unknown setting (known: modules_init=PATH, "
                     "venv_roots=DIR[:DIR...], threads=yes|no, modules_timeout=SECONDS, mpi=auto|pmix|pmi2, "
                     "evo_farm=PATH, bind=tcp://HOST:PORT)",
                     i + 1, argv[i]);
            return -1;
        }
        if (bad || !eq) {
            snprintf(err, err_size, "argument %d '%s': %s", i + 1, argv[i],
                     key == 7    ? "expected threads=yes or threads=no"
                     : key == 3  ? "expected mpi=auto, mpi=pmix or mpi=pmi2"
                     : key == 15 ? "expected a whole number of seconds from 1 to 3600"
                                 : "expected an absolute path");
            return -1;
        }
    }
    return 0;
}

int evo_site_venv_allowed(const struct evo_site *site, const char *path)
{
    if (site->venv_roots[0] == '\0')
        return 1;
    for (const char *p = site->venv_roots; *p;) {
        size_t n = strcspn(p, ":");
        while (n > 1 && p[n - 1] == '/')
            n--;
        /* below the root, or the root itself ("/" holds every absolute path) */
        if (n && strncmp(path, p, n) == 0 && (path[n] == '/' || path[n] == '\0' || p[n - 1] == '/'))
            return 1;
        p += strcspn(p, ":");
        p += *p == ':';
    }
    return 0;
}
