/* test_shared_dir.c — a worker's shared constants as files: a private
 * directory named in EVO_FARM_SHARED_DIR, each constant whole under its
 * name (a copy replaced, never appended), nothing left after remove. */
#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker/shared_dir.h"

static void read_back(const char *dir, const char *name, const char *want, size_t size)
{
    char path[EVO_PATH_MAX + 80], got[64] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(got, 1, sizeof got, f), size);
    fclose(f);
    assert_memory_equal(got, want, size);
}

static void create_put_remove(void **state)
{
    (void)state;
    struct evo_shared_dir d = {.part_fd = 0};
    struct stat st;
    setenv("TMPDIR", "/tmp", 1);
    assert_int_equal(evo_shared_dir_create(&d), 0);
    assert_string_equal(getenv("EVO_FARM_SHARED_DIR"), d.path);
    assert_int_equal(strncmp(d.path, "/tmp/evo-farm-shared-", 21), 0);
    assert_int_equal(lstat(d.path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(evo_shared_dir_put(&d, "table", "abcdef", 6), 0);
    read_back(d.path, "table", "abcdef", 6);
    assert_int_equal(evo_shared_dir_put(&d, "table", "xy", 2), 0); /* sent again after a reconnect */
    read_back(d.path, "table", "xy", 2);
    assert_int_equal(evo_shared_dir_put(&d, "empty", "", 0), 0);
    read_back(d.path, "empty", "", 0);
    char path[EVO_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/table", d.path);
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char saved[EVO_PATH_MAX];
    memcpy(saved, d.path, sizeof saved);
    evo_shared_dir_remove(&d);
    assert_int_equal(lstat(saved, &st), -1);
    assert_int_equal(d.path[0], '\0');
    evo_shared_dir_remove(&d); /* twice is fine */
    assert_int_equal(evo_shared_dir_put(&d, "table", "x", 1), -1);
}

/* A constant arriving in pieces: appended aside, visible only once
 * committed; a new beginning abandons an unfinished one (no .part left);
 * removing the directory abandons the one in progress. */
static void pieces_appear_whole(void **state)
{
    (void)state;
    struct evo_shared_dir d = {.part_fd = 0};
    struct stat st;
    char path[EVO_PATH_MAX + 16], part[EVO_PATH_MAX + 16];
    setenv("TMPDIR", "/tmp", 1);
    assert_int_equal(evo_shared_dir_create(&d), 0);
    snprintf(path, sizeof path, "%s/big", d.path);
    snprintf(part, sizeof part, "%s/.big.part", d.path);
    assert_int_equal(evo_shared_dir_write(&d, "x", 1), -1); /* nothing begun */
    assert_int_equal(errno, ENOENT);
    assert_int_equal(evo_shared_dir_begin(&d, "big"), 0);
    assert_true(evo_shared_dir_writing(&d));
    assert_int_equal(evo_shared_dir_write(&d, "abc", 3), 0);
    assert_int_equal(lstat(path, &st), -1);               /* not before it is whole */
    assert_int_equal(evo_shared_dir_begin(&d, "big"), 0); /* its sender started over */
    assert_int_equal(evo_shared_dir_write(&d, "012", 3), 0);
    assert_int_equal(evo_shared_dir_write(&d, "345", 3), 0);
    assert_int_equal(evo_shared_dir_commit(&d), 0);
    assert_false(evo_shared_dir_writing(&d));
    read_back(d.path, "big", "012345", 6);
    assert_int_equal(lstat(part, &st), -1);
    assert_int_equal(evo_shared_dir_commit(&d), -1); /* nothing begun */
    assert_int_equal(evo_shared_dir_begin(&d, "big"), 0);
    assert_int_equal(evo_shared_dir_write(&d, "z", 1), 0);
    evo_shared_dir_abandon(&d);
    evo_shared_dir_abandon(&d); /* twice is fine */
    assert_int_equal(lstat(part, &st), -1);
    read_back(d.path, "big", "012345", 6); /* the whole one stays */
    assert_int_equal(evo_shared_dir_begin(&d, "other"), 0);
    char saved[EVO_PATH_MAX];
    memcpy(saved, d.path, sizeof saved);
    evo_shared_dir_remove(&d);
    assert_false(evo_shared_dir_writing(&d));
    assert_int_equal(lstat(saved, &st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(create_put_remove), cmocka_unit_test(pieces_appear_whole)};
    return EVO_RUN_TESTS(tests);
}
