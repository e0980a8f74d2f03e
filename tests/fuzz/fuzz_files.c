/* fuzz_files.c — the readers of the files a run leaves behind: the CMA-ES
 * state of a checkpoint (farm/cmaes/cmaes_io.c evo_cmaes_load), farm.access
 * and progress.json (farm/registry/registry_access.c and
 * registry_progress.c). The first input byte chooses the reader (and the
 * checkpoint's shape or the file's mode), the rest is the file. Asserts:
 * no crash, leak or hang; a state that loads saves, loads and saves again
 * to the same text and survives one generation; farm.access is refused when others may read it and
 * otherwise gives four words; a progress.json that reads writes back
 * (evo_progress_write) to a file that reads the same. */
#include "fuzz.h"

#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmaes/cmaes.h"
#include "cmaes/rng.h"
#include "registry/registry.h"

static char dir[64];
static int dir_fd = -1;

static char *saved(const struct evo_cmaes *es, size_t *size)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, size);
    FUZZ_ASSERT(out != NULL && evo_cmaes_save(es, out) == 0);
    fclose(out);
    return text;
}

static struct evo_cmaes *strategy(unsigned n, unsigned lambda)
{
    double centroid[4] = {0.5, -1, 2, 0};
    struct evo_cmaes_params p = {.n = n,
                                 .centroid = centroid,
                                 .sigma = 0.3,
                                 .lambda = lambda,
                                 .target = -INFINITY,
                                 .tolfun = 1e-12,
                                 .tolx = 1e-12};
    char err[256];
    struct evo_cmaes *es = evo_cmaes_create(&p, err, sizeof err);
    FUZZ_ASSERT(es != NULL);
    return es;
}

static void checkpoint(uint8_t shape, const uint8_t *data, size_t size)
{
    unsigned n = 1 + shape % 4, lambda = 2 + (shape >> 2) % 6;
    struct evo_cmaes *es = strategy(n, lambda), *again = strategy(n, lambda);
    FILE *in = fmemopen((void *)data, size, "r");
    FUZZ_ASSERT(in != NULL || size == 0);
    if (in && evo_cmaes_load(es, in) == 0) {
        size_t size1, size2;
        char *first = saved(es, &size1);
        FILE *back = fmemopen(first, size1, "r");
        FUZZ_ASSERT(back && evo_cmaes_load(again, back) == 0);
        fclose(back);
        char *second = saved(again, &size2);
        FUZZ_ASSERT(size1 == size2 && memcmp(first, second, size1) == 0);
        free(first);
        free(second);
        /* A resumed run's next generation, whatever the state says. */
        struct evo_rng rng;
        evo_rng_seed(&rng, 1);
        evo_cmaes_ask(es, &rng);
        double fitness[8];
        for (unsigned k = 0; k < lambda; k++)
            fitness[k] = es->X[k * n];
        evo_cmaes_tell(es, fitness);
        evo_cmaes_stop_reason(es);
    }
    if (in)
        fclose(in);
    evo_cmaes_destroy(es);
    evo_cmaes_destroy(again);
}

static void put_file(const char *name, mode_t mode, const uint8_t *data, size_t size)
{
    unlinkat(dir_fd, name, 0);
    int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FUZZ_ASSERT(fd >= 0 && fchmod(fd, mode) == 0);
    FUZZ_ASSERT(size == 0 || write(fd, data, size) == (ssize_t)size);
    close(fd);
}

static void access_file(uint8_t how, const uint8_t *data, size_t size)
{
    mode_t mode = how & 1 ? 0644 : 0600;
    struct evo_access a;
    char err[512];
    put_file("farm.access", mode, data, size);
    if (evo_access_read(dir, &a, err, sizeof err) < 0) {
        FUZZ_ASSERT(err[0] != '\0');
        return;
    }
    FUZZ_ASSERT(mode == 0600);
    const char *words[] = {a.endpoints, a.server, a.public_key, a.secret};
    for (int i = 0; i < 4; i++)
        FUZZ_ASSERT(words[i][0] && strpbrk(words[i], " \t\n\v\f\r") == NULL);
}

static int same_number(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void progress_file(const uint8_t *data, size_t size)
{
    struct evo_progress p, again;
    put_file("progress.json", 0644, data, size);
    if (evo_progress_read(dir, &p) < 0)
        return;
    FUZZ_ASSERT(p.running == 0 || p.running == 1);
    FUZZ_ASSERT(evo_progress_write(dir_fd, &p) == 0);
    FUZZ_ASSERT(evo_progress_read(dir, &again) == 0);
    if (!isfinite(p.best)) /* written null */
        p.best = NAN;
    FUZZ_ASSERT(again.generation == p.generation && again.generations == p.generations &&
                again.evaluations == p.evaluations && same_number(again.best, p.best) && again.running == p.running &&
                again.nonfinite == p.nonfinite);
}

static void remove_dir(void)
{
    unlinkat(dir_fd, "farm.access", 0);
    unlinkat(dir_fd, "progress.json", 0);
    close(dir_fd);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir_fd < 0) {
        snprintf(dir, sizeof dir, "/tmp/evo-fuzz-files.XXXXXX");
        FUZZ_ASSERT(mkdtemp(dir) != NULL && (dir_fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
        atexit(remove_dir);
    }
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        checkpoint(data[0] / 3, data + 1, size - 1);
        break;
    case 1:
        access_file(data[0] / 3, data + 1, size - 1);
        break;
    case 2:
        progress_file(data + 1, size - 1);
        break;
    }
    return 0;
}
