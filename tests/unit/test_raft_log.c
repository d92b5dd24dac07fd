/* The raft log on disk (core/storage/raft_log.h): entries appended in
 * batches (several per Berkeley DB record) read back one by one, after a
 * reopen too; raft's conflict rule cuts a record in the middle; compaction
 * keeps every entry from its point on; a reset empties the log; and records
 * of one entry, as earlier builds wrote them, read the same. */
#include <stdlib.h>
#include <unistd.h>

#include "core/storage/db.h"
#include "core/storage/raft_log.h"
#include "unit.h"

static char dir[] = "/tmp/cc-test-raftlog-XXXXXX";

/* An entry whose payload tells index and term apart. */
static struct cc_entry entry(uint64_t index, uint64_t term, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "entry %llu of term %llu", (unsigned long long)index,
                     (unsigned long long)term);
    struct cc_entry e = {.index = index, .term = term};
    e.data.p = (const uint8_t *)buf;
    e.data.n = (uint32_t)n;
    return e;
}

/* Appends from..to of `term` in one transaction through one appender. */
static int append_range(struct cc_db *db, struct cc_log_bounds *b, uint64_t from, uint64_t to,
                        uint64_t term)
{
    DB_TXN *txn = cc_db_begin(db);
    if (txn == NULL)
        return -1;
    struct cc_raftlog_appender a;
    cc_raftlog_appender_init(&a, db, txn, b);
    int r = 0;
    for (uint64_t i = from; r == 0 && i <= to; i++) {
        char buf[64];
        struct cc_entry e = entry(i, term, buf, sizeof(buf));
        int x = cc_raftlog_appender_add(&a, &e);
        r = x == 1 ? 0 : x;
    }
    int f = cc_raftlog_appender_finish(&a);
    if (r == 0 && f == 0)
        return cc_db_commit(txn);
    cc_db_abort(txn);
    return r ? r : f;
}

/* Entry i reads back with term t and its own payload. */
static bool has(struct cc_db *db, uint64_t i, uint64_t t)
{
    struct cc_buf out;
    cc_buf_init(&out);
    bool ok = false;
    if (cc_raftlog_read(db, NULL, i, &out) == 0) {
        struct cc_rd rd;
        cc_rd_init(&rd, out.data, out.len);
        struct cc_entry e;
        char want[64];
        struct cc_entry w = entry(i, t, want, sizeof(want));
        ok = cc_msg_entry_next(&rd, &e) == 1 && cc_rd_left(&rd) == 0 && e.index == i &&
             e.term == t && e.data.n == w.data.n && memcmp(e.data.p, w.data.p, w.data.n) == 0;
    }
    cc_buf_free(&out);
    return ok;
}

static bool missing(struct cc_db *db, uint64_t i)
{
    struct cc_buf out;
    cc_buf_init(&out);
    int r = cc_raftlog_read(db, NULL, i, &out);
    cc_buf_free(&out);
    return r == DB_NOTFOUND;
}

static void open_db(struct cc_db *db, struct cc_log_bounds *b)
{
    char err[256];
    struct cc_hard_state hs;
    CHECK(cc_db_open(db, dir, err, sizeof(err)) == 0);
    CHECK(cc_raftlog_load(db, &hs, b) == 0);
}

static void fresh(struct cc_db *db, struct cc_log_bounds *b)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/member'", dir);
    CHECK(system(cmd) == 0);
    open_db(db, b);
}

static void test_batches_read_back_one_by_one(void)
{
    struct cc_db db;
    struct cc_log_bounds b;
    fresh(&db, &b);
    CHECK(b.first_index == 1 && b.last_index == 0);
    CHECK(append_range(&db, &b, 1, 1, 1) == 0);
    CHECK(append_range(&db, &b, 2, 11, 1) == 0);   /* one record */
    CHECK(append_range(&db, &b, 12, 111, 2) == 0); /* several */
    CHECK(b.last_index == 111 && b.last_term == 2);
    for (uint64_t i = 1; i <= 111; i++)
        CHECK(has(&db, i, i < 12 ? 1 : 2));
    /* out of order too: the cache must not answer for another record */
    CHECK(has(&db, 50, 2) && has(&db, 3, 1) && has(&db, 111, 2) && has(&db, 12, 2));
    CHECK(missing(&db, 112));
    bool found;
    CHECK(cc_raftlog_term(&db, NULL, &b, 11, &found) == 1 && found);
    CHECK(cc_raftlog_term(&db, NULL, &b, 12, &found) == 2 && found);
    cc_db_close(&db);
    open_db(&db, &b);
    CHECK(b.first_index == 1 && b.last_index == 111 && b.last_term == 2);
    CHECK(has(&db, 64, 2) && has(&db, 1, 1));
    /* the same entries again (a resend after a restart) are skipped */
    CHECK(append_range(&db, &b, 100, 111, 2) == 0);
    CHECK(b.last_index == 111 && has(&db, 105, 2));
    cc_db_close(&db);
}

static void test_conflict_cuts_a_record(void)
{
    struct cc_db db;
    struct cc_log_bounds b;
    fresh(&db, &b);
    CHECK(append_range(&db, &b, 1, 20, 1) == 0);  /* one record, 1..20 */
    CHECK(has(&db, 15, 1));                       /* cached */
    CHECK(append_range(&db, &b, 10, 12, 3) == 0); /* conflicts at 10 */
    CHECK(b.last_index == 12 && b.last_term == 3);
    for (uint64_t i = 1; i <= 9; i++)
        CHECK(has(&db, i, 1));
    CHECK(has(&db, 10, 3) && has(&db, 12, 3));
    CHECK(missing(&db, 13) && missing(&db, 20));
    /* within one appender: a later entry replaces one added before */
    DB_TXN *txn = cc_db_begin(&db);
    struct cc_raftlog_appender a;
    cc_raftlog_appender_init(&a, &db, txn, &b);
    char buf[64];
    struct cc_entry e13 = entry(13, 3, buf, sizeof(buf));
    CHECK(cc_raftlog_appender_add(&a, &e13) == 0);
    char buf2[64];
    struct cc_entry e14 = entry(14, 3, buf2, sizeof(buf2));
    CHECK(cc_raftlog_appender_add(&a, &e14) == 0);
    char buf3[64];
    struct cc_entry e13b = entry(13, 4, buf3, sizeof(buf3));
    CHECK(cc_raftlog_appender_add(&a, &e13b) == 0);
    CHECK(cc_raftlog_appender_finish(&a) == 0);
    CHECK(cc_db_commit(txn) == 0);
    CHECK(b.last_index == 13 && b.last_term == 4);
    CHECK(has(&db, 13, 4) && missing(&db, 14) && has(&db, 12, 3));
    /* a gap is refused */
    CHECK(append_range(&db, &b, 15, 15, 4) == -1);
    cc_db_close(&db);
    open_db(&db, &b);
    CHECK(b.last_index == 13 && b.last_term == 4);
    cc_db_close(&db);
}

static void test_compaction_keeps_the_rest(void)
{
    struct cc_db db;
    struct cc_log_bounds b;
    fresh(&db, &b);
    CHECK(append_range(&db, &b, 1, 100, 1) == 0); /* records 1-32, 33-64, 65-96, 97-100 */
    DB_TXN *txn = cc_db_begin(&db);
    CHECK(cc_raftlog_compact(&db, txn, &b, 50) == 0);
    CHECK(cc_db_commit(txn) == 0);
    CHECK(b.first_index == 50 && b.prev_term == 1 && b.last_index == 100);
    for (uint64_t i = 50; i <= 100; i++)
        CHECK(has(&db, i, 1));
    CHECK(missing(&db, 20)); /* its record is gone */
    cc_db_close(&db);
    open_db(&db, &b);
    CHECK(b.first_index == 50 && b.last_index == 100);
    CHECK(has(&db, 50, 1) && has(&db, 100, 1));
    CHECK(append_range(&db, &b, 101, 101, 2) == 0);
    txn = cc_db_begin(&db);
    CHECK(cc_raftlog_compact(&db, txn, &b, 101) == 0);
    CHECK(cc_db_commit(txn) == 0);
    CHECK(b.first_index == 101 && has(&db, 101, 2) && missing(&db, 99));
    /* reset: nothing left, the next entry follows the snapshot point */
    txn = cc_db_begin(&db);
    CHECK(cc_raftlog_reset(&db, txn, &b, 500, 7) == 0);
    CHECK(cc_db_commit(txn) == 0);
    CHECK(missing(&db, 101) && b.first_index == 501 && b.last_index == 500);
    CHECK(append_range(&db, &b, 501, 505, 7) == 0);
    cc_db_close(&db);
    open_db(&db, &b);
    CHECK(b.first_index == 501 && b.last_index == 505 && b.last_term == 7 && has(&db, 503, 7));
    cc_db_close(&db);
}

/* Earlier builds wrote one entry per record, keyed by its index. */
static void test_single_entry_records_of_earlier_builds(void)
{
    struct cc_db db;
    struct cc_log_bounds b;
    fresh(&db, &b);
    for (uint64_t i = 1; i <= 5; i++) {
        char buf[64];
        struct cc_entry e = entry(i, 1, buf, sizeof(buf));
        struct cc_buf rec;
        cc_buf_init(&rec);
        cc_msg_entry_put(&rec, &e);
        uint8_t k[8];
        cc_be64_put(k, i);
        CHECK(cc_db_put(db.log, NULL, k, 8, rec.data, rec.len) == 0);
        cc_buf_free(&rec);
    }
    cc_db_close(&db);
    open_db(&db, &b);
    CHECK(b.last_index == 5 && b.last_term == 1);
    for (uint64_t i = 1; i <= 5; i++)
        CHECK(has(&db, i, 1));
    CHECK(append_range(&db, &b, 4, 6, 2) == 0); /* conflict at 4 */
    CHECK(has(&db, 3, 1) && has(&db, 4, 2) && has(&db, 6, 2));
    DB_TXN *txn = cc_db_begin(&db);
    CHECK(cc_raftlog_compact(&db, txn, &b, 3) == 0);
    CHECK(cc_db_commit(txn) == 0);
    CHECK(missing(&db, 2) && has(&db, 3, 1) && b.first_index == 3);
    cc_db_close(&db);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    RUN(test_batches_read_back_one_by_one);
    RUN(test_conflict_cuts_a_record);
    RUN(test_compaction_keeps_the_rest);
    RUN(test_single_entry_records_of_earlier_builds);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return unit_report();
}
