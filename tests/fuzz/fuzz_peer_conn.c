/* libFuzzer target for a peer connection's input machine
 * (core/peer/peer_conn.c): arbitrary bytes from a remote must never crash
 * it, read out of bounds or make it hold more than one frame.
 *
 * Input: byte 0 picks the role (bit 0: dialer), whether a valid handshake
 * goes first (bit 1, so the fuzzer starts past it), how the rest is read
 * (bit 2: raw stream bytes, or records {u8 type, u8 length, payload} that
 * get valid frame headers, so the payloads and the verdicts on them are
 * explored without first guessing a header) and the size of the pieces the
 * stream is fed in (bits 3-7).
 * Properties checked, with abort() on a violation:
 *   - a call takes at most what it was given, all of it on MORE;
 *   - a final verdict (REFUSE, REFUSED, ERROR) closes the machine for good,
 *     with a reason; nothing is delivered before HELLO_OK, which comes once;
 *   - DELIVER is only an acceptor's, of traffic from the member that said
 *     hello to this member, and its byte views can be read whole;
 *   - no more than one frame is buffered (a handshake frame's worth before
 *     the handshake);
 *   - fed in pieces, the stream gives the same verdicts as fed whole.
 *
 * Run: ./fuzz_peer_conn -max_total_time=60 [corpus-dir]. */
#include "core/peer/peer_conn.h"
#include "proto/msg.h"
#include "proto/raft_wire.h"
#include "proto/wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CLUSTER 0xabcull
#define SELF    0x11ull
#define OTHER   0x22ull

static const uint64_t members[] = {SELF, OTHER, 0x33};

static void touch(const uint8_t *p, size_t n)
{
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < n; i++)
        sink ^= p[i];
    (void)sink;
}

static void touch_msg(const struct cc_msg *m)
{
    switch (m->type) {
    case CC_MSG_SNAPSHOT_CHUNK_PEER:
        touch(m->u.snapshot_chunk_peer.data.p, m->u.snapshot_chunk_peer.data.n);
        break;
    case CC_MSG_PEER_PROPOSE:
        touch(m->u.peer_propose.data.p, m->u.peer_propose.data.n);
        break;
    case CC_MSG_RAFT:
        touch(m->u.raft.entries.p, m->u.raft.entries.n);
        touch(m->u.raft.members.p, m->u.raft.members.n);
        break;
    default:
        break;
    }
}

struct trace {
    uint8_t v[64];
    size_t n;
};

/* Feeds stream[0..len) in pieces of `piece` bytes (0: whole), each piece a
 * fresh heap copy freed right after, so a view kept past its feed shows. */
static void run(enum cc_peer_role role, const uint8_t *stream, size_t len, size_t piece,
                struct trace *t)
{
    struct cc_peer_conn c;
    struct cc_peer_conn_params p = {role, CLUSTER, SELF, OTHER, members, 3};
    bool hello_seen = false, closed = false;
    cc_peer_conn_init(&c, &p);
    t->n = 0;
    for (size_t start = 0; start < len && !closed;) {
        size_t n = piece == 0 || len - start < piece ? len - start : piece;
        uint8_t *copy = malloc(n);
        if (copy == NULL)
            abort();
        memcpy(copy, stream + start, n);
        size_t off = 0;
        while (off < n && !closed) {
            struct cc_msg m;
            size_t used = 0;
            enum cc_peer_verdict v = cc_peer_conn_feed(&c, copy + off, n - off, &used, &m);
            if (used > n - off || (v == CC_PEER_MORE && used != n - off))
                abort();
            off += used;
            if (c.state == CC_PEER_HANDSHAKE &&
                cc_peer_conn_buffered(&c) > CC_FRAME_HEADER + CC_PEER_HANDSHAKE_MAX)
                abort();
            if (cc_peer_conn_buffered(&c) > CC_FRAME_HEADER + CC_FRAME_MAX)
                abort();
            switch (v) {
            case CC_PEER_MORE:
                continue;
            case CC_PEER_HELLO_OK:
                if (hello_seen || c.state != CC_PEER_OPEN || m.type != CC_MSG_PEER_HELLO)
                    abort();
                if (role == CC_PEER_DIALER ? c.remote_id != OTHER
                                           : (c.remote_id == SELF || c.remote_id == 0))
                    abort();
                hello_seen = true;
                break;
            case CC_PEER_DELIVER:
                if (!hello_seen || role != CC_PEER_ACCEPTOR || c.state != CC_PEER_OPEN)
                    abort();
                touch_msg(&m);
                uint64_t from, to;
                if (!cc_peer_traffic(&m, &from, &to) || from != c.remote_id || to != SELF)
                    abort();
                break;
            case CC_PEER_REFUSE:
            case CC_PEER_REFUSED:
            case CC_PEER_ERROR:
                if (c.state != CC_PEER_CLOSED || c.reason[0] == '\0')
                    abort();
                if ((v == CC_PEER_REFUSE && role != CC_PEER_ACCEPTOR) ||
                    (v == CC_PEER_REFUSED && role != CC_PEER_DIALER))
                    abort();
                closed = true;
                break;
            }
            if (t->n < sizeof(t->v))
                t->v[t->n++] = (uint8_t)v;
        }
        free(copy);
        start += n;
    }
    if (closed) {
        struct cc_msg m;
        size_t used;
        if (cc_peer_conn_feed(&c, stream, len, &used, &m) != CC_PEER_ERROR)
            abort();
    }
    cc_peer_conn_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum cc_peer_role role = data[0] & 1 ? CC_PEER_DIALER : CC_PEER_ACCEPTOR;
    size_t piece = data[0] >> 3;
    struct cc_buf stream;
    cc_buf_init(&stream);
    if (data[0] & 2) {
        struct cc_msg h = {.type = CC_MSG_PEER_HELLO};
        h.u.peer_hello = (struct cc_msg_peer_hello){CC_RAFT_WIRE_VERSION, CLUSTER, OTHER, SELF};
        if (cc_msg_encode(&stream, &h) != 0)
            abort();
    }
    if (data[0] & 4) {
        /* type numbers that matter here, by the record's type byte */
        static const uint16_t types[] = {CC_MSG_PEER_HELLO,
                                         CC_MSG_PEER_REFUSE,
                                         CC_MSG_RAFT,
                                         CC_MSG_SNAPSHOT_CHUNK_PEER,
                                         CC_MSG_PEER_PROPOSE,
                                         CC_MSG_PEER_READ_INDEX,
                                         CC_MSG_PEER_READ_INDEX_RESP,
                                         CC_MSG_STOP,
                                         CC_MSG_HELLO,
                                         0xffff};
        for (size_t i = 1; i + 2 <= size;) {
            uint16_t type = types[data[i] % (sizeof(types) / sizeof(types[0]))];
            size_t len = data[i + 1];
            i += 2;
            if (len > size - i)
                len = size - i;
            cc_put_u16(&stream, CC_FRAME_MAGIC);
            cc_put_u8(&stream, CC_FRAME_VERSION);
            cc_put_u8(&stream, 0);
            cc_put_u16(&stream, type);
            cc_put_u16(&stream, 0);
            cc_put_u32(&stream, (uint32_t)len);
            cc_put_raw(&stream, data + i, len);
            i += len;
        }
    } else {
        cc_put_raw(&stream, data + 1, size - 1);
    }
    if (stream.failed)
        abort();

    struct trace whole, pieces;
    run(role, stream.data, stream.len, 0, &whole);
    run(role, stream.data, stream.len, piece, &pieces);
    if (whole.n != pieces.n || memcmp(whole.v, pieces.v, whole.n) != 0)
        abort();
    cc_buf_free(&stream);
    return 0;
}
