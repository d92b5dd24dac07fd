/* The input side of one peer connection, as a pure state machine: bytes
 * in, verdicts out.
 *
 * It owns no socket, reads no clock and allocates nothing but the buffer of
 * one frame that arrived in pieces, so the socket code (peer_inbound.c,
 * peer_dial.c) stays a thin shell and the whole protocol can be driven byte
 * by byte from tests/unit/test_peer_conn.c and tests/fuzz/fuzz_peer_conn.c.
 *
 * The protocol (proto/msg.h frames on a TCP stream):
 *   dialer   -> PEER_HELLO{CC_RAFT_WIRE_VERSION, cluster_id, from=self, to=peer}
 *   acceptor -> PEER_HELLO{..., from=self, to=dialer} or PEER_REFUSE{reason}
 *   dialer   -> member traffic (RAFT, SNAPSHOT_CHUNK_PEER, ...: cc_peer_traffic)
 * A connection carries traffic one way, etcd style: each member dials every
 * other one to send, and receives on the connections it accepted. So after
 * the handshake the acceptor only reads member traffic (cc_peer_traffic: from
 * the member that said hello, to this member), and the dialer reads nothing.
 *
 * Everything unexpected ends the connection with a verdict that carries one
 * line for the log; the machine is then closed for good. Memory is bounded:
 * before the handshake no frame over CC_PEER_HANDSHAKE_MAX is buffered (a
 * stranger cannot make us hold 16 MiB), after it a frame is at most
 * CC_FRAME_MAX, and a buffer grown for a big frame is freed once used. */
#ifndef CC_CORE_PEER_PEER_CONN_H
#define CC_CORE_PEER_PEER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"
#include "proto/wire.h"

/* The largest payload accepted before the handshake is done: PEER_HELLO is
 * 26 bytes, a PEER_REFUSE a line of text. */
#define CC_PEER_HANDSHAKE_MAX 1024
/* Room for one log line: a reason names ids in hex and a remote's text. */
#define CC_PEER_REASON_MAX 256

enum cc_peer_role { CC_PEER_ACCEPTOR, CC_PEER_DIALER };

enum cc_peer_verdict {
    /* Every byte given was taken; nothing to do until more arrive. */
    CC_PEER_MORE,
    /* The handshake succeeded (remote_id is set). The acceptor now answers
     * with cc_peer_conn_hello(); for the dialer the connection is up. */
    CC_PEER_HELLO_OK,
    /* Member traffic (cc_peer_traffic) from remote_id to this member, for
     * consensus (acceptor only). */
    CC_PEER_DELIVER,
    /* Acceptor: the hello does not fit (reason): answer PEER_REFUSE{reason}
     * and close. */
    CC_PEER_REFUSE,
    /* Dialer: the remote refused us (reason quotes it) or its answer does
     * not fit. Close and back off. */
    CC_PEER_REFUSED,
    /* Anything else that is wrong: a malformed frame, a frame out of place,
     * a from/to that does not match the handshake. Log reason, close. */
    CC_PEER_ERROR,
};

struct cc_peer_conn_params {
    enum cc_peer_role role;
    uint64_t cluster_id;
    uint64_t self_id;
    uint64_t peer_id; /* dialer: the member dialed; unused by the acceptor */
    /* Every member id of the cluster (self may be among them), to check a
     * dialer's `from`. Borrowed: must outlive the connection. */
    const uint64_t *members;
    size_t n_members;
};

enum cc_peer_conn_state { CC_PEER_HANDSHAKE, CC_PEER_OPEN, CC_PEER_CLOSED };

struct cc_peer_conn {
    struct cc_peer_conn_params p;
    enum cc_peer_conn_state state;
    uint64_t remote_id;  /* the member at the other end, once OPEN */
    struct cc_buf frame; /* a frame that arrived in pieces, so far */
    bool release;        /* frame holds the one last returned: drop it next time */
    uint64_t frames;     /* frames decoded */
    char reason[CC_PEER_REASON_MAX];
};

void cc_peer_conn_init(struct cc_peer_conn *c, const struct cc_peer_conn_params *p);
void cc_peer_conn_free(struct cc_peer_conn *c);

/* Feeds bytes p[0..n). Takes at most the rest of one frame, so a call
 * returns at most one verdict: *used says how many bytes were taken (the
 * caller feeds the others next, after acting on the verdict).
 *   MORE: *used == n.
 *   HELLO_OK, DELIVER: *m is the frame. Its BYTES and LIST fields are views
 *     into p or into the machine's buffer: valid until the next call, and p
 *     must not change until then.
 *   REFUSE, REFUSED, ERROR: c->reason has the line for the log; the state
 *     is CLOSED and every later call is an ERROR.
 * n may be 0 (then MORE, unless closed). */
enum cc_peer_verdict cc_peer_conn_feed(struct cc_peer_conn *c, const uint8_t *p, size_t n,
                                       size_t *used, struct cc_msg *m);

/* The PEER_HELLO this side sends: the dialer's first frame (to the member
 * dialed), or the acceptor's answer after HELLO_OK (to remote_id). */
void cc_peer_conn_hello(const struct cc_peer_conn *c, struct cc_msg *m);

/* Bytes held for a frame not complete yet. */
size_t cc_peer_conn_buffered(const struct cc_peer_conn *c);

/* The member traffic a connection carries after the handshake, between
 * the consensus workers of two members: RAFT, SNAPSHOT_CHUNK_PEER,
 * PEER_PROPOSE, PEER_READ_INDEX and PEER_READ_INDEX_RESP. The one list of
 * them: a new message between members is added here and travels. */
bool cc_peer_traffic_type(uint16_t type);
/* For member traffic: true, with the sender and the addressee. */
bool cc_peer_traffic(const struct cc_msg *m, uint64_t *from, uint64_t *to);

/* What a connection accepted on the peer port speaks, from its first bytes:
 * frames start with the magic "CC", HTTP with a method name. */
enum cc_peer_sniff { CC_PEER_SNIFF_MORE, CC_PEER_SNIFF_FRAMES, CC_PEER_SNIFF_HTTP };
enum cc_peer_sniff cc_peer_sniff(const uint8_t *p, size_t n);

const char *cc_peer_verdict_name(enum cc_peer_verdict v);

#endif
