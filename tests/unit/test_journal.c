/* test_journal.c — the farm's journal (broker/journal.h): answers survive a
 * reopen, a torn last record is dropped and cut, another evaluator's
 * journal, a file that is not one and one another user could have planted
 * are refused, digests tell inputs apart. */
#include "unit.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/journal.h"
#include "wire/proto.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/evo-journal-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/journal", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

static off_t file_size(void)
{
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/journal", dir);
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void answers_survive_a_reopen(void **state)
{
    (void)state;
    char err[256];
    unsigned char dv[EVO_JOURNAL_DIGEST], dp[EVO_JOURNAL_DIGEST], other[EVO_JOURNAL_DIGEST];
    const double x[2] = {1.5, -2.0}, f[2] = {3.25, 7.0};
    struct evo_journal *j = evo_journal_open(dir, "0123", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(evo_journal_count(j), 0);
    evo_journal_digest(EVO_INPUT_VECTOR, 2, x, dv);
    evo_journal_digest(EVO_INPUT_PAYLOAD, 16, x, dp); /* the same bytes as a payload: another input */
    evo_journal_digest(EVO_INPUT_VECTOR, 1, x, other);
    assert_memory_not_equal(dv, dp, EVO_JOURNAL_DIGEST);
    assert_memory_not_equal(dv, other, EVO_JOURNAL_DIGEST);
    assert_null(evo_journal_find(j, dv));
    assert_int_equal(evo_journal_record(j, dv, 2, f, NULL, 0), 0);
    assert_int_equal(evo_journal_record(j, dp, 0, NULL, "answer", 6), 0);
    assert_int_equal(evo_journal_record(j, dv, 2, f, NULL, 0), 0); /* known: not written twice */
    assert_int_equal(evo_journal_sync(j), 0);
    uint64_t bytes = evo_journal_bytes(j);
    assert_int_equal(file_size(), (off_t)bytes);
    evo_journal_close(j);

    j = evo_journal_open(dir, "0123", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(evo_journal_count(j), 2);
    const struct evo_journal_entry *e = evo_journal_find(j, dv);
    assert_non_null(e);
    assert_int_equal(e->n, 2);
    assert_true(e->objectives[0] == 3.25 && e->objectives[1] == 7.0);
    e = evo_journal_find(j, dp);
    assert_non_null(e);
    assert_int_equal(e->n, 0);
    assert_int_equal(e->payload_size, 6);
    assert_memory_equal(e->payload, "answer", 6);
    assert_null(evo_journal_find(j, other));
    evo_journal_close(j);
}

/* A crash mid-record leaves a torn tail: dropped, the file cut back, and
 * appends go on from there. */
static void torn_tail_dropped(void **state)
{
    (void)state;
    char err[256], path[128];
    unsigned char d[EVO_JOURNAL_DIGEST], d2[EVO_JOURNAL_DIGEST];
    double x = 4, f = 16;
    struct evo_journal *j = evo_journal_open(dir, "ab", err, sizeof err);
    assert_non_null(j);
    evo_journal_digest(EVO_INPUT_VECTOR, 1, &x, d);
    assert_int_equal(evo_journal_record(j, d, 1, &f, NULL, 0), 0);
    off_t whole = file_size();
    evo_journal_close(j);
    snprintf(path, sizeof path, "%s/journal", dir);
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x30\x00\x00\x00garbage", 11), 11); /* a record cut short */
    close(fd);
    j = evo_journal_open(dir, "ab", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(evo_journal_count(j), 1);
    assert_int_equal(file_size(), whole);
    x = 5, f = 25;
    evo_journal_digest(EVO_INPUT_VECTOR, 1, &x, d2);
    assert_int_equal(evo_journal_record(j, d2, 1, &f, NULL, 0), 0);
    evo_journal_close(j);
    j = evo_journal_open(dir, "ab", err, sizeof err);
    assert_non_null(j);
    assert_int_equal(evo_journal_count(j), 2);
    assert_true(evo_journal_find(j, d2)->objectives[0] == 25);
    evo_journal_close(j);
}

static void another_evaluators_journal_refused(void **state)
{
    (void)state;
    char err[256], path[128];
    struct evo_journal *j = evo_journal_open(dir, "first", err, sizeof err);
    assert_non_null(j);
    evo_journal_close(j);
    assert_null(evo_journal_open(dir, "second", err, sizeof err));
    assert_non_null(strstr(err, "was written for another evaluator"));
    snprintf(path, sizeof path, "%s/journal", dir);
    FILE *f = fopen(path, "w");
    fputs("hello\n", f);
    fclose(f);
    assert_null(evo_journal_open(dir, "first", err, sizeof err));
    assert_non_null(strstr(err, "is not an evo-farm journal"));
    unlink(path);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    assert_null(evo_journal_open(dir, "first", err, sizeof err));
    assert_non_null(strstr(err, "symbolic link"));
    unlink(path);
}

/* A journal someone else could have planted or may write is refused: its
 * answers would be served as the farm's own (a Python farm unpickles them). */
static void planted_journal_refused(void **state)
{
    (void)state;
    char err[256], path[128];
    struct evo_journal *j = evo_journal_open(dir, "first", err, sizeof err);
    assert_non_null(j);
    evo_journal_close(j);
    snprintf(path, sizeof path, "%s/journal", dir);
    assert_int_equal(chmod(path, 0666), 0);
    assert_null(evo_journal_open(dir, "first", err, sizeof err));
    assert_non_null(strstr(err, "may be written by group or others"));
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(chmod(dir, 0777), 0);
    assert_null(evo_journal_open(dir, "first", err, sizeof err));
    assert_non_null(strstr(err, "journal directory"));
    assert_non_null(strstr(err, "may be written by group or others"));
    assert_int_equal(chmod(dir, 0700), 0);
    if (geteuid() == 0) { /* only root can give a file to another user (make check as root does) */
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_null(evo_journal_open(dir, "first", err, sizeof err));
        assert_non_null(strstr(err, "is owned by another user"));
        assert_int_equal(chown(path, 0, 0), 0);
        assert_int_equal(chown(dir, 65534, 65534), 0);
        assert_null(evo_journal_open(dir, "first", err, sizeof err));
        assert_non_null(strstr(err, "journal directory"));
        assert_non_null(strstr(err, "is owned by another user"));
        assert_int_equal(chown(dir, 0, 0), 0);
    }
    j = evo_journal_open(dir, "first", err, sizeof err); /* its own again: accepted */
    assert_non_null(j);
    evo_journal_close(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(answers_survive_a_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(torn_tail_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(another_evaluators_journal_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(planted_journal_refused, setup, teardown)};
    return EVO_RUN_TESTS(tests);
}
