/* fuzz_config.c — the YAML loader (farm/config) on any text. Asserts: no
 * crash, leak or unbounded work; a config that loads prints as YAML that
 * loads again and prints the same (evo_config_print is a fixed point). */
#include "fuzz.h"

#include "config/config.h"

/* evo_config_print's text; the caller frees it. */
static char *printed(const struct evo_config *config, size_t *size)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, size);
    FUZZ_ASSERT(out != NULL);
    evo_config_print(config, out);
    fclose(out);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct evo_config *config =
        evo_config_parse_home("fuzz.yaml", (const char *)data, size, "/fuzz", "/home/fuzz", err, sizeof err);
    if (config == NULL)
        return 0;
    size_t size1, size2;
    char *first = printed(config, &size1);
    evo_config_destroy(config);
    config = evo_config_parse_home("fuzz.yaml", first, size1, "/fuzz", "/home/fuzz", err, sizeof err);
    if (config == NULL) {
        fprintf(stderr, "printed config does not load: %s\n---\n%s---\n", err, first);
        FUZZ_ASSERT(config != NULL);
    }
    char *second = printed(config, &size2);
    evo_config_destroy(config);
    if (size1 != size2 || memcmp(first, second, size1) != 0) {
        fprintf(stderr, "print is not a fixed point:\n---\n%s---\n%s---\n", first, second);
        FUZZ_ASSERT(0);
    }
    free(first);
    free(second);
    return 0;
}
