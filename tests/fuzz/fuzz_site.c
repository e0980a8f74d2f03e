/* fuzz_site.c — the plugstack argument parser and the venv policy
 * (plugin/site.c). Input: NUL-separated strings, the first a venv path,
 * the others plugstack.conf arguments. Asserts: a failure names the
 * argument; parsing the same arguments again gives the same settings (Slurm
 * may load the plugin twice); what is accepted is in range; the venv
 * verdict is that of a plain reference: allowed when there are no roots,
 * or when the path is a root or lies below one (trailing slashes of a
 * root ignored, "/" holding every absolute path). */
#include "fuzz.h"

#include "site.h"

static int reference_allowed(const char *roots, const char *path)
{
    if (roots[0] == '\0')
        return 1;
    for (const char *p = roots; *p; p += *p == ':') {
        size_t n = strcspn(p, ":"), length = n;
        while (length > 1 && p[length - 1] == '/')
            length--;
        if (length == 1 && p[0] == '/' && path[0] == '/')
            return 1;
        if (length && strncmp(path, p, length) == 0 && (path[length] == '/' || path[length] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *argv[17];
    FUZZ_ASSERT(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *venv = text;
    int argc = 0;
    for (char *p = memchr(text, '\0', size + 1); p < text + size && argc < 16;
         p = memchr(p + 1, '\0', size - (size_t)(p - text)))
        argv[argc++] = p + 1;
    argv[argc] = NULL;

    struct evo_site *first = malloc(sizeof *first), *second = malloc(sizeof *second);
    char err[512] = "", err2[512] = "";
    FUZZ_ASSERT(first && second);
    int rc = evo_site_parse(first, argc, argv, err, sizeof err);
    FUZZ_ASSERT(evo_site_parse(second, argc, argv, err2, sizeof err2) == rc);
    if (rc < 0) {
        FUZZ_ASSERT(strncmp(err, "argument ", 9) == 0 && strcmp(err, err2) == 0);
    } else {
        FUZZ_ASSERT(rc == 0 && memcmp(first, second, sizeof *first) == 0);
        FUZZ_ASSERT(first->modules_init[0] == '/' && first->evo_farm[0] == '/');
        FUZZ_ASSERT(first->venv_roots[0] == '\0' || first->venv_roots[0] == '/');
        FUZZ_ASSERT(first->modules_timeout_s >= 1 && first->modules_timeout_s <= 3600);
        FUZZ_ASSERT(strcmp(first->mpi, "auto") == 0 || strcmp(first->mpi, "pmix") == 0 ||
                    strcmp(first->mpi, "pmi2") == 0);
        FUZZ_ASSERT(first->threads == 0 || first->threads == 1);
        FUZZ_ASSERT(evo_site_venv_allowed(first, venv) == reference_allowed(first->venv_roots, venv));
    }
    /* The policy alone, with the arguments' text as the roots. */
    if (argc > 0 && strlen(argv[0]) < sizeof first->venv_roots) {
        strcpy(first->venv_roots, argv[0]);
        FUZZ_ASSERT(evo_site_venv_allowed(first, venv) == reference_allowed(argv[0], venv));
    }
    free(first);
    free(second);
    free(text);
    return 0;
}
