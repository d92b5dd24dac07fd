/* The checkpoint thread (cc_db_checkpointer_start): it checkpoints while
 * the caller keeps committing transactions on the same environment, stops
 * on cc_db_close, and what was committed meanwhile reads back after the
 * environment is opened again (with recovery). */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/storage/db.h"
#include "core/storage/raft_log.h"
#include "unit.h"

static char dir[] = "/tmp/cc-test-ckpt-XXXXXX";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int append_one(struct cc_db *db, struct cc_log_bounds *b, uint64_t index)
{
    char data[200];
    memset(data, 'a' + (int)(index % 26), sizeof(data));
    struct cc_entry e = {.index = index, .term = 1};
    e.data.p = (const uint8_t *)data;
    e.data.n = sizeof(data);
    DB_TXN *txn = cc_db_begin(db);
    if (txn == NULL)
        return -1;
    if (cc_raftlog_append(db, txn, b, &e) != 0) {
        cc_db_abort(txn);
        return -1;
    }
    return cc_db_commit(txn);
}

static void test_checkpoints_beside_commits(void)
{
    struct cc_db db;
    char err[256];
    CHECK(cc_db_open(&db, dir, err, sizeof(err)) == 0);
    struct cc_hard_state hs;
    struct cc_log_bounds b;
    CHECK(cc_raftlog_load(&db, &hs, &b) == 0);
    /* kbytes 0: a checkpoint at every interval */
    CHECK(cc_db_checkpointer_start(&db, 5, 0) == 0);
    uint64_t count = 0, index = b.last_index;
    double max_s = 0, deadline = now_s() + 20;
    while (count < 5 && now_s() < deadline) {
        CHECK(append_one(&db, &b, ++index) == 0);
        cc_db_checkpointer_stats(&db, &count, &max_s);
    }
    CHECK(count >= 5);
    CHECK(max_s > 0);
    cc_db_close(&db); /* stops the thread first */
    CHECK(db.ckpt == NULL);

    CHECK(cc_db_open(&db, dir, err, sizeof(err)) == 0);
    CHECK(cc_raftlog_load(&db, &hs, &b) == 0);
    CHECK(b.last_index == index);
    struct cc_buf rec;
    cc_buf_init(&rec);
    CHECK(cc_raftlog_read(&db, NULL, index, &rec) == 0);
    struct cc_rd rd;
    cc_rd_init(&rd, rec.data, rec.len);
    struct cc_entry e;
    CHECK(cc_msg_entry_next(&rd, &e) == 1 && e.index == index && e.data.n == 200);
    cc_buf_free(&rec);
    cc_db_close(&db);
}

static void test_stop_without_start_and_twice(void)
{
    struct cc_db db;
    char err[256];
    CHECK(cc_db_open(&db, dir, err, sizeof(err)) == 0);
    cc_db_checkpointer_stop(&db);
    CHECK(cc_db_checkpointer_start(&db, 1000, 0) == 0);
    CHECK(cc_db_checkpointer_start(&db, 1000, 0) == 0); /* already running */
    cc_db_checkpointer_stop(&db);
    cc_db_checkpointer_stop(&db);
    cc_db_close(&db);
}

static void remove_dir(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", d);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    RUN(test_checkpoints_beside_commits);
    RUN(test_stop_without_start_and_twice);
    remove_dir(dir);
    return unit_report();
}
