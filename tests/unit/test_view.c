/* The http worker's view fed by two streams: committed entries straight
 * from consensus (no sync asked on a gap: storage's copy fills it) and
 * storage's applied entries; each index is applied once, in order, and a
 * snapshot older than the view is not loaded over it. */
#include "core/http/view.h"

#include "core/v2/request_codec.h"
#include "tests/unit/test_store_util.h"

static uint64_t results[16];
static int n_results;

static void on_result(void *ctx, uint64_t req_id, uint64_t raft_index, struct cc_v2_result *res)
{
    (void)ctx;
    (void)raft_index;
    if (n_results < 16 && res->event != NULL)
        results[n_results++] = req_id;
}

/* An APPLIED message of PUT /1/k<index>=v<index> entries from..to, each
 * proposed by member 7 with req_id = 100 + index. */
static struct cc_msg_applied applied(struct cc_buf *b, uint64_t from, uint64_t to)
{
    cc_buf_reset(b);
    for (uint64_t i = from; i <= to; i++) {
        char key[32], val[32];
        snprintf(key, sizeof key, "/1/k%llu", (unsigned long long)i);
        snprintf(val, sizeof val, "v%llu", (unsigned long long)i);
        struct cc_v2_request r = put(key, val);
        struct cc_buf req;
        cc_buf_init(&req);
        CHECK(cc_v2_request_encode(&req, &r) == 0);
        struct cc_entry e = {.index = i, .term = 2, .type = 0, .origin = 7, .req_id = 100 + i};
        e.data = (struct cc_bytes){req.data, (uint32_t)req.len};
        cc_msg_entry_put(b, &e);
        cc_buf_free(&req);
    }
    return (struct cc_msg_applied){
        .raft_term = 2, .entries = {(uint32_t)(to - from + 1), b->data, (uint32_t)b->len}};
}

/* Storage's snapshot of an empty store, described as raft index `index`,
 * delivered to the view in one chunk; the committed entries through upto
 * are to follow (0: none). */
static void send_snapshot_upto(struct cc_view *v, uint64_t index, uint64_t upto)
{
    struct cc_v2_store *s = mk_store_at(3);
    struct cc_buf snap;
    cc_buf_init(&snap);
    CHECK(cc_v2_store_snapshot_save(s, &snap) == 0);
    struct cc_msg_snapshot_chunk c = {
        .index = index, .term = 2, .offset = 0, .total = snap.len, .upto = upto};
    c.data = (struct cc_bytes){snap.data, (uint32_t)snap.len};
    cc_view_on_snapshot_chunk(v, &c);
    cc_buf_free(&snap);
    cc_v2_store_free(s);
}

static void send_empty_snapshot(struct cc_view *v, uint64_t index)
{
    send_snapshot_upto(v, index, 0);
}

/* A view holding an empty store at raft index 10, as after a first sync. */
static void view_at_10(struct cc_view *v)
{
    cc_view_init(v, 7, on_result, NULL, NULL);
    send_empty_snapshot(v, 10);
    CHECK(v->store != NULL && v->raft_index == 10);
    n_results = 0;
}

static bool has_key(struct cc_view *v, const char *key)
{
    struct cc_v2_result res = {0};
    struct cc_v2_request r = rq(CC_V2_GET, key);
    bool found = cc_v2_store_apply(v->store, &r, &res) == 0 && res.event != NULL;
    cc_v2_result_clear(&res);
    return found;
}

static void test_consensus_then_storage_applies_once(void)
{
    struct cc_view v;
    view_at_10(&v);
    struct cc_buf b;
    cc_buf_init(&b);
    struct cc_msg_applied m = applied(&b, 11, 12);
    cc_view_on_applied(&v, NULL, &m); /* from consensus */
    CHECK(v.raft_index == 12);
    CHECK(n_results == 2 && results[0] == 111 && results[1] == 112);
    m = applied(&b, 11, 13); /* storage's copy, one entry further */
    cc_view_on_applied(&v, NULL, &m);
    CHECK(v.raft_index == 13);
    CHECK(n_results == 3 && results[2] == 113); /* 11 and 12 not answered twice */
    CHECK(v.applied_entries == 3);
    CHECK(!v.sync_pending);
    cc_buf_free(&b);
    cc_view_free(&v);
}

static void test_gap_from_consensus_waits_for_storage(void)
{
    struct cc_view v;
    view_at_10(&v);
    struct cc_buf b;
    cc_buf_init(&b);
    /* Consensus's cache lost 11: it sends 12..13 only. */
    struct cc_msg_applied m = applied(&b, 12, 13);
    cc_view_on_applied(&v, NULL, &m);
    CHECK(v.raft_index == 10);
    CHECK(!has_key(&v, "/1/k12"));
    CHECK(!v.sync_pending); /* no SYNC_REQ for consensus's gap */
    m = applied(&b, 11, 13);
    cc_view_on_applied(&v, NULL, &m);
    CHECK(v.raft_index == 13);
    CHECK(has_key(&v, "/1/k11") && has_key(&v, "/1/k13"));
    cc_buf_free(&b);
    cc_view_free(&v);
}

static void test_older_snapshot_not_loaded(void)
{
    struct cc_view v;
    view_at_10(&v);
    struct cc_buf b;
    cc_buf_init(&b);
    struct cc_msg_applied m = applied(&b, 11, 14);
    cc_view_on_applied(&v, NULL, &m);
    CHECK(v.raft_index == 14);
    send_empty_snapshot(&v, 12);
    CHECK(v.raft_index == 14);
    CHECK(has_key(&v, "/1/k14"));
    CHECK(v.snapshots == 1); /* only the first one */
    /* A newer one is loaded. */
    send_empty_snapshot(&v, 20);
    CHECK(v.raft_index == 20 && v.snapshots == 2);
    CHECK(!has_key(&v, "/1/k14"));
    cc_buf_free(&b);
    cc_view_free(&v);
}

static int synced_calls;

static void on_synced(void *ctx)
{
    (void)ctx;
    synced_calls++;
}

/* A view that starts from storage's snapshot does not answer reads before
 * it applied the committed entries storage sends after it: a restarted
 * member would otherwise serve a key as it was at the snapshot. */
static void test_ready_only_after_the_entries_behind_the_snapshot(void)
{
    struct cc_view v;
    cc_view_init(&v, 7, on_result, on_synced, NULL);
    cc_view_set_barrier(&v, 0); /* the start-up barrier has its own test */
    synced_calls = 0;
    send_snapshot_upto(&v, 10, 13);
    CHECK(v.store != NULL && v.raft_index == 10);
    CHECK(!cc_view_ready(&v) && synced_calls == 0);
    struct cc_buf b;
    cc_buf_init(&b);
    struct cc_msg_applied m = applied(&b, 11, 12);
    cc_view_on_applied(&v, NULL, &m);
    CHECK(!cc_view_ready(&v) && synced_calls == 0);
    m = applied(&b, 13, 13);
    cc_view_on_applied(&v, NULL, &m);
    CHECK(cc_view_ready(&v) && synced_calls == 1);
    /* Ready at once when nothing follows the snapshot. */
    send_snapshot_upto(&v, 30, 30);
    CHECK(cc_view_ready(&v) && synced_calls == 2);
    cc_buf_free(&b);
    cc_view_free(&v);
}

/* Nor before it applied the read index asked when the process started:
 * storage's record of the commit index (upto) may lag what the previous
 * process acknowledged, so a restarted member would otherwise answer its
 * first reads from before its last writes. */
static void test_ready_only_after_the_start_up_barrier(void)
{
    struct cc_view v;
    cc_view_init(&v, 7, on_result, on_synced, NULL);
    synced_calls = 0;
    send_snapshot_upto(&v, 10, 10);
    CHECK(!cc_view_ready(&v) && synced_calls == 0); /* caught up with storage only */
    struct cc_buf b;
    cc_buf_init(&b);
    struct cc_msg_applied m = applied(&b, 11, 12);
    cc_view_on_applied(&v, NULL, &m);
    CHECK(!cc_view_ready(&v) && synced_calls == 0);
    cc_view_set_barrier(&v, 14);
    CHECK(!cc_view_ready(&v) && synced_calls == 0);
    m = applied(&b, 13, 14);
    cc_view_on_applied(&v, NULL, &m);
    CHECK(cc_view_ready(&v) && synced_calls == 1);
    cc_view_set_barrier(&v, 99); /* once per process: a later answer changes nothing */
    CHECK(cc_view_ready(&v) && v.barrier_index == 14);
    cc_view_free(&v);

    /* A barrier already passed when the view loads: ready at once. */
    cc_view_init(&v, 7, on_result, on_synced, NULL);
    cc_view_set_barrier(&v, 5);
    send_snapshot_upto(&v, 10, 10);
    CHECK(cc_view_ready(&v) && synced_calls == 2);
    cc_buf_free(&b);
    cc_view_free(&v);
}

int main(void)
{
    RUN(test_ready_only_after_the_start_up_barrier);
    RUN(test_ready_only_after_the_entries_behind_the_snapshot);
    RUN(test_consensus_then_storage_applies_once);
    RUN(test_gap_from_consensus_waits_for_storage);
    RUN(test_older_snapshot_not_loaded);
    return unit_report();
}
