/* The snapshot file (core/storage/snap_file.h): what is written whole reads
 * back the same, a transfer left unfinished never replaces the file, and
 * damage anywhere is found before a member starts from it. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/storage/snap_file.h"
#include "unit.h"

static char dir[] = "/tmp/cc-test-snap-XXXXXX";

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void remove_all(void)
{
    const char *names[] = {"snapshot", "a.tmp", "b.tmp"};
    for (size_t i = 0; i < 3; i++) {
        char p[256];
        path_of(p, sizeof(p), names[i]);
        unlink(p);
    }
}

/* Writes data (in pieces of `piece` bytes) as a snapshot at index/term. */
static int write_snap(uint64_t index, uint64_t term, const uint8_t *data, size_t n, size_t piece)
{
    struct cc_snap_writer w;
    cc_snap_writer_init(&w);
    if (cc_snap_writer_begin(&w, dir, "a.tmp") != 0)
        return -1;
    for (size_t off = 0; off < n; off += piece)
        if (cc_snap_writer_append(&w, data + off, n - off < piece ? n - off : piece) != 0)
            return -1;
    struct cc_snap_meta m = {.index = index, .term = term, .n_voters = 3, .voters = {7, 8, 9}};
    return cc_snap_writer_finish(&w, &m);
}

static void test_none_before_the_first(void)
{
    remove_all();
    struct cc_snap_meta m;
    char err[256];
    CHECK(cc_snap_read_meta(dir, &m, err, sizeof(err)) == 1);
    CHECK(m.index == 0);
}

static void test_round_trip(void)
{
    remove_all();
    uint8_t data[10000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 31 + 7);
    CHECK(write_snap(42, 5, data, sizeof(data), 333) == 0);
    struct cc_snap_meta m;
    char err[256] = "";
    CHECK(cc_snap_read_meta(dir, &m, err, sizeof(err)) == 0);
    CHECK(m.index == 42 && m.term == 5 && m.data_len == sizeof(data));
    CHECK(m.n_voters == 3 && m.voters[0] == 7 && m.voters[2] == 9);
    CHECK(cc_snap_verify(dir, &m, err, sizeof(err)) == 0);
    uint8_t back[sizeof(data)];
    CHECK(cc_snap_read_data(dir, 0, back, sizeof(back)) == (long)sizeof(back));
    CHECK(memcmp(back, data, sizeof(data)) == 0);
    CHECK(cc_snap_read_data(dir, 9990, back, 100) == 10);
    CHECK(memcmp(back, data + 9990, 10) == 0);
    char tmp[256];
    path_of(tmp, sizeof(tmp), "a.tmp");
    CHECK(access(tmp, F_OK) != 0); /* renamed into place */
}

static void test_empty_data(void)
{
    remove_all();
    CHECK(write_snap(3, 1, NULL, 0, 1) == 0);
    struct cc_snap_meta m;
    char err[256];
    CHECK(cc_snap_read_meta(dir, &m, err, sizeof(err)) == 0);
    CHECK(m.index == 3 && m.data_len == 0);
    CHECK(cc_snap_verify(dir, &m, err, sizeof(err)) == 0);
}

/* A transfer abandoned half-way (a sender that died, a newer one started)
 * leaves the previous snapshot in place and no temporary file. */
static void test_unfinished_transfer_keeps_the_old_file(void)
{
    remove_all();
    uint8_t old[100] = {1, 2, 3};
    CHECK(write_snap(10, 2, old, sizeof(old), 100) == 0);
    struct cc_snap_writer w;
    cc_snap_writer_init(&w);
    CHECK(cc_snap_writer_begin(&w, dir, "b.tmp") == 0);
    CHECK(cc_snap_writer_append(&w, "xyz", 3) == 0);
    CHECK(cc_snap_writer_active(&w));
    cc_snap_writer_abandon(&w);
    CHECK(!cc_snap_writer_active(&w));
    char tmp[256];
    path_of(tmp, sizeof(tmp), "b.tmp");
    CHECK(access(tmp, F_OK) != 0);
    struct cc_snap_meta m;
    char err[256];
    CHECK(cc_snap_read_meta(dir, &m, err, sizeof(err)) == 0);
    CHECK(m.index == 10 && m.data_len == sizeof(old));
}

static void flip_byte(off_t at)
{
    char p[256];
    path_of(p, sizeof(p), "snapshot");
    int fd = open(p, O_RDWR);
    uint8_t b = 0;
    CHECK(pread(fd, &b, 1, at) == 1);
    b ^= 0x40;
    CHECK(pwrite(fd, &b, 1, at) == 1);
    close(fd);
}

static void test_damage_is_found(void)
{
    uint8_t data[4096];
    memset(data, 'd', sizeof(data));
    struct cc_snap_meta m;
    char err[256];

    /* in the data: the header reads, the check fails */
    remove_all();
    CHECK(write_snap(9, 1, data, sizeof(data), 4096) == 0);
    flip_byte(CC_SNAP_HEADER_BYTES + 1000);
    CHECK(cc_snap_read_meta(dir, &m, err, sizeof(err)) == 0);
    err[0] = 0;
    CHECK(cc_snap_verify(dir, &m, err, sizeof(err)) == -1);
    CHECK(strstr(err, "checksum") != NULL);

    /* in the header: the index, then the magic */
    remove_all();
    CHECK(write_snap(9, 1, data, sizeof(data), 4096) == 0);
    flip_byte(12);
    CHECK(cc_snap_read_meta(dir, &m, err, sizeof(err)) == -1);
    remove_all();
    CHECK(write_snap(9, 1, data, sizeof(data), 4096) == 0);
    flip_byte(0);
    CHECK(cc_snap_read_meta(dir, &m, err, sizeof(err)) == -1);

    /* truncated */
    remove_all();
    CHECK(write_snap(9, 1, data, sizeof(data), 4096) == 0);
    char p[256];
    path_of(p, sizeof(p), "snapshot");
    CHECK(truncate(p, CC_SNAP_HEADER_BYTES + 100) == 0);
    err[0] = 0;
    CHECK(cc_snap_read_meta(dir, &m, err, sizeof(err)) == -1);
    CHECK(strstr(err, "header says") != NULL);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    RUN(test_none_before_the_first);
    RUN(test_round_trip);
    RUN(test_empty_data);
    RUN(test_unfinished_transfer_keeps_the_old_file);
    RUN(test_damage_is_found);
    remove_all();
    rmdir(dir);
    return unit_report();
}
