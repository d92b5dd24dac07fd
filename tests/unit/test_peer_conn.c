/* core/peer/peer_conn: the input state machine of a peer connection.
 *
 * Handshakes that succeed (acceptor and dialer), every refusal reason on
 * both sides, garbage, frames out of place, traffic whose from/to does not
 * match the handshake, oversized lengths, and one stream of frames fed cut
 * at every byte (and one byte at a time) that must yield the same verdicts
 * and messages as when fed whole. */
#include "core/peer/peer_conn.h"
#include "proto/msg.h"
#include "proto/raft_wire.h"
#include "proto/wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define CLUSTER 0xabcull
#define SELF    0x11ull
#define OTHER   0x22ull
#define THIRD   0x33ull

static const uint64_t members[] = {SELF, OTHER, THIRD};

static void init(struct cc_peer_conn *c, enum cc_peer_role role)
{
    struct cc_peer_conn_params p = {
        .role = role,
        .cluster_id = CLUSTER,
        .self_id = SELF,
        .peer_id = role == CC_PEER_DIALER ? OTHER : 0,
        .members = members,
        .n_members = 3,
    };
    cc_peer_conn_init(c, &p);
}

static void put_hello(struct cc_buf *b, uint16_t version, uint64_t cluster, uint64_t from,
                      uint64_t to)
{
    struct cc_msg m = {.type = CC_MSG_PEER_HELLO};
    m.u.peer_hello = (struct cc_msg_peer_hello){version, cluster, from, to};
    CHECK(cc_msg_encode(b, &m) == 0);
}

static void put_raft(struct cc_buf *b, uint64_t from, uint64_t to, uint64_t commit)
{
    struct cc_raft_msg r;
    memset(&r, 0, sizeof r);
    r.type = CC_RAFT_MSG_HEARTBEAT;
    r.from = from;
    r.to = to;
    r.term = 3;
    r.heartbeat.commit = commit;
    CHECK(cc_raft_wire_encode(b, &r) == 0);
}

static void put_chunk(struct cc_buf *b, uint64_t from, uint64_t to, const void *data, uint32_t n)
{
    struct cc_msg m = {.type = CC_MSG_SNAPSHOT_CHUNK_PEER};
    m.u.snapshot_chunk_peer.term = 3;
    m.u.snapshot_chunk_peer.from = from;
    m.u.snapshot_chunk_peer.to = to;
    m.u.snapshot_chunk_peer.index = 9;
    m.u.snapshot_chunk_peer.total = n;
    m.u.snapshot_chunk_peer.data = (struct cc_bytes){data, n};
    m.u.snapshot_chunk_peer.last = 1;
    CHECK(cc_msg_encode(b, &m) == 0);
}

static void put_propose(struct cc_buf *b, uint64_t from, uint64_t to, const char *data)
{
    struct cc_msg m = {.type = CC_MSG_PEER_PROPOSE};
    m.u.peer_propose.from = from;
    m.u.peer_propose.to = to;
    m.u.peer_propose.req_id = 77;
    m.u.peer_propose.data = (struct cc_bytes){(const uint8_t *)data, (uint32_t)strlen(data)};
    CHECK(cc_msg_encode(b, &m) == 0);
}

/* Feeds all of b at once; the verdict of the first frame that is not MORE
 * (or MORE when every byte was taken). */
static enum cc_peer_verdict feed_all(struct cc_peer_conn *c, const struct cc_buf *b,
                                     struct cc_msg *m)
{
    size_t off = 0;
    for (;;) {
        size_t used = 0;
        enum cc_peer_verdict v = cc_peer_conn_feed(c, b->data + off, b->len - off, &used, m);
        CHECK(used <= b->len - off);
        off += used;
        if (v != CC_PEER_MORE || off == b->len)
            return v;
    }
}

static bool contains(const char *s, const char *sub)
{
    return strstr(s, sub) != NULL;
}

static void test_traffic_types(void)
{
    /* what may follow the handshake, and what may not */
    CHECK(cc_peer_traffic_type(CC_MSG_RAFT) && cc_peer_traffic_type(CC_MSG_SNAPSHOT_CHUNK_PEER));
    CHECK(cc_peer_traffic_type(CC_MSG_PEER_PROPOSE) &&
          cc_peer_traffic_type(CC_MSG_PEER_READ_INDEX));
    CHECK(cc_peer_traffic_type(CC_MSG_PEER_READ_INDEX_RESP));
    CHECK(!cc_peer_traffic_type(CC_MSG_PEER_HELLO) && !cc_peer_traffic_type(CC_MSG_PEER_REFUSE));
    CHECK(!cc_peer_traffic_type(CC_MSG_PROPOSE) && !cc_peer_traffic_type(CC_MSG_STATUS));
    CHECK(!cc_peer_traffic_type(0) && !cc_peer_traffic_type(0xffff));
}

static void test_sniff(void)
{
    CHECK(cc_peer_sniff((const uint8_t *)"", 0) == CC_PEER_SNIFF_MORE);
    CHECK(cc_peer_sniff((const uint8_t *)"C", 1) == CC_PEER_SNIFF_MORE);
    CHECK(cc_peer_sniff((const uint8_t *)"CC", 2) == CC_PEER_SNIFF_FRAMES);
    CHECK(cc_peer_sniff((const uint8_t *)"CONNECT", 7) == CC_PEER_SNIFF_HTTP);
    CHECK(cc_peer_sniff((const uint8_t *)"GET /", 5) == CC_PEER_SNIFF_HTTP);
    CHECK(cc_peer_sniff((const uint8_t *)"\x00\x01", 2) == CC_PEER_SNIFF_HTTP);
}

static void test_acceptor_handshake_and_traffic(void)
{
    struct cc_peer_conn c;
    struct cc_buf b;
    struct cc_msg m;
    cc_buf_init(&b);
    init(&c, CC_PEER_ACCEPTOR);

    put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF);
    CHECK(feed_all(&c, &b, &m) == CC_PEER_HELLO_OK);
    CHECK(c.state == CC_PEER_OPEN && c.remote_id == OTHER);
    cc_peer_conn_hello(&c, &m);
    CHECK(m.type == CC_MSG_PEER_HELLO && m.u.peer_hello.version == CC_RAFT_WIRE_VERSION);
    CHECK(m.u.peer_hello.cluster_id == CLUSTER && m.u.peer_hello.from == SELF);
    CHECK(m.u.peer_hello.to == OTHER);

    cc_buf_reset(&b);
    put_raft(&b, OTHER, SELF, 5);
    CHECK(feed_all(&c, &b, &m) == CC_PEER_DELIVER);
    CHECK(m.type == CC_MSG_RAFT && m.u.raft.from == OTHER && m.u.raft.commit == 5);

    cc_buf_reset(&b);
    put_chunk(&b, OTHER, SELF, "snap", 4);
    CHECK(feed_all(&c, &b, &m) == CC_PEER_DELIVER);
    CHECK(m.type == CC_MSG_SNAPSHOT_CHUNK_PEER && m.u.snapshot_chunk_peer.data.n == 4);
    CHECK(memcmp(m.u.snapshot_chunk_peer.data.p, "snap", 4) == 0);

    cc_buf_reset(&b);
    put_propose(&b, OTHER, SELF, "PUT /a");
    CHECK(feed_all(&c, &b, &m) == CC_PEER_DELIVER);
    CHECK(m.type == CC_MSG_PEER_PROPOSE && m.u.peer_propose.req_id == 77);

    /* a follower's read round and the leader's answer */
    struct cc_msg r = {.type = CC_MSG_PEER_READ_INDEX};
    r.u.peer_read_index = (struct cc_msg_peer_read_index){OTHER, SELF, 5};
    cc_buf_reset(&b);
    CHECK(cc_msg_encode(&b, &r) == 0);
    CHECK(feed_all(&c, &b, &m) == CC_PEER_DELIVER);
    CHECK(m.type == CC_MSG_PEER_READ_INDEX && m.u.peer_read_index.ctx == 5);
    r.type = CC_MSG_PEER_READ_INDEX_RESP;
    r.u.peer_read_index_resp = (struct cc_msg_peer_read_index_resp){OTHER, SELF, 5, 12, 1};
    cc_buf_reset(&b);
    CHECK(cc_msg_encode(&b, &r) == 0);
    CHECK(feed_all(&c, &b, &m) == CC_PEER_DELIVER);
    CHECK(m.type == CC_MSG_PEER_READ_INDEX_RESP && m.u.peer_read_index_resp.index == 12);
    CHECK(c.frames == 6);

    cc_peer_conn_free(&c);

    /* to 0: the dialer did not know our id yet */
    init(&c, CC_PEER_ACCEPTOR);
    cc_buf_reset(&b);
    put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, THIRD, 0);
    CHECK(feed_all(&c, &b, &m) == CC_PEER_HELLO_OK);
    CHECK(c.remote_id == THIRD);
    cc_peer_conn_free(&c);
    cc_buf_free(&b);
}

/* The acceptor's verdict on one hello. */
static enum cc_peer_verdict accept_hello(uint16_t version, uint64_t cluster, uint64_t from,
                                         uint64_t to, char *reason, size_t len)
{
    struct cc_peer_conn c;
    struct cc_buf b;
    struct cc_msg m;
    size_t used;
    cc_buf_init(&b);
    init(&c, CC_PEER_ACCEPTOR);
    put_hello(&b, version, cluster, from, to);
    enum cc_peer_verdict v = feed_all(&c, &b, &m);
    snprintf(reason, len, "%s", c.reason);
    if (v != CC_PEER_HELLO_OK) {
        CHECK(c.state == CC_PEER_CLOSED);
        /* closed for good */
        CHECK(cc_peer_conn_feed(&c, b.data, b.len, &used, &m) == CC_PEER_ERROR);
    }
    cc_peer_conn_free(&c);
    cc_buf_free(&b);
    return v;
}

static void test_acceptor_refusals(void)
{
    char why[CC_PEER_REASON_MAX];

    CHECK(accept_hello(CC_RAFT_WIRE_VERSION + 1, CLUSTER, OTHER, SELF, why, sizeof why) ==
          CC_PEER_REFUSE);
    CHECK(contains(why, "peer protocol version mismatch"));

    CHECK(accept_hello(CC_RAFT_WIRE_VERSION, 0x999, OTHER, SELF, why, sizeof why) ==
          CC_PEER_REFUSE);
    CHECK_STR(why, "cluster ID mismatch (theirs 999, ours abc)");

    CHECK(accept_hello(CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, THIRD, why, sizeof why) ==
          CC_PEER_REFUSE);
    CHECK(contains(why, "member ID mismatch") && contains(why, "33") && contains(why, "11"));

    CHECK(accept_hello(CC_RAFT_WIRE_VERSION, CLUSTER, SELF, SELF, why, sizeof why) ==
          CC_PEER_REFUSE);
    CHECK(contains(why, "own ID 11"));

    CHECK(accept_hello(CC_RAFT_WIRE_VERSION, CLUSTER, 0x44, SELF, why, sizeof why) ==
          CC_PEER_REFUSE);
    CHECK_STR(why, "member 44 is not in cluster abc");

    CHECK(accept_hello(CC_RAFT_WIRE_VERSION, CLUSTER, 0, 0, why, sizeof why) == CC_PEER_REFUSE);
}

/* The dialer's verdict on one answer. */
static enum cc_peer_verdict dial_answer(const struct cc_buf *answer, char *reason, size_t len)
{
    struct cc_peer_conn c;
    struct cc_msg m;
    init(&c, CC_PEER_DIALER);
    cc_peer_conn_hello(&c, &m);
    CHECK(m.u.peer_hello.from == SELF && m.u.peer_hello.to == OTHER);
    CHECK(m.u.peer_hello.cluster_id == CLUSTER);
    enum cc_peer_verdict v = feed_all(&c, answer, &m);
    snprintf(reason, len, "%s", c.reason);
    cc_peer_conn_free(&c);
    return v;
}

static void test_dialer(void)
{
    char why[CC_PEER_REASON_MAX];
    struct cc_buf b;
    cc_buf_init(&b);

    put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF);
    CHECK(dial_answer(&b, why, sizeof why) == CC_PEER_HELLO_OK);

    cc_buf_reset(&b);
    put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, 0);
    CHECK(dial_answer(&b, why, sizeof why) == CC_PEER_HELLO_OK);

    cc_buf_reset(&b);
    put_hello(&b, CC_RAFT_WIRE_VERSION + 1, CLUSTER, OTHER, SELF);
    CHECK(dial_answer(&b, why, sizeof why) == CC_PEER_REFUSED);
    CHECK(contains(why, "version mismatch"));

    cc_buf_reset(&b);
    put_hello(&b, CC_RAFT_WIRE_VERSION, 0x5, OTHER, SELF);
    CHECK(dial_answer(&b, why, sizeof why) == CC_PEER_REFUSED);
    CHECK_STR(why, "cluster ID mismatch (theirs 5, ours abc)");

    cc_buf_reset(&b);
    put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, THIRD, SELF);
    CHECK(dial_answer(&b, why, sizeof why) == CC_PEER_REFUSED);
    CHECK(contains(why, "the remote is 33, not 22"));

    cc_buf_reset(&b);
    put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, THIRD);
    CHECK(dial_answer(&b, why, sizeof why) == CC_PEER_REFUSED);

    /* A refusal quotes the remote's reason, made printable. */
    struct cc_msg r = {.type = CC_MSG_PEER_REFUSE};
    r.u.peer_refuse.reason = (struct cc_bytes){(const uint8_t *)"nope\n\x01!", 7};
    cc_buf_reset(&b);
    CHECK(cc_msg_encode(&b, &r) == 0);
    CHECK(dial_answer(&b, why, sizeof why) == CC_PEER_REFUSED);
    CHECK_STR(why, "refused by the remote: nope?"
                   "?!"); /* no trigraph */

    /* After the handshake the dialer reads nothing. */
    {
        struct cc_peer_conn c;
        struct cc_msg m;
        init(&c, CC_PEER_DIALER);
        cc_buf_reset(&b);
        put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF);
        CHECK(feed_all(&c, &b, &m) == CC_PEER_HELLO_OK);
        cc_buf_reset(&b);
        put_raft(&b, OTHER, SELF, 1);
        CHECK(feed_all(&c, &b, &m) == CC_PEER_ERROR);
        CHECK(contains(c.reason, "outgoing connection"));
        cc_peer_conn_free(&c);
    }
    cc_buf_free(&b);
}

static enum cc_peer_verdict feed_bytes(enum cc_peer_role role, const void *p, size_t n,
                                       char *reason, size_t len)
{
    struct cc_peer_conn c;
    struct cc_msg m;
    struct cc_buf b = {(uint8_t *)p, n, n, false};
    init(&c, role);
    enum cc_peer_verdict v = feed_all(&c, &b, &m);
    snprintf(reason, len, "%s", c.reason);
    cc_peer_conn_free(&c);
    return v;
}

static void test_garbage(void)
{
    char why[CC_PEER_REASON_MAX];
    static const char http[] = "GET /members HTTP/1.1\r\n\r\n";
    CHECK(feed_bytes(CC_PEER_ACCEPTOR, http, sizeof http - 1, why, sizeof why) == CC_PEER_ERROR);
    CHECK(contains(why, "bad frame header") && contains(why, "magic"));

    /* Magic right, version wrong: refused at the third byte. */
    CHECK(feed_bytes(CC_PEER_ACCEPTOR, "CC\x07", 3, why, sizeof why) == CC_PEER_ERROR);
    CHECK(contains(why, "bad frame header"));

    /* A partial header is only MORE. */
    CHECK(feed_bytes(CC_PEER_ACCEPTOR, "CC\x04", 3, why, sizeof why) == CC_PEER_MORE);

    /* Pseudo-random bytes: an error, never a crash or a success. */
    uint8_t junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    junk[0] = 'C';
    junk[1] = 'C';
    CHECK(feed_bytes(CC_PEER_ACCEPTOR, junk, sizeof junk, why, sizeof why) == CC_PEER_ERROR);

    /* A hello with a trailing byte in its payload. */
    struct cc_buf b;
    cc_buf_init(&b);
    put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF);
    b.data[8]++; /* length 27 */
    cc_put_u8(&b, 0);
    CHECK(feed_bytes(CC_PEER_ACCEPTOR, b.data, b.len, why, sizeof why) == CC_PEER_ERROR);
    CHECK(contains(why, "malformed frame"));
    cc_buf_free(&b);
}

static void test_out_of_place(void)
{
    char why[CC_PEER_REASON_MAX];
    struct cc_buf b;
    struct cc_peer_conn c;
    struct cc_msg m;
    cc_buf_init(&b);

    /* traffic before the handshake */
    put_raft(&b, OTHER, SELF, 1);
    CHECK(feed_bytes(CC_PEER_ACCEPTOR, b.data, b.len, why, sizeof why) == CC_PEER_ERROR);
    CHECK(contains(why, "RAFT frame before the handshake"));

    /* a refusal is not the dialer's to send */
    cc_buf_reset(&b);
    struct cc_msg r = {.type = CC_MSG_PEER_REFUSE};
    CHECK(cc_msg_encode(&b, &r) == 0);
    CHECK(feed_bytes(CC_PEER_ACCEPTOR, b.data, b.len, why, sizeof why) == CC_PEER_ERROR);

    /* after the handshake: wrong from, wrong to, a second hello, STATUS */
    const char *want[] = {"RAFT from 33 on the connection of 22", "RAFT for 33, this member is 11",
                          "unexpected PEER_HELLO frame", "unexpected STOP frame"};
    for (int k = 0; k < 4; k++) {
        init(&c, CC_PEER_ACCEPTOR);
        cc_buf_reset(&b);
        put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF);
        CHECK(feed_all(&c, &b, &m) == CC_PEER_HELLO_OK);
        cc_buf_reset(&b);
        if (k == 0)
            put_raft(&b, THIRD, SELF, 1);
        else if (k == 1)
            put_raft(&b, OTHER, THIRD, 1);
        else if (k == 2)
            put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF);
        else {
            struct cc_msg s = {.type = CC_MSG_STOP};
            CHECK(cc_msg_encode(&b, &s) == 0);
        }
        CHECK(feed_all(&c, &b, &m) == CC_PEER_ERROR);
        CHECK(contains(c.reason, want[k]));
        cc_peer_conn_free(&c);
    }

    /* the other two traffic types are checked the same way; hello and
     * the frame in one buffer: one verdict per call */
    for (int k = 0; k < 2; k++) {
        init(&c, CC_PEER_ACCEPTOR);
        cc_buf_reset(&b);
        put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF);
        size_t hello_len = b.len, used;
        if (k == 0)
            put_chunk(&b, THIRD, SELF, "z", 1);
        else
            put_propose(&b, OTHER, THIRD, "x");
        CHECK(cc_peer_conn_feed(&c, b.data, b.len, &used, &m) == CC_PEER_HELLO_OK);
        CHECK(used == hello_len);
        CHECK(cc_peer_conn_feed(&c, b.data + used, b.len - used, &used, &m) == CC_PEER_ERROR);
        CHECK(contains(c.reason, k == 0 ? "SNAPSHOT_CHUNK_PEER from 33 on the connection of 22"
                                        : "PEER_PROPOSE for 33, this member is 11"));
        cc_peer_conn_free(&c);
    }
    cc_buf_free(&b);
}

static void test_oversized(void)
{
    char why[CC_PEER_REASON_MAX];
    struct cc_peer_conn c;
    struct cc_msg m;
    size_t used;
    /* over CC_FRAME_MAX: refused from the header alone */
    uint8_t h[12] = {'C', 'C', CC_FRAME_VERSION, 0, CC_MSG_RAFT, 0, 0, 0, 0, 0, 0, 0};
    uint32_t big = CC_FRAME_MAX + 1;
    memcpy(h + 8, &big, 4); /* little-endian host */
    CHECK(feed_bytes(CC_PEER_ACCEPTOR, h, sizeof h, why, sizeof why) == CC_PEER_ERROR);

    /* a hello too big for the handshake: refused before its payload */
    uint8_t hh[12] = {'C', 'C', CC_FRAME_VERSION, 0, CC_MSG_PEER_HELLO, 0, 0, 0, 0, 0, 0, 0};
    uint32_t n = CC_PEER_HANDSHAKE_MAX + 1;
    memcpy(hh + 8, &n, 4);
    init(&c, CC_PEER_ACCEPTOR);
    CHECK(cc_peer_conn_feed(&c, hh, 5, &used, &m) == CC_PEER_MORE && used == 5);
    CHECK(cc_peer_conn_feed(&c, hh + 5, 7, &used, &m) == CC_PEER_ERROR);
    CHECK(contains(c.reason, "in the handshake"));
    CHECK(cc_peer_conn_buffered(&c) <= sizeof hh);
    cc_peer_conn_free(&c);

    /* After the handshake a big frame is fine, in pieces, and its buffer is
     * given back once used. */
    struct cc_buf b;
    cc_buf_init(&b);
    init(&c, CC_PEER_ACCEPTOR);
    put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF);
    CHECK(feed_all(&c, &b, &m) == CC_PEER_HELLO_OK);
    cc_buf_reset(&b);
    size_t sz = 3u * 1024 * 1024;
    uint8_t *data = calloc(1, sz);
    CHECK(data != NULL);
    put_chunk(&b, OTHER, SELF, data, (uint32_t)sz);
    size_t off = 0;
    enum cc_peer_verdict v = CC_PEER_MORE;
    while (off < b.len && v == CC_PEER_MORE) {
        size_t piece = b.len - off < 65536 ? b.len - off : 65536;
        v = cc_peer_conn_feed(&c, b.data + off, piece, &used, &m);
        off += used;
    }
    CHECK(v == CC_PEER_DELIVER && off == b.len);
    CHECK(m.u.snapshot_chunk_peer.data.n == sz);
    CHECK(cc_peer_conn_feed(&c, NULL, 0, &used, &m) == CC_PEER_MORE);
    CHECK(c.frame.cap <= 64 * 1024);
    free(data);
    cc_peer_conn_free(&c);
    cc_buf_free(&b);
}

/* A stream: hello, then three frames of traffic. Returns the verdicts and
 * a digest of every delivered message. */
struct seen {
    enum cc_peer_verdict v[8];
    uint16_t type[8];
    uint64_t key[8];
    int n;
};

static void record(struct seen *s, enum cc_peer_verdict v, const struct cc_msg *m)
{
    if (s->n >= 8)
        return;
    s->v[s->n] = v;
    s->type[s->n] = v == CC_PEER_DELIVER || v == CC_PEER_HELLO_OK ? m->type : 0;
    s->key[s->n] = 0;
    if (v == CC_PEER_DELIVER && m->type == CC_MSG_RAFT)
        s->key[s->n] = m->u.raft.commit;
    if (v == CC_PEER_DELIVER && m->type == CC_MSG_PEER_PROPOSE)
        s->key[s->n] = m->u.peer_propose.data.n * 1000u + m->u.peer_propose.data.p[0];
    if (v == CC_PEER_DELIVER && m->type == CC_MSG_SNAPSHOT_CHUNK_PEER)
        s->key[s->n] = m->u.snapshot_chunk_peer.data.n * 1000u +
                       m->u.snapshot_chunk_peer.data.p[m->u.snapshot_chunk_peer.data.n - 1];
    s->n++;
}

/* Feeds buf in the pieces cut[0..ncut) (offsets), each piece until
 * consumed, recording non-MORE verdicts. */
static void feed_pieces(const struct cc_buf *buf, const size_t *cuts, size_t ncut, struct seen *out)
{
    struct cc_peer_conn c;
    struct cc_msg m;
    init(&c, CC_PEER_ACCEPTOR);
    memset(out, 0, sizeof(*out));
    size_t start = 0;
    for (size_t k = 0; k <= ncut; k++) {
        size_t end = k < ncut ? cuts[k] : buf->len;
        /* Each piece in its own copy, freed after: a view that outlives its
         * feed would show under ASan. */
        uint8_t *piece = malloc(end - start + 1);
        memcpy(piece, buf->data + start, end - start);
        size_t off = 0;
        while (off < end - start) {
            size_t used = 0;
            enum cc_peer_verdict v =
                cc_peer_conn_feed(&c, piece + off, end - start - off, &used, &m);
            if (v != CC_PEER_MORE)
                record(out, v, &m);
            off += used;
            if (v == CC_PEER_ERROR || v == CC_PEER_REFUSE)
                break;
        }
        free(piece);
        start = end;
    }
    cc_peer_conn_free(&c);
}

static bool same(const struct seen *a, const struct seen *b)
{
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++)
        if (a->v[i] != b->v[i] || a->type[i] != b->type[i] || a->key[i] != b->key[i])
            return false;
    return true;
}

static void test_split_everywhere(void)
{
    struct cc_buf b;
    struct seen whole, cut;
    cc_buf_init(&b);
    put_hello(&b, CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF);
    put_raft(&b, OTHER, SELF, 42);
    put_propose(&b, OTHER, SELF, "qrst");
    put_chunk(&b, OTHER, SELF, "abcdefg", 7);
    put_raft(&b, OTHER, SELF, 43);

    feed_pieces(&b, NULL, 0, &whole);
    CHECK(whole.n == 5);
    CHECK(whole.v[0] == CC_PEER_HELLO_OK);
    CHECK(whole.v[1] == CC_PEER_DELIVER && whole.key[1] == 42);
    CHECK(whole.type[2] == CC_MSG_PEER_PROPOSE && whole.key[2] == 4000 + 'q');
    CHECK(whole.type[3] == CC_MSG_SNAPSHOT_CHUNK_PEER && whole.key[3] == 7000 + 'g');
    CHECK(whole.key[4] == 43);

    /* one cut anywhere */
    for (size_t k = 1; k < b.len; k++) {
        feed_pieces(&b, &k, 1, &cut);
        if (!same(&whole, &cut)) {
            fprintf(stderr, "cut at byte %zu differs\n", k);
            CHECK(false);
            break;
        }
    }
    /* two cuts anywhere */
    for (size_t i = 1; i < b.len; i += 3)
        for (size_t j = i + 1; j < b.len; j += 5) {
            size_t cuts[2] = {i, j};
            feed_pieces(&b, cuts, 2, &cut);
            CHECK(same(&whole, &cut));
        }
    /* one byte at a time */
    size_t *every = malloc(b.len * sizeof(size_t));
    for (size_t k = 1; k < b.len; k++)
        every[k - 1] = k;
    feed_pieces(&b, every, b.len - 1, &cut);
    CHECK(same(&whole, &cut));
    free(every);
    cc_buf_free(&b);
}

int main(void)
{
    RUN(test_sniff);
    RUN(test_traffic_types);
    RUN(test_acceptor_handshake_and_traffic);
    RUN(test_acceptor_refusals);
    RUN(test_dialer);
    RUN(test_garbage);
    RUN(test_out_of_place);
    RUN(test_oversized);
    RUN(test_split_everywhere);
    return unit_report();
}
