/* proto/raft_wire: struct cc_raft_msg <-> RAFT frames.
 *
 * Every raft message type goes through encode, the frame decoder and
 * cc_raft_wire_decode and must come back field for field; then hand-made
 * RAFT frames that make no sense must be refused. test_proto covers the
 * frame codec itself (PEER_HELLO, SNAPSHOT_CHUNK_PEER... included). */
#include "proto/raft_wire.h"
#include "proto/msg.h"
#include "proto/wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"

#define MAX_ENTRIES 8

/* Encodes m as one frame, decodes the frame and then the raft message into
 * *got (entries into ents, views into *buf, which the caller frees). */
static int round_trip(const struct cc_raft_msg *m, struct cc_buf *buf, struct cc_raft_msg *got,
                      struct cc_raft_entry *ents, size_t max)
{
    struct cc_msg f;
    char err[128];
    size_t off = 0;

    cc_buf_init(buf);
    if (cc_raft_wire_encode(buf, m) != 0)
        return -2;
    CHECK(cc_msg_next(buf->data, buf->len, &off, &f, err, sizeof err) == 1);
    CHECK(off == buf->len);
    CHECK(f.type == CC_MSG_RAFT);
    return cc_raft_wire_decode(&f, got, ents, max);
}

static bool same_entries(const struct cc_raft_entry *a, const struct cc_raft_entry *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].index != b[i].index || a[i].term != b[i].term || a[i].type != b[i].type ||
            a[i].len != b[i].len)
            return false;
        if (a[i].len > 0 && memcmp(a[i].data, b[i].data, a[i].len) != 0)
            return false;
        if (b[i].data == NULL)
            return false; /* decoded views are never NULL */
    }
    return true;
}

/* Compares the header and the union member the type selects. */
static bool same_msg(const struct cc_raft_msg *a, const struct cc_raft_msg *b)
{
    if (a->type != b->type || a->from != b->from || a->to != b->to || a->term != b->term)
        return false;
    switch (a->type) {
    case CC_RAFT_MSG_PREVOTE:
    case CC_RAFT_MSG_VOTE:
        return a->vote.last_index == b->vote.last_index && a->vote.last_term == b->vote.last_term &&
               a->vote.transfer == b->vote.transfer;
    case CC_RAFT_MSG_PREVOTE_RESP:
    case CC_RAFT_MSG_VOTE_RESP:
        return a->vote_resp.granted == b->vote_resp.granted;
    case CC_RAFT_MSG_APPEND:
        return a->append.prev_index == b->append.prev_index &&
               a->append.prev_term == b->append.prev_term && a->append.commit == b->append.commit &&
               a->append.n_entries == b->append.n_entries && a->append.quiet == b->append.quiet &&
               same_entries(a->append.entries, b->append.entries, a->append.n_entries);
    case CC_RAFT_MSG_APPEND_RESP:
        return a->append_resp.reject == b->append_resp.reject &&
               a->append_resp.index == b->append_resp.index &&
               a->append_resp.hint_index == b->append_resp.hint_index &&
               a->append_resp.hint_term == b->append_resp.hint_term;
    case CC_RAFT_MSG_HEARTBEAT:
        return a->heartbeat.commit == b->heartbeat.commit &&
               a->heartbeat.read_seq == b->heartbeat.read_seq;
    case CC_RAFT_MSG_HEARTBEAT_RESP:
        return a->heartbeat_resp.read_seq == b->heartbeat_resp.read_seq;
    case CC_RAFT_MSG_SNAPSHOT: {
        const struct cc_raft_snapshot_meta *x = &a->snapshot.meta, *y = &b->snapshot.meta;

        return x->index == y->index && x->term == y->term && x->membership.n == y->membership.n &&
               memcmp(x->membership.ids, y->membership.ids,
                      x->membership.n * sizeof x->membership.ids[0]) == 0;
    }
    case CC_RAFT_MSG_SNAPSHOT_RESP:
        return a->snapshot_resp.index == b->snapshot_resp.index;
    case CC_RAFT_MSG_TIMEOUT_NOW:
        return true;
    }
    return false;
}

static const uint8_t put_req[] = "PUT /v2/keys/a value=1";
static const uint8_t conf[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static const struct cc_raft_entry three[] = {
    {41, 6, CC_RAFT_ENTRY_NOOP, NULL, 0},
    {42, 7, CC_RAFT_ENTRY_NORMAL, put_req, sizeof put_req - 1},
    {43, 7, CC_RAFT_ENTRY_CONF, conf, sizeof conf},
};

/* One message of every type, every field set to something distinct (the
 * largest values where that is allowed, so a narrowed field shows). */
static size_t sample_msgs(struct cc_raft_msg *out)
{
    struct cc_raft_msg base = {.from = 0x0102030405060708u, .to = UINT64_MAX, .term = 7};
    size_t n = 0;

    for (int t = CC_RAFT_MSG_PREVOTE; t <= CC_RAFT_MSG_TYPE_MAX; t++) {
        struct cc_raft_msg m = base;

        m.type = (enum cc_raft_msg_type)t;
        switch (m.type) {
        case CC_RAFT_MSG_PREVOTE:
        case CC_RAFT_MSG_VOTE:
            m.vote.last_index = UINT64_MAX - 1;
            m.vote.last_term = 6;
            m.vote.transfer = t == CC_RAFT_MSG_VOTE;
            break;
        case CC_RAFT_MSG_PREVOTE_RESP:
        case CC_RAFT_MSG_VOTE_RESP:
            m.vote_resp.granted = true;
            break;
        case CC_RAFT_MSG_APPEND:
            m.append.prev_index = 40;
            m.append.prev_term = 5;
            m.append.commit = 39;
            m.append.entries = three;
            m.append.n_entries = 3;
            m.append.quiet = true; /* the codec does not judge the combination */
            break;
        case CC_RAFT_MSG_APPEND_RESP:
            m.append_resp.reject = true;
            m.append_resp.index = 40;
            m.append_resp.hint_index = 33;
            m.append_resp.hint_term = 4;
            break;
        case CC_RAFT_MSG_HEARTBEAT:
            m.heartbeat.commit = 12;
            m.heartbeat.read_seq = UINT64_MAX;
            break;
        case CC_RAFT_MSG_HEARTBEAT_RESP:
            m.heartbeat_resp.read_seq = 99;
            break;
        case CC_RAFT_MSG_SNAPSHOT:
            m.snapshot.meta.index = 1000;
            m.snapshot.meta.term = 6;
            m.snapshot.meta.membership.n = 3;
            m.snapshot.meta.membership.ids[0] = 1;
            m.snapshot.meta.membership.ids[1] = 0x8000000000000000u;
            m.snapshot.meta.membership.ids[2] = UINT64_MAX;
            break;
        case CC_RAFT_MSG_SNAPSHOT_RESP:
            m.snapshot_resp.index = 1000;
            break;
        case CC_RAFT_MSG_TIMEOUT_NOW:
            break;
        }
        out[n++] = m;
    }
    return n;
}

static void test_round_trip_every_type(void)
{
    struct cc_raft_msg msgs[CC_RAFT_MSG_TYPE_MAX];
    size_t n = sample_msgs(msgs);

    CHECK(n == CC_RAFT_MSG_TYPE_MAX);
    for (size_t i = 0; i < n; i++) {
        struct cc_raft_entry ents[MAX_ENTRIES];
        struct cc_raft_msg got;
        struct cc_buf b;

        CHECK(round_trip(&msgs[i], &b, &got, ents, MAX_ENTRIES) == 0);
        if (!same_msg(&msgs[i], &got))
            fprintf(stderr, "  type %d differs\n", (int)msgs[i].type);
        CHECK(same_msg(&msgs[i], &got));
        if (got.type == CC_RAFT_MSG_APPEND) {
            /* entries land in the caller's array; data are views into the frame */
            CHECK(got.append.entries == ents);
            for (size_t k = 0; k < got.append.n_entries; k++) {
                const uint8_t *d = ents[k].data;

                CHECK(d >= b.data && d + ents[k].len <= b.data + b.len);
            }
        }
        cc_buf_free(&b);
    }
}

/* Falses, zeros, empty lists and the largest membership come back too. */
static void test_round_trip_edges(void)
{
    struct cc_raft_entry ents[MAX_ENTRIES];
    struct cc_raft_msg m, got;
    struct cc_buf b;

    memset(&m, 0, sizeof m);
    m.type = CC_RAFT_MSG_APPEND; /* a probe: no entries */
    m.from = 1;
    m.to = 2;
    m.term = 3;
    CHECK(round_trip(&m, &b, &got, ents, 0) == 0);
    CHECK(same_msg(&m, &got) && got.append.n_entries == 0);
    cc_buf_free(&b);

    m.append.prev_index = 0; /* from the start of the log, max_entries exact */
    m.append.entries = three;
    m.append.n_entries = 3;
    m.term = 7;
    {
        struct cc_raft_entry from_one[3];

        memcpy(from_one, three, sizeof from_one);
        for (int i = 0; i < 3; i++)
            from_one[i].index = (cc_raft_index)i + 1;
        m.append.entries = from_one;
        CHECK(round_trip(&m, &b, &got, ents, 3) == 0);
        CHECK(same_msg(&m, &got));
        cc_buf_free(&b);
    }

    memset(&m, 0, sizeof m);
    m.type = CC_RAFT_MSG_VOTE_RESP;
    m.from = 1;
    m.to = 2;
    CHECK(round_trip(&m, &b, &got, ents, MAX_ENTRIES) == 0);
    CHECK(same_msg(&m, &got) && !got.vote_resp.granted);
    cc_buf_free(&b);

    memset(&m, 0, sizeof m);
    m.type = CC_RAFT_MSG_SNAPSHOT;
    m.from = 1;
    m.to = 2;
    m.term = 9;
    m.snapshot.meta.index = 5;
    m.snapshot.meta.term = 9;
    CHECK(round_trip(&m, &b, &got, ents, MAX_ENTRIES) == 0); /* no members */
    CHECK(same_msg(&m, &got));
    cc_buf_free(&b);
    m.snapshot.meta.membership.n = CC_RAFT_MAX_MEMBERS;
    for (unsigned i = 0; i < CC_RAFT_MAX_MEMBERS; i++)
        m.snapshot.meta.membership.ids[i] = 100 + 3 * i;
    CHECK(round_trip(&m, &b, &got, ents, MAX_ENTRIES) == 0);
    CHECK(same_msg(&m, &got));
    cc_buf_free(&b);
}

/* The flat layout is the wire: pin it for one small message. */
static void test_golden_heartbeat(void)
{
    struct cc_raft_msg m = {.type = CC_RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 3};
    struct cc_buf b;
    struct cc_rd r;

    m.heartbeat.commit = 4;
    m.heartbeat.read_seq = 5;
    cc_buf_init(&b);
    CHECK(cc_raft_wire_encode(&b, &m) == 0);
    /* 5 u8 + 14 u64 + 2 list counts */
    CHECK(b.len == CC_FRAME_HEADER + 5 + 14 * 8 + 2 * 4);
    cc_rd_init(&r, b.data, b.len);
    cc_get_raw(&r, 4);
    CHECK(cc_get_u16(&r) == 66); /* RAFT */
    cc_get_raw(&r, 6);
    CHECK(cc_get_u8(&r) == CC_RAFT_MSG_HEARTBEAT);
    CHECK(cc_get_u64(&r) == 1);                        /* from */
    CHECK(cc_get_u64(&r) == 2);                        /* to */
    CHECK(cc_get_u64(&r) == 3);                        /* term */
    CHECK(cc_get_u64(&r) == 0 && cc_get_u64(&r) == 0); /* last_index/term */
    CHECK(cc_get_u8(&r) == 0 && cc_get_u8(&r) == 0);   /* transfer, granted */
    CHECK(cc_get_u64(&r) == 0 && cc_get_u64(&r) == 0); /* prev_index/term */
    CHECK(cc_get_u64(&r) == 4);                        /* commit */
    CHECK(cc_get_u32(&r) == 0);                        /* entries */
    CHECK(cc_get_u8(&r) == 0);                         /* reject */
    CHECK(cc_get_u64(&r) == 0);                        /* index */
    CHECK(cc_get_u64(&r) == 0 && cc_get_u64(&r) == 0); /* hint_index/term */
    CHECK(cc_get_u64(&r) == 5);                        /* read_seq */
    CHECK(cc_get_u64(&r) == 0 && cc_get_u64(&r) == 0); /* snap_index/term */
    CHECK(cc_get_u32(&r) == 0);                        /* members */
    CHECK(cc_get_u8(&r) == 0);                         /* quiet */
    CHECK(!r.bad && cc_rd_left(&r) == 0);
    cc_buf_free(&b);
}

/* Encoding refuses a message its peers would refuse, appending nothing. */
static void test_encode_refuses(void)
{
    struct cc_raft_msg msgs[CC_RAFT_MSG_TYPE_MAX], m;
    struct cc_raft_entry bad[3];
    struct cc_buf b;

    sample_msgs(msgs);
    cc_buf_init(&b);
    cc_put_u32(&b, 0xdeadbeef);
#define REFUSED(msg) CHECK(cc_raft_wire_encode(&b, &(msg)) == -1 && errno == EINVAL && b.len == 4)

    m = msgs[0];
    m.type = (enum cc_raft_msg_type)0;
    REFUSED(m);
    m.type = (enum cc_raft_msg_type)(CC_RAFT_MSG_TYPE_MAX + 1);
    REFUSED(m);
    m = msgs[0];
    m.from = 0;
    REFUSED(m);
    m = msgs[0];
    m.to = 0;
    REFUSED(m);

    m = msgs[CC_RAFT_MSG_SNAPSHOT - 1];
    m.snapshot.meta.membership.n = CC_RAFT_MAX_MEMBERS + 1;
    REFUSED(m);
    m.snapshot.meta.membership.n = 3;
    m.snapshot.meta.membership.ids[1] = 1; /* a duplicate */
    REFUSED(m);
    m.snapshot.meta.membership.ids[0] = 0;
    m.snapshot.meta.membership.ids[1] = 2; /* the "none" id */
    REFUSED(m);

    m = msgs[CC_RAFT_MSG_APPEND - 1];
    m.append.entries = NULL;
    REFUSED(m);
    memcpy(bad, three, sizeof bad);
    m.append.entries = bad;
    bad[2].index = 45; /* a gap */
    REFUSED(m);
    memcpy(bad, three, sizeof bad);
    bad[1].term = 5; /* term goes down */
    REFUSED(m);
    memcpy(bad, three, sizeof bad);
    bad[2].term = 8; /* over the message's term */
    REFUSED(m);
    memcpy(bad, three, sizeof bad);
    bad[0].type = (enum cc_raft_entry_type)3;
    REFUSED(m);
    memcpy(bad, three, sizeof bad);
    bad[1].data = NULL;
    REFUSED(m);
    m.append.entries = three;
    m.append.prev_index = UINT64_MAX - 1; /* the indexes would wrap */
    REFUSED(m);
#undef REFUSED
    CHECK(!b.failed);
    cc_buf_free(&b);
}

/* ---- hand-made RAFT frames ---- */

/* A valid flat HEARTBEAT to spoil one field at a time. */
static struct cc_msg flat_heartbeat(void)
{
    struct cc_msg f;

    memset(&f, 0, sizeof f);
    f.type = CC_MSG_RAFT;
    f.u.raft.type = CC_RAFT_MSG_HEARTBEAT;
    f.u.raft.from = 1;
    f.u.raft.to = 2;
    f.u.raft.term = 3;
    f.u.raft.commit = 4;
    f.u.raft.read_seq = 5;
    return f;
}

/* Encodes the flat frame, decodes it and returns cc_raft_wire_decode's
 * answer, so the frame is what a peer's bytes would decode to. */
static int decode_flat(const struct cc_msg *f, size_t max_entries)
{
    struct cc_raft_entry ents[MAX_ENTRIES];
    struct cc_raft_msg out;
    struct cc_msg back;
    struct cc_buf b;
    char err[128];
    size_t off = 0;
    int rc = -2;

    cc_buf_init(&b);
    CHECK(cc_msg_encode(&b, f) == 0);
    if (cc_msg_next(b.data, b.len, &off, &back, err, sizeof err) == 1)
        rc = cc_raft_wire_decode(&back, &out, ents, max_entries);
    cc_buf_free(&b);
    return rc;
}

static void put_entry(struct cc_buf *b, uint64_t index, uint64_t term, uint8_t type)
{
    struct cc_peer_entry e = {index, term, type, {(const uint8_t *)"x", 1}};

    cc_msg_peer_entry_put(b, &e);
}

static void test_decode_refuses(void)
{
    struct cc_msg f = flat_heartbeat();
    struct cc_buf lb;

    CHECK(decode_flat(&f, 0) == 0); /* the control */

    f.u.raft.type = 0;
    CHECK(decode_flat(&f, 0) == -1);
    f.u.raft.type = CC_RAFT_MSG_TYPE_MAX + 1;
    CHECK(decode_flat(&f, 0) == -1);
    f.u.raft.type = 255;
    CHECK(decode_flat(&f, 0) == -1);
    f = flat_heartbeat();
    f.u.raft.from = 0;
    CHECK(decode_flat(&f, 0) == -1);
    f = flat_heartbeat();
    f.u.raft.to = 0;
    CHECK(decode_flat(&f, 0) == -1);

    /* fields a HEARTBEAT does not use */
    f = flat_heartbeat();
    f.u.raft.last_index = 1;
    CHECK(decode_flat(&f, 0) == -1);
    f = flat_heartbeat();
    f.u.raft.granted = 1;
    CHECK(decode_flat(&f, 0) == -1);
    f = flat_heartbeat();
    f.u.raft.index = 1;
    CHECK(decode_flat(&f, 0) == -1);
    f = flat_heartbeat();
    f.u.raft.snap_term = 1;
    CHECK(decode_flat(&f, 0) == -1);
    f = flat_heartbeat();
    f.u.raft.quiet = 1; /* only an APPEND may ask for no answer */
    CHECK(decode_flat(&f, 0) == -1);

    /* bools */
    f = flat_heartbeat();
    f.u.raft.type = CC_RAFT_MSG_VOTE_RESP;
    f.u.raft.commit = f.u.raft.read_seq = 0;
    f.u.raft.granted = 1;
    CHECK(decode_flat(&f, 0) == 0);
    f.u.raft.granted = 2;
    CHECK(decode_flat(&f, 0) == -1);
    f = flat_heartbeat();
    f.u.raft.type = CC_RAFT_MSG_APPEND;
    f.u.raft.read_seq = 0;
    f.u.raft.quiet = 1;
    CHECK(decode_flat(&f, 0) == 0);
    f.u.raft.quiet = 2;
    CHECK(decode_flat(&f, 0) == -1);

    /* entries: too many for the caller, on the wrong type, a gap, a bad
     * entry type */
    cc_buf_init(&lb);
    put_entry(&lb, 11, 2, 0);
    put_entry(&lb, 12, 3, 2);
    f = flat_heartbeat();
    f.u.raft.type = CC_RAFT_MSG_APPEND;
    f.u.raft.read_seq = 0;
    f.u.raft.prev_index = 10;
    f.u.raft.prev_term = 2;
    f.u.raft.entries = (struct cc_list){2, lb.data, (uint32_t)lb.len};
    CHECK(decode_flat(&f, 2) == 0);
    CHECK(decode_flat(&f, 1) == -1);
    CHECK(decode_flat(&f, 0) == -1);
    f.u.raft.prev_index = 9;
    CHECK(decode_flat(&f, 2) == -1);
    f.u.raft.prev_index = 10;
    f.u.raft.type = CC_RAFT_MSG_HEARTBEAT;
    CHECK(decode_flat(&f, 2) == -1);
    cc_buf_reset(&lb);
    put_entry(&lb, 11, 2, 3);
    f.u.raft.type = CC_RAFT_MSG_APPEND;
    f.u.raft.entries = (struct cc_list){1, lb.data, (uint32_t)lb.len};
    CHECK(decode_flat(&f, 2) == -1);

    /* membership: over the limit, not ascending */
    cc_buf_reset(&lb);
    for (uint64_t i = 1; i <= CC_RAFT_MAX_MEMBERS + 1; i++)
        cc_msg_peer_member_put(&lb, &(struct cc_peer_member){i});
    f = flat_heartbeat();
    f.u.raft.type = CC_RAFT_MSG_SNAPSHOT;
    f.u.raft.commit = f.u.raft.read_seq = 0;
    f.u.raft.snap_index = 100;
    f.u.raft.snap_term = 3;
    f.u.raft.members = (struct cc_list){CC_RAFT_MAX_MEMBERS, lb.data, (uint32_t)lb.len - 8};
    CHECK(decode_flat(&f, 0) == 0);
    f.u.raft.members = (struct cc_list){CC_RAFT_MAX_MEMBERS + 1, lb.data, (uint32_t)lb.len};
    CHECK(decode_flat(&f, 0) == -1);
    cc_buf_reset(&lb);
    cc_msg_peer_member_put(&lb, &(struct cc_peer_member){5});
    cc_msg_peer_member_put(&lb, &(struct cc_peer_member){5});
    f.u.raft.members = (struct cc_list){2, lb.data, (uint32_t)lb.len};
    CHECK(decode_flat(&f, 0) == -1);
    cc_buf_free(&lb);

    /* not a RAFT frame at all */
    {
        struct cc_msg other;
        struct cc_raft_msg out;

        memset(&other, 0, sizeof other);
        other.type = CC_MSG_PEER_HELLO;
        CHECK(cc_raft_wire_decode(&other, &out, NULL, 0) == -1);
    }
}

int main(void)
{
    RUN(test_round_trip_every_type);
    RUN(test_round_trip_edges);
    RUN(test_golden_heartbeat);
    RUN(test_encode_refuses);
    RUN(test_decode_refuses);
    return unit_report();
}
