/* etcd 2.3's JSON bodies, byte for byte (V2-CONTRACT §1.4): what
 * writeKeyEvent, handleKeyWatch and etcdErr.Error.WriteTo send, i.e. Go's
 * encoding/json over store.Event, store.NodeExtern and etcdErr.Error, one
 * object and a "\n".
 *
 * Event: {"action":…,"node":{…},"prevNode":{…}}, prevNode only when there is
 * one. The event's refresh flag is never written (etcd's trimEventPrefix
 * clones the event without it).
 *
 * Node, fields in this order, each left out when Go's omitempty drops it:
 *   key            the store path with its leading "/1" trimmed (strings.
 *                  TrimPrefix, as trimNodeExternPrefix does, at every depth),
 *                  left out when that leaves "" (the root)
 *   value          when has_value (a key's "" is still written)
 *   dir            true, only for directories
 *   expiration     when expiration_ns != 0: Go's time.Time JSON in UTC,
 *                  RFC 3339 with nanoseconds, trailing zeros (and a bare '.')
 *                  dropped: "2026-11-24T17:57:54.41920168Z"
 *   ttl            node.go's expirationAndTTL: d = expiration - now (Go's
 *                  Time.Sub, saturating), ttl = d / 1s truncated, plus one if
 *                  d % 1s > 0; so an expired node shows a negative ttl (d =
 *                  -1.5 s gives -1) and a node within 1 s past its expiry
 *                  shows none. Left out when 0.
 *   nodes          when n_nodes > 0 (an empty directory has no "nodes")
 *   modifiedIndex, createdIndex   when non-zero (the root has neither)
 * etcd computes ttl when the store builds the event; pass that moment as
 * now_ns to reproduce an event read back from the watch history.
 *
 * Strings are escaped as Go does with HTML escaping on: \" \\ \n \r \t,
 * other control bytes and < > & as \u00XX (lower-case hex; \b and \f too, as
 * Go 1.19 writes them), U+2028 and U+2029 as \u2028 \u2029, each byte of
 * invalid UTF-8 as \ufffd, everything else (DEL included) as it is.
 *
 * Error: {"errorCode":N,"message":"…","cause":"…","index":N}, cause left
 * out when empty; the cause loses a leading "/1" as trimErrorPrefix does.
 *
 * All functions append to out and return 0, or -1 (errno ENOMEM) when out
 * has failed (then its contents are incomplete: drop them). */
#ifndef CC_CORE_V2_JSON_H
#define CC_CORE_V2_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/v2/types.h"
#include "proto/wire.h"

/* "get", "set", "create", "update", "delete", "expire", "compareAndSwap",
 * "compareAndDelete"; "" for a value outside the enum. */
const char *cc_v2_action_name(enum cc_v2_action action);

/* The event body (a write's response, one watch event, one line of a
 * stream): the object and "\n". now_ns (Unix ns) is the clock for ttl. */
int cc_v2_render_event(struct cc_buf *out, const struct cc_v2_event *ev, int64_t now_ns);

/* As cc_v2_render_event, with etcd 3.x's noValueOnSuccess: for set,
 * compareAndSwap, create and update events the body is just
 * {"action":"…"}. */
int cc_v2_render_event_ex(struct cc_buf *out, const struct cc_v2_event *ev, int64_t now_ns,
                          bool no_value_on_success);

/* The error body, the object and "\n". */
int cc_v2_render_error(struct cc_buf *out, const struct cc_v2_error *e);

/* Pieces, exported for other v2 bodies and for tests. */
void cc_v2_json_string(struct cc_buf *out, const char *s, size_t n);
/* The quoted time, as time.Time.MarshalJSON writes t.UTC(). */
void cc_v2_json_time(struct cc_buf *out, int64_t unix_ns);
/* The ttl field's value for a node expiring at expiration_ns, seen at now_ns. */
int64_t cc_v2_node_ttl(int64_t expiration_ns, int64_t now_ns);

#endif
