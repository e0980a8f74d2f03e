/* journal.c — see journal.h. The file DIR/journal: a header line
 * "evo-farm-journal 1 IDENTITY\n", then records, each
 *   u32 body size, body, u32 check (the first 4 bytes of the body's BLAKE2b)
 * with body = 16-byte digest, u8 n, then n doubles (n > 0) or u32 size and
 * the payload (n == 0); little-endian. A record is appended with one
 * write(2), so a crash leaves at worst one torn record at the end, which
 * the next open drops. Entries are kept in memory in a uthash table. */
#define HASH_NONFATAL_OOM 1
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/files.h"
#include "util/io.h"
#include "util/log.h"
#include "wire/proto.h"

#define uthash_nonfatal_oom(e) ((e)->hash_failed = 1)
#include <uthash.h>

#define MAGIC "evo-farm-journal 1 "

struct entry {
    unsigned char digest[EVO_JOURNAL_DIGEST];
    struct evo_journal_entry answer;
    int hash_failed;
    UT_hash_handle hh;
    /* the objectives or the payload follow */
};

struct evo_journal {
    int fd;
    struct entry *entries;
    size_t count;
    uint64_t bytes;
    int dirty;
    int broken; /* a write failed: no more records this run */
    char path[EVO_PATH_MAX];
};

void evo_journal_identity(const struct evo_config *c, char out[2 * EVO_JOURNAL_DIGEST + 1])
{
    unsigned char digest[EVO_JOURNAL_DIGEST];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof digest);
    unsigned char head[2] = {(unsigned char)c->evaluate.kind, (unsigned char)c->evaluate.objectives};
    crypto_generichash_update(&st, head, sizeof head);
    const char *parts[] = {c->evaluate.library, c->evaluate.function, c->evaluate.python};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        crypto_generichash_update(&st, (const unsigned char *)(parts[i] ? parts[i] : ""),
                                  strlen(parts[i] ? parts[i] : "") + 1);
    for (char **arg = c->evaluate.command; arg && *arg; arg++)
        crypto_generichash_update(&st, (const unsigned char *)*arg, strlen(*arg) + 1);
    if (c->output.journal_version) { /* only when given: a journal made without one keeps its identity */
        crypto_generichash_update(&st, (const unsigned char *)"\0version", 8);
        crypto_generichash_update(&st, (const unsigned char *)c->output.journal_version,
                                  strlen(c->output.journal_version) + 1);
    }
    crypto_generichash_final(&st, digest, sizeof digest);
    sodium_bin2hex(out, 2 * EVO_JOURNAL_DIGEST + 1, digest, sizeof digest);
}

void evo_journal_digest(uint8_t kind, uint32_t size, const void *input, unsigned char out[EVO_JOURNAL_DIGEST])
{
    crypto_generichash_state st;
    unsigned char head[5] = {kind, (unsigned char)size, (unsigned char)(size >> 8), (unsigned char)(size >> 16),
                             (unsigned char)(size >> 24)};
    crypto_generichash_init(&st, NULL, 0, EVO_JOURNAL_DIGEST);
    crypto_generichash_update(&st, head, sizeof head);
    crypto_generichash_update(&st, input, kind == EVO_INPUT_VECTOR ? (size_t)size * sizeof(double) : size);
    crypto_generichash_final(&st, out, EVO_JOURNAL_DIGEST);
}

static uint32_t check_of(const void *body, size_t size)
{
    unsigned char h[16];
    crypto_generichash(h, sizeof h, body, size, NULL, 0);
    return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

/* Keeps one answer in memory (a copy). 0, or -1 out of memory. */
static int keep(struct evo_journal *j, const unsigned char *digest, unsigned n, const double *objectives,
                const void *payload, uint32_t payload_size)
{
    size_t extra = n ? n * sizeof(double) : payload_size;
    struct entry *e = malloc(sizeof *e + extra + 1);
    if (e == NULL)
        return -1;
    memset(e, 0, sizeof *e);
    memcpy(e->digest, digest, EVO_JOURNAL_DIGEST);
    e->answer.n = n;
    if (n) {
        memcpy(e + 1, objectives, extra);
        e->answer.objectives = (const double *)(e + 1);
    } else {
        memcpy(e + 1, payload, payload_size);
        e->answer.payload = e + 1;
        e->answer.payload_size = payload_size;
    }
    HASH_ADD(hh, j->entries, digest, EVO_JOURNAL_DIGEST, e);
    if (e->hash_failed) {
        free(e);
        return -1;
    }
    j->count++;
    return 0;
}

/* One record's body into memory; 0, or -1 if it does not parse. */
static int keep_body(struct evo_journal *j, const unsigned char *body, size_t size)
{
    struct evo_reader r;
    double x[EVO_MAX_OBJECTIVES];
    evo_reader_init(&r, body, size);
    const unsigned char *digest = evo_get_bytes(&r, EVO_JOURNAL_DIGEST);
    unsigned n = evo_get_u8(&r);
    if (r.bad || n > EVO_MAX_OBJECTIVES)
        return -1;
    if (n) {
        for (unsigned k = 0; k < n; k++)
            x[k] = evo_get_f64(&r);
        return r.bad || r.left ? -1 : keep(j, digest, n, x, NULL, 0);
    }
    uint32_t psize = evo_get_u32(&r);
    const unsigned char *payload = r.bad ? NULL : evo_get_bytes(&r, psize);
    return payload == NULL || r.left ? -1 : keep(j, digest, 0, NULL, payload, psize);
}

/* Reads the records after the header (at `at`); truncates a torn or
 * corrupt tail. 0, or -1 with err. */
static int load(struct evo_journal *j, const unsigned char *data, size_t size, size_t at, char *err, size_t err_size)
{
    if (at >= size) { /* a new journal: its header only, just written */
        j->bytes = at;
        return 0;
    }
    while (size - at >= 8) {
        uint32_t n = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 | (uint32_t)data[at + 2] << 16 |
                     (uint32_t)data[at + 3] << 24;
        if (n > size - at - 8)
            break;
        const unsigned char *body = data + at + 4, *c = body + n;
        uint32_t check = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
        if (check != check_of(body, n) || keep_body(j, body, n) < 0)
            break;
        at += 8 + (size_t)n;
    }
    if (at < size) {
        evo_warn("%s: the last %zu bytes are a record cut short (the run that wrote it was stopped): dropped", j->path,
                 size - at);
        if (ftruncate(j->fd, (off_t)at) < 0) {
            snprintf(err, err_size, "%s: cannot cut its torn end: %s", j->path, strerror(errno));
            return -1;
        }
    }
    j->bytes = at;
    return 0;
}

/* The whole file, malloc'd (*size bytes), or NULL with errno. */
static unsigned char *slurp(int fd, size_t *size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return NULL;
    unsigned char *data = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (data && got < (size_t)st.st_size) {
        ssize_t n = pread(fd, data + got, (size_t)st.st_size - got, (off_t)got);
        if (n <= 0) {
            free(data);
            return NULL;
        }
        got += (size_t)n;
    }
    *size = got;
    return data;
}

/* Checks (or writes, for an empty file) the header; 0, or -1 with err. */
static int header(struct evo_journal *j, const unsigned char *data, size_t size, const char *identity, size_t *at,
                  char *err, size_t err_size)
{
    char want[128];
    int n = snprintf(want, sizeof want, MAGIC "%s\n", identity);
    if (size == 0) { /* a new journal */
        *at = (size_t)n;
        if (evo_write_all(j->fd, want, (size_t)n) == 0)
            return 0;
        snprintf(err, err_size, "cannot write %s: %s", j->path, strerror(errno));
        return -1;
    }
    if (size < sizeof MAGIC - 1 || memcmp(data, MAGIC, sizeof MAGIC - 1) != 0) {
        snprintf(err, err_size, "%s is not an evo-farm journal", j->path);
        return -1;
    }
    if (size < (size_t)n || memcmp(data, want, (size_t)n) != 0) {
        snprintf(err, err_size,
                 "%s was written for another evaluator (the evaluate: section differs): give this farm another "
                 "journal directory, or remove that one",
                 j->path);
        return -1;
    }
    *at = (size_t)n;
    return 0;
}

/* Refuses a journal file another user could have planted or may write:
 * its answers are served as the farm's own (a Python farm unpickles
 * them). 0, or -1 with the one-line reason in err. */
static int not_owned(int fd, const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "journal %s is not a regular file; refusing it", path);
        return -1;
    }
    return evo_owned_refuse(&st, "journal", path, err, err_size);
}

struct evo_journal *evo_journal_open(const char *dir, const char *identity, char *err, size_t err_size)
{
    struct evo_journal *j = calloc(1, sizeof *j);
    unsigned char *data = NULL;
    size_t size = 0, at = 0;
    int dir_fd = -1;
    if (j == NULL || sodium_init() < 0) {
        snprintf(err, err_size, "cannot open the journal: out of memory");
        free(j);
        return NULL;
    }
    j->fd = -1;
    if ((size_t)snprintf(j->path, sizeof j->path, "%s/journal", dir) >= sizeof j->path) {
        snprintf(err, err_size, "journal directory name too long: %s", dir);
        goto error;
    }
    if ((dir_fd = evo_owned_dir_open(dir, "journal directory", 0700, err, err_size)) < 0)
        goto error;
    if ((j->fd = openat(dir_fd, "journal", O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, err_size, "cannot open %s: %s", j->path,
                 errno == ELOOP ? "it is a symbolic link; refusing it" : strerror(errno));
        goto error;
    }
    if (not_owned(j->fd, j->path, err, err_size) < 0)
        goto error;
    if ((data = slurp(j->fd, &size)) == NULL) {
        snprintf(err, err_size, "cannot read %s: %s", j->path, strerror(errno));
        goto error;
    }
    close(dir_fd);
    if (header(j, data, size, identity, &at, err, err_size) < 0 || load(j, data, size, at, err, err_size) < 0)
        goto error;
    free(data);
    return j;
error:
    if (dir_fd >= 0)
        close(dir_fd);
    free(data);
    evo_journal_close(j);
    return NULL;
}

const struct evo_journal_entry *evo_journal_find(const struct evo_journal *j,
                                                 const unsigned char digest[EVO_JOURNAL_DIGEST])
{
    struct entry *e = NULL;
    HASH_FIND(hh, j->entries, digest, EVO_JOURNAL_DIGEST, e);
    return e ? &e->answer : NULL;
}

int evo_journal_record(struct evo_journal *j, const unsigned char digest[EVO_JOURNAL_DIGEST], unsigned n,
                       const double *objectives, const void *payload, uint32_t payload_size)
{
    if (j->broken || evo_journal_find(j, digest))
        return j->broken ? -1 : 0;
    struct evo_buf b = {0};
    evo_buf_put_u32(&b, 0);
    evo_buf_put(&b, digest, EVO_JOURNAL_DIGEST);
    evo_buf_put_u8(&b, (uint8_t)n);
    for (unsigned k = 0; k < n; k++)
        evo_buf_put_f64(&b, objectives[k]);
    if (n == 0) {
        evo_buf_put_u32(&b, payload_size);
        evo_buf_put(&b, payload, payload_size);
    }
    uint32_t body = (uint32_t)(b.len - 4);
    evo_buf_patch_u32(&b, 0, body);
    evo_buf_put_u32(&b, b.failed ? 0 : check_of(b.data + 4, body));
    int rc = b.failed ? (errno = ENOMEM, -1) : evo_write_all(j->fd, b.data, b.len);
    if (rc == 0) {
        j->bytes += b.len;
        j->dirty = 1;
        keep(j, digest, n, objectives, payload, payload_size); /* out of memory: only the lookup is lost */
    } else {
        j->broken = 1;
        evo_error("cannot write %s: %s; no more evaluations are recorded in this run", j->path, strerror(errno));
    }
    evo_buf_free(&b);
    return rc;
}

int evo_journal_sync(struct evo_journal *j)
{
    if (j == NULL || !j->dirty)
        return 0;
    j->dirty = 0;
    return fdatasync(j->fd);
}

size_t evo_journal_count(const struct evo_journal *j)
{
    return j->count;
}

uint64_t evo_journal_bytes(const struct evo_journal *j)
{
    return j->bytes;
}

void evo_journal_close(struct evo_journal *j)
{
    if (j == NULL)
        return;
    struct entry *e, *next;
    HASH_ITER(hh, j->entries, e, next)
    {
        HASH_DEL(j->entries, e);
        free(e);
    }
    if (j->fd >= 0) {
        evo_journal_sync(j);
        close(j->fd);
    }
    free(j);
}
