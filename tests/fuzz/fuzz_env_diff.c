/* fuzz_env_diff.c — the module environment diff (plugin/modules.c
 * evo_modules_split_env on `env -0` output, plugin/task_env.c
 * evo_env_diff). Input: u16 length of the environment before `module
 * load`, its bytes, then the environment after. Asserts: the split keeps
 * exactly the NAME=value entries and says when there was anything else;
 * the edits turn the environment before into the one after, for every
 * variable but the shell's noise (_, SHLVL, PWD, OLDPWD, BASH_*) and names
 * of 1024 bytes or more, which are left alone. A name listed twice (which
 * a shell never prints) counts once, its first entry. */
#include "fuzz.h"

#include "modules.h"

static int noise(const char *name, size_t n)
{
    return (n == 1 && name[0] == '_') || (n == 5 && strncmp(name, "SHLVL", 5) == 0) ||
           (n == 3 && strncmp(name, "PWD", 3) == 0) || (n == 6 && strncmp(name, "OLDPWD", 6) == 0) ||
           strncmp(name, "BASH_", 5) == 0;
}

static size_t name_length(const char *entry)
{
    return (size_t)(strchr(entry, '=') - entry);
}

/* The first entry named like `entry` in list, or NULL. */
static const char *lookup(char *const *list, const char *name, size_t n)
{
    for (size_t i = 0; list[i]; i++)
        if (name_length(list[i]) == n && strncmp(list[i], name, n) == 0)
            return list[i] + n + 1;
    return NULL;
}

/* Splits data[0..len) (a copy with room for the NUL), checks the split
 * against the plain reading of env -0, and drops repeated names. */
static char **split(const uint8_t *bytes, size_t len, char **copy)
{
    int garbage, expect_garbage = len > 0 && bytes[len - 1] != '\0';
    *copy = malloc(len + 1);
    FUZZ_ASSERT(*copy != NULL);
    memcpy(*copy, bytes, len);
    char **list = evo_modules_split_env(*copy, len, &garbage);
    FUZZ_ASSERT(list != NULL);
    size_t k = 0, kept = 0;
    for (size_t i = 0; i < len; i += strlen(*copy + i) + 1) {
        const char *eq = strchr(*copy + i, '=');
        if (eq == NULL || eq == *copy + i) {
            expect_garbage = 1;
            continue;
        }
        FUZZ_ASSERT(list[k] == *copy + i);
        k++;
    }
    FUZZ_ASSERT(list[k] == NULL && garbage == expect_garbage);
    for (size_t i = 0; list[i]; i++) {
        char *entry = list[i];
        list[kept] = NULL; /* the kept ones, so far */
        if (lookup(list, entry, name_length(entry)) == NULL)
            list[kept++] = entry;
    }
    list[kept] = NULL;
    return list;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_bytes in = {data, size};
    size_t before_len = fuzz_u16(&in);
    if (before_len > in.left)
        before_len = in.left;
    char *before_text, *after_text;
    char **before = split(in.data, before_len, &before_text);
    char **after = split(in.data + before_len, in.left - before_len, &after_text);

    struct evo_env_edits edits = {0};
    FUZZ_ASSERT(evo_env_diff(before, after, &edits) == 0);
    for (size_t i = 0; i < edits.count; i++) {
        size_t n = strlen(edits.items[i].name);
        FUZZ_ASSERT(n > 0 && n < 1024 && !noise(edits.items[i].name, n) && strchr(edits.items[i].name, '=') == NULL);
        for (size_t j = 0; j < i; j++) /* one edit per variable */
            FUZZ_ASSERT(strcmp(edits.items[j].name, edits.items[i].name) != 0);
    }
    char name[1024];
    for (int side = 0; side < 2; side++) {
        char **list = side ? before : after;
        for (size_t i = 0; list[i]; i++) {
            size_t n = name_length(list[i]);
            if (n >= sizeof name || noise(list[i], n))
                continue;
            memcpy(name, list[i], n);
            name[n] = '\0';
            const char *want = lookup(after, name, n);
            const char *now = lookup(before, name, n);
            for (size_t e = 0; e < edits.count; e++) /* the last edit of it, if any */
                if (strcmp(edits.items[e].name, name) == 0)
                    now = edits.items[e].value;
            FUZZ_ASSERT(now == want || (now && want && strcmp(now, want) == 0));
        }
    }
    evo_env_edits_free(&edits);
    free(before);
    free(after);
    free(before_text);
    free(after_text);
    return 0;
}
