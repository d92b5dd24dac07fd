/* The raft core's messages as proto frames (RAFT, proto/msg.h).
 *
 * Members exchange struct cc_raft_msg over TCP; this maps one to the
 * flattened RAFT frame and back. proto uses only the core's header for the
 * struct types, never its library. */
#ifndef CC_PROTO_RAFT_WIRE_H
#define CC_PROTO_RAFT_WIRE_H

#include <stddef.h>

#include "core/raft/raft_msg.h"
#include "proto/msg.h"
#include "proto/wire.h"

/* The peer protocol's version, sent in PEER_HELLO. Bump it when the meaning
 * of a peer message changes. */
#define CC_RAFT_WIRE_VERSION 1

/* Appends one RAFT frame for m to out. 0, or -1 with out->len unchanged and
 * errno EINVAL (unknown type, membership over CC_RAFT_MAX_MEMBERS, an entry
 * with NULL data and nonzero len, a bool field...), ENOMEM or EMSGSIZE (as
 * cc_msg_encode). Only the union member m->type selects is read. */
int cc_raft_wire_encode(struct cc_buf *out, const struct cc_raft_msg *m);

/* Fills *out from a decoded RAFT frame. APPEND entries go to
 * entries[0..max_entries) and out->append.entries points there; their data
 * are views into the buffer the frame was decoded from (valid while it
 * lives). Returns 0, or -1 if the frame is not RAFT or makes no sense: an
 * unknown type, from or to 0, a field the type does not use not 0, a bool
 * not 0 or 1, an unknown entry type, more than max_entries entries, entries
 * not numbered prev_index+1, +2, ... or with terms decreasing or over the
 * message's term, a membership over CC_RAFT_MAX_MEMBERS or not ascending.
 * *out is unspecified after -1. */
int cc_raft_wire_decode(const struct cc_msg *frame, struct cc_raft_msg *out,
                        struct cc_raft_entry *entries, size_t max_entries);

#endif
