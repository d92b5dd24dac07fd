/* The durable raft log and hard state, in the storage worker's database.
 *
 * Entries are stored in records of consecutive entries (proto `entry`
 * encodings one after the other), keyed by the big-endian index of the
 * first, so a cursor walks them in order; a batch appended together is one
 * record (raft_log.c says why). After compaction the log starts at
 * first_index; the term of the entry just before it is kept (raft needs it
 * to check the next append). */
#ifndef CC_CORE_STORAGE_RAFT_LOG_H
#define CC_CORE_STORAGE_RAFT_LOG_H

#include "core/storage/db.h"
#include "proto/msg.h"

struct cc_hard_state {
    uint64_t term, vote, commit;
};

struct cc_log_bounds {
    uint64_t first_index; /* first entry in the log; > last_index when empty */
    uint64_t prev_term;   /* term of entry first_index - 1 (0 if none) */
    uint64_t last_index, last_term;
};

/* Reads the hard state and the log bounds (all zero, and first_index 1,
 * for a new database). 0 or a BDB error. */
int cc_raftlog_load(struct cc_db *db, struct cc_hard_state *hs, struct cc_log_bounds *b);

int cc_raftlog_save_hard_state(struct cc_db *db, DB_TXN *txn, const struct cc_hard_state *hs);

/* The term of the entry at index (prev_term for first_index - 1), or 0 with
 * *found false when the log does not have it. */
uint64_t cc_raftlog_term(struct cc_db *db, DB_TXN *txn, const struct cc_log_bounds *b,
                         uint64_t index, bool *found);

/* Appends e; an entry at an index the log already has with another term
 * replaces it and removes every later entry (raft's conflict rule); the same
 * index and term is skipped (a resend after a restart). Returns 0, 1 when
 * skipped, -1 when e does not follow the log (a gap: logged), or a BDB
 * error. */
int cc_raftlog_append(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b,
                      const struct cc_entry *e);

/* Appends a loop turn's entries as few records: add each in order, then
 * finish (also after an error, to free). add returns what
 * cc_raftlog_append does; finish 0 or a BDB error. */
struct cc_raftlog_appender {
    struct cc_db *db;
    DB_TXN *txn;
    struct cc_log_bounds *b;
    struct cc_buf rec;
    uint64_t first;
    uint32_t n;
};
void cc_raftlog_appender_init(struct cc_raftlog_appender *a, struct cc_db *db, DB_TXN *txn,
                              struct cc_log_bounds *b);
int cc_raftlog_appender_add(struct cc_raftlog_appender *a, const struct cc_entry *e);
int cc_raftlog_appender_finish(struct cc_raftlog_appender *a);

/* The raw `entry` encoding at index into out (appended); 0, DB_NOTFOUND or
 * a BDB error. */
int cc_raftlog_read(struct cc_db *db, DB_TXN *txn, uint64_t index, struct cc_buf *out);

/* Replaces the whole log by a snapshot point: no entries, the next one is
 * index + 1 and follows an entry of term `term`. */
int cc_raftlog_reset(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b, uint64_t index,
                     uint64_t term);

/* Removes entries before `upto` (exclusive), keeping the bounds right. */
int cc_raftlog_compact(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b, uint64_t upto);

#endif
