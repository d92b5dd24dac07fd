/* Every binary message Concord exchanges, defined once.
 *
 * The same frames travel over the master's control socketpairs, the nanomsg
 * links between workers and the raft TCP connections between members.
 *
 * Frame: a 12-byte header, then the payload, all integers little-endian:
 *
 *   offset 0  u16 magic    0x4343 ("CC"), so a stray HTTP request or a
 *                          desynchronised stream is refused at once
 *          2  u8  version  CC_FRAME_VERSION; any other value is refused
 *          3  u8  flags    0 (nonzero is refused: a future flag may change
 *                          how the payload reads, so it cannot be ignored)
 *          4  u16 type     a number from CC_MSG_TYPES
 *          6  u16 reserved 0 (refused otherwise, for the same reason)
 *          8  u32 length   payload bytes, at most CC_FRAME_MAX
 *
 * The payload is the message's fields in table order, nothing between them:
 *   U8 U16 U32 U64  the integer
 *   BYTES           u32 length, then the bytes (strings too: no NUL)
 *   LIST(rec)       u32 count, then count records, each its fields in order
 * and the fields must use the payload exactly: trailing bytes are an error.
 *
 * A buffer (one nanomsg message, one socketpair datagram, the bytes read
 * from a TCP stream) holds zero or more frames back to back. Nanomsg costs
 * per message, not per byte (STACK.md), so a worker appends every frame that
 * is ready in one loop turn to one cc_buf and sends it once.
 *
 * Adding a message: one row in CC_MSG_TYPES (a new number, never reuse one)
 * and its CC_MSG_FIELDS_<name> list. The struct, its codec, cc_msg_name()
 * and the unit test's round trip are all generated from those two lines.
 * Adding a record type for lists: one row in CC_REC_TYPES (after any record
 * it nests) and its CC_REC_FIELDS_<name> list. Changing the fields of an
 * existing message changes the wire: bump CC_FRAME_VERSION or add a new type.
 */
#ifndef CC_PROTO_MSG_H
#define CC_PROTO_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

#define CC_FRAME_MAGIC   0x4343u
#define CC_FRAME_VERSION 4
#define CC_FRAME_HEADER  12
/* The largest payload accepted or produced. A length field is checked
 * against it before anything else trusts it; bulk data bigger than this
 * (a raft snapshot) has to travel in chunks. */
#define CC_FRAME_MAX (16u * 1024 * 1024)

/* A decoded BYTES field: a view into the decoded buffer, valid while that
 * buffer lives and unchanged. Not NUL-terminated. For encoding, p may be
 * NULL when n is 0. */
struct cc_bytes {
    const uint8_t *p;
    uint32_t n;
};

/* A LIST field: count records, encoded back to back in p[0..n) (the bytes
 * after the count on the wire). Decoded lists are views into the decoded
 * buffer, already validated: every record is well formed and there are
 * exactly count of them, so iterating needs no error handling. To send a
 * list, append each record with cc_msg_<rec>_put() to a scratch cc_buf and
 * point p/n at it; cc_msg_encode() re-validates it. */
struct cc_list {
    uint32_t count;
    const uint8_t *p;
    uint32_t n;
};

/* Field kinds. In a field list, F(KIND, name) uses CC_T_KIND as the C type
 * and CC_W_KIND as the smallest wire size; LIST(rec) becomes CC_T_LIST(rec)
 * by token pasting. NONE is for a message without fields: ISO C has no empty
 * struct, so it gets one member that never goes on the wire. */
#define CC_T_NONE      uint8_t
#define CC_T_U8        uint8_t
#define CC_T_U16       uint16_t
#define CC_T_U32       uint32_t
#define CC_T_U64       uint64_t
#define CC_T_BYTES     struct cc_bytes
#define CC_T_LIST(rec) struct cc_list
#define CC_W_NONE      0
#define CC_W_U8        1
#define CC_W_U16       2
#define CC_W_U32       4
#define CC_W_U64       8
#define CC_W_BYTES     4
#define CC_W_LIST(rec) 4

/* ---- records: the items of LIST fields ---- */

#define CC_REC_TYPES(R) R(status_link) R(entry) R(peer_entry) R(peer_member) R(term_run)

/* One nanomsg link of a worker, as reported in STATUS. */
#define CC_REC_FIELDS_status_link(F)                                                               \
    F(U8, peer_kind) /* worker kind at the other end */                                            \
    F(U8, state)     /* 0 down, 1 up */                                                            \
    F(U32, sendq)    /* frames queued for this link, not yet accepted by nanomsg */                \
    F(U64, sent)     /* frames sent on this link since the worker started */                       \
    F(U64, received) /* frames received on it */                                                   \
    F(U64, peer_gen) /* the peer's generation from its last HELLO, 0 if none yet */

/* One raft log entry. data is an encoded v2 request (type 0), empty (a
 * leader's no-op, type 1) or a membership change (type 2). origin and
 * req_id name the http worker request waiting for it (0 when none). */
#define CC_REC_FIELDS_entry(F)                                                                     \
    F(U64, index)                                                                                  \
    F(U64, term)                                                                                   \
    F(U8, type)                                                                                    \
    F(U64, origin)                                                                                 \
    F(U64, req_id)                                                                                 \
    F(BYTES, data)

/* One raft log entry as members send it to each other (in RAFT). Unlike
 * entry it has no origin/req_id: those name a request waiting on one member
 * and mean nothing to another. type is a cc_raft_entry_type. (Named peer_,
 * not raft_: struct cc_raft_entry is the core's own, core/raft/raft_msg.h.) */
#define CC_REC_FIELDS_peer_entry(F) F(U64, index) F(U64, term) F(U8, type) F(BYTES, data)

/* One voter of a membership (in RAFT), by member id. */
#define CC_REC_FIELDS_peer_member(F) F(U64, id)
/* Entries from index on (up to the next run) have term (in LOG_STATE). */
#define CC_REC_FIELDS_term_run(F) F(U64, index) F(U64, term)

/* The smallest encoding of a record; a list count is checked against the
 * bytes left divided by this before any item is looked at. */
#define CC_W_ADD_(kind, name) +CC_W_##kind
#define CC_REC_WIRE_MIN(rec)  (0 CC_REC_FIELDS_##rec(CC_W_ADD_))

/* ---- messages: enum name, wire number (stable forever), lower-case name ---- */

#define CC_MSG_TYPES(X)                                                                            \
    /* control channel, master <-> worker */                                                       \
    X(READY, 1, ready)                                                                             \
    X(STATUS, 2, status)                                                                           \
    X(STOP, 3, stop)                                                                               \
    X(PEER_RESTARTED, 4, peer_restarted)                                                           \
    X(LOG_REOPEN, 5, log_reopen)                                                                   \
    X(HASH_REQ, 6, hash_req)                                                                       \
    X(HASH_RESP, 7, hash_resp)                                                                     \
    /* between workers, on nanomsg links */                                                        \
    X(HELLO, 16, hello)                                                                            \
    X(HELLO_ACK, 17, hello_ack)                                                                    \
    X(HEALTH_REQ, 18, health_req)                                                                  \
    X(HEALTH_RESP, 19, health_resp)                                                                \
    /* the write path: http -> consensus -> storage -> http */                                     \
    X(PROPOSE, 32, propose)                                                                        \
    X(PROPOSE_FAIL, 33, propose_fail)                                                              \
    X(APPEND, 34, append)                                                                          \
    X(PERSISTED, 35, persisted)                                                                    \
    X(COMMIT, 36, commit)                                                                          \
    X(LOG_STATE_REQ, 37, log_state_req)                                                            \
    X(LOG_STATE, 38, log_state)                                                                    \
    X(APPLIED, 39, applied)                                                                        \
    X(SYNC_REQ, 40, sync_req)                                                                      \
    X(SNAPSHOT_CHUNK, 41, snapshot_chunk)                                                          \
    X(FETCH, 42, fetch)                                                                            \
    X(ENTRIES, 43, entries)                                                                        \
    X(COMPACT, 44, compact)                                                                        \
    X(SNAPSHOT_REQ, 45, snapshot_req)                                                              \
    X(INSTALL, 46, install)                                                                        \
    X(READ_INDEX, 47, read_index)                                                                  \
    X(READ_INDEX_RESP, 48, read_index_resp)                                                        \
    X(SNAPSHOT_MAKE, 49, snapshot_make)                                                            \
    X(SNAPSHOT_SAVE, 50, snapshot_save)                                                            \
    X(RELAY, 51, relay)                                                                            \
    /* between members, on raft TCP connections */                                                 \
    X(PEER_HELLO, 64, peer_hello)                                                                  \
    X(PEER_REFUSE, 65, peer_refuse)                                                                \
    X(RAFT, 66, raft)                                                                              \
    X(SNAPSHOT_CHUNK_PEER, 67, snapshot_chunk_peer)                                                \
    X(PEER_PROPOSE, 68, peer_propose)                                                              \
    X(PEER_READ_INDEX, 69, peer_read_index)                                                        \
    X(PEER_READ_INDEX_RESP, 70, peer_read_index_resp)

/* Worker -> master: the worker is serving. kind numbers the worker kinds as
 * the roles table does; gen is the generation the master gave this start. */
#define CC_MSG_FIELDS_ready(F) F(U8, kind) F(U64, gen) F(U32, pid)

/* Worker -> master, periodically: enough to show queues in the admin
 * socket's status and to notice a worker that stopped making progress. */
#define CC_MSG_FIELDS_status(F)                                                                    \
    F(U64, gen)                                                                                    \
    F(U32, pid)                                                                                    \
    F(U32, queue_depth)         /* messages waiting to be sent by this worker */                   \
    F(U32, inflight)            /* requests awaiting an answer */                                  \
    F(LIST(status_link), links) /* one record per link */                                          \
    F(BYTES, detail)            /* small JSON object of kind-specific gauges, or empty */

/* Master -> worker: finish in-flight work within deadline_ms, then exit 0. */
#define CC_MSG_FIELDS_stop(F) F(U32, deadline_ms)

/* Master -> worker: a neighbour of this kind restarted with this generation.
 * Nanomsg may neither deliver what was queued for it nor reconnect
 * (STACK.md), so the receiver closes and reopens its link and resyncs. */
#define CC_MSG_FIELDS_peer_restarted(F) F(U8, kind) F(U64, gen)

/* Master -> worker: reopen log files (SIGUSR1 on the master). */
#define CC_MSG_FIELDS_log_reopen(F) F(NONE, unused)

/* Master -> http (the admin socket's `hash`): a hash of the view's key tree
 * at its raft index, to compare members; answered with HASH_RESP. */
#define CC_MSG_FIELDS_hash_req(F)  F(U64, req_id)
#define CC_MSG_FIELDS_hash_resp(F) F(U64, req_id) F(U64, index) F(U64, hash)
/* Sent when a link opens, so each side learns which generation of the
 * other it talks to; answered with HELLO_ACK carrying the answerer's own. */
#define CC_MSG_FIELDS_hello(F)     F(U8, kind) F(U64, gen) F(U32, pid)
#define CC_MSG_FIELDS_hello_ack(F) F(U8, kind) F(U64, gen) F(U32, pid)

/* Health probe; req_id pairs the answer with its request. */
#define CC_MSG_FIELDS_health_req(F) F(U64, req_id)
/* leader is the member id of the known leader, 0 if none. */
#define CC_MSG_FIELDS_health_resp(F)                                                               \
    F(U64, req_id)                                                                                 \
    F(U8, healthy)                                                                                 \
    F(U64, leader)                                                                                 \
    F(U64, raft_index)                                                                             \
    F(U64, raft_term)                                                                              \
    F(U64, send_appends) /* append requests sent as leader (etcd's stats/self) */                  \
    F(U64, recv_appends) /* append requests received as follower */                                \
    F(BYTES, followers)  /* leader: etcd's stats/leader "followers" JSON object, else empty */

/* http -> consensus: put this encoded v2 request in the log. */
#define CC_MSG_FIELDS_propose(F) F(U64, req_id) F(BYTES, data)
/* consensus -> http: the proposal will not be committed (code 300 with
 * etcd's cause, e.g. no leader, stopping). */
#define CC_MSG_FIELDS_propose_fail(F) F(U64, req_id) F(U16, code) F(BYTES, cause)
/* consensus -> storage: make term/vote and these entries durable (an entry
 * at an index storage already has with another term replaces it and every
 * later one); entries up to commit are committed. seq
 * numbers the APPENDs of one consensus process: PERSISTED echoes the last
 * one made durable, so consensus knows which raft updates are on disk. */
#define CC_MSG_FIELDS_append(F)                                                                    \
    F(U64, seq) F(U64, term) F(U64, vote) F(U64, commit) F(LIST(entry), entries)
/* storage -> consensus, after each transaction: APPENDs up to seq are
 * durable, the log ends at index (whose term is term), and the durable
 * snapshot of the state machine is at snapshot (log entries up to it may
 * be compacted). */
#define CC_MSG_FIELDS_persisted(F) F(U64, seq) F(U64, index) F(U64, term) F(U64, snapshot)
/* consensus -> storage, right after the APPEND (or INSTALL) numbered seq:
 * count RAFT frames that raft may send only once everything up to seq is
 * durable (a follower's answer to an append, a vote). Storage hands them
 * to the peer worker as soon as its transaction is on disk, which saves
 * the answer a hop back through consensus. */
#define CC_MSG_FIELDS_relay(F) F(U64, seq) F(U32, count) F(BYTES, frames)
/* consensus -> storage: entries through commit are committed. */
#define CC_MSG_FIELDS_commit(F) F(U64, commit)
/* consensus -> storage, when consensus (re)starts: what is durable? */
#define CC_MSG_FIELDS_log_state_req(F) F(NONE, unused)
/* The answer: everything a raft core restarts from: the durable snapshot
 * (members are the voters in effect at its index), terms covering the
 * stored log from first_index, and the membership entries above the
 * snapshot. */
#define CC_MSG_FIELDS_log_state(F)                                                                 \
    F(U64, term)                                                                                   \
    F(U64, vote)                                                                                   \
    F(U64, commit)                                                                                 \
    F(U64, snapshot_index)                                                                         \
    F(U64, snapshot_term)                                                                          \
    F(U64, first_index) /* first entry still in the log (after compaction) */                      \
    F(U64, prev_term)   /* term of entry first_index - 1 */                                        \
    F(U64, last_index)                                                                             \
    F(U64, last_term)                                                                              \
    F(LIST(peer_member), members)                                                                  \
    F(LIST(term_run), terms)                                                                       \
    F(LIST(entry), confs)
/* consensus or storage -> http: committed entries in raft index order;
 * http's view is the member's state machine and applies each once. */
#define CC_MSG_FIELDS_applied(F) F(U64, raft_term) F(LIST(entry), entries)
/* http -> storage: send every committed entry from index on, or the
 * snapshot and the entries after it when those are no longer in the log
 * (also how http starts: index 0). */
#define CC_MSG_FIELDS_sync_req(F) F(U64, index)
/* A store snapshot at raft index/term, in chunks: storage -> http (a view
 * that starts or lost track; the committed entries through upto follow at
 * once, and the view serves once it applied them), storage -> consensus
 * (for a lagging peer, after SNAPSHOT_REQ) and consensus -> storage (one
 * received from the leader, kept aside until INSTALL); upto is 0 on those
 * two. */
#define CC_MSG_FIELDS_snapshot_chunk(F)                                                            \
    F(U64, index) F(U64, term) F(U64, offset) F(U64, total) F(BYTES, data) F(U64, upto)
/* consensus -> storage: read entries from..to back (ENTRIES answers, with
 * fewer when some are compacted away). */
#define CC_MSG_FIELDS_fetch(F)   F(U64, from) F(U64, to)
#define CC_MSG_FIELDS_entries(F) F(LIST(entry), entries)
/* consensus -> storage: log entries before upto may be deleted. */
#define CC_MSG_FIELDS_compact(F) F(U64, upto)
/* consensus -> storage: send the durable snapshot back in SNAPSHOT_CHUNKs,
 * for member `to`. */
#define CC_MSG_FIELDS_snapshot_req(F) F(U64, to)
/* consensus -> storage: replace the store and the whole log by the
 * snapshot received in SNAPSHOT_CHUNKs at index/term with these voters
 * (index 0: drop the received bytes, they are not needed). In order with
 * APPENDs: entries after it follow the snapshot. */
#define CC_MSG_FIELDS_install(F)                                                                   \
    F(U64, seq) F(U64, index) F(U64, term) F(LIST(peer_member), members)
/* The first frame each side sends on a peer connection, dialer first.
 * version is the peer protocol's (CC_RAFT_WIRE_VERSION, proto/raft_wire.h);
 * cluster_id and the member ids let the acceptor refuse a member of another
 * cluster or a connection meant for someone else. to is 0 when the dialer
 * does not know the acceptor's id yet. */
#define CC_MSG_FIELDS_peer_hello(F) F(U16, version) F(U64, cluster_id) F(U64, from) F(U64, to)
/* Instead of PEER_HELLO, just before closing: why the connection is refused
 * (human-readable, for the log). */
#define CC_MSG_FIELDS_peer_refuse(F) F(BYTES, reason)
/* One struct cc_raft_msg (core/raft/raft_msg.h), its union flattened: every
 * type carries every field, and the ones its type does not use are 0 (the
 * decoder refuses anything else, so the encoding stays canonical). Use
 * cc_raft_wire_encode/_decode rather than filling this by hand.
 *
 *   type                              used fields
 *   PREVOTE, VOTE                     last_index last_term transfer
 *   PREVOTE_RESP, VOTE_RESP           granted
 *   APPEND                            prev_index prev_term commit entries quiet
 *   APPEND_RESP                       reject index hint_index hint_term
 *   HEARTBEAT                         commit read_seq
 *   HEARTBEAT_RESP                    read_seq
 *   SNAPSHOT                          snap_index snap_term members
 *   SNAPSHOT_RESP                     index
 *   TIMEOUT_NOW                       (none)
 *
 * transfer, granted, reject and quiet are 0 or 1; members are ascending. */
#define CC_MSG_FIELDS_raft(F)                                                                      \
    F(U8, type) /* cc_raft_msg_type */                                                             \
    F(U64, from)                                                                                   \
    F(U64, to)                                                                                     \
    F(U64, term)                                                                                   \
    F(U64, last_index)                                                                             \
    F(U64, last_term)                                                                              \
    F(U8, transfer)                                                                                \
    F(U8, granted)                                                                                 \
    F(U64, prev_index)                                                                             \
    F(U64, prev_term)                                                                              \
    F(U64, commit)                                                                                 \
    F(LIST(peer_entry), entries)                                                                   \
    F(U8, reject)                                                                                  \
    F(U64, index)                                                                                  \
    F(U64, hint_index)                                                                             \
    F(U64, hint_term)                                                                              \
    F(U64, read_seq)                                                                               \
    F(U64, snap_index)                                                                             \
    F(U64, snap_term)                                                                              \
    F(LIST(peer_member), members)                                                                  \
    F(U8, quiet)
/* Leader -> follower, after RAFT SNAPSHOT: the snapshot's bytes in order,
 * offset counting from 0 up to total; last is 1 on the final chunk. term,
 * from and index name the snapshot (the leader's term and id, the raft
 * index it covers) so a chunk of a stale transfer is recognised. */
#define CC_MSG_FIELDS_snapshot_chunk_peer(F)                                                       \
    F(U64, term)                                                                                   \
    F(U64, from)                                                                                   \
    F(U64, to)                                                                                     \
    F(U64, index)                                                                                  \
    F(U64, offset)                                                                                 \
    F(U64, total)                                                                                  \
    F(BYTES, data)                                                                                 \
    F(U8, last)

/* http -> consensus: a linearizable (quorum=true) read wants raft's
 * ReadIndex; the answer says which index the view must have applied before
 * it reads (code 0), or error 300 (code 300: no leader, leadership lost). */
/* consensus -> http: the log is far past the durable snapshot: write the
 * view (at least up to index) out for storage (SNAPSHOT_SAVE). */
#define CC_MSG_FIELDS_snapshot_make(F) F(U64, index)
/* http -> storage: the view's store at raft index is written and durable
 * in member/snapshot.view.tmp (total data bytes with FNV-1a 64 hash, no
 * header yet): storage adds the entry's term and the voters and puts it
 * in place as the durable snapshot. */
#define CC_MSG_FIELDS_snapshot_save(F)   F(U64, index) F(U64, total) F(U64, hash)
#define CC_MSG_FIELDS_read_index(F)      F(U64, req_id)
#define CC_MSG_FIELDS_read_index_resp(F) F(U64, req_id) F(U64, index) F(U16, code)
/* A follower's ReadIndex round, asked of the leader; ctx pairs the answer
 * with the round. ok 0: the leader could not confirm it (not leader). */
#define CC_MSG_FIELDS_peer_read_index(F) F(U64, from) F(U64, to) F(U64, ctx)
#define CC_MSG_FIELDS_peer_read_index_resp(F)                                                      \
    F(U64, from) F(U64, to) F(U64, ctx) F(U64, index) F(U8, ok)
/* A client write received by a follower, sent to the leader's consensus
 * (raft proposals are the leader's). from and req_id come back inside the
 * committed entry, so the follower's http worker recognises its request. */
#define CC_MSG_FIELDS_peer_propose(F) F(U64, from) F(U64, to) F(U64, req_id) F(BYTES, data)
/* ---- generated declarations ---- */

enum cc_msg_type {
#define CC_MSG_ENUM_(E, num, name) CC_MSG_##E = num,
    CC_MSG_TYPES(CC_MSG_ENUM_)
#undef CC_MSG_ENUM_
};

#define CC_FIELD_DECL_(kind, name) CC_T_##kind name;

/* struct cc_<rec> for every record, e.g. struct cc_status_link. */
#define CC_REC_STRUCT_(rec)                                                                        \
    struct cc_##rec {                                                                              \
        CC_REC_FIELDS_##rec(CC_FIELD_DECL_)                                                        \
    };
CC_REC_TYPES(CC_REC_STRUCT_)
#undef CC_REC_STRUCT_

/* struct cc_msg_<name> for every message, e.g. struct cc_msg_status. */
#define CC_MSG_STRUCT_(E, num, name)                                                               \
    struct cc_msg_##name {                                                                         \
        CC_MSG_FIELDS_##name(CC_FIELD_DECL_)                                                       \
    };
CC_MSG_TYPES(CC_MSG_STRUCT_)
#undef CC_MSG_STRUCT_
#undef CC_FIELD_DECL_

/* One decoded (or to-be-encoded) message: type selects the member of u,
 * which is named like the message (m.u.status for STATUS). */
struct cc_msg {
    uint16_t type;
    union {
#define CC_MSG_MEMBER_(E, num, name) struct cc_msg_##name name;
        CC_MSG_TYPES(CC_MSG_MEMBER_)
#undef CC_MSG_MEMBER_
    } u;
};

/* For every record type rec (e.g. status_link):
 *
 *   int cc_msg_<rec>_next(struct cc_rd *r, struct cc_<rec> *out);
 *       Decodes the next record of a list reader (cc_msg_list_reader):
 *       1 and *out filled, 0 at the end of the list, -1 if malformed (never
 *       for a list that came out of cc_msg_next). Byte fields of *out are
 *       views into the list's buffer.
 *   void cc_msg_<rec>_put(struct cc_buf *b, const struct cc_<rec> *in);
 *       Appends one record, to build a list's bytes for encoding. */
#define CC_REC_FNS_(rec)                                                                           \
    int cc_msg_##rec##_next(struct cc_rd *r, struct cc_##rec *out);                                \
    void cc_msg_##rec##_put(struct cc_buf *b, const struct cc_##rec *in);
CC_REC_TYPES(CC_REC_FNS_)
#undef CC_REC_FNS_

/* A reader over a list's records, for cc_msg_<rec>_next():
 *   struct cc_rd r = cc_msg_list_reader(&m.u.status.links);
 *   struct cc_status_link l;
 *   while (cc_msg_status_link_next(&r, &l) > 0) ... */
struct cc_rd cc_msg_list_reader(const struct cc_list *l);

/* Appends one frame for m to out. 0, or -1 with out->len unchanged and
 * errno ENOMEM (out->failed is set), EMSGSIZE (payload over CC_FRAME_MAX) or
 * EINVAL (unknown type, a list whose bytes are not exactly count records,
 * a BYTES or list field with NULL p and nonzero n). */
int cc_msg_encode(struct cc_buf *out, const struct cc_msg *m);

/* Decodes the frame at buf[*off..len). Returns 1 with *m filled and *off
 * moved past the frame; 0 when *off == len (a clean end); -1 on a malformed
 * frame, with a short reason for the log in err (e.g. "bad magic 0x1234",
 * "payload overrun in STATUS") and *off left at the frame. After -1 the rest
 * of the buffer is not trusted: frames carry no resync marker, so drop it.
 * m's BYTES and LIST fields are views into buf, valid while buf lives. err
 * may be NULL; 128 bytes hold any reason (snprintf truncates a longer one). */
int cc_msg_next(const uint8_t *buf, size_t len, size_t *off, struct cc_msg *m, char *err,
                size_t errlen);

/* For a byte stream (TCP): looks at the frame starting at buf[0]. Returns 0
 * if buf holds all of it, else how many more bytes are needed at least (the
 * exact number once the 12 header bytes are in, 12 - len before), or -1
 * with a reason in err as soon as the header bytes present are invalid
 * (the stream is then unusable: close it). The payload is checked only by
 * cc_msg_next. */
long cc_msg_need(const uint8_t *buf, size_t len, char *err, size_t errlen);

/* "READY" for CC_MSG_READY, "?" for a number not in the table. */
const char *cc_msg_name(uint16_t type);

#endif
