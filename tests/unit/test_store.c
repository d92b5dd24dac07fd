/* The v2 store's operations against etcd 2.3.8's behaviour
 * (V2-CONTRACT §1.3, 1.6-1.9, 1.12, 1.14, §9): dispatch, indexes, errors
 * and their causes, directories, hidden and in-order keys, TTLs, refresh,
 * expiry and the stats counters. Watches: test_store_watch.c; snapshots,
 * loading and hooks: test_store_snapshot.c. */
#include "tests/unit/test_store_util.h"

#include <errno.h>
#include <pthread.h>

/* §9.1, §9.2: set creates (no prevNode: 201) or replaces (prevNode: 200)
 * and a replacing set renews createdIndex. */
static void test_set_create_then_replace(void)
{
    struct cc_v2_store *s = mk_store();

    CHECK_STR(ok(s, put("/1/k", "a")), "set /1/k=a 1/1 @1");
    CHECK_STR(ok(s, put("/1/k", "b")), "set /1/k=b 2/2 prev /1/k=a 1/1 @2");
    CHECK(cc_v2_store_index(s) == 2);
    CHECK_STR(get_s(s, "/1/k", false), "get /1/k=b 2/2 @2");
    cc_v2_store_free(s);
}

/* §1.14, the recorded exchanges, from stores whose index matches. */
static void test_doc_examples(void)
{
    struct cc_v2_store *s = mk_store_at(3);
    struct cc_v2_request r;

    CHECK_STR(ok(s, put("/1/message", "Hello world")), "set /1/message=Hello world 4/4 @4");
    CHECK_STR(ok(s, put("/1/message", "Hello etcd")),
              "set /1/message=Hello etcd 5/5 prev /1/message=Hello world 4/4 @5");
    CHECK_STR(ok(s, del("/1/message")), "delete /1/message 6/5 prev /1/message=Hello etcd 5/5 @6");
    CHECK_STR(get_s(s, "/1/message", false), "100 /1/message @6");
    CHECK_STR(ok(s, put_ttl("/1/foo", "bar", 5)), "set /1/foo=bar ttl@5 7/7 @7");
    r = put_ttl("/1/foo", "", 20);
    r.refresh = true;
    r.prev_exist = 1;
    CHECK_STR(ok(s, r), "update /1/foo=bar ttl@20 8/7 prev /1/foo=bar ttl@5 7/7 refresh @8");
    ok(s, put("/0/filler", "9"));
    ok(s, put("/0/filler", "10"));
    r = rq(CC_V2_POST, "/1/queue");
    r.value = sv("Job1");
    CHECK_STR(ok(s, r), "create /1/queue/00000000000000000011=Job1 11/11 @11");
    r.value = sv("Job2");
    CHECK_STR(ok(s, r), "create /1/queue/00000000000000000012=Job2 12/12 @12");
    CHECK_STR(get_s(s, "/1/queue", true),
              "get /1/queue/ 11/11 {/1/queue/00000000000000000011=Job1 11/11, "
              "/1/queue/00000000000000000012=Job2 12/12} @12");
    ok(s, put("/0/filler", "13"));
    ok(s, put("/0/filler", "14"));
    CHECK_STR(ok(s, mkdir_r("/1/emptydir")), "set /1/emptydir/ 15/15 @15");
    CHECK_STR(get_s(s, "/1/emptydir", false), "get /1/emptydir/ 15/15 @15");
    ok(s, put("/0/filler", "16"));
    CHECK_STR(ok(s, del_rec("/1/emptydir")),
              "delete /1/emptydir/ 17/15 prev /1/emptydir/ 15/15 @17");
    CHECK_STR(ok(s, put("/1/cas", "one")), "set /1/cas=one 18/18 @18");
    r = put("/1/cas", "two");
    r.prev_value = sv("one");
    CHECK_STR(ok(s, r), "compareAndSwap /1/cas=two 19/18 prev /1/cas=one 18/18 @19");
    CHECK_STR(ok(s, put("/1/cas", "four")), "set /1/cas=four 20/20 prev /1/cas=two 19/18 @20");
    r = put("/1/cas", "four");
    r.prev_exist = 1;
    CHECK_STR(ok(s, r), "update /1/cas=four 21/20 prev /1/cas=four 20/20 @21");
    CHECK_STR(ok(s, r), "update /1/cas=four 22/20 prev /1/cas=four 21/20 @22");
    ok(s, put("/0/filler", "23"));
    r = del("/1/cas");
    r.prev_value = sv("four");
    CHECK_STR(ok(s, r), "compareAndDelete /1/cas 24/20 prev /1/cas=four 22/20 @24");
    cc_v2_store_free(s);
}

/* §1.12 rows the store decides; a failure consumes no index and carries
 * the current one. */
static void test_odd_inputs(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_request r;

    CHECK_STR(ok(s, rq(CC_V2_PUT, "/1/novalue")), "set /1/novalue= 1/1 @1");
    r = put("/1/d", "x");
    r.dir = true;
    CHECK_STR(ok(s, r), "set /1/d/ 2/2 @2");
    r = mkdir_r("/1/c");
    r.prev_exist = 0;
    CHECK_STR(ok(s, r), "create /1/c/ 3/3 @3");
    CHECK_STR(fails(s, r), "105 /1/c @3");
    CHECK_STR(fails(s, put("/1", "x")), "107 / @3");
    CHECK_STR(fails(s, put("/1/", "x")), "107 / @3");
    CHECK_STR(fails(s, put("/", "x")), "107 / @3");
    CHECK_STR(fails(s, del_rec("/1")), "107 / @3");
    CHECK_STR(fails(s, mkdir_r("/0")), "107 / @3");
    ok(s, put("/1/key", "v"));
    CHECK_STR(fails(s, put("/1/key/child", "x")), "104 /1/key @4");
    CHECK_STR(fails(s, put("/1/key/a/b", "x")), "104 /1/key @4");
    CHECK_STR(get_s(s, "/1/a/b/c", false), "100 /1/a @4");
    CHECK_STR(get_s(s, "/1/key/x", false), "104 /1/key @4");
    ok(s, put("/1/d/k", "v"));
    CHECK_STR(fails(s, del("/1/d")), "102 /1/d @5");
    r = del("/1/d");
    r.dir = true;
    CHECK_STR(fails(s, r), "108 /1/d @5");
    r = del("/1/key");
    r.dir = true; /* dir=true on a key: allowed */
    CHECK_STR(ok(s, r), "delete /1/key 6/4 prev /1/key=v 4/4 @6");
    r = put("/1/d", "y");
    r.prev_value = sv("x");
    CHECK_STR(fails(s, r), "102 /1/d @6");
    r = del("/1/d");
    r.prev_value = sv("x");
    CHECK_STR(fails(s, r), "102 /1/d @6");
    r = put("/1/p", "v");
    r.prev_index = 0; /* plain set */
    CHECK_STR(ok(s, r), "set /1/p=v 7/7 @7");
    r = put_ttl("/1/missing", "", 5);
    r.refresh = true;
    CHECK_STR(fails(s, r), "100 /1/missing @7");
    r.prev_exist = 1;
    CHECK_STR(fails(s, r), "100 /1/missing @7");
    /* a dir on a key replaces it; a dir or a key on a dir fails 102 */
    CHECK_STR(ok(s, mkdir_r("/1/p")), "set /1/p/ 8/8 prev /1/p=v 7/7 @8");
    CHECK_STR(fails(s, mkdir_r("/1/p")), "102 /1/p @8");
    CHECK_STR(fails(s, put("/1/p", "v")), "102 /1/p @8");
    /* update of a dir with a value: 102; of a missing key: 100 */
    r = put("/1/p", "v");
    r.prev_exist = 1;
    CHECK_STR(fails(s, r), "102 /1/p @8");
    r = put("/1/nope", "v");
    r.prev_exist = 1;
    CHECK_STR(fails(s, r), "100 /1/nope @8");
    CHECK_STR(fails(s, del("/1/nope/deeper")), "100 /1/nope @8");
    /* CAD has no read-only check: "/1" is a dir */
    r = del("/1");
    r.prev_index = 3;
    CHECK_STR(fails(s, r), "102 /1 @8");
    /* paths are cleaned */
    CHECK_STR(ok(s, put("/1//x/./y/../z/", "v")), "set /1/x/z=v 9/9 @9");
    CHECK(cc_v2_store_index(s) == 9);
    cc_v2_store_free(s);
}

/* §1.6: the compare-failed causes, as in "[two != one] [1 != 18]". */
static void test_compare_causes(void)
{
    struct cc_v2_store *s = mk_store_at(17);
    struct cc_v2_request r;

    ok(s, put("/1/cas", "one"));
    r = put("/1/cas", "x");
    r.prev_value = sv("two");
    r.prev_index = 1;
    CHECK_STR(fails(s, r), "101 [two != one] [1 != 18] @18");
    r.prev_index = 18;
    CHECK_STR(fails(s, r), "101 [two != one] @18");
    r.prev_value = sv("one");
    r.prev_index = 5;
    CHECK_STR(fails(s, r), "101 [5 != 18] @18");
    r = del("/1/cas");
    r.prev_value = sv("two");
    r.prev_index = 1;
    CHECK_STR(fails(s, r), "101 [two != one] [1 != 18] @18");
    /* prevExist=true with a condition is a CAS too */
    r = put("/1/cas", "x");
    r.prev_exist = 1;
    r.prev_index = 18;
    CHECK_STR(ok(s, r), "compareAndSwap /1/cas=x 19/18 prev /1/cas=one 18/18 @19");
    r = del("/1/cas");
    r.prev_index = 19;
    CHECK_STR(ok(s, r), "compareAndDelete /1/cas 20/18 prev /1/cas=x 19/18 @20");
    cc_v2_store_free(s);
}

/* §9.3: set, update and CAS without ttl make a TTL key permanent. */
static void test_ttl_cleared_without_ttl(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_request r;
    int64_t when = 0;

    ok(s, put_ttl("/1/a", "v", 10));
    CHECK(cc_v2_store_next_expiry(s, &when) && when == T0 + 10 * SEC);
    CHECK_STR(ok(s, put("/1/a", "w")), "set /1/a=w 2/2 prev /1/a=v ttl@10 1/1 @2");
    CHECK(!cc_v2_store_next_expiry(s, &when));

    ok(s, put_ttl("/1/a", "v", 10));
    r = put("/1/a", "u");
    r.prev_exist = 1;
    CHECK_STR(ok(s, r), "update /1/a=u 4/3 prev /1/a=v ttl@10 3/3 @4");
    CHECK(!cc_v2_store_next_expiry(s, &when));

    r = put_ttl("/1/a", "u2", 30); /* update gives a permanent key a TTL */
    r.prev_exist = 1;
    CHECK_STR(ok(s, r), "update /1/a=u2 ttl@30 5/3 prev /1/a=u 4/3 @5");
    r = put("/1/a", "c");
    r.prev_value = sv("u2");
    CHECK_STR(ok(s, r), "compareAndSwap /1/a=c 6/3 prev /1/a=u2 ttl@30 5/3 @6");
    CHECK(!cc_v2_store_next_expiry(s, &when));
    sync_ok(s, T0 + 100 * SEC);
    CHECK(cc_v2_store_index(s) == 6);

    /* a create/set expiration before 2000 means no TTL (minExpireTime) */
    r = put("/1/old", "v");
    r.expiration_ns = 1;
    CHECK_STR(ok(s, r), "set /1/old=v 7/7 @7");
    CHECK(!cc_v2_store_next_expiry(s, &when));
    cc_v2_store_free(s);
}

/* §1.9, §9.3: refresh keeps the value, renews the TTL, consumes an index,
 * answers like the op it rides on (a set-refresh renews createdIndex). */
static void test_refresh(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_request r;
    int64_t when;

    ok(s, put_ttl("/1/k", "v", 5));
    r = put_ttl("/1/k", "", 50);
    r.refresh = true;
    CHECK_STR(ok(s, r), "set /1/k=v ttl@50 2/2 prev /1/k=v ttl@5 1/1 refresh @2");
    r.prev_exist = 1;
    r.expiration_ns = T0 + 60 * SEC;
    CHECK_STR(ok(s, r), "update /1/k=v ttl@60 3/2 prev /1/k=v ttl@50 2/2 refresh @3");
    r = put_ttl("/1/k", "", 70);
    r.refresh = true;
    r.prev_value = sv("v");
    CHECK_STR(ok(s, r), "compareAndSwap /1/k=v ttl@70 4/2 prev /1/k=v ttl@60 3/2 refresh @4");
    CHECK(cc_v2_store_next_expiry(s, &when) && when == T0 + 70 * SEC);
    /* a refresh of a dir's TTL through update */
    r = mkdir_r("/1/d");
    r.expiration_ns = T0 + 5 * SEC;
    ok(s, r);
    r = mkdir_r("/1/d");
    r.prev_exist = 1;
    r.refresh = true;
    r.expiration_ns = T0 + 9 * SEC;
    CHECK_STR(ok(s, r), "update /1/d/ ttl@9 6/5 prev /1/d/ ttl@5 5/5 refresh @6");
    cc_v2_store_free(s);
}

/* §1.7 quirk: updating a dir's TTL answers a new modifiedIndex but the
 * stored dir keeps its own; "ttl=" (no expiration) makes it permanent. */
static void test_update_dir(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_request r;
    int64_t when;

    ok(s, mkdir_r("/1/d"));
    r = mkdir_r("/1/d");
    r.prev_exist = 1;
    r.expiration_ns = T0 + 5 * SEC;
    CHECK_STR(ok(s, r), "update /1/d/ ttl@5 2/1 prev /1/d/ 1/1 @2");
    CHECK_STR(get_s(s, "/1/d", false), "get /1/d/ ttl@5 1/1 @2");
    r.expiration_ns = 0;
    CHECK_STR(ok(s, r), "update /1/d/ 3/1 prev /1/d/ ttl@5 1/1 @3");
    CHECK(!cc_v2_store_next_expiry(s, &when));
    cc_v2_store_free(s);
}

/* §1.9: a dir TTL expires the whole subtree with one expire event for the
 * dir; expiry happens only on SYNC, at or after the expiration. */
static void test_dir_ttl_expiry(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_request r = mkdir_r("/1/d");
    struct cc_v2_result res;
    struct cc_v2_store_stats st;
    int64_t when;

    r.expiration_ns = T0 + 3 * SEC;
    ok(s, r);
    ok(s, put("/1/d/a", "1"));
    ok(s, put_ttl("/1/d/sub/b", "2", 60));
    ok(s, put("/1/keep", "k"));
    CHECK(cc_v2_store_next_expiry(s, &when) && when == T0 + 3 * SEC);
    sync_ok(s, T0 + 3 * SEC - 1);
    CHECK(cc_v2_store_index(s) == 4);
    sync_ok(s, T0 + 3 * SEC);
    CHECK(cc_v2_store_index(s) == 5);
    CHECK_STR(get_s(s, "/1/d", false), "100 /1/d @5");
    CHECK_STR(get_s(s, "/1", false), "get /1/ 0/0 {/1/keep=k 4/4} @5");
    /* the child's TTL left the heap with it */
    CHECK(!cc_v2_store_next_expiry(s, &when));
    r = sync_at(T0 + 100 * SEC);
    CHECK(cc_v2_store_apply(s, &r, &res) == 0 && res.event == NULL && res.err.code == 0);
    CHECK(cc_v2_store_index(s) == 5);
    cc_v2_store_stats(s, &st);
    CHECK(st.expire_count == 1);
    cc_v2_store_free(s);
}

/* Expiry order: by expiration, ties by path; one index each. */
static void test_expire_order(void)
{
    struct cc_v2_store *s = mk_store();
    uint64_t first, last;

    ok(s, put_ttl("/1/b", "", 2));
    ok(s, put_ttl("/1/a", "", 2));
    ok(s, put_ttl("/1/c", "", 1));
    ok(s, put_ttl("/1/z", "", 9));
    ok(s, put_ttl("/0/y", "", 0)); /* ttl=0: due at the next sync */
    sync_ok(s, T0 + 5 * SEC);
    CHECK(cc_v2_store_index(s) == 9);
    CHECK_STR(get_s(s, "/1", false), "get /1/ 0/0 {/1/z= ttl@9 4/4} @9");
    cc_v2_store_history_bounds(s, &first, &last);
    CHECK(first == 1 && last == 9);
    /* the order, read back from the history */
    {
        static const char *const want[] = {"/0/y", "/1/c", "/1/a", "/1/b"};

        for (uint64_t i = 6; i <= 9; i++) {
            struct cc_v2_watch_result wr;

            CHECK(cc_v2_store_watch(s, "/", true, false, i, NULL, NULL, &wr) == 0);
            CHECK(wr.event != NULL && wr.event->action == CC_V2_ACT_EXPIRE &&
                  wr.event->node.modified_index == i);
            CHECK_STR(wr.event ? wr.event->node.key : NULL, want[i - 6]);
            cc_v2_event_free(wr.event);
        }
    }
    cc_v2_store_free(s);
}

/* §1.8: in-order keys, under dirs and the root, never under a key. */
static void test_in_order_keys(void)
{
    struct cc_v2_store *s = mk_store_at(99);
    struct cc_v2_request r = rq(CC_V2_POST, "/1/q");

    r.value = sv("a");
    CHECK_STR(ok(s, r), "create /1/q/00000000000000000100=a 100/100 @100");
    r.dir = true;
    r.expiration_ns = T0 + SEC;
    CHECK_STR(ok(s, r), "create /1/q/00000000000000000101/ ttl@1 101/101 @101");
    r = rq(CC_V2_POST, "/1");
    CHECK_STR(ok(s, r), "create /1/00000000000000000102= 102/102 @102");
    r.prev_exist = 1; /* ignored by POST */
    r.prev_value = sv("zzz");
    CHECK_STR(ok(s, r), "create /1/00000000000000000103= 103/103 @103");
    ok(s, put("/1/key", "v"));
    r = rq(CC_V2_POST, "/1/key");
    CHECK_STR(fails(s, r), "104 /1/key @104");
    cc_v2_store_free(s);
}

/* §1.4, §1.8: listings (direct children; deeper only if recursive),
 * hidden names skipped at every level but reachable directly. */
static void test_listing_and_hidden(void)
{
    struct cc_v2_store *s = mk_store();

    ok(s, put("/1/v", "1"));
    ok(s, put("/1/_h", "2"));
    ok(s, put("/1/d/x", "3"));
    ok(s, put("/1/d/_y", "4"));
    ok(s, put("/1/d/e/f", "5"));
    ok(s, put("/1/_hd/k", "6"));
    CHECK_STR(get_s(s, "/1", false), "get /1/ 0/0 {/1/d/ 3/3, /1/v=1 1/1} @6");
    CHECK_STR(get_s(s, "/1/", true),
              "get /1/ 0/0 {/1/d/ 3/3 {/1/d/e/ 5/5 {/1/d/e/f=5 5/5}, /1/d/x=3 3/3}, "
              "/1/v=1 1/1} @6");
    CHECK_STR(get_s(s, "/1/_h", false), "get /1/_h=2 2/2 @6");
    CHECK_STR(get_s(s, "/1/_hd", false), "get /1/_hd/ 6/6 {/1/_hd/k=6 6/6} @6");
    CHECK_STR(get_s(s, "/1/d/x", true), "get /1/d/x=3 3/3 @6");
    CHECK_STR(get_s(s, "/", false), "get // 0/0 {/0/ 0/0, /1/ 0/0} @6");
    CHECK_STR(get_s(s, "", false), "get // 0/0 {/0/ 0/0, /1/ 0/0} @6");
    cc_v2_store_free(s);
}

/* A value may hold any byte, NUL included, and an empty one is a value. */
static void test_binary_values(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_request r = put("/1/bin", "");
    struct cc_v2_result res;

    r.value.p = "a\0b";
    r.value.n = 3;
    ok(s, r);
    CHECK(cc_v2_store_get(s, "/1/bin", false, false, T0, &res) == 0 && res.event != NULL);
    CHECK(res.event->node.has_value && res.event->node.value.n == 3 &&
          memcmp(res.event->node.value.p, "a\0b", 4) == 0);
    cc_v2_result_clear(&res);
    r.prev_value = r.value;
    r.prev_value.n = 1; /* "a" != "a\0b" */
    CHECK(cc_v2_store_apply(s, &r, &res) == 0 && res.err.code == CC_V2_E_TEST_FAILED);
    cc_v2_result_clear(&res);
    r.prev_value.n = 3;
    CHECK(cc_v2_store_apply(s, &r, &res) == 0 && res.event && res.event->action == CC_V2_ACT_CAS);
    cc_v2_result_clear(&res);
    cc_v2_store_free(s);
}

/* §1.3: every request kind, its action and counter; §2.3 counters with
 * etcd 2.3.8's own miscounts. */
static void test_stats(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_store_stats st;
    struct cc_v2_request r;

    ok(s, put("/1/a", "1"));  /* set ok */
    fails(s, put("/1", "x")); /* set fail (107) */
    r = put("/1/b", "1");
    r.prev_exist = 0;
    ok(s, r);    /* create ok */
    fails(s, r); /* create fail (105) */
    r = put("/1/a/x", "1");
    r.prev_exist = 0;
    fails(s, r); /* create fail (104) + set fail */
    r = put("/1/a", "2");
    r.prev_exist = 1;
    ok(s, r); /* update ok */
    r.path = "/1";
    fails(s, r); /* update 107: counted a success */
    r.path = "/1/none";
    fails(s, r); /* update fail (100) */
    r = put("/1/a", "3");
    r.prev_value = sv("2");
    ok(s, r);    /* cas ok */
    fails(s, r); /* cas fail (101) */
    r = del("/1/a");
    r.prev_value = sv("nope");
    fails(s, r); /* cad 101: counted a success */
    r.prev_value = sv("3");
    ok(s, r);                   /* cad ok */
    ok(s, del("/1/b"));         /* delete ok */
    fails(s, del("/1/b"));      /* delete fail */
    fails(s, del_rec("/1"));    /* delete 107: counted a success */
    get_s(s, "/1", false);      /* get ok */
    get_s(s, "/1/none", false); /* get fail */
    r = rq(CC_V2_QGET, "/1");
    ok(s, r); /* quorum get ok */
    ok(s, put_ttl("/1/t", "", 1));
    sync_ok(s, T0 + 2 * SEC);
    cc_v2_store_stats(s, &st);
    CHECK(st.sets_success == 2 && st.sets_fail == 2);
    CHECK(st.create_success == 1 && st.create_fail == 2);
    CHECK(st.update_success == 2 && st.update_fail == 1);
    CHECK(st.cas_success == 1 && st.cas_fail == 1);
    CHECK(st.cad_success == 2 && st.cad_fail == 0);
    CHECK(st.delete_success == 2 && st.delete_fail == 1);
    CHECK(st.gets_success == 2 && st.gets_fail == 1);
    CHECK(st.expire_count == 1 && st.watchers == 0);
    cc_v2_store_free(s);
}

/* Unknown methods are refused without touching the store. */
static void test_bad_requests(void)
{
    struct cc_v2_store *s = mk_store();
    struct cc_v2_request r = rq(99, "/1/a");
    struct cc_v2_result res;

    errno = 0;
    CHECK(cc_v2_store_apply(s, &r, &res) == -1 && errno == EINVAL);
    r = rq(CC_V2_PUT, NULL);
    CHECK(cc_v2_store_apply(s, &r, &res) == -1 && errno == EINVAL);
    CHECK(cc_v2_store_index(s) == 0);
    CHECK(cc_v2_store_new((const char *const[]){"/a/b"}, 1) == NULL && errno == EINVAL);
    cc_v2_store_free(s);
}

/* A 4000-level path, on a 192 KiB stack: every walk over the tree (set,
 * recursive get and its free, snapshot save and load, recursive delete)
 * must be iterative. */
#define DEEP 4000
static void *deep_tree(void *arg)
{
    struct cc_v2_store *s = mk_store(), *c = NULL;
    char *path = malloc(3 + 2 * DEEP);
    struct cc_v2_result res;
    struct cc_buf b;
    size_t n = 0, depth = 0;

    (void)arg;
    strcpy(path, "/1");
    for (int i = 0; i < DEEP; i++)
        strcat(path + 2 * i, "/a");
    ok(s, put_ttl(path, "leaf", 1));
    CHECK(cc_v2_store_get(s, "/1", true, false, T0, &res) == 0 && res.event != NULL);
    for (const struct cc_v2_node *x = res.event ? &res.event->node : NULL; x && x->n_nodes;
         x = &x->nodes[0])
        depth++;
    CHECK(depth == DEEP);
    cc_v2_result_clear(&res);
    cc_buf_init(&b);
    CHECK(cc_v2_store_snapshot_save(s, &b) == 0);
    CHECK(cc_v2_store_snapshot_load(b.data, b.len, &c) == 0);
    n = b.len;
    cc_buf_free(&b);
    cc_buf_init(&b);
    CHECK(c != NULL && cc_v2_store_snapshot_save(c, &b) == 0 && b.len == n);
    cc_buf_free(&b);
    sync_ok(c, T0 + 2 * SEC); /* the leaf expires */
    CHECK(cc_v2_store_index(c) == 2);
    ok(s, del_rec("/1/a"));
    CHECK_STR(get_s(s, "/1", false), "get /1/ 0/0 @2");
    cc_v2_store_free(c);
    cc_v2_store_free(s);
    free(path);
    return NULL;
}

static void test_deep_tree(void)
{
    pthread_attr_t attr;
    pthread_t t;

    CHECK(pthread_attr_init(&attr) == 0);
    CHECK(pthread_attr_setstacksize(&attr, 192 * 1024) == 0);
    CHECK(pthread_create(&t, &attr, deep_tree, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    pthread_attr_destroy(&attr);
}

/* A directory filled in scrambled order (children wait in a pending buffer
 * and are merged in batches), with replacements and deletions mixed in,
 * lists in byte order with the same keys and values as one filled in
 * order. */
static void big_dir_fill(struct cc_v2_store *s, bool scrambled)
{
    char key[64], val[32];

    for (unsigned i = 0; i < 1000; i++) {
        unsigned k = scrambled ? (i * 617u + 11u) % 1000u : i; /* 617 is prime to 1000 */
        snprintf(key, sizeof key, "/1/big/k%u", k);
        snprintf(val, sizeof val, "v%u", k);
        ok(s, put(key, val));
    }
}

static void test_large_dir_order(void)
{
    struct cc_v2_store *a = mk_store(), *b = mk_store();
    struct cc_v2_result res;
    char key[64];

    big_dir_fill(a, true);
    big_dir_fill(b, false);
    for (unsigned k = 0; k < 1000; k += 7) { /* replace in place */
        snprintf(key, sizeof key, "/1/big/k%u", k);
        ok(a, put(key, "again"));
        ok(b, put(key, "again"));
    }
    for (unsigned k = 3; k < 1000; k += 11) {
        snprintf(key, sizeof key, "/1/big/k%u", k);
        ok(a, del(key));
        ok(b, del(key));
    }
    struct cc_v2_result rb;
    CHECK(cc_v2_store_get(a, "/1/big", false, true, T0, &res) == 0);
    CHECK(cc_v2_store_get(b, "/1/big", false, true, T0, &rb) == 0);
    CHECK(res.event != NULL && res.event->node.n_nodes == 1000 - 91);
    CHECK(rb.event != NULL && rb.event->node.n_nodes == res.event->node.n_nodes);
    for (size_t i = 0; res.event && rb.event && i < res.event->node.n_nodes; i++) {
        const struct cc_v2_node *x = &res.event->node.nodes[i], *y = &rb.event->node.nodes[i];
        CHECK(i == 0 || strcmp(res.event->node.nodes[i - 1].key, x->key) < 0);
        CHECK_STR(x->key, y->key);
        CHECK(x->value.n == y->value.n && memcmp(x->value.p, y->value.p, x->value.n) == 0);
    }
    cc_v2_result_clear(&res);
    cc_v2_result_clear(&rb);
    cc_v2_store_free(a);
    cc_v2_store_free(b);
}

int main(void)
{
    RUN(test_set_create_then_replace);
    RUN(test_large_dir_order);
    RUN(test_doc_examples);
    RUN(test_odd_inputs);
    RUN(test_compare_causes);
    RUN(test_ttl_cleared_without_ttl);
    RUN(test_refresh);
    RUN(test_update_dir);
    RUN(test_dir_ttl_expiry);
    RUN(test_expire_order);
    RUN(test_in_order_keys);
    RUN(test_listing_and_hidden);
    RUN(test_binary_values);
    RUN(test_stats);
    RUN(test_bad_requests);
    RUN(test_deep_tree);
    return unit_report();
}
