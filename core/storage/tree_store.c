#include "core/storage/tree_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/v2/node.h"
#include "core/v2/request_codec.h"

const char *const cc_tree_namespaces[] = {"/0", "/1"};
const size_t cc_tree_n_namespaces = 2;

static const char key_etcd_index[] = "etcd_index";

/* nodes.db value: u8 dir, u64 expiration, u64 created, u64 modified, bytes value. */
static void encode_rec(struct cc_buf *b, const struct cc_v2_node_rec *r)
{
    cc_put_u8(b, r->dir);
    cc_put_u64(b, (uint64_t)r->expiration_ns);
    cc_put_u64(b, r->created_index);
    cc_put_u64(b, r->modified_index);
    cc_put_bytes(b, r->value, (uint32_t)r->value_len);
}

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

static void note_error(struct cc_tree_store *t, int r)
{
    if (r != 0 && t->err == 0)
        t->err = r;
}

static void on_change(void *ctx, const struct cc_v2_node_rec *rec, bool deleted)
{
    struct cc_tree_store *t = ctx;
    if (t->txn == NULL)
        return;
    if (deleted) {
        note_error(t, cc_db_del(t->db->nodes, t->txn, rec->path, strlen(rec->path)));
        return;
    }
    struct cc_buf b;
    cc_buf_init(&b);
    encode_rec(&b, rec);
    note_error(
        t, b.failed ? ENOMEM
                    : cc_db_put(t->db->nodes, t->txn, rec->path, strlen(rec->path), b.data, b.len));
    cc_buf_free(&b);
}

static void on_event(void *ctx, const struct cc_v2_event *ev)
{
    struct cc_tree_store *t = ctx;
    if (t->txn == NULL)
        return;
    struct cc_buf b;
    cc_buf_init(&b);
    cc_v2_event_encode(&b, ev);
    uint8_t k[8];
    cc_be64_put(k, ev->etcd_index);
    note_error(t, b.failed ? ENOMEM : cc_db_put(t->db->history, t->txn, k, 8, b.data, b.len));
    cc_buf_free(&b);
    if (ev->etcd_index > CC_V2_HISTORY_CAP) {
        cc_be64_put(k, ev->etcd_index - CC_V2_HISTORY_CAP);
        note_error(t, cc_db_del(t->db->history, t->txn, k, 8));
    }
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
static int load_history(struct cc_db *db, uint64_t index, struct cc_v2_event ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DBC *c;
    if (db->history->cursor(db->history, NULL, &c, 0) != 0)
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

int cc_tree_store_open(struct cc_tree_store *t, struct cc_db *db, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    t->db = db;
    uint8_t raw[16];
    size_t len = 0;
    uint64_t index = 0;
    int r =
        cc_db_get(db->meta, NULL, key_etcd_index, strlen(key_etcd_index), raw, sizeof(raw), &len);
    if (r == 0 && len == 8)
        index = cc_be64_get(raw);
    else if (r != DB_NOTFOUND && r != 0) {
        snprintf(err, errlen, "cannot read the store index: %s", db_strerror(r));
        return -1;
    }
    struct cc_v2_event **hist = NULL;
    size_t nhist = 0;
    if (load_history(db, index, &hist, &nhist) != 0) {
        snprintf(err, errlen, "cannot read the event history");
        return -1;
    }
    struct load_cursor lc;
    memset(&lc, 0, sizeof(lc));
    lc.first = true;
    r = db->nodes->cursor(db->nodes, NULL, &lc.c, 0);
    if (r == 0) {
        r = cc_v2_store_load(cc_tree_namespaces, cc_tree_n_namespaces, next_rec, &lc, index, hist,
                             nhist, &t->store);
        lc.c->close(lc.c);
    }
    for (size_t i = 0; i < nhist; i++)
        cc_v2_event_free(hist[i]);
    free(hist);
    if (r != 0) {
        snprintf(err, errlen, "cannot load the key tree from %s/nodes.db", db->home);
        return -1;
    }
    struct cc_v2_store_hooks hooks = {.ctx = t, .on_change = on_change, .on_event = on_event};
    cc_v2_store_set_hooks(t->store, &hooks);
    return 0;
}

void cc_tree_store_close(struct cc_tree_store *t)
{
    cc_v2_store_free(t->store);
    t->store = NULL;
}

int cc_tree_store_apply(struct cc_tree_store *t, DB_TXN *txn, const struct cc_entry *e)
{
    if (e->type != 0 || e->data.n == 0)
        return 0; /* a leader's no-op: nothing for the store */
    struct cc_v2_request req;
    if (cc_v2_request_decode(e->data.p, e->data.n, &req) != 0) {
        /* Deterministically skipped everywhere: every member sees the same
         * bytes. Logged, since only a bug can put it there. */
        cc_error("entry %llu: undecodable request skipped", (unsigned long long)e->index);
        return 0;
    }
    uint64_t before = cc_v2_store_index(t->store);
    t->txn = txn;
    t->err = 0;
    struct cc_v2_result res = {0};
    int r = cc_v2_store_apply(t->store, &req, &res);
    t->txn = NULL;
    cc_v2_result_clear(&res);
    cc_v2_request_free(&req);
    if (r != 0)
        return -1;
    if (t->err != 0)
        return t->err;
    uint64_t after = cc_v2_store_index(t->store);
    if (after != before) {
        uint8_t v[8];
        cc_be64_put(v, after);
        return cc_db_put(t->db->meta, txn, key_etcd_index, strlen(key_etcd_index), v, 8);
    }
    return 0;
}

int cc_tree_store_snapshot(struct cc_tree_store *t, struct cc_buf *out)
{
    return cc_v2_store_snapshot_save(t->store, out);
}

uint64_t cc_tree_store_index(const struct cc_tree_store *t)
{
    return t->store ? cc_v2_store_index(t->store) : 0;
}

struct install_ctx {
    struct cc_tree_store *t;
    DB_TXN *txn;
};

static int install_node(void *ctx, const struct cc_v2_node_rec *rec)
{
    struct install_ctx *ic = ctx;
    struct cc_buf b;
    cc_buf_init(&b);
    encode_rec(&b, rec);
    int r = b.failed
                ? ENOMEM
                : cc_db_put(ic->t->db->nodes, ic->txn, rec->path, strlen(rec->path), b.data, b.len);
    cc_buf_free(&b);
    return r;
}

static int install_event(void *ctx, const struct cc_v2_event *ev)
{
    struct install_ctx *ic = ctx;
    struct cc_buf b;
    cc_buf_init(&b);
    cc_v2_event_encode(&b, ev);
    uint8_t k[8];
    cc_be64_put(k, ev->etcd_index);
    int r = b.failed ? ENOMEM : cc_db_put(ic->t->db->history, ic->txn, k, 8, b.data, b.len);
    cc_buf_free(&b);
    return r;
}

int cc_tree_store_install(struct cc_tree_store *t, DB_TXN *txn, const void *snap, size_t len)
{
    struct cc_v2_store *ns = NULL;
    if (cc_v2_store_snapshot_load(snap, len, &ns) != 0)
        return -1;
    u_int32_t count;
    int r = t->db->nodes->truncate(t->db->nodes, txn, &count, 0);
    if (r == 0)
        r = t->db->history->truncate(t->db->history, txn, &count, 0);
    struct install_ctx ic = {t, txn};
    if (r == 0)
        r = cc_v2_store_walk(ns, install_node, install_event, &ic);
    if (r == 0) {
        uint8_t v[8];
        cc_be64_put(v, cc_v2_store_index(ns));
        r = cc_db_put(t->db->meta, txn, key_etcd_index, strlen(key_etcd_index), v, 8);
    }
    if (r != 0) {
        cc_v2_store_free(ns);
        return r;
    }
    cc_v2_store_free(t->store);
    t->store = ns;
    struct cc_v2_store_hooks hooks = {.ctx = t, .on_change = on_change, .on_event = on_event};
    cc_v2_store_set_hooks(t->store, &hooks);
    return 0;
}

int cc_tree_store_hash(struct cc_tree_store *t, uint64_t *hash)
{
    /* The snapshot ends with an FNV-1a 64 of everything before it, and equal
     * stores give equal snapshot bytes. */
    struct cc_buf b;
    cc_buf_init(&b);
    int r = cc_tree_store_snapshot(t, &b);
    if (r == 0 && b.len >= 8) {
        struct cc_rd rd;
        cc_rd_init(&rd, b.data + b.len - 8, 8);
        *hash = cc_get_u64(&rd);
    }
    cc_buf_free(&b);
    return r == 0 ? 0 : -1;
}
