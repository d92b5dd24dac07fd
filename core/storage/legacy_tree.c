#include "core/storage/legacy_tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/v2/node.h"
#include "core/v2/store.h"

static const char *const namespaces[] = {"/0", "/1"};

/* nodes.db value: u8 dir, u64 expiration, u64 created, u64 modified, bytes value. */
static int decode_rec(const void *p, size_t n, struct cc_v2_node_rec *r)
{
    struct cc_rd rd;
    cc_rd_init(&rd, p, n);
    r->dir = cc_get_u8(&rd) != 0;
    r->expiration_ns = (int64_t)cc_get_u64(&rd);
    r->created_index = cc_get_u64(&rd);
    r->modified_index = cc_get_u64(&rd);
    uint32_t vn = 0;
    r->value = (const char *)cc_get_bytes(&rd, &vn);
    r->value_len = vn;
    return rd.bad || cc_rd_left(&rd) != 0 ? -1 : 0;
}

struct load_cursor {
    DBC *c;
    DBT k, v;
    char path[4096 + 1];
    bool first;
};

static int next_rec(void *ctx, struct cc_v2_node_rec *rec)
{
    struct load_cursor *lc = ctx;
    int r = lc->c->get(lc->c, &lc->k, &lc->v, lc->first ? DB_FIRST : DB_NEXT);
    lc->first = false;
    if (r == DB_NOTFOUND)
        return 0;
    if (r != 0 || lc->k.size >= sizeof(lc->path))
        return -1;
    memcpy(lc->path, lc->k.data, lc->k.size);
    lc->path[lc->k.size] = '\0';
    if (decode_rec(lc->v.data, lc->v.size, rec) != 0)
        return -1;
    rec->path = lc->path;
    return 1;
}

/* The persisted history: the newest run of consecutive events ending at
 * the store index. */
static int load_history(DB *history, uint64_t index, struct cc_v2_event ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DBC *c;
    if (history->cursor(history, NULL, &c, 0) != 0)
        return -1;
    struct cc_v2_event **evs = calloc(CC_V2_HISTORY_CAP, sizeof(*evs));
    size_t cnt = 0;
    DBT k, v;
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    int r = c->get(c, &k, &v, DB_LAST);
    while (evs && r == 0 && cnt < CC_V2_HISTORY_CAP) {
        struct cc_rd rd;
        cc_rd_init(&rd, v.data, v.size);
        struct cc_v2_event *ev = cc_v2_event_decode(&rd);
        if (ev == NULL)
            break;
        uint64_t want = cnt == 0 ? index : evs[cnt - 1]->etcd_index - 1;
        if (ev->etcd_index != want || ev->etcd_index > index) {
            cc_v2_event_free(ev);
            break;
        }
        evs[cnt++] = ev;
        r = c->get(c, &k, &v, DB_PREV);
    }
    c->close(c);
    if (evs == NULL)
        return -1;
    for (size_t i = 0; i < cnt / 2; i++) { /* newest first -> index order */
        struct cc_v2_event *tmp = evs[i];
        evs[i] = evs[cnt - 1 - i];
        evs[cnt - 1 - i] = tmp;
    }
    *out = evs;
    *n = cnt;
    return 0;
}

static int open_old(struct cc_db *db, DB **out, const char *file)
{
    int r = db_create(out, db->env, 0);
    if (r == 0)
        r = (*out)->set_flags(*out, DB_CHKSUM);
    if (r == 0)
        r = (*out)->open(*out, NULL, file, NULL, DB_BTREE, DB_AUTO_COMMIT, 0600);
    if (r != 0 && *out) {
        (*out)->close(*out, 0);
        *out = NULL;
    }
    return r;
}

/* raft_log.c stored its numbers little-endian, the store index was
 * big-endian. */
static int meta_u64s(struct cc_db *db, const char *key, bool big_endian, uint64_t *v, size_t max,
                     size_t *n)
{
    uint8_t raw[8 * 64];
    size_t len = 0;
    *n = 0;
    int r = cc_db_get(db->meta, NULL, key, strlen(key), raw, sizeof(raw), &len);
    if (r == DB_NOTFOUND)
        return 0;
    if (r != 0 || len % 8 != 0 || len / 8 > max)
        return r ? r : EINVAL;
    for (size_t i = 0; i < len / 8; i++) {
        struct cc_rd rd;
        cc_rd_init(&rd, raw + 8 * i, 8);
        v[i] = big_endian ? cc_be64_get(raw + 8 * i) : cc_get_u64(&rd);
    }
    *n = len / 8;
    return 0;
}

/* The old tables' store at the old applied index, as snapshot bytes. */
static int old_store_bytes(struct cc_db *db, DB *nodes, DB *history, struct cc_buf *out)
{
    uint64_t index = 0;
    size_t n = 0;
    int r = meta_u64s(db, "etcd_index", true, &index, 1, &n);
    if (r != 0)
        return -1;
    struct cc_v2_event **hist = NULL;
    size_t nhist = 0;
    if (load_history(history, index, &hist, &nhist) != 0)
        return -1;
    struct load_cursor lc;
    memset(&lc, 0, sizeof(lc));
    lc.first = true;
    struct cc_v2_store *st = NULL;
    r = nodes->cursor(nodes, NULL, &lc.c, 0);
    if (r == 0) {
        r = cc_v2_store_load(namespaces, 2, next_rec, &lc, index, hist, nhist, &st);
        lc.c->close(lc.c);
    }
    for (size_t i = 0; i < nhist; i++)
        cc_v2_event_free(hist[i]);
    free(hist);
    if (r == 0)
        r = cc_v2_store_snapshot_save(st, out);
    cc_v2_store_free(st);
    return r == 0 && !out->failed ? 0 : -1;
}

int cc_legacy_tree_convert(struct cc_db *db, struct cc_snap_meta *snap, char *err, size_t errlen)
{
    char path[sizeof(db->home) + 16];
    snprintf(path, sizeof(path), "%s/nodes.db", db->home);
    if (access(path, F_OK) != 0)
        return 0;
    if (snap->index == 0) {
        uint64_t applied[2] = {0, 0}, voters[CC_SNAP_MAX_VOTERS];
        size_t n_applied = 0, n_voters = 0;
        DB *nodes = NULL, *history = NULL;
        struct cc_buf bytes;
        cc_buf_init(&bytes);
        int r = meta_u64s(db, "applied", false, applied, 2, &n_applied);
        if (r == 0)
            r = meta_u64s(db, "members", false, voters, CC_SNAP_MAX_VOTERS, &n_voters);
        if (r == 0)
            r = open_old(db, &nodes, "nodes.db");
        if (r == 0)
            r = open_old(db, &history, "history.db");
        if (r == 0)
            r = old_store_bytes(db, nodes, history, &bytes);
        if (nodes)
            nodes->close(nodes, 0);
        if (history)
            history->close(history, 0);
        struct cc_snap_meta m = *snap;
        m.index = applied[0];
        m.term = applied[1];
        if (n_voters > 0) {
            m.n_voters = (unsigned)n_voters;
            memcpy(m.voters, voters, n_voters * sizeof(*voters));
        }
        struct cc_snap_writer w;
        cc_snap_writer_init(&w);
        if (r == 0 && m.index > 0 &&
            (cc_snap_writer_begin(&w, db->home, CC_SNAP_CONVERT_TMP) != 0 ||
             cc_snap_writer_append(&w, bytes.data, bytes.len) != 0 ||
             cc_snap_writer_finish(&w, &m) != 0))
            r = -1;
        cc_buf_free(&bytes);
        if (r != 0) {
            snprintf(err, errlen,
                     "cannot convert the key tree of an earlier version in %s into a snapshot",
                     db->home);
            return -1;
        }
        if (m.index > 0) {
            *snap = m;
            cc_info("converted the key tree of an earlier version into a snapshot at raft index "
                    "%llu (%llu bytes)",
                    (unsigned long long)m.index, (unsigned long long)m.data_len);
        }
    }
    const char *old[] = {"nodes.db", "history.db"};
    for (size_t i = 0; i < 2; i++) {
        int r = db->env->dbremove(db->env, NULL, old[i], NULL, DB_AUTO_COMMIT);
        if (r != 0 && r != ENOENT)
            cc_warn("cannot remove %s/%s: %s", db->home, old[i], db_strerror(r));
    }
    return 0;
}
