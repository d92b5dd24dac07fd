/* The storage worker's Berkeley DB environment: DATA_DIR/member/.
 *
 * Only the storage worker opens it (DESIGN.md §1: a process killed inside
 * BDB leaves locks that would block any other opener). It is opened with
 * recovery every time, private regions (no shared-memory files to go stale
 * after a SIGKILL), transactions with synchronous commit (a committed
 * transaction is on disk), and page checksums on every table; free-threaded
 * for the checkpoint thread (below), the tables used by one thread only.
 *
 * Tables (btree, one file each):
 *   log.db      raft log: big-endian first index -> record of entries
 *               (core/storage/raft_log.h)
 *   meta.db     hard state, log bounds
 * The state machine's snapshot is a file beside them
 * (core/storage/snap_file.h). */
#ifndef CC_CORE_STORAGE_DB_H
#define CC_CORE_STORAGE_DB_H

#include <db.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

struct cc_checkpointer;

struct cc_db {
    DB_ENV *env;
    DB *log, *meta;
    char home[4096];
    struct cc_checkpointer *ckpt; /* NULL unless started */
    /* raft_log.c's copy of the last log record read, valid while
     * log_cache_gen == log_gen (every change to the log bumps log_gen) */
    struct cc_buf log_cache;
    uint64_t log_cache_first, log_cache_last, log_cache_gen, log_gen;
};

/* Creates DATA_DIR/member if needed and opens everything. 0, or -1 with a
 * message in err. */
int cc_db_open(struct cc_db *db, const char *data_dir, char *err, size_t errlen);
void cc_db_close(struct cc_db *db);

DB_TXN *cc_db_begin(struct cc_db *db);
/* Commits durably. 0, or a BDB error (the transaction is gone either way). */
int cc_db_commit(DB_TXN *txn);
void cc_db_abort(DB_TXN *txn);
/* Commits without waiting for the disk: durable with the next synchronous
 * commit (the log is sequential), lost in a crash before it. For work that
 * can be redone from what is durable (applying committed log entries). */
int cc_db_commit_nosync(DB_TXN *txn);
/* Checkpoints when at least kbytes of log were written since the last one,
 * so that DB_LOG_AUTO_REMOVE can delete the log files before it and a
 * recovery after a crash replays little. 0 or a BDB error. */
int cc_db_checkpoint(struct cc_db *db, unsigned kbytes);

/* Checkpoints from a thread of its own, every interval_ms once kbytes of
 * log were written since the last one. A checkpoint writes the cache's
 * dirty pages and waits for the disk: 20-50 ms at a time under load, which
 * in the storage worker's loop held every write behind it (64-connection
 * PUTs: p99 ~25 ms with it in the loop, ~14 ms without checkpoints). The
 * environment is opened free-threaded (DB_THREAD) for this; the tables
 * stay the loop's alone. 0, or -1 (logged). cc_db_close stops it. */
int cc_db_checkpointer_start(struct cc_db *db, unsigned interval_ms, unsigned kbytes);
void cc_db_checkpointer_stop(struct cc_db *db);
/* Checkpoints taken by the thread, and the longest one. */
void cc_db_checkpointer_stats(const struct cc_db *db, uint64_t *count, double *max_s);

/* Small helpers over DB->put/get/del; they return BDB codes
 * (0, DB_NOTFOUND, ...). get copies at most cap bytes into buf and sets *len
 * to the stored size. */
int cc_db_put(DB *t, DB_TXN *txn, const void *k, size_t kn, const void *v, size_t vn);
int cc_db_get(DB *t, DB_TXN *txn, const void *k, size_t kn, void *buf, size_t cap, size_t *len);
/* As get, into a malloc'd buffer the caller frees. */
int cc_db_get_alloc(DB *t, DB_TXN *txn, const void *k, size_t kn, void **out, size_t *len);
int cc_db_del(DB *t, DB_TXN *txn, const void *k, size_t kn);

void cc_be64_put(uint8_t out[8], uint64_t v);
uint64_t cc_be64_get(const uint8_t in[8]);

#endif
