/* The v2 store's copies: snapshot save/load (round trip, determinism,
 * corrupt input), the change hooks (exactly what changed), rebuilding a
 * store from persisted nodes and history, and the event codec. */
#include "tests/unit/test_store_util.h"

#include <errno.h>

/* A workload touching every kind of state: namespaces, nested and hidden
 * dirs, TTL keys and dirs, binary values, in-order keys, refresh, CAS,
 * deletes and an expiry. */
static void feed(struct cc_v2_store *s)
{
    struct cc_v2_request r;
    struct cc_v2_result res;

    ok(s, put("/0/members/a1/raftAttributes", "{\"peerURLs\":[]}"));
    ok(s, put("/0/version", "2.3.0"));
    ok(s, put("/1/a/b/c", "v"));
    ok(s, put("/1/_hidden/x", "h"));
    ok(s, put_ttl("/1/t1", "x", 10));
    ok(s, put_ttl("/1/t2", "y", 10));
    r = mkdir_r("/1/tdir");
    r.expiration_ns = T0 + 20 * SEC;
    ok(s, r);
    ok(s, put("/1/tdir/in", "z"));
    r = put("/1/bin", "");
    r.value.p = "\0\1\2\377";
    r.value.n = 4;
    ok(s, r);
    r = rq(CC_V2_POST, "/1/q");
    r.value = sv("job");
    ok(s, r);
    ok(s, r);
    r = put_ttl("/1/t1", "", 30);
    r.refresh = true;
    ok(s, r);
    r = put("/1/a/b/c", "w");
    r.prev_value = sv("v");
    ok(s, r);
    ok(s, del("/1/q/00000000000000000010"));
    ok(s, put_ttl("/1/soon", "s", 1));
    r = sync_at(T0 + 5 * SEC);
    CHECK(cc_v2_store_apply(s, &r, &res) == 0);
    ok(s, put("/1/empty", ""));
}

static void save(struct cc_v2_store *s, struct cc_buf *b)
{
    cc_buf_init(b);
    CHECK(cc_v2_store_snapshot_save(s, b) == 0 && !b->failed);
}

static bool same_bytes(const struct cc_buf *a, const struct cc_buf *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* save -> load -> save gives the same bytes; the copy answers like the
 * original and keeps doing so under the same requests. */
static void test_snapshot_round_trip(void)
{
    struct cc_v2_store *s = mk_store(), *c = NULL;
    struct cc_buf b1, b2, b3, b4;
    uint64_t f1, l1, f2, l2;
    int64_t e1 = 0, e2 = 0;
    char tree[4096];

    feed(s);
    save(s, &b1);
    CHECK(cc_v2_store_snapshot_load(b1.data, b1.len, &c) == 0 && c != NULL);
    save(c, &b2);
    CHECK(same_bytes(&b1, &b2));
    snprintf(tree, sizeof tree, "%s", get_s(s, "/", true));
    CHECK_STR(get_s(c, "/", true), tree);
    CHECK_STR(get_s(c, "/1/_hidden", true), "get /1/_hidden/ 4/4 {/1/_hidden/x=h 4/4} @17");
    CHECK(cc_v2_store_index(c) == cc_v2_store_index(s));
    cc_v2_store_history_bounds(s, &f1, &l1);
    cc_v2_store_history_bounds(c, &f2, &l2);
    CHECK(f1 == f2 && l1 == l2 && f1 == 1 && l1 == 17);
    CHECK(cc_v2_store_next_expiry(s, &e1) && cc_v2_store_next_expiry(c, &e2) && e1 == e2);
    /* the same requests, the same answers */
    CHECK_STR(ok(c, put("/1/a/b/c", "n")), ok(s, put("/1/a/b/c", "n")));
    sync_ok(s, T0 + 100 * SEC);
    sync_ok(c, T0 + 100 * SEC);
    CHECK(cc_v2_store_index(s) == 21 && cc_v2_store_index(c) == 21);
    save(s, &b3);
    save(c, &b4);
    CHECK(same_bytes(&b3, &b4));
    cc_buf_free(&b1);
    cc_buf_free(&b2);
    cc_buf_free(&b3);
    cc_buf_free(&b4);
    cc_v2_store_free(s);
    cc_v2_store_free(c);
}

static bool ignore(void *ctx, struct cc_v2_watcher *w, const struct cc_v2_event *ev)
{
    return true;
}

/* Two stores fed the same requests are byte-identical, watchers or not. */
static void test_determinism(void)
{
    struct cc_v2_store *a = mk_store(), *b = mk_store();
    struct cc_v2_watch_result wr;
    struct cc_buf ba, bb;

    CHECK(cc_v2_store_watch(b, "/", true, true, 0, ignore, NULL, &wr) == 0 && wr.watcher);
    CHECK(cc_v2_store_watch(b, "/1/a/b/c", false, false, 0, ignore, NULL, &wr) == 0);
    feed(a);
    feed(b);
    save(a, &ba);
    save(b, &bb);
    CHECK(same_bytes(&ba, &bb));
    cc_buf_free(&ba);
    cc_buf_free(&bb);
    ok(a, put("/1/extra", "1"));
    save(a, &ba);
    save(b, &bb);
    CHECK(!same_bytes(&ba, &bb));
    cc_buf_free(&ba);
    cc_buf_free(&bb);
    cc_v2_store_free(a);
    cc_v2_store_free(b);
}

/* The hash a snapshot ends with (FNV-1a 64 of the bytes before it). */
static void rehash(struct cc_buf *b)
{
    uint64_t h = 14695981039346656037u;

    for (size_t i = 0; i + 8 < b->len; i++) {
        h ^= b->data[i];
        h *= 1099511628211u;
    }
    for (size_t i = 0; i < 8; i++)
        b->data[b->len - 8 + i] = (uint8_t)(h >> (8 * i));
}

/* Truncations, byte flips and trailing bytes are refused; flips behind a
 * recomputed hash are refused by the structural checks or, when they only
 * changed a value or an index, load as another consistent store. Never a
 * crash or a leak (ASan). */
static void test_snapshot_corrupt(void)
{
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    struct cc_v2_store *s = mk_store(), *c;
    struct cc_buf b, again;
    size_t loaded = 0, tried = 0;

    feed(s);
    save(s, &b);
    for (size_t n = 0; n < b.len; n++) {
        c = (struct cc_v2_store *)1;
        errno = 0;
        CHECK(cc_v2_store_snapshot_load(b.data, n, &c) == -1 && errno == EINVAL && c == NULL);
    }
    for (size_t i = 0; i < b.len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            b.data[i] ^= masks[m];
            errno = 0;
            CHECK(cc_v2_store_snapshot_load(b.data, b.len, &c) == -1 && errno == EINVAL);
            if (i + 8 < b.len) {
                rehash(&b);
                tried++;
                if (cc_v2_store_snapshot_load(b.data, b.len, &c) == 0) {
                    loaded++;
                    cc_buf_init(&again);
                    CHECK(cc_v2_store_snapshot_save(c, &again) == 0);
                    cc_buf_free(&again);
                    cc_v2_store_free(c);
                } else {
                    CHECK(errno == EINVAL);
                }
            }
            b.data[i] ^= masks[m];
            rehash(&b);
        }
    }
    /* structure must not flip into another valid shape: a good share of
     * the flips is refused */
    CHECK(loaded > 0 && loaded < tried * 3 / 4);
    CHECK(cc_v2_store_snapshot_load(b.data, b.len, &c) == 0);
    cc_v2_store_free(c);
    cc_put_u8(&b, 0); /* a trailing byte, hash recomputed */
    rehash(&b);
    errno = 0;
    CHECK(cc_v2_store_snapshot_load(b.data, b.len, &c) == -1 && errno == EINVAL);
    cc_buf_free(&b);
    cc_v2_store_free(s);
}

/* The offset of the tree record named name (u32 length 1, the byte). */
static size_t find_name(const struct cc_buf *b, char name)
{
    const uint8_t pat[5] = {1, 0, 0, 0, (uint8_t)name};

    for (size_t i = 0; i + 5 <= b->len; i++)
        if (memcmp(b->data + i, pat, 5) == 0)
            return i;
    CHECK(0);
    return 0;
}

/* Shapes a consistent hash does not save: duplicate or unsorted names, a
 * "/" in a name, a depth that skips a level, a key with children. */
static void test_snapshot_bad_shapes(void)
{
    struct cc_v2_store *s = mk_store(), *c;
    struct cc_buf b;
    size_t at;

    ok(s, put("/1/a", "1"));
    ok(s, put("/1/b", "2"));
    ok(s, put("/1/c/d/x", "3"));
    ok(s, put("/1/e", "4"));
    ok(s, put("/1/z", "5"));
    save(s, &b);
    CHECK(cc_v2_store_snapshot_load(b.data, b.len, &c) == 0);
    cc_v2_store_free(c);
    {
        static const struct {
            char name;
            int off; /* from the name's length field */
            uint8_t to;
        } cases[] = {
            {'b', 4, 'a'},  /* a duplicate of "a" */
            {'b', 4, '0'},  /* sorts before "a" */
            {'b', 4, '/'},  /* a "/" in a name */
            {'b', 4, '\0'}, /* a NUL in a name */
            {'b', 4, '.'},  /* "." */
            {'d', 0, 0},    /* an empty name */
            {'z', -4, 4},   /* depth 2 -> 4, under the stale "d" */
            {'c', 5, 0},    /* the dir "c" becomes a key */
        };

        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            uint8_t was;

            at = (size_t)((long)find_name(&b, cases[k].name) + cases[k].off);
            was = b.data[at];
            b.data[at] = cases[k].to;
            rehash(&b);
            errno = 0;
            if (cc_v2_store_snapshot_load(b.data, b.len, &c) == 0) {
                fprintf(stderr, "  shape case %zu loaded\n", k);
                CHECK(0);
                cc_v2_store_free(c);
            }
            CHECK(errno == EINVAL);
            b.data[at] = was;
        }
    }
    rehash(&b);
    CHECK(cc_v2_store_snapshot_load(b.data, b.len, &c) == 0);
    cc_v2_store_free(c);
    cc_buf_free(&b);
    cc_v2_store_free(s);
}

/* The window survives a round trip: the copy refuses the same waitIndex. */
static void test_snapshot_full_history(void)
{
    struct cc_v2_store *s = mk_store(), *c;
    struct cc_v2_watch_result wr;
    struct cc_buf b;

    for (int i = 0; i < 1003; i++)
        ok(s, put("/1/k", "v"));
    save(s, &b);
    CHECK(cc_v2_store_snapshot_load(b.data, b.len, &c) == 0);
    CHECK(cc_v2_store_watch(c, "/1/k", false, false, 3, ignore, NULL, &wr) == 0);
    CHECK(wr.err.code == CC_V2_E_EVENT_INDEX_CLEARED);
    CHECK_STR(wr.err.cause, "the requested history has been cleared [4/3]");
    CHECK(cc_v2_store_watch(c, "/1/k", false, false, 4, ignore, NULL, &wr) == 0);
    CHECK(wr.event != NULL && wr.event->node.modified_index == 4);
    cc_v2_event_free(wr.event);
    cc_buf_free(&b);
    cc_v2_store_free(s);
    cc_v2_store_free(c);
}

/* A toy persistence layer fed by the hooks: the nodes by path, the last
 * 1000 events, and a log of what was reported. */
#define DB_MAX 256
struct db {
    struct {
        char path[128];
        char value[64];
        size_t value_len;
        bool dir;
        int64_t exp;
        uint64_t created, modified;
    } row[DB_MAX];
    size_t n, it;
    struct cc_v2_event *ev[CC_V2_HISTORY_CAP];
    size_t n_ev;
    char log[2048];
};

static void db_change(void *ctx, const struct cc_v2_node_rec *rec, bool deleted)
{
    struct db *db = ctx;
    size_t i, len = strlen(db->log);

    snprintf(db->log + len, sizeof db->log - len, "%s%s%s ", deleted ? "-" : "+", rec->path,
             rec->dir ? "/" : "");
    for (i = 0; i < db->n && strcmp(db->row[i].path, rec->path) != 0; i++)
        ;
    if (deleted) {
        CHECK(i < db->n);
        if (i < db->n)
            db->row[i] = db->row[--db->n];
        return;
    }
    if (i == db->n) {
        CHECK(db->n < DB_MAX);
        if (db->n == DB_MAX)
            return;
        db->n++;
    }
    snprintf(db->row[i].path, sizeof db->row[i].path, "%s", rec->path);
    CHECK(rec->value_len <= sizeof db->row[i].value);
    if (rec->value_len > 0)
        memcpy(db->row[i].value, rec->value, rec->value_len);
    db->row[i].value_len = rec->value_len;
    db->row[i].dir = rec->dir;
    db->row[i].exp = rec->expiration_ns;
    db->row[i].created = rec->created_index;
    db->row[i].modified = rec->modified_index;
}

static void db_event(void *ctx, const struct cc_v2_event *ev)
{
    struct db *db = ctx;

    if (db->n_ev == CC_V2_HISTORY_CAP) {
        cc_v2_event_free(db->ev[0]);
        memmove(db->ev, db->ev + 1, (CC_V2_HISTORY_CAP - 1) * sizeof db->ev[0]);
        db->n_ev--;
    }
    db->ev[db->n_ev++] = cc_v2_event_dup(ev);
}

/* Hands the rows out in reverse order of arrival (children before their
 * dirs, to exercise the out-of-order path of cc_v2_store_load). */
static int db_next(void *ctx, struct cc_v2_node_rec *rec)
{
    struct db *db = ctx;

    if (db->it == db->n)
        return 0;
    size_t i = db->n - 1 - db->it++;
    rec->path = db->row[i].path;
    rec->value = db->row[i].value;
    rec->value_len = db->row[i].value_len;
    rec->dir = db->row[i].dir;
    rec->expiration_ns = db->row[i].exp;
    rec->created_index = db->row[i].created;
    rec->modified_index = db->row[i].modified;
    return 1;
}

static void db_free(struct db *db)
{
    for (size_t i = 0; i < db->n_ev; i++)
        cc_v2_event_free(db->ev[i]);
    free(db);
}

static struct db *hooked(struct cc_v2_store *s)
{
    struct db *db = calloc(1, sizeof *db);
    struct cc_v2_store_hooks h = {db, db_change, db_event};

    cc_v2_store_set_hooks(s, &h);
    return db;
}

/* The hooks report exactly what changed, and nothing for failures. */
static void test_hooks(void)
{
    struct cc_v2_store *s = mk_store();
    struct db *db = hooked(s);
    struct cc_v2_request r;

    ok(s, put("/1/a/b/c", "v"));
    CHECK_STR(db->log, "+/1/a/ +/1/a/b/ +/1/a/b/c ");
    db->log[0] = '\0';
    r = mkdir_r("/1/a/b/d");
    r.expiration_ns = T0 + SEC;
    ok(s, r);
    ok(s, put("/1/a/b/d/e", "1"));
    ok(s, put("/1/a/b/c", "w")); /* replace: the new node only */
    r = put_ttl("/1/a/b/c", "", 9);
    r.refresh = true;
    r.prev_exist = 1;
    ok(s, r);
    CHECK_STR(db->log, "+/1/a/b/d/ +/1/a/b/d/e +/1/a/b/c +/1/a/b/c ");
    db->log[0] = '\0';
    fails(s, put("/1/a/b/c/x", "no"));
    fails(s, del("/1/a"));
    CHECK_STR(db->log, "");
    sync_ok(s, T0 + 2 * SEC);
    CHECK_STR(db->log, "-/1/a/b/d/e -/1/a/b/d/ ");
    db->log[0] = '\0';
    ok(s, put("/1/a/z", "1"));
    db->log[0] = '\0';
    ok(s, del_rec("/1/a"));
    CHECK_STR(db->log, "-/1/a/b/c -/1/a/b/ -/1/a/z -/1/a/ ");
    /* one event per index, the refresh included */
    CHECK(db->n_ev == 8 && cc_v2_store_index(s) == 8);
    for (size_t i = 0; i < db->n_ev; i++)
        CHECK(db->ev[i]->node.modified_index == i + 1);
    CHECK(db->ev[4]->refresh && db->ev[5]->action == CC_V2_ACT_EXPIRE);
    CHECK(db->n == 0);
    db_free(db);
    cc_v2_store_free(s);
}

/* What the hooks persisted rebuilds the very same store. */
static void test_load_from_persisted(void)
{
    struct cc_v2_store *s = mk_store(), *c = NULL;
    struct db *db = hooked(s);
    struct cc_buf b1, b2;

    feed(s);
    for (int i = 0; i < 1000; i++)
        ok(s, put(i % 2 ? "/1/x" : "/1/y", "v"));
    CHECK(cc_v2_store_load(test_ns, 2, db_next, db, cc_v2_store_index(s), db->ev, db->n_ev, &c) ==
          0);
    save(s, &b1);
    save(c, &b2);
    CHECK(same_bytes(&b1, &b2));
    cc_buf_free(&b1);
    cc_buf_free(&b2);
    cc_v2_store_free(c);
    db_free(db);
    cc_v2_store_free(s);
}

struct recs {
    const struct cc_v2_node_rec *r;
    size_t n, i;
    bool fail_at_end;
};

static int recs_next(void *ctx, struct cc_v2_node_rec *rec)
{
    struct recs *x = ctx;

    if (x->i == x->n)
        return x->fail_at_end ? -1 : 0;
    *rec = x->r[x->i++];
    return 1;
}

static int load_recs(const struct cc_v2_node_rec *r, size_t n, uint64_t index,
                     struct cc_v2_event *const *ev, size_t n_ev, bool fail_at_end)
{
    struct recs x = {r, n, 0, fail_at_end};
    struct cc_v2_store *s = NULL;
    int rc = cc_v2_store_load(test_ns, 2, recs_next, &x, index, ev, n_ev, &s);

    CHECK(rc == 0 ? s != NULL : s == NULL && errno == EINVAL);
    cc_v2_store_free(s);
    return rc;
}

/* Inconsistent persisted state is refused. */
static void test_load_rejects(void)
{
    const struct cc_v2_node_rec dir_a = {"/1/a", NULL, 0, true, 0, 1, 1};
    const struct cc_v2_node_rec key_a = {"/1/a", "v", 1, false, 0, 1, 1};
    const struct cc_v2_node_rec key_ab = {"/1/a/b", "v", 1, false, 0, 1, 2};
    const struct cc_v2_node_rec good[] = {key_ab, dir_a};
    const struct cc_v2_node_rec orphan[] = {key_ab};
    const struct cc_v2_node_rec dup[] = {dir_a, key_ab, dir_a};
    const struct cc_v2_node_rec key_parent[] = {key_a, key_ab};
    const struct cc_v2_node_rec unclean[] = {{"/1//a", NULL, 0, true, 0, 1, 1}};
    const struct cc_v2_node_rec ns_key[] = {{"/1", "v", 1, false, 0, 0, 0}};
    const struct cc_v2_node_rec future[] = {{"/1/f", "v", 1, false, 0, 9, 9}};
    struct cc_v2_store *s = mk_store();
    struct db *db = hooked(s);

    CHECK(load_recs(good, 2, 2, NULL, 0, false) == 0);
    CHECK(load_recs(good, 2, 2, NULL, 0, true) == -1);
    CHECK(load_recs(orphan, 1, 2, NULL, 0, false) == -1);
    CHECK(load_recs(dup, 3, 2, NULL, 0, false) == -1);
    CHECK(load_recs(key_parent, 2, 2, NULL, 0, false) == -1);
    CHECK(load_recs(unclean, 1, 2, NULL, 0, false) == -1);
    CHECK(load_recs(ns_key, 1, 2, NULL, 0, false) == -1);
    CHECK(load_recs(future, 1, 2, NULL, 0, false) == -1);
    ok(s, put("/1/a", "1"));
    ok(s, put("/1/a", "2"));
    ok(s, put("/1/a", "3"));
    CHECK(load_recs(NULL, 0, 3, db->ev, 3, false) == 0);
    CHECK(load_recs(NULL, 0, 2, db->ev, 3, false) == -1);    /* events after the index */
    CHECK(load_recs(NULL, 0, 3, db->ev + 1, 2, false) == 0); /* a suffix is fine */
    {
        struct cc_v2_event *gap[] = {db->ev[0], db->ev[2]};

        CHECK(load_recs(NULL, 0, 3, gap, 2, false) == -1);
    }
    db_free(db);
    cc_v2_store_free(s);
}

/* The history codec: round trip, and refusal of every truncation. */
static void test_event_codec(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_result res;
    struct cc_v2_request r = put_ttl("/1/k", "v", 3);
    struct cc_v2_event *back;
    struct cc_buf b;
    struct cc_rd rd;
    char want[512];

    ok(s, put("/1/k", "old"));
    r.refresh = false;
    CHECK(cc_v2_store_apply(s, &r, &res) == 0 && res.event != NULL);
    res.event->refresh = true;
    snprintf(want, sizeof want, "%s", evs(res.event));
    cc_buf_init(&b);
    cc_v2_event_encode(&b, res.event);
    cc_rd_init(&rd, b.data, b.len);
    back = cc_v2_event_decode(&rd);
    CHECK(back != NULL && !rd.bad && cc_rd_left(&rd) == 0);
    CHECK_STR(evs(back), want);
    cc_v2_event_free(back);
    for (size_t n = 0; n < b.len; n++) {
        cc_rd_init(&rd, b.data, n);
        CHECK(cc_v2_event_decode(&rd) == NULL && rd.bad);
    }
    b.data[0] = 200; /* no such action */
    cc_rd_init(&rd, b.data, b.len);
    CHECK(cc_v2_event_decode(&rd) == NULL && rd.bad);
    cc_buf_free(&b);
    cc_v2_result_clear(&res);
    cc_v2_store_free(s);
}

int main(void)
{
    RUN(test_snapshot_round_trip);
    RUN(test_determinism);
    RUN(test_snapshot_corrupt);
    RUN(test_snapshot_bad_shapes);
    RUN(test_snapshot_full_history);
    RUN(test_hooks);
    RUN(test_load_from_persisted);
    RUN(test_load_rejects);
    RUN(test_event_codec);
    return unit_report();
}
