/* test_shared_dir.c — a farm's shared constants as files: one directory
 * per farm and node named in EVO_FARM_SHARED_DIR (a private one without a
 * farm key, or when the node's is not ours), each constant whole under its
 * name, one copy for every worker of the node, nothing left after the
 * last worker leaves or, when it was killed, after the launcher's end. */
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
    assert_int_equal(evo_shared_dir_create(&d, NULL), 0);
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
    char path[EVO_PATH_MAX + 16], part[EVO_PATH_MAX + 32];
    setenv("TMPDIR", "/tmp", 1);
    assert_int_equal(evo_shared_dir_create(&d, NULL), 0);
    snprintf(path, sizeof path, "%s/big", d.path);
    snprintf(part, sizeof part, "%s/.big.part.%ld", d.path, (long)getpid());
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

/* Two workers of one farm on a node share its directory: the second
 * takes a constant's pieces without writing them; the directory stays
 * while one of them lives and goes with the last. A worker killed (its
 * lock let go, nothing removed) leaves it to the launcher's
 * evo_shared_dir_remove_unused. A directory another user could have made
 * at the name (not 0700 here) is refused for a private one. */
static void one_copy_per_node(void **state)
{
    (void)state;
    struct evo_shared_dir a = {.part_fd = 0}, b = {.part_fd = 0}, c = {.part_fd = 0};
    struct stat st;
    char name[EVO_PATH_MAX], kept[EVO_PATH_MAX];
    setenv("TMPDIR", "/tmp", 1);
    assert_int_equal(evo_shared_dir_name("farm-key-1", name, sizeof name), 0);
    assert_int_equal(evo_shared_dir_create(&a, "farm-key-1"), 0);
    assert_int_equal(evo_shared_dir_create(&b, "farm-key-1"), 0);
    assert_string_equal(a.path, name);
    assert_string_equal(b.path, name);
    assert_int_equal(lstat(name, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(evo_shared_dir_put(&a, "table", "abc", 3), 0);
    assert_int_equal(evo_shared_dir_begin(&b, "table"), 0); /* on the node already */
    assert_true(evo_shared_dir_writing(&b));
    assert_int_equal(evo_shared_dir_write(&b, "xyz", 3), 0);
    assert_int_equal(evo_shared_dir_commit(&b), 0);
    assert_false(evo_shared_dir_writing(&b));
    read_back(name, "table", "abc", 3);
    evo_shared_dir_remove(&a);
    assert_int_equal(lstat(name, &st), 0); /* b still holds it */
    read_back(name, "table", "abc", 3);
    evo_shared_dir_remove(&b);
    assert_int_equal(lstat(name, &st), -1); /* the last one out */
    assert_int_equal(evo_shared_dir_create(&c, "farm-key-1"), 0);
    assert_int_equal(evo_shared_dir_put(&c, "t", "1", 1), 0);
    close(c.lock_fd - 1); /* killed: its lock goes, its directory stays */
    assert_int_equal(lstat(name, &st), 0);
    evo_shared_dir_remove_unused("farm-key-1");
    assert_int_equal(lstat(name, &st), -1);
    assert_int_equal(mkdir(name, 0755), 0); /* made by someone else, or left open */
    assert_int_equal(evo_shared_dir_create(&c, "farm-key-1"), 0);
    assert_string_not_equal(c.path, name);
    memcpy(kept, c.path, sizeof kept);
    evo_shared_dir_remove(&c);
    assert_int_equal(lstat(kept, &st), -1);
    assert_int_equal(rmdir(name), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(create_put_remove), cmocka_unit_test(pieces_appear_whole),
                                       cmocka_unit_test(one_copy_per_node)};
    return EVO_RUN_TESTS(tests);
}
