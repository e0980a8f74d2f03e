/* local.c — the submitting side: srun (local context), sbatch and salloc
 * (allocator context). The YAML is validated with the same loader as
 * `evo-farm check` before anything is submitted or launched. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "plugin.h"
#include "util/names.h"

/* Loads FILE; on success *text is its content and *dir its absolute
 * directory (caller frees both). -1 after printing the error. */
static int validate(char **text, char **dir)
{
    char err[EVO_ERROR_MAX];
    size_t size = 0;
    char *relative = NULL;
    struct evo_config *config = NULL;
    *dir = NULL;
    if ((*text = evo_config_read_file(evo_plugin.file, &size, err, sizeof err)) == NULL)
        goto fail;
    if (size > EVO_CONFIG_TEXT_MAX || strlen(*text) != size) {
        snprintf(err, sizeof err, "%s: larger than %d KiB or not text: an --evo-farm file travels in the "
                 "step's environment", evo_plugin.file, EVO_CONFIG_TEXT_MAX / 1024);
        goto fail;
    }
    if ((relative = evo_config_dir_of(evo_plugin.file)) == NULL) {
        snprintf(err, sizeof err, "%s: out of memory", evo_plugin.file);
        goto fail;
    }
    /* The loader resolves the directory; the tasks get it absolute. */
    if ((config = evo_config_parse(evo_plugin.file, *text, size, relative, err, sizeof err)) == NULL)
        goto fail;
    if ((*dir = strdup(config->dir)) == NULL) {
        snprintf(err, sizeof err, "%s: out of memory", evo_plugin.file);
        goto fail;
    }
    if (config->environment.venv && !evo_site_venv_allowed(&evo_plugin.site, config->environment.venv)) {
        snprintf(err, sizeof err, "%s: environment.venv %s is outside the directories this site allows (%s)",
                 evo_plugin.file, config->environment.venv, evo_plugin.site.venv_roots);
        goto fail;
    }
    evo_config_destroy(config);
    free(relative);
    return 0;
fail:
    slurm_error("evo-farm: %s", err);
    evo_config_destroy(config);
    free(relative);
    free(*text);
    free(*dir);
    *text = *dir = NULL;
    return -1;
}

/* The step's member key pair: fresh for every srun, so a key seen by one
 * step is worthless for the next. libzmq makes it, loaded here only: the
 * plugin does not link it, so slurmstepd (which never makes keys) never
 * maps ZeroMQ. It is present wherever the plugin is, through evo-farm. */
static int step_keys(void)
{
    char public_key[41], secret_key[41];
    void *zmq = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
    int (*has)(const char *) = zmq ? (int (*)(const char *))dlsym(zmq, "zmq_has") : NULL;
    int (*keypair)(char *, char *) = zmq ? (int (*)(char *, char *))dlsym(zmq, "zmq_curve_keypair") : NULL;
    if (has == NULL || keypair == NULL) {
        slurm_error("evo-farm: cannot load libzmq.so.5 to make the step's CURVE keys: %s", dlerror());
        if (zmq)
            dlclose(zmq);
        return -1;
    }
    int made = has("curve") && keypair(public_key, secret_key) == 0;
    dlclose(zmq);
    if (!made) {
        slurm_error("evo-farm: cannot make CURVE keys (libzmq without CURVE support?)");
        return -1;
    }
    int rc = setenv(EVO_VAR_CLIENT_PUBLIC, public_key, 1) | setenv(EVO_VAR_CLIENT_SECRET, secret_key, 1);
    explicit_bzero(secret_key, sizeof secret_key);
    return rc ? -1 : 0;
}

int evo_local_post_opt(spank_t sp, int allocator)
{
    char *text = NULL, *dir = NULL;
    const char *mpi = getenv("SLURM_MPI_TYPE");
    int rc = -1;
    (void)sp;
    if (validate(&text, &dir) < 0)
        return -1;
    if (allocator) {
        /* sbatch/salloc pass their environment to the job, so every srun
         * inside gets PMIx unless the user chose an MPI type. */
        rc = mpi ? 0 : setenv("SLURM_MPI_TYPE", "pmix", 1);
    } else if (mpi == NULL || strncmp(mpi, "pmix", 4) != 0) {
        /* srun has already chosen its MPI plugin by now: it cannot be
         * changed from here, so say exactly what to do. */
        slurm_error("evo-farm: --evo-farm needs PMIx but this step uses --mpi=%s: add --mpi=pmix to srun "
                    "(or set MpiDefault=pmix in slurm.conf)", mpi ? mpi : "none");
    } else if (step_keys() == 0 && setenv(EVO_VAR_CONFIG_TEXT, text, 1) == 0 &&
               setenv(EVO_VAR_CONFIG_NAME, evo_plugin.file, 1) == 0 && setenv(EVO_VAR_CONFIG_DIR, dir, 1) == 0) {
        rc = 0;
    }
    free(text);
    free(dir);
    return rc;
}
