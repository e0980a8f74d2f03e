/* site.h — the plugin's site settings, from the arguments of its line in
 * plugstack.conf ("optional .../spank_evo_farm.so key=value ..."). */
#ifndef EVO_PLUGIN_SITE_H
#define EVO_PLUGIN_SITE_H

#include <stddef.h>

struct evo_site {
    char modules_init[512];     /* the shell script that defines `module` (default: the first found) */
    unsigned modules_timeout_s; /* a `module load` that takes longer is killed */
    char venv_roots[1024];      /* ':'-separated; empty = a venv may be anywhere */
    int threads;                /* set OMP_NUM_THREADS & co from cpus-per-task */
    char mpi[16];               /* auto (PMIx if this Slurm has it, else PMI-2), pmix or pmi2 */
    char evo_farm[1024];        /* the evo-farm command a task's argv gets in front */
    char bind[256];             /* rank 0's broker when farm.bind says nothing; empty: every address */
};

/* Fills defaults, then applies each "key=value" argument. 0, or -1 with
 * "argument N 'TEXT': why" in err. Known keys: modules_init=PATH,
 * venv_roots=DIR[:DIR...], threads=yes|no, mpi=auto|pmix|pmi2, modules_timeout=SECONDS (1..3600,
 * default 60),
 * evo_farm=PATH (default EVO_FARM_COMMAND, the installed command),
 * bind=tcp://HOST:PORT (the network and ports a site opens to rank 0's
 * broker: HOST an address or interface, PORT *, a number or FIRST-LAST). */
int evo_site_parse(struct evo_site *site, int argc, char **argv, char *err, size_t err_size);

/* 1 when path lies under one of the venv roots (or there are none). */
int evo_site_venv_allowed(const struct evo_site *site, const char *path);

#endif
