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

static int decode_entry(const void *raw, size_t len, struct cc_entry *e)
{
    struct cc_rd rd;
    cc_rd_init(&rd, raw, len);
    return cc_msg_entry_next(&rd, e) == 1 && cc_rd_left(&rd) == 0 ? 0 : -1;
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
    if (r == 0) {
        struct cc_entry e;
        if (decode_entry(v.data, v.size, &e) != 0) {
            cc_error("raft log: the last entry is corrupt");
            r = DB_NOTFOUND;
        } else {
            *index = e.index;
            *term = e.term;
            *found = true;
        }
    } else if (r == DB_NOTFOUND) {
        r = 0;
    }
    c->close(c);
    return r;
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
    uint8_t k[8];
    cc_be64_put(k, index);
    void *raw = NULL;
    size_t len = 0;
    int r = cc_db_get_alloc(db->log, txn, k, 8, &raw, &len);
    if (r != 0)
        return r;
    cc_put_raw(out, raw, len);
    free(raw);
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
    struct cc_buf buf;
    cc_buf_init(&buf);
    uint64_t term = 0;
    struct cc_entry e;
    if (cc_raftlog_read(db, txn, index, &buf) == 0 && decode_entry(buf.data, buf.len, &e) == 0) {
        term = e.term;
        *found = true;
    }
    cc_buf_free(&buf);
    return term;
}

/* Deletes entries from..last (a conflicting suffix). */
static int truncate_from(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b, uint64_t from)
{
    for (uint64_t i = b->last_index; i >= from && i >= b->first_index; i--) {
        uint8_t k[8];
        cc_be64_put(k, i);
        int r = cc_db_del(db->log, txn, k, 8);
        if (r != 0)
            return r;
    }
    b->last_index = from - 1;
    bool found;
    b->last_term = cc_raftlog_term(db, txn, b, from - 1, &found);
    return 0;
}

int cc_raftlog_append(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b,
                      const struct cc_entry *e)
{
    if (e->index < b->first_index)
        return 1; /* compacted away: below the snapshot */
    if (e->index <= b->last_index) {
        bool found;
        uint64_t t = cc_raftlog_term(db, txn, b, e->index, &found);
        if (found && t == e->term)
            return 1;
        int r = truncate_from(db, txn, b, e->index);
        if (r != 0)
            return r;
    }
    if (e->index != b->last_index + 1) {
        cc_error("raft log: entry %llu does not follow the last one (%llu)",
                 (unsigned long long)e->index, (unsigned long long)b->last_index);
        return -1;
    }
    struct cc_buf rec;
    cc_buf_init(&rec);
    cc_msg_entry_put(&rec, e);
    uint8_t k[8];
    cc_be64_put(k, e->index);
    int r = rec.failed ? ENOMEM : cc_db_put(db->log, txn, k, 8, rec.data, rec.len);
    cc_buf_free(&rec);
    if (r == 0) {
        b->last_index = e->index;
        b->last_term = e->term;
    }
    return r;
}

int cc_raftlog_compact(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b, uint64_t upto)
{
    if (upto <= b->first_index)
        return 0;
    if (upto > b->last_index + 1)
        upto = b->last_index + 1;
    bool found;
    uint64_t prev_term = cc_raftlog_term(db, txn, b, upto - 1, &found);
    for (uint64_t i = b->first_index; i < upto; i++) {
        uint8_t k[8];
        cc_be64_put(k, i);
        int r = cc_db_del(db->log, txn, k, 8);
        if (r != 0)
            return r;
    }
    uint64_t f[2] = {upto, prev_term};
    int r = meta_put(db, txn, key_first, f, 2);
    if (r == 0) {
        b->first_index = upto;
        b->prev_term = prev_term;
    }
    return r;
}

int cc_raftlog_reset(struct cc_db *db, DB_TXN *txn, struct cc_log_bounds *b, uint64_t index,
                     uint64_t term)
{
    for (uint64_t i = b->first_index; i <= b->last_index; i++) {
        uint8_t k[8];
        cc_be64_put(k, i);
        int r = cc_db_del(db->log, txn, k, 8);
        if (r != 0 && r != DB_NOTFOUND)
            return r;
    }
    uint64_t f[2] = {index + 1, term};
    int r = meta_put(db, txn, key_first, f, 2);
    if (r == 0)
        *b = (struct cc_log_bounds){
            .first_index = index + 1, .prev_term = term, .last_index = index, .last_term = term};
    return r;
}
