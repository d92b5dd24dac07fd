/* Watches on the v2 store against etcd 2.3.8's watcherHub and
 * EventHistory (V2-CONTRACT §1.10, §9.3, §9.9): matching, recursive and
 * hidden rules, deleted and expired directories, refreshes, history scans
 * and the 1000-event window, stream watchers, cancellation. */
#include "tests/unit/test_store_util.h"

#define MAXLOG 8

struct recorder {
    char log[MAXLOG][512];
    int n;
    bool refuse;                        /* answer "buffer full" */
    bool cancel_self;                   /* cancel the watcher from inside */
    struct cc_v2_watcher *cancel_other; /* cancel this one from inside */
};

static bool record(void *ctx, struct cc_v2_watcher *w, const struct cc_v2_event *ev)
{
    struct recorder *r = ctx;

    if (r->n < MAXLOG)
        snprintf(r->log[r->n], sizeof r->log[0], "%s", evs(ev));
    r->n++;
    if (r->cancel_other != NULL) {
        cc_v2_watcher_cancel(r->cancel_other);
        r->cancel_other = NULL;
    }
    if (r->cancel_self)
        cc_v2_watcher_cancel(w);
    return !r->refuse;
}

/* Registers a watcher that must wait (no history hit, no error). */
static struct cc_v2_watcher *wait_on(struct cc_v2_store *s, const char *path, bool recursive,
                                     bool stream, uint64_t since, struct recorder *r)
{
    struct cc_v2_watch_result wr;

    CHECK(cc_v2_store_watch(s, path, recursive, stream, since, record, r, &wr) == 0);
    CHECK(wr.err.code == 0 && wr.event == NULL && wr.watcher != NULL);
    CHECK(wr.watcher == NULL || cc_v2_watcher_start_index(wr.watcher) == cc_v2_store_index(s));
    CHECK(wr.start_index == cc_v2_store_index(s));
    return wr.watcher;
}

static uint64_t n_watchers(const struct cc_v2_store *s)
{
    struct cc_v2_store_stats st;

    cc_v2_store_stats(s, &st);
    return st.watchers;
}

/* An exact watch fires once on its path and is gone. */
static void test_watch_exact_once(void)
{
    struct cc_v2_store *s = mk_store();
    struct recorder a = {0};

    ok(s, put("/1/foo", "0"));
    wait_on(s, "/1/foo", false, false, 0, &a);
    CHECK(n_watchers(s) == 1);
    ok(s, put("/1/bar", "x"));
    ok(s, put("/1/foo/", "1"));
    ok(s, put("/1/foo", "2"));
    CHECK(a.n == 1);
    CHECK_STR(a.log[0], "set /1/foo=1 3/3 prev /1/foo=0 1/1 @3");
    CHECK(n_watchers(s) == 0);
    cc_v2_store_free(s);
}

/* Recursive watches see descendants; a non-recursive watch on a dir that
 * does not exist yet is not triggered by a key created under it (§1.10). */
static void test_watch_recursive(void)
{
    struct cc_v2_store *s = mk_store();
    struct recorder rec = {0}, non = {0};

    wait_on(s, "/1/dir", true, false, 0, &rec);
    wait_on(s, "/1/dir", false, false, 0, &non);
    ok(s, put("/1/dirx", "no")); /* not a descendant */
    ok(s, put("/1/dir/a/b", "v"));
    CHECK(rec.n == 1 && non.n == 0);
    CHECK_STR(rec.log[0], "set /1/dir/a/b=v 2/2 @2");
    CHECK(n_watchers(s) == 1);
    ok(s, del_rec("/1/dir"));
    CHECK(non.n == 1);
    CHECK_STR(non.log[0], "delete /1/dir/ 3/2 prev /1/dir/ 2/2 @3");
    cc_v2_store_free(s);
}

/* §9.9: deleting a dir notifies watchers on every path inside it, even
 * non-recursive ones; a stream watcher on the dir sees it twice. */
static void test_watch_dir_delete(void)
{
    struct cc_v2_store *s = mk_store();
    struct recorder a = {0}, b = {0}, c = {0}, d = {0}, e = {0}, f = {0};
    const char *want = "delete /1/d/ 4/1 prev /1/d/ 1/1 @4";

    ok(s, put("/1/d/a", "1"));
    ok(s, put("/1/d/b/c", "2"));
    ok(s, put("/1/dx", "3"));
    wait_on(s, "/1/d/a", false, false, 0, &a);
    wait_on(s, "/1/d/b/c", false, false, 0, &b);
    wait_on(s, "/1/d/b", false, false, 0, &c);
    wait_on(s, "/1/d", false, true, 0, &d);
    wait_on(s, "/1", true, false, 0, &e);
    wait_on(s, "/1/dx", false, false, 0, &f);
    ok(s, del_rec("/1/d"));
    CHECK(a.n == 1 && b.n == 1 && c.n == 1 && e.n == 1 && f.n == 0);
    CHECK(d.n == 2);
    CHECK_STR(a.log[0], want);
    CHECK_STR(b.log[0], want);
    CHECK_STR(c.log[0], want);
    CHECK_STR(d.log[0], want);
    CHECK_STR(d.log[1], want);
    CHECK_STR(e.log[0], want);
    CHECK(n_watchers(s) == 2); /* the stream and /1/dx */
    cc_v2_store_free(s);
}

/* An expiring dir reaches the watchers of its children (one expire event,
 * the dir's). */
static void test_watch_dir_expiry(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_request r = mkdir_r("/1/d");
    struct recorder k = {0}, top = {0};

    r.expiration_ns = T0 + SEC;
    ok(s, r);
    ok(s, put("/1/d/k", "v"));
    wait_on(s, "/1/d/k", false, false, 0, &k);
    wait_on(s, "/1", true, false, 0, &top);
    sync_ok(s, T0 + 2 * SEC);
    CHECK(k.n == 1 && top.n == 1);
    CHECK_STR(k.log[0], "expire /1/d/ 3/1 prev /1/d/ ttl@1 1/1 @3");
    CHECK_STR(top.log[0], k.log[0]);
    cc_v2_store_free(s);
}

/* §1.8: changes at or under a hidden name reach only watchers whose own
 * path is that hidden node (or inside a deleted dir). */
static void test_watch_hidden(void)
{
    struct cc_v2_store *s = mk_store();
    struct recorder r = {0}, h = {0}, hd = {0}, inner = {0};

    ok(s, put("/1/d/_x", "0"));
    wait_on(s, "/1", true, true, 0, &r);
    wait_on(s, "/1/_h", false, false, 0, &h);
    wait_on(s, "/1/_hd", true, false, 0, &hd);
    wait_on(s, "/1/d/_x", false, false, 0, &inner);
    ok(s, put("/1/_h", "1"));
    ok(s, put("/1/_hd/x", "2"));
    ok(s, put("/1/d/_y", "3"));
    CHECK(r.n == 0 && h.n == 1 && hd.n == 1);
    CHECK_STR(hd.log[0], "set /1/_hd/x=2 3/3 @3");
    ok(s, put("/1/v", "4"));
    CHECK(r.n == 1);
    ok(s, del_rec("/1/d"));
    CHECK(r.n == 2 && inner.n == 1);
    CHECK_STR(inner.log[0], "delete /1/d/ 6/1 prev /1/d/ 1/1 @6");
    cc_v2_store_free(s);
}

/* §9.3: refreshes reach no watcher, live or through the history. */
static void test_watch_refresh_invisible(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_request r;
    struct recorder a = {0}, b = {0}, c = {0};
    struct cc_v2_watch_result wr;

    ok(s, put_ttl("/1/k", "v", 5));
    wait_on(s, "/1/k", false, false, 0, &a);
    wait_on(s, "/1", true, true, 0, &b);
    r = put_ttl("/1/k", "", 10);
    r.refresh = true;
    r.prev_exist = 1;
    ok(s, r); /* index 2 */
    CHECK(a.n == 0 && b.n == 0);
    /* a watch from the refresh's index keeps waiting */
    CHECK(cc_v2_store_watch(s, "/1/k", false, false, 2, record, &c, &wr) == 0);
    CHECK(wr.event == NULL && wr.watcher != NULL && wr.err.code == 0);
    ok(s, put("/1/k", "w"));
    CHECK(a.n == 1 && b.n == 1 && c.n == 1);
    CHECK_STR(c.log[0], "set /1/k=w 3/3 prev /1/k=v ttl@10 2/1 @3");
    cc_v2_store_free(s);
}

/* §1.10: waitIndex scans the history first (the answer carries the
 * current index); a future index waits for an event at or after it. */
static void test_watch_history(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_watch_result wr;
    struct recorder fut = {0}, rec = {0};

    for (int i = 0; i < 5; i++)
        ok(s, put(i % 2 ? "/1/a" : "/1/b", "v")); /* b1 a2 b3 a4 b5 */
    CHECK(cc_v2_store_watch(s, "/1/a", false, false, 3, record, NULL, &wr) == 0);
    CHECK(wr.watcher == NULL && wr.err.code == 0 && wr.start_index == 5);
    CHECK_STR(evs(wr.event), "set /1/a=v 4/4 prev /1/a=v 2/2 @5");
    cc_v2_event_free(wr.event);
    /* found in the history: a stream watch is not registered either */
    CHECK(cc_v2_store_watch(s, "/1/a", false, true, 1, record, NULL, &wr) == 0);
    CHECK(wr.watcher == NULL && wr.event != NULL && wr.event->node.modified_index == 2);
    cc_v2_event_free(wr.event);
    CHECK(n_watchers(s) == 0);
    /* nothing matching after 5: wait */
    wait_on(s, "/1/a", false, false, 5, &rec);
    /* a future index: events before it do not count */
    wait_on(s, "/1/b", false, false, 8, &fut);
    ok(s, put("/1/b", "6"));
    ok(s, put("/1/b", "7"));
    CHECK(fut.n == 0);
    ok(s, put("/1/b", "8"));
    CHECK(fut.n == 1);
    CHECK_STR(fut.log[0], "set /1/b=8 8/8 prev /1/b=7 7/7 @8");
    CHECK(rec.n == 0);
    cc_v2_store_free(s);
}

/* History scans: a recursive scan finds the watched key itself at any
 * position (etcd 3.4's fix), and a deleted dir matches any path it is a
 * raw prefix of (etcd's HasPrefix). */
static void test_watch_history_matching(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_watch_result wr;

    ok(s, put("/1/other", "1"));
    ok(s, put("/1/k", "2"));
    CHECK(cc_v2_store_watch(s, "/1/k", true, false, 1, record, NULL, &wr) == 0);
    CHECK(wr.event != NULL && wr.event->node.modified_index == 2);
    cc_v2_event_free(wr.event);
    ok(s, put("/1/d/x", "3"));
    ok(s, del_rec("/1/d"));
    CHECK(cc_v2_store_watch(s, "/1/d/x/y", false, false, 4, record, NULL, &wr) == 0);
    CHECK(wr.event != NULL && wr.event->node.modified_index == 4);
    cc_v2_event_free(wr.event);
    CHECK(cc_v2_store_watch(s, "/1/dx", false, false, 4, record, NULL, &wr) == 0);
    CHECK(wr.event != NULL && wr.event->node.modified_index == 4);
    cc_v2_event_free(wr.event);
    /* a root recursive scan matches everything */
    CHECK(cc_v2_store_watch(s, "/", true, false, 1, record, NULL, &wr) == 0);
    CHECK(wr.event != NULL && wr.event->node.modified_index == 1);
    cc_v2_event_free(wr.event);
    cc_v2_store_free(s);
}

/* §1.10: only the last 1000 events are kept; older is error 401 with the
 * current index. */
static void test_watch_history_window(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_watch_result wr;
    uint64_t first, last;

    for (int i = 0; i < 1005; i++)
        ok(s, put("/1/k", "v"));
    cc_v2_store_history_bounds(s, &first, &last);
    CHECK(first == 6 && last == 1005);
    CHECK(cc_v2_store_watch(s, "/1/k", false, false, 5, record, NULL, &wr) == 0);
    CHECK(wr.err.code == CC_V2_E_EVENT_INDEX_CLEARED && wr.err.index == 1005);
    CHECK_STR(wr.err.cause, "the requested history has been cleared [6/5]");
    CHECK(wr.event == NULL && wr.watcher == NULL);
    CHECK(cc_v2_store_watch(s, "/1/k", false, false, 6, record, NULL, &wr) == 0);
    CHECK(wr.err.code == 0 && wr.event != NULL && wr.event->node.modified_index == 6);
    cc_v2_event_free(wr.event);
    cc_v2_store_free(s);
}

/* Stream watchers stay until cancelled; a callback that cannot take an
 * event drops its watcher. */
static void test_watch_stream(void)
{
    struct cc_v2_store *s = mk_store();
    struct recorder a = {0}, full = {0};
    struct cc_v2_watcher *w = wait_on(s, "/1/k", false, true, 0, &a);

    full.refuse = true;
    wait_on(s, "/1/k", false, true, 0, &full);
    ok(s, put("/1/k", "1"));
    ok(s, put("/1/k", "2"));
    CHECK(a.n == 2 && full.n == 1);
    CHECK(n_watchers(s) == 1);
    cc_v2_watcher_cancel(w);
    CHECK(n_watchers(s) == 0);
    ok(s, put("/1/k", "3"));
    CHECK(a.n == 2);
    cc_v2_store_free(s);
}

/* Callbacks may cancel watchers, theirs or others; a cancelled watcher is
 * not called again, even later in the same notification. */
static void test_watch_cancel_inside(void)
{
    struct cc_v2_store *s = mk_store();
    struct recorder a = {0}, b = {0}, self = {0}, keep = {0};

    wait_on(s, "/1/k", false, true, 0, &a);
    b.n = 0;
    a.cancel_other = wait_on(s, "/1/k", false, true, 0, &b);
    self.cancel_self = true;
    wait_on(s, "/1/k", false, true, 0, &self);
    wait_on(s, "/1/k", false, true, 0, &keep);
    ok(s, put("/1/k", "1"));
    CHECK(a.n == 1 && b.n == 0 && self.n == 1 && keep.n == 1);
    CHECK(n_watchers(s) == 2);
    ok(s, put("/1/k", "2"));
    CHECK(a.n == 2 && b.n == 0 && self.n == 1 && keep.n == 2);
    cc_v2_store_free(s); /* frees the remaining watchers */
}

/* The whole tree is one namespace: "/0" events reach a root watcher. */
static void test_watch_root_namespaces(void)
{
    struct cc_v2_store *s = mk_store();
    struct recorder r = {0}, z = {0};

    wait_on(s, "/", true, true, 0, &r);
    wait_on(s, "/0", true, true, 0, &z);
    ok(s, put("/0/members/1/attributes", "{}"));
    ok(s, put("/1/k", "v"));
    CHECK(r.n == 2 && z.n == 1);
    CHECK_STR(z.log[0], "set /0/members/1/attributes={} 1/1 @1");
    cc_v2_store_free(s);
}

int main(void)
{
    RUN(test_watch_exact_once);
    RUN(test_watch_recursive);
    RUN(test_watch_dir_delete);
    RUN(test_watch_dir_expiry);
    RUN(test_watch_hidden);
    RUN(test_watch_refresh_invisible);
    RUN(test_watch_history);
    RUN(test_watch_history_matching);
    RUN(test_watch_history_window);
    RUN(test_watch_stream);
    RUN(test_watch_cancel_inside);
    RUN(test_watch_root_namespaces);
    return unit_report();
}
