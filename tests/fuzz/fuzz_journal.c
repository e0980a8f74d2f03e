/* fuzz_journal.c — the journal's reader (farm/broker/journal.c): the input
 * is a journal file, its identity taken from its header line when it has
 * one. A journal that opens has dropped any torn or corrupt tail (the file
 * is cut to what was read), opens again to the same answers, and takes one
 * more record that the next open finds; one that does not open says why. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "broker/journal.h"
#include "util/log.h"
#include "wire/proto.h"

static char dir[64], path[128];

static void clean_up(void)
{
    unlink(path);
    rmdir(dir);
}

static void identity_of(const uint8_t *data, size_t size, char *out, size_t out_size)
{
    static const char magic[] = "evo-farm-journal 1 ";
    size_t n = sizeof magic - 1, end = n;
    snprintf(out, out_size, "none");
    if (size < n || memcmp(data, magic, n) != 0)
        return;
    while (end < size && data[end] != '\n' && data[end] != '\0' && end - n < out_size - 1)
        end++;
    memcpy(out, data + n, end - n);
    out[end - n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512], identity[64];
    struct stat st;
    if (dir[0] == '\0') {
        strcpy(dir, "/tmp/evo-fuzz-journal-XXXXXX");
        FUZZ_ASSERT(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/journal", dir);
        evo_log_set_level(EVO_LOG_ERROR);
        atexit(clean_up);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_ASSERT(fd >= 0 && (size == 0 || write(fd, data, size) == (ssize_t)size));
    close(fd);
    identity_of(data, size, identity, sizeof identity);
    struct evo_journal *j = evo_journal_open(dir, identity, err, sizeof err);
    if (j == NULL) {
        FUZZ_ASSERT(err[0] != '\0');
        return 0;
    }
    size_t count = evo_journal_count(j);
    uint64_t bytes = evo_journal_bytes(j);
    FUZZ_ASSERT(stat(path, &st) == 0 && (uint64_t)st.st_size == bytes && bytes <= (size ? size : bytes));
    unsigned char digest[EVO_JOURNAL_DIGEST];
    double x = (double)size, f = 1.5;
    evo_journal_digest(EVO_INPUT_VECTOR, 1, &x, digest);
    int known = evo_journal_find(j, digest) != NULL;
    FUZZ_ASSERT(evo_journal_record(j, digest, 1, &f, NULL, 0) == 0);
    evo_journal_close(j);
    j = evo_journal_open(dir, identity, err, sizeof err);
    FUZZ_ASSERT(j != NULL);
    FUZZ_ASSERT(evo_journal_count(j) == count + !known);
    const struct evo_journal_entry *e = evo_journal_find(j, digest);
    FUZZ_ASSERT(e != NULL && (known || (e->n == 1 && e->objectives[0] == 1.5)));
    evo_journal_close(j);
    return 0;
}
