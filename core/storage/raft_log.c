#include "core/storage/raft_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static const char key_hard[] = "hard_state";
static const char key_first[] = "log_first";

static int meta_put(struct cc_db *db, DB_TXN *txn, const char *key, const uint64_t *v, int n)
{
    struct cc_buf b;
    cc_buf_init(&b);
    for (int i = 0; i < n; i++)
        cc_put_u64(&b, v[i]);
    int r = b.failed ? ENOMEM : cc_db_put(db->meta, txn, key, strlen(key), b.data, b.len);
    cc_buf_free(&b);
    return r;
}

static int meta_get(struct cc_db *db, const char *key, uint64_t *v, int n)
{
    uint8_t raw[64];
    size_t len = 0;
    int r = cc_db_get(db->meta, NULL, key, strlen(key), raw, sizeof(raw), &len);
    if (r != 0)
        return r;
    struct cc_rd rd;
    cc_rd_init(&rd, raw, len);
    for (int i = 0; i < n; i++)
        v[i] = cc_get_u64(&rd);
    return rd.bad ? DB_NOTFOUND : 0;
}

int cc_raftlog_save_hard_state(struct cc_db *db, DB_TXN *txn, const struct cc_hard_state *hs)
{
    uint64_t v[3] = {hs->term, hs->vote, hs->commit};
    return meta_put(db, txn, key_hard, v, 3);
}

/* ---- records ----
 *
 * A record holds consecutive entries, each a proto `entry` encoding, one
 * after the other; its key is the first one's index. Data dirs written
 * before records grew hold one entry per record, which is the same format.
 * One record per batch (up to RECORD_MAX_ENTRIES or RECORD_MAX_BYTES) makes
 * a loop turn's entries one Berkeley DB put, and compaction one delete per
 * record: per entry, the puts were ~18 % and the deletes ~14 % of the
 * storage worker's CPU at 64 connections. */
#define RECORD_MAX_ENTRIES 32
#define RECORD_MAX_BYTES   (32u << 10)

/* Checks the entries of a record; the last one's index. */
static int record_scan(const void *raw, size_t len, uint64_t first, uint64_t *last)
{
    struct cc_rd rd;
    cc_rd_init(&rd, raw, len);
    struct cc_entry e;
    uint32_t k = 0;
    while (cc_rd_left(&rd) > 0) {
        if (cc_msg_entry_next(&rd, &e) != 1 || e.index != first + k)
            return -1;
        k++;
    }
    if (k == 0)
        return -1;
    *last = first + k - 1;
    return 0;
}

/* The record held in db->log_cache (a copy) stays valid until the log
 * changes (log_gen): readers walk consecutive indexes, and each would
 * otherwise search the btree and copy the record again. */
static void cache_drop(struct cc_db *db)
{
    db->log_gen++;
}

/* Opens a cursor on the log at the first record keyed at or after index;
 * the key lands in kb, the value as v's flags ask. Returns the positioning
 * result; *c is NULL when no cursor could be opened, else close it. */
static int seek(struct cc_db *db, DB_TXN *txn, uint64_t index, uint8_t kb[8], DBT *k, DBT *v,
                DBC **c)
{
    int r = db->log->cursor(db->log, txn, c, 0);
    if (r != 0) {
        *c = NULL;
        return r;
    }
    cc_be64_put(kb, index);
    memset(k, 0, sizeof(*k));
    k->data = kb;
    k->size = 8;
    k->ulen = 8;
    k->flags = DB_DBT_USERMEM;
    return (*c)->get(*c, k, v, DB_SET_RANGE);
}

/* Loads the record that holds index into the cache. 0, DB_NOTFOUND or a
 * BDB error. */
static int cache_load(struct cc_db *db, DB_TXN *txn, uint64_t index)
{
    if (db->log_cache_gen == db->log_gen && db->log_cache.len > 0 && index >= db->log_cache_first &&
        index <= db->log_cache_last)
        return 0;
    DBC *c;
    uint8_t kb[8];
    DBT k, v;
    memset(&v, 0, sizeof(v));
    int r = seek(db, txn, index, kb, &k, &v, &c);
    if (c == NULL)
        return r;
    if (r == 0 && (k.size != 8 || cc_be64_get(kb) > index))
        r = c->get(c, &k, &v, DB_PREV);
    else if (r == DB_NOTFOUND)
        r = c->get(c, &k, &v, DB_LAST);
    uint64_t first = 0, last = 0;
    if (r == 0) {
        first = k.size == 8 ? cc_be64_get(kb) : 0;
        if (k.size != 8 || record_scan(v.data, v.size, first, &last) != 0) {
            cc_error("raft log: the record at %llu is corrupt", (unsigned long long)first);
            r = EINVAL;
        } else if (index < first || index > last) {
            r = DB_NOTFOUND;
        } else {
            cc_buf_reset(&db->log_cache);
            cc_put_raw(&db->log_cache, v.data, v.size);
            if (db->log_cache.failed) {
                cc_buf_reset(&db->log_cache);
                r = ENOMEM;
            }
        }
    }
    c->close(c);
    if (r != 0)
        return r;
    db->log_cache_first = first;
    db->log_cache_last = last;
    db->log_cache_gen = db->log_gen;
    return 0;
}

/* The entry at index from the cached record: its bytes and decoded. */
static int cached_entry(struct cc_db *db, uint64_t index, const uint8_t **raw, size_t *len,
                        struct cc_entry *e)
{
    struct cc_rd rd;
    cc_rd_init(&rd, db->log_cache.data, db->log_cache.len);
    for (uint64_t i = db->log_cache_first; i <= index; i++) {
        size_t at = rd.off;
        if (cc_msg_entry_next(&rd, e) != 1)
            return EINVAL;
        if (i == index) {
            *raw = db->log_cache.data + at;
            *len = rd.off - at;
            return 0;
        }
    }
    return DB_NOTFOUND;
}

/* The last entry, by cursor; 0 with *found false on an empty table. */
static int read_last(struct cc_db *db, uint64_t *index, uint64_t *term, bool *found)
{
    DBC *c;
    *found = false;
    int r = db->log->cursor(db->log, NULL, &c, 0);
    if (r != 0)
        return r;
    DBT k, v;
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    r = c->get(c, &k, &v, DB_LAST);
    uint64_t first = k.size == 8 && r == 0 ? cc_be64_get(k.data) : 0;
    c->close(c);
    if (r == DB_NOTFOUND)
        return 0;
    if (r != 0)
        return r;
    const uint8_t *raw;
    size_t len;
    struct cc_entry e;
    if ((r = cache_load(db, NULL, first)) != 0 ||
        (r = cached_entry(db, db->log_cache_last, &raw, &len, &e)) != 0) {
        cc_error("raft log: the last record is corrupt");
        return r == DB_NOTFOUND ? EINVAL : r;
    }
    *index = e.index;
    *term = e.term;
    *found = true;
    return 0;
}

int cc_raftlog_load(struct cc_db *db, struct cc_hard_state *hs, struct cc_log_bounds *b)
{
    uint64_t v[3] = {0, 0, 0};
    memset(hs, 0, sizeof(*hs));
    int r = meta_get(db, key_hard, v, 3);
    if (r != 0 && r != DB_NOTFOUND)
        return r;
    hs->term = v[0];
    hs->vote = v[1];
    hs->commit = v[2];
    uint64_t f[2] = {1, 0};
    r = meta_get(db, key_first, f, 2);
    if (r != 0 && r != DB_NOTFOUND)
        return r;
    b->first_index = f[0];
    b->prev_term = f[1];
    bool found;
    r = read_last(db, &b->last_index, &b->last_term, &found);
    if (r != 0)
        return r;
    if (!found) {
        b->last_index = b->first_index - 1;
        b->last_term = b->prev_term;
    }
    return 0;
}

int cc_raftlog_read(struct cc_db *db, DB_TXN *txn, uint64_t index, struct cc_buf *out)
{
    const uint8_t *raw;
    size_t len;
    struct cc_entry e;
    int r = cache_load(db, txn, index);
    if (r == 0)
        r = cached_entry(db, index, &raw, &len, &e);
    if (r != 0)
        return r;
    cc_put_raw(out, raw, len);
    return out->failed ? ENOMEM : 0;
}

uint64_t cc_raftlog_term(struct cc_db *db, DB_TXN *txn, const struct cc_log_bounds *b,
                         uint64_t index, bool *found)
{
    *found = false;
    if (index == b->first_index - 1) {
        *found = true;
        return b->prev_term;
    }
    if (index < b->first_index || index > b->last_index)
        return 0;
    if (index == b->last_index) {
        *found = true;
        return b->last_term;
    }
    const uint8_t *raw;
    size_t len;
    struct cc_entry e;
    if (cache_load(db, txn, index) != 0 || cached_entry(db, index, &raw, &len, &e) != 0)
        return 0;
    *found = true;
    return e.term;
}

static int put_record(struct cc_db *db, DB_TXN *txn, uint64_t first, const struct cc_buf *rec)
{
    if (rec->failed)
        return ENOMEM;
    uint8_t k[8];
    cc_be64_put(k, first);
    cache_drop(db);
    return cc_db_put(db->log, txn, k, 8, rec->data, rec->len);
}

/* Deletes every record with a key at or after `from`. */
static int delete_records_from(struct cc_db *db, DB_TXN *txn, uint64_t from)
{
    DBC *c;
    uint8_t kb[8];
    DBT k, v;
    memset(&v, 0, sizeof(v));
    v.flags = DB_DBT_PARTIAL; /* doff = dlen = 0: the values are not read */
    int r = seek(db, txn, from, kb, &k, &v, &c);
    if (c == NULL)
        return r;
    while (r == 0) {
        r = c->del(c, 0);
        if (r == 0)
            r = c->get(c, &k, &v, DB_NEXT);
    }
    int rc = c->close(c);
    cache_drop(db);
    return r == DB_NOTFOUND ? rc : r;
}

/* Deletes entries from..last (a conflicting suffix): the record holding
 * `from` keeps the entries before it, later records go. */
static int truncate_from(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b, uint64_t from)
{
    int r = cache_load(db, txn, from);
    if (r == 0 && db->log_cache_first < from) {
        const uint8_t *raw;
        size_t len;
        struct cc_entry e;
        if ((r = cached_entry(db, from, &raw, &len, &e)) != 0)
            return r;
        struct cc_buf head;
        cc_buf_init(&head);
        cc_put_raw(&head, db->log_cache.data, (size_t)(raw - db->log_cache.data));
        uint64_t first = db->log_cache_first;
        r = put_record(db, txn, first, &head);
        cc_buf_free(&head);
        if (r == 0)
            r = delete_records_from(db, txn, from);
    } else if (r == 0 || r == DB_NOTFOUND) {
        r = delete_records_from(db, txn, from);
    }
    if (r != 0)
        return r;
    /* from - 1 is read from its record (or is the snapshot point), not
     * taken from the old last_term. */
    b->last_index = from;
    bool found;
    uint64_t term = cc_raftlog_term(db, txn, b, from - 1, &found);
    b->last_index = from - 1;
    b->last_term = term;
    return 0;
}

void cc_raftlog_appender_init(struct cc_raftlog_appender *a, struct cc_db *db, DB_TXN *txn,
                              struct cc_log_bounds *b)
{
    memset(a, 0, sizeof(*a));
    a->db = db;
    a->txn = txn;
    a->b = b;
    cc_buf_init(&a->rec);
}

/* Writes the record being gathered. */
static int appender_flush(struct cc_raftlog_appender *a)
{
    if (a->n == 0)
        return 0;
    int r = put_record(a->db, a->txn, a->first, &a->rec);
    cc_buf_reset(&a->rec);
    a->n = 0;
    return r;
}

int cc_raftlog_appender_add(struct cc_raftlog_appender *a, const struct cc_entry *e)
{
    struct cc_log_bounds *b = a->b;
    if (e->index < b->first_index)
        return 1; /* compacted away: below the snapshot */
    if (e->index <= b->last_index) {
        int r = appender_flush(a);
        if (r != 0)
            return r;
        bool found;
        uint64_t t = cc_raftlog_term(a->db, a->txn, b, e->index, &found);
        if (found && t == e->term)
            return 1;
        if ((r = truncate_from(a->db, a->txn, b, e->index)) != 0)
            return r;
    }
    if (e->index != b->last_index + 1) {
        cc_error("raft log: entry %llu does not follow the last one (%llu)",
                 (unsigned long long)e->index, (unsigned long long)b->last_index);
        return -1;
    }
    if (a->n == 0)
        a->first = e->index;
    cc_msg_entry_put(&a->rec, e);
    a->n++;
    b->last_index = e->index;
    b->last_term = e->term;
    if (a->n >= RECORD_MAX_ENTRIES || a->rec.len >= RECORD_MAX_BYTES)
        return appender_flush(a);
    return 0;
}

int cc_raftlog_appender_finish(struct cc_raftlog_appender *a)
{
    int r = appender_flush(a);
    cc_buf_free(&a->rec);
    return r;
}

int cc_raftlog_append(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b,
                      const struct cc_entry *e)
{
    struct cc_raftlog_appender a;
    cc_raftlog_appender_init(&a, db, txn, b);
    int r = cc_raftlog_appender_add(&a, e);
    int f = cc_raftlog_appender_finish(&a);
    return r < 0 || r > 1 ? r : f != 0 ? f : r;
}

/* Deletes the records whose entries all lie before upto; the one that
 * holds upto (or starts before it and goes past) stays whole, its early
 * entries out of the bounds. */
static int delete_records_before(struct cc_db *db, DB_TXN *txn, uint64_t upto)
{
    DBC *c;
    int r = db->log->cursor(db->log, txn, &c, 0);
    if (r != 0)
        return r;
    DBT k, v;
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    r = c->get(c, &k, &v, DB_FIRST);
    while (r == 0) {
        uint64_t last;
        if (k.size != 8 || record_scan(v.data, v.size, cc_be64_get(k.data), &last) != 0) {
            r = EINVAL;
            break;
        }
        if (last >= upto)
            break;
        r = c->del(c, 0);
        if (r == 0)
            r = c->get(c, &k, &v, DB_NEXT);
    }
    int rc = c->close(c);
    cache_drop(db);
    return r == DB_NOTFOUND || r == 0 ? rc : r;
}

int cc_raftlog_compact(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b, uint64_t upto)
{
    if (upto <= b->first_index)
        return 0;
    if (upto > b->last_index + 1)
        upto = b->last_index + 1;
    bool found;
    uint64_t prev_term = cc_raftlog_term(db, txn, b, upto - 1, &found);
    int r = delete_records_before(db, txn, upto);
    if (r != 0)
        return r;
    uint64_t f[2] = {upto, prev_term};
    r = meta_put(db, txn, key_first, f, 2);
    if (r == 0) {
        b->first_index = upto;
        b->prev_term = prev_term;
    }
    return r;
}

int cc_raftlog_reset(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b, uint64_t index,
                     uint64_t term)
{
    int r = delete_records_from(db, txn, 0);
    if (r != 0)
        return r;
    uint64_t f[2] = {index + 1, term};
    r = meta_put(db, txn, key_first, f, 2);
    if (r == 0)
        *b = (struct cc_log_bounds){
            .first_index = index + 1, .prev_term = term, .last_index = index, .last_term = term};
    return r;
}
