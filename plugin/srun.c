/* srun.c — the submitting side: srun (SPANK's local context), sbatch and salloc
 * (allocator context). The YAML is validated with the same loader as
 * `evo-farm check` before anything is submitted or launched. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "mpi.h"
#include "plugin.h"
#include "registry/registry.h"
#include "util/names.h"

/* Whether the site refuses the configuration's venv (outside venv_roots):
 * 1 with the message, naming the file `name`, in err; else 0. */
static int venv_refused(const struct evo_config *config, const char *name, char *err, size_t err_size)
{
    if (config->environment.venv == NULL || evo_site_venv_allowed(&evo_plugin.site, config->environment.venv))
        return 0;
    snprintf(err, err_size, "%.300s: environment.venv %.300s is outside the directories this site allows (%.300s)",
             name, config->environment.venv, evo_plugin.site.venv_roots);
    return 1;
}

/* Loads FILE; on success *text is its content and *dir its absolute
 * directory (caller frees both). -1 after printing the error. */
static int validate(char **text, char **dir)
{
    char err[EVO_ERROR_MAX];
    size_t size = 0;
    char *relative = NULL;
    struct evo_config *config = NULL;
    *dir = NULL;
    if (evo_plugin.defaults) { /* a bare --evo-farm: an empty file in the current directory */
        if ((*text = strdup("")) == NULL) {
            snprintf(err, sizeof err, "out of memory");
            goto fail;
        }
    } else if ((*text = evo_config_read_file(evo_plugin.file, &size, err, sizeof err)) == NULL) {
        goto fail;
    }
    if (size > EVO_CONFIG_TEXT_MAX || strlen(*text) != size) {
        snprintf(err, sizeof err,
                 "%s: larger than %d KiB or not text: an --evo-farm file travels in the "
                 "step's environment",
                 evo_plugin.file, EVO_CONFIG_TEXT_MAX / 1024);
        goto fail;
    }
    if ((relative = evo_plugin.defaults ? strdup(".") : evo_config_dir_of(evo_plugin.file)) == NULL) {
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
    if (venv_refused(config, evo_plugin.file, err, sizeof err)) {
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

/* The step's key pairs, one per role (wire/credentials.h: driver, worker,
 * nested): fresh for every srun, so a key seen by one step is worthless
 * for the next; task_init gives each task only its rank's. libzmq makes
 * them, loaded here only: the plugin does not link it, so slurmstepd
 * (which never makes keys) never maps ZeroMQ. It is present wherever the
 * plugin is, through evo-farm. */
static int step_keys(void)
{
    static const char *const names[][2] = {{EVO_STEP_VAR_DRIVER_PUBLIC, EVO_STEP_VAR_DRIVER_SECRET},
                                           {EVO_STEP_VAR_WORKER_PUBLIC, EVO_STEP_VAR_WORKER_SECRET},
                                           {EVO_STEP_VAR_NESTED_PUBLIC, EVO_STEP_VAR_NESTED_SECRET}};
    char public_key[3][41], secret_key[3][41];
    void *zmq = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
    int (*has)(const char *) = zmq ? (int (*)(const char *))dlsym(zmq, "zmq_has") : NULL;
    int (*keypair)(char *, char *) = zmq ? (int (*)(char *, char *))dlsym(zmq, "zmq_curve_keypair") : NULL;
    if (has == NULL || keypair == NULL) {
        slurm_error("evo-farm: cannot load libzmq.so.5 to make the step's CURVE keys: %s", dlerror());
        if (zmq)
            dlclose(zmq);
        return -1;
    }
    int made = has("curve");
    for (int r = 0; made && r < 3; r++)
        made = keypair(public_key[r], secret_key[r]) == 0;
    dlclose(zmq);
    if (!made) {
        slurm_error("evo-farm: cannot make CURVE keys (libzmq without CURVE support?)");
        return -1;
    }
    int rc = 0;
    for (int r = 0; r < 3; r++)
        rc |= setenv(names[r][0], public_key[r], 1) | setenv(names[r][1], secret_key[r], 1);
    explicit_bzero(secret_key, sizeof secret_key);
    return rc ? -1 : 0;
}

/* The Slurm plugin directories to look for mpi_pmix.so in: PluginDir, or
 * Slurm's default, the directory of the libslurm this process runs. */
static void plugin_dirs(const char *plugin_dir, char *out, size_t size)
{
    Dl_info info;
    const char *slash;
    if (plugin_dir[0]) {
        snprintf(out, size, "%s", plugin_dir);
    } else if (dladdr((void *)spank_get_item, &info) != 0 && info.dli_fname &&
               (slash = strrchr(info.dli_fname, '/')) != NULL) {
        snprintf(out, size, "%.*s", (int)(slash - info.dli_fname), info.dli_fname);
    } else {
        out[0] = '\0';
    }
}

/* What srun should wire this step up with, or NULL when the user or the
 * cluster chose already. */
static const char *wire_up_choice(void)
{
    char plugin_dir[1024], mpi_default[64], dirs[1024], err[EVO_ERROR_MAX];
    const char *conf = getenv("SLURM_CONF");
    size_t size;
    if (getenv("SLURM_MPI_TYPE"))
        return NULL;
    char *text = evo_config_read_file(conf ? conf : "/etc/slurm/slurm.conf", &size, err, sizeof err);
    evo_mpi_conf_values(text ? text : "", plugin_dir, sizeof plugin_dir, mpi_default, sizeof mpi_default);
    free(text);
    plugin_dirs(plugin_dir, dirs, sizeof dirs);
    return evo_mpi_pick(evo_plugin.site.mpi, mpi_default, evo_mpi_have_pmix(dirs));
}

/* This process's command line, NUL-separated, in buf: its size (0 when
 * it cannot be read). */
static size_t own_cmdline(char *buf, size_t size)
{
    size_t n = 0;
    FILE *f = fopen("/proc/self/cmdline", "r");
    if (f) {
        n = fread(buf, 1, size, f);
        fclose(f);
    }
    return n;
}

/* Whether srun was given --multi-prog (each task its own command line:
 * slurmstepd builds each task's argv itself, past the plugin's reach). */
static int multi_prog(void)
{
    static char cmdline[65536];
    size_t n = own_cmdline(cmdline, sizeof cmdline);
    for (size_t i = 0; i < n; i += strnlen(cmdline + i, n - i) + 1)
        if (strcmp(cmdline + i, "--multi-prog") == 0)
            return 1;
    return 0;
}

static int farm_requested(void)
{
    char cmdline[65536];
    ssize_t n = (ssize_t)own_cmdline(cmdline, sizeof cmdline);
    const char *replayed = getenv(EVO_PLUGIN_REPLAY_FARM); /* set, even empty: #SBATCH --evo-farm */
    int said = n > 0 ? evo_mpi_cmdline_wants_farm(cmdline, (size_t)n) : 0;
    return said == 1 || (said == 0 && replayed && strcmp(replayed, "none") != 0);
}

int evo_srun_init(spank_t sp)
{
    (void)sp;
    if (!farm_requested())
        return 0;
    const char *type = wire_up_choice();
    if (type == NULL)
        return 0;
    return setenv("SLURM_MPI_TYPE", type, 0) == 0 ? 0 : -1;
}

int evo_srun_user_init(spank_t sp)
{
    const char *mpi = getenv("SLURM_MPI_TYPE");
    (void)sp;
    if (evo_mpi_usable(mpi)) {
        slurm_verbose("evo-farm: the farm wires up through %s", mpi);
        return 0;
    }
    slurm_error("evo-farm: --evo-farm needs PMIx or PMI-2 but this step uses --mpi=%s: leave --mpi out (evo-farm "
                "picks one) or give --mpi=pmix or --mpi=pmi2",
                mpi ? mpi : "none");
    return -1;
}

/* --evo-farm-join=FARM: FARM's join credential, from the records directory
 * of this user's home (which a cluster shares with its nodes, as rank 0
 * wrote it there), its configuration checked as an --evo-farm file is. In
 * srun the tasks get what they need to join, all under SLURM_ carriers:
 * the configuration, the worker and nested pairs, the broker's endpoints
 * and server key; sbatch and salloc only check, their sruns get the option
 * again. 0, or -1 after saying why. */
static int join_farm(int allocator)
{
    char records[EVO_PATH_MAX], path[EVO_PATH_MAX], err[EVO_ERROR_MAX], cwd[EVO_PATH_MAX];
    struct evo_access a;
    char *text = NULL;
    int rc = -1;
    if (evo_plugin.file[0]) {
        slurm_error("evo-farm: --evo-farm and --evo-farm-join=%s: give one (a step either is a farm or joins one)",
                    evo_plugin.join);
        return -1;
    }
    if (evo_farm_join_find(evo_plugin.join, path, sizeof path) < 0) {
        int known = evo_registry_path("farms", records, sizeof records) == 0;
        slurm_error("evo-farm: --evo-farm-join=%s: no running farm %s of yours (no %s/%s.join; evo-farm status "
                    "lists the running farms)",
                    evo_plugin.join, evo_plugin.join, known ? records : "~/" EVO_REGISTRY_DIR "/farms",
                    evo_plugin.join);
        return -1;
    }
    if (evo_access_read_file(path, &a, &text, err, sizeof err) < 0) {
        slurm_error("evo-farm: --evo-farm-join=%s: %s", evo_plugin.join, err);
        return -1;
    }
    if (getcwd(cwd, sizeof cwd) == NULL)
        strcpy(cwd, "/");
    struct evo_config *config = NULL;
    const char *const carried[][2] = {{EVO_STEP_VAR_CONFIG_TEXT, text},
                                      {EVO_STEP_VAR_CONFIG_NAME, path},
                                      {EVO_STEP_VAR_CONFIG_DIR, cwd},
                                      {EVO_STEP_VAR_WORKER_PUBLIC, a.public_key},
                                      {EVO_STEP_VAR_WORKER_SECRET, a.secret},
                                      {EVO_STEP_VAR_NESTED_PUBLIC, a.nested_public},
                                      {EVO_STEP_VAR_NESTED_SECRET, a.nested_secret},
                                      {EVO_STEP_VAR_SERVER_KEY, a.server},
                                      {EVO_STEP_VAR_JOIN, a.endpoints}};
    if (strlen(text) > EVO_CONFIG_TEXT_MAX || a.nested_public[0] == '\0') {
        snprintf(err, sizeof err, "%.300s: not a join credential this evo-farm can use", path);
    } else if ((config = evo_config_parse(path, text, strlen(text), cwd, err, sizeof err)) == NULL) {
        ; /* err says where */
    } else if (!venv_refused(config, path, err, sizeof err)) {
        rc = 0;
        for (size_t i = 0; !allocator && rc == 0 && i < sizeof carried / sizeof carried[0]; i++)
            rc = setenv(carried[i][0], carried[i][1], 1);
        if (rc < 0)
            snprintf(err, sizeof err, "%s", strerror(errno));
    }
    if (rc < 0)
        slurm_error("evo-farm: --evo-farm-join=%s: %s", evo_plugin.join, err);
    evo_config_destroy(config);
    explicit_bzero(&a, sizeof a);
    free(text);
    return rc;
}

int evo_srun_post_opt(spank_t sp, int allocator)
{
    char *text = NULL, *dir = NULL;
    int rc = -1;
    (void)sp;
    if (!allocator && multi_prog()) {
        slurm_error("evo-farm: --multi-prog cannot make a farm: rank 0 runs the driver and every other task a "
                    "worker already; give the driver as srun's command (or opt this step out with --evo-farm=none)");
        return -1;
    }
    if (evo_plugin.join[0])
        return join_farm(allocator);
    if (validate(&text, &dir) < 0)
        return -1;
    if (allocator) {
        /* sbatch/salloc: the job's sruns find SLURM_MPI_TYPE in their
         * environment (it is a SLURM_ variable: --export=NONE keeps it). */
        const char *type = wire_up_choice();
        rc = type ? setenv("SLURM_MPI_TYPE", type, 0) : 0;
    } else if (step_keys() == 0 && setenv(EVO_STEP_VAR_CONFIG_TEXT, text, 1) == 0 &&
               setenv(EVO_STEP_VAR_CONFIG_NAME, evo_plugin.file, 1) == 0 &&
               setenv(EVO_STEP_VAR_CONFIG_DIR, dir, 1) == 0) {
        rc = 0;
    }
    free(text);
    free(dir);
    return rc;
}
