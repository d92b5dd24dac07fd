#include "core/peer/peer_conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/raft_wire.h"

/* A buffer grown past this for a big frame is freed once that frame is
 * used, so an idle connection does not keep a snapshot chunk's worth. */
#define KEEP_BUFFER (64u * 1024)

void cc_peer_conn_init(struct cc_peer_conn *c, const struct cc_peer_conn_params *p)
{
    memset(c, 0, sizeof(*c));
    c->p = *p;
    c->state = CC_PEER_HANDSHAKE;
    cc_buf_init(&c->frame);
}

void cc_peer_conn_free(struct cc_peer_conn *c)
{
    cc_buf_free(&c->frame);
    c->state = CC_PEER_CLOSED;
}

size_t cc_peer_conn_buffered(const struct cc_peer_conn *c)
{
    return c->release ? 0 : c->frame.len;
}

/* Ends the connection: the verdict v with a reason for the log. */
__attribute__((format(printf, 3, 4))) static enum cc_peer_verdict
close_with(struct cc_peer_conn *c, enum cc_peer_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
    c->state = CC_PEER_CLOSED;
    return v;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool is_member(const struct cc_peer_conn *c, uint64_t id)
{
    for (size_t i = 0; i < c->p.n_members; i++)
        if (c->p.members[i] == id)
            return true;
    return false;
}

/* Judges a complete header (cc_msg_need has checked magic, version, flags,
 * reserved and the length limit) before its payload is buffered: what may
 * not come now is refused without reading it. MORE means acceptable. */
static enum cc_peer_verdict check_header(struct cc_peer_conn *c, const uint8_t *h)
{
    uint16_t type = le16(h + 4);
    uint32_t len = le32(h + 8);
    if (c->state == CC_PEER_OPEN) {
        if (c->p.role == CC_PEER_DIALER)
            return close_with(c, CC_PEER_ERROR, "%s frame on an outgoing connection",
                              cc_msg_name(type));
        if (!cc_peer_traffic_type(type))
            return close_with(c, CC_PEER_ERROR, "unexpected %s frame after the handshake",
                              cc_msg_name(type));
        return CC_PEER_MORE;
    }
    bool hello =
        type == CC_MSG_PEER_HELLO || (c->p.role == CC_PEER_DIALER && type == CC_MSG_PEER_REFUSE);
    if (!hello)
        return close_with(c, CC_PEER_ERROR, "%s frame before the handshake", cc_msg_name(type));
    if (len > CC_PEER_HANDSHAKE_MAX)
        return close_with(c, CC_PEER_ERROR, "%u-byte %s frame in the handshake (at most %u)", len,
                          cc_msg_name(type), CC_PEER_HANDSHAKE_MAX);
    return CC_PEER_MORE;
}

/* The remote's refusal, for our log: printable ASCII only (it is the
 * remote's text), cut to fit. */
static void quote_reason(char *out, size_t outlen, const struct cc_bytes *b)
{
    size_t k = 0, max = outlen > 0 ? outlen - 1 : 0;
    for (uint32_t i = 0; i < b->n && k < max && i < 160; i++) {
        uint8_t ch = b->p[i];
        out[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (outlen > 0)
        out[k] = '\0';
}

/* What both sides check first in the other's hello: the same peer
 * protocol and the same cluster. CC_PEER_HELLO_OK when both hold. */
static enum cc_peer_verdict judge_protocol(struct cc_peer_conn *c,
                                           const struct cc_msg_peer_hello *h,
                                           enum cc_peer_verdict refusal)
{
    if (h->version != CC_RAFT_WIRE_VERSION)
        return close_with(c, refusal, "peer protocol version mismatch (theirs %u, ours %u)",
                          (unsigned)h->version, (unsigned)CC_RAFT_WIRE_VERSION);
    if (h->cluster_id != c->p.cluster_id)
        return close_with(c, refusal, "cluster ID mismatch (theirs %llx, ours %llx)",
                          (unsigned long long)h->cluster_id, (unsigned long long)c->p.cluster_id);
    return CC_PEER_HELLO_OK;
}

/* The acceptor judges the dialer's hello (the checks a member makes of
 * another one before it reads its raft traffic). */
static enum cc_peer_verdict judge_hello_in(struct cc_peer_conn *c,
                                           const struct cc_msg_peer_hello *h)
{
    unsigned long long self = c->p.self_id;
    enum cc_peer_verdict v = judge_protocol(c, h, CC_PEER_REFUSE);
    if (v != CC_PEER_HELLO_OK)
        return v;
    if (h->to != 0 && h->to != c->p.self_id)
        return close_with(c, CC_PEER_REFUSE,
                          "member ID mismatch (the connection is for %llx, this member is %llx)",
                          (unsigned long long)h->to, self);
    if (h->from == c->p.self_id)
        return close_with(c, CC_PEER_REFUSE, "the remote claims this member's own ID %llx", self);
    if (!is_member(c, h->from))
        return close_with(c, CC_PEER_REFUSE, "member %llx is not in cluster %llx",
                          (unsigned long long)h->from, (unsigned long long)c->p.cluster_id);
    c->remote_id = h->from;
    c->state = CC_PEER_OPEN;
    return CC_PEER_HELLO_OK;
}

/* The dialer judges the answer the same way: it must come from the member
 * it dialed, for this member, in this cluster. */
static enum cc_peer_verdict judge_hello_back(struct cc_peer_conn *c, const struct cc_msg *m)
{
    if (m->type == CC_MSG_PEER_REFUSE) {
        char why[CC_PEER_REASON_MAX / 2];
        quote_reason(why, sizeof(why), &m->u.peer_refuse.reason);
        return close_with(c, CC_PEER_REFUSED, "refused by the remote: %s", why);
    }
    const struct cc_msg_peer_hello *h = &m->u.peer_hello;
    enum cc_peer_verdict v = judge_protocol(c, h, CC_PEER_REFUSED);
    if (v != CC_PEER_HELLO_OK)
        return v;
    if (h->from != c->p.peer_id)
        return close_with(c, CC_PEER_REFUSED, "member ID mismatch (the remote is %llx, not %llx)",
                          (unsigned long long)h->from, (unsigned long long)c->p.peer_id);
    if (h->to != 0 && h->to != c->p.self_id)
        return close_with(c, CC_PEER_REFUSED,
                          "member ID mismatch (the remote answered %llx, this member is %llx)",
                          (unsigned long long)h->to, (unsigned long long)c->p.self_id);
    c->remote_id = h->from;
    c->state = CC_PEER_OPEN;
    return CC_PEER_HELLO_OK;
}

/* After the handshake (acceptor only: check_header stops the dialer's
 * input there): traffic from the member that said hello, to us. */
static enum cc_peer_verdict judge_traffic(struct cc_peer_conn *c, const struct cc_msg *m)
{
    uint64_t from, to;
    if (!cc_peer_traffic(m, &from, &to)) /* check_header let nothing else in */
        return close_with(c, CC_PEER_ERROR, "unexpected %s frame after the handshake",
                          cc_msg_name(m->type));
    if (from != c->remote_id)
        return close_with(c, CC_PEER_ERROR, "%s from %llx on the connection of %llx",
                          cc_msg_name(m->type), (unsigned long long)from,
                          (unsigned long long)c->remote_id);
    if (to != c->p.self_id)
        return close_with(c, CC_PEER_ERROR, "%s for %llx, this member is %llx",
                          cc_msg_name(m->type), (unsigned long long)to,
                          (unsigned long long)c->p.self_id);
    return CC_PEER_DELIVER;
}

static enum cc_peer_verdict judge(struct cc_peer_conn *c, const struct cc_msg *m)
{
    if (c->state == CC_PEER_OPEN)
        return judge_traffic(c, m);
    /* check_header let only the hello (and, for the dialer, a refusal) in. */
    if (c->p.role == CC_PEER_DIALER)
        return judge_hello_back(c, m);
    return judge_hello_in(c, &m->u.peer_hello);
}

enum cc_peer_verdict cc_peer_conn_feed(struct cc_peer_conn *c, const uint8_t *p, size_t n,
                                       size_t *used, struct cc_msg *m)
{
    char err[128] = "";
    const uint8_t *frame;
    size_t flen;
    *used = 0;
    if (c->release) {
        c->release = false;
        if (c->frame.cap > KEEP_BUFFER) {
            cc_buf_free(&c->frame);
            cc_buf_init(&c->frame);
        }
        cc_buf_reset(&c->frame);
    }
    if (c->state == CC_PEER_CLOSED)
        return close_with(c, CC_PEER_ERROR, "the connection is closed");
    if (c->frame.len == 0) {
        /* The common case: a whole frame in p, decoded where it lies. */
        long need = cc_msg_need(p, n, err, sizeof(err));
        if (need < 0)
            return close_with(c, CC_PEER_ERROR, "bad frame header: %s", err);
        if (n >= CC_FRAME_HEADER && check_header(c, p) != CC_PEER_MORE)
            return CC_PEER_ERROR;
        if (need > 0) {
            /* Less than one frame: n < its size <= header + CC_FRAME_MAX. */
            if (n > 0) {
                cc_put_raw(&c->frame, p, n);
                if (c->frame.failed)
                    return close_with(c, CC_PEER_ERROR, "out of memory for a %zu-byte frame",
                                      n + (size_t)need);
            }
            *used = n;
            return CC_PEER_MORE;
        }
        frame = p;
        flen = CC_FRAME_HEADER + (size_t)le32(p + 8);
        *used = flen;
    } else {
        /* The rest of a frame begun earlier: complete the header, judge
         * it, then take exactly the payload's bytes. */
        size_t take = 0;
        for (;;) {
            long need = cc_msg_need(c->frame.data, c->frame.len, err, sizeof(err));
            if (need < 0)
                return close_with(c, CC_PEER_ERROR, "bad frame header: %s", err);
            if (c->frame.len >= CC_FRAME_HEADER && check_header(c, c->frame.data) != CC_PEER_MORE)
                return CC_PEER_ERROR;
            if (need == 0)
                break;
            if (take == n) {
                *used = n;
                return CC_PEER_MORE;
            }
            size_t k = (size_t)need < n - take ? (size_t)need : n - take;
            if (c->frame.len >= CC_FRAME_HEADER)
                cc_buf_reserve(&c->frame, (size_t)need); /* one allocation per frame */
            cc_put_raw(&c->frame, p + take, k);
            if (c->frame.failed)
                return close_with(c, CC_PEER_ERROR, "out of memory for a %zu-byte frame",
                                  c->frame.len + (size_t)need);
            take += k;
        }
        *used = take;
        frame = c->frame.data;
        flen = c->frame.len;
        c->release = true;
    }
    size_t off = 0;
    if (cc_msg_next(frame, flen, &off, m, err, sizeof(err)) != 1 || off != flen)
        return close_with(c, CC_PEER_ERROR, "malformed frame: %s", err);
    c->frames++;
    return judge(c, m);
}

void cc_peer_conn_hello(const struct cc_peer_conn *c, struct cc_msg *m)
{
    memset(m, 0, sizeof(*m));
    m->type = CC_MSG_PEER_HELLO;
    m->u.peer_hello.version = CC_RAFT_WIRE_VERSION;
    m->u.peer_hello.cluster_id = c->p.cluster_id;
    m->u.peer_hello.from = c->p.self_id;
    m->u.peer_hello.to = c->p.role == CC_PEER_DIALER ? c->p.peer_id : c->remote_id;
}

bool cc_peer_traffic(const struct cc_msg *m, uint64_t *from, uint64_t *to)
{
    switch (m->type) {
    case CC_MSG_RAFT:
        *from = m->u.raft.from, *to = m->u.raft.to;
        return true;
    case CC_MSG_SNAPSHOT_CHUNK_PEER:
        *from = m->u.snapshot_chunk_peer.from, *to = m->u.snapshot_chunk_peer.to;
        return true;
    case CC_MSG_PEER_PROPOSE:
        *from = m->u.peer_propose.from, *to = m->u.peer_propose.to;
        return true;
    case CC_MSG_PEER_READ_INDEX:
        *from = m->u.peer_read_index.from, *to = m->u.peer_read_index.to;
        return true;
    case CC_MSG_PEER_READ_INDEX_RESP:
        *from = m->u.peer_read_index_resp.from, *to = m->u.peer_read_index_resp.to;
        return true;
    default:
        return false;
    }
}

bool cc_peer_traffic_type(uint16_t type)
{
    struct cc_msg m;
    uint64_t from, to;
    memset(&m, 0, sizeof(m));
    m.type = type;
    return cc_peer_traffic(&m, &from, &to);
}

enum cc_peer_sniff cc_peer_sniff(const uint8_t *p, size_t n)
{
    /* The magic is 0x4343 little-endian, i.e. "CC": no HTTP method starts
     * with it ("CONNECT" differs at the second byte). */
    if (n == 0)
        return CC_PEER_SNIFF_MORE;
    if (p[0] != 'C')
        return CC_PEER_SNIFF_HTTP;
    if (n == 1)
        return CC_PEER_SNIFF_MORE;
    return p[1] == 'C' ? CC_PEER_SNIFF_FRAMES : CC_PEER_SNIFF_HTTP;
}

const char *cc_peer_verdict_name(enum cc_peer_verdict v)
{
    switch (v) {
    case CC_PEER_MORE:
        return "more";
    case CC_PEER_HELLO_OK:
        return "hello_ok";
    case CC_PEER_DELIVER:
        return "deliver";
    case CC_PEER_REFUSE:
        return "refuse";
    case CC_PEER_REFUSED:
        return "refused";
    case CC_PEER_ERROR:
        return "error";
    }
    return "?";
}
