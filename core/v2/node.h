/* Ownership helpers for the v2 node and event types of types.h, and the
 * binary codec the store uses for its event history (in snapshots, and for
 * the storage worker to persist the history between restarts).
 *
 * A struct cc_v2_node or cc_v2_event produced by the store owns everything
 * it points to (key, value, nodes, prev_node), all from malloc. */
#ifndef CC_CORE_V2_NODE_H
#define CC_CORE_V2_NODE_H

#include "core/v2/types.h"
#include "proto/wire.h"

/* Frees what n points to (recursively) and zeroes it; n itself is not
 * freed. NULL is fine. */
void cc_v2_node_clear(struct cc_v2_node *n);
/* A deep copy of src into dst (dst's old contents are not freed).
 * 0, or -1 with errno ENOMEM and dst zeroed. */
int cc_v2_node_copy(struct cc_v2_node *dst, const struct cc_v2_node *src);

/* Frees ev and everything it owns. NULL is fine. */
void cc_v2_event_free(struct cc_v2_event *ev);
/* A deep copy on the heap, or NULL with errno ENOMEM. */
struct cc_v2_event *cc_v2_event_dup(const struct cc_v2_event *ev);

/* The action's wire name: cc_v2_action_name() in core/v2/json.h. */

/* Appends ev: action, etcd index, refresh, node, prev node. Child lists
 * (node.nodes) are not encoded: events in the history never have any.
 * Allocation failure is reported through b->failed (wire.h). */
void cc_v2_event_encode(struct cc_buf *b, const struct cc_v2_event *ev);
/* Reads one event written by cc_v2_event_encode. Returns it (free with
 * cc_v2_event_free), or NULL: r->bad is set if the input is truncated or
 * malformed (then errno is EINVAL), otherwise errno is ENOMEM. */
struct cc_v2_event *cc_v2_event_decode(struct cc_rd *r);

#endif
