/* The etcd v2 store: etcd 2.3.8's `store` package (store.go, node.go,
 * watcher_hub.go, event_history.go, ttl_key_heap.go, stats.go) as a pure,
 * deterministic C module. No I/O, no clock, no randomness, no globals: time
 * comes in with the requests (absolute expirations, the SYNC time).
 *
 * Two users keep identical copies. The storage worker applies every
 * committed request and persists each change through the hooks; the http
 * worker starts from the storage worker's snapshot, applies the same
 * requests in the same order, serves plain GETs and hosts the watchers.
 * Same inputs give the same indexes, events, names, history and snapshot
 * bytes: children are kept sorted by name, the TTL heap orders equal
 * expirations by path, and nothing depends on addresses or hash order.
 *
 * Paths are store paths ("/1/foo" is the user's "/foo"); the store cleans
 * them as etcd does (path.Clean("/" + p)). The tree is one namespace: "/0",
 * "/1" and "/2" are ordinary directories, and the read-only set (error 107)
 * is "/" plus the namespaces given at creation (etcd's server uses "/0" and
 * "/1").
 *
 * Not thread-safe: one thread per store. Callbacks (hooks, watchers) must not
 * call into the store, except cc_v2_watcher_cancel. */
#ifndef CC_CORE_V2_STORE_H
#define CC_CORE_V2_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/v2/node.h"
#include "core/v2/types.h"
#include "proto/wire.h"

/* etcd keeps the last 1000 events for waitIndex. */
#define CC_V2_HISTORY_CAP 1000

struct cc_v2_store;
struct cc_v2_watcher;

/* One stored node as the storage worker persists it (and feeds it back to
 * cc_v2_store_load). value is meaningful for keys only; it may hold any
 * byte and is not NUL-terminated in general. expiration_ns 0 = permanent. */
struct cc_v2_node_rec {
    const char *path;
    const char *value;
    size_t value_len;
    bool dir;
    int64_t expiration_ns;
    uint64_t created_index, modified_index;
};

/* Change reports, called synchronously while a request is applied; all
 * pointers are valid only during the call. Either function may be NULL.
 *
 * on_change: a node was created or changed (deleted false: rec is its new
 *   state), or removed (deleted true: rec is its last state). Intermediate
 *   directories created implicitly are reported (parents first) before the
 *   node that needed them. A recursive delete or an expiry reports EVERY
 *   removed path, children before their directory. A set that replaces a
 *   key (even by a directory) reports only the new node at that path.
 * on_event: an event entered the history (every successful mutation, one
 *   per index, refreshes included, in index order). Persisting the last
 *   CC_V2_HISTORY_CAP of them lets cc_v2_store_load rebuild the history.
 * The store index after the request is cc_v2_store_index(). */
struct cc_v2_store_hooks {
    void *ctx;
    void (*on_change)(void *ctx, const struct cc_v2_node_rec *rec, bool deleted);
    void (*on_event)(void *ctx, const struct cc_v2_event *ev);
};

/* etcd's store stats (V2-CONTRACT §2.3), with its counting rules: the note
 * at the top of store.c lists the 2.3.8 quirks kept on purpose. */
struct cc_v2_store_stats {
    uint64_t gets_success, gets_fail;
    uint64_t sets_success, sets_fail;
    uint64_t delete_success, delete_fail;
    uint64_t update_success, update_fail;
    uint64_t create_success, create_fail;
    uint64_t cas_success, cas_fail; /* compareAndSwap */
    uint64_t cad_success, cad_fail; /* compareAndDelete */
    uint64_t expire_count;
    uint64_t watchers; /* current count */
};

/* The outcome of a request: exactly one of
 * - event != NULL: success; owned by the caller (cc_v2_result_clear);
 * - err.code != 0: a store error (cause in store path form, index = the
 *   store index at the failure);
 * - both empty: a SYNC (its expire events went to watchers and hooks). */
struct cc_v2_result {
    struct cc_v2_event *event;
    struct cc_v2_error err;
};

void cc_v2_result_clear(struct cc_v2_result *r);

/* A store whose root holds the given namespaces as empty permanent dirs
 * (created at index 0, read-only like the root), at index 0 with an empty
 * history. NULL with errno ENOMEM (or EINVAL for an unusable namespace). */
struct cc_v2_store *cc_v2_store_new(const char *const *namespaces, size_t n_namespaces);
/* Frees the store and its watchers (without calling them). NULL is fine. */
void cc_v2_store_free(struct cc_v2_store *s);
void cc_v2_store_set_hooks(struct cc_v2_store *s, const struct cc_v2_store_hooks *hooks);

/* Applies one committed request like etcd's applyRequest:
 *   POST   -> create <path>/<20-digit next index> (dir, value, expiration)
 *   PUT    prevExist=true: update, or compareAndSwap if prevIndex/prevValue;
 *          prevExist=false: create; else prevIndex/prevValue:
 *          compareAndSwap; else set. refresh keeps the value (see §1.9).
 *   DELETE prevIndex/prevValue: compareAndDelete; else delete (dir,
 *          recursive).
 *   QGET (and GET/HEAD) -> get (recursive, sorted)
 *   SYNC   -> expire every node whose expiration <= time_ns, one index and
 *          one expire event each, in (expiration, path) order.
 * Every success consumes exactly one index (a SYNC one per expired node),
 * a failure none. Returns 0 with *out filled (see struct cc_v2_result), or
 * -1: errno EINVAL (unknown method, NULL path) leaves the store untouched;
 * errno ENOMEM means the store may hold a partial change and must be
 * discarded (rebuilt from storage). */
int cc_v2_store_apply(struct cc_v2_store *s, const struct cc_v2_request *req,
                      struct cc_v2_result *out);

/* A local read (etcd's Get): a "get" event whose node is the node at path,
 * a directory listing its visible direct children (children's children
 * only if recursive). Children are always in byte order of their keys, so
 * sorted changes nothing. etcd_index = the current index. Nodes past their
 * expiration stay visible until a SYNC removes them, as in etcd; now_ns is
 * accepted for the callers' convenience and not used. Returns 0 or -1
 * (ENOMEM). */
int cc_v2_store_get(struct cc_v2_store *s, const char *path, bool recursive, bool sorted,
                    int64_t now_ns, struct cc_v2_result *out);

uint64_t cc_v2_store_index(const struct cc_v2_store *s);
/* The earliest expiration among nodes with a TTL: true and *expire_ns, or
 * false when nothing expires (a SYNC would be useless). */
bool cc_v2_store_next_expiry(const struct cc_v2_store *s, int64_t *expire_ns);
/* The indexes of the oldest and newest events kept (0, 0 when empty). */
void cc_v2_store_history_bounds(const struct cc_v2_store *s, uint64_t *first, uint64_t *last);
void cc_v2_store_stats(const struct cc_v2_store *s, struct cc_v2_store_stats *out);

/* Watches (etcd's watcherHub). The callback gets each matching event,
 * borrowed for the call. It returns true if it took the event, false if it
 * could not (the client's buffer is full: etcd drops the watcher then).
 * After a non-stream watcher's callback, or any callback returning false,
 * the watcher is removed and its handle is invalid. A stream watcher stays
 * until cancelled. */
typedef bool (*cc_v2_watch_fn)(void *ctx, struct cc_v2_watcher *w, const struct cc_v2_event *ev);

/* What cc_v2_store_watch gives: exactly one of
 * - err.code != 0: 401 (history cleared; cause "the requested history has
 *   been cleared [<oldest>/<asked>]", index = current index);
 * - event != NULL: the first matching event with index >= since_index found
 *   in the history, owned by the caller, etcd_index = the current index;
 *   no watcher is registered (for a stream watch etcd then sends nothing
 *   more until the client goes);
 * - watcher != NULL: registered, waiting.
 * start_index is the current index at the call (the X-Etcd-Index). */
struct cc_v2_watch_result {
    struct cc_v2_watcher *watcher;
    struct cc_v2_event *event;
    uint64_t start_index;
    struct cc_v2_error err;
};

/* Watches path: exact-path events; with recursive, descendants too (except
 * below a hidden name, unless path is that hidden node); a deleted or
 * expired directory reaches watchers on every path inside it. since_index
 * 0 means "the next index". Refresh events reach nobody. Returns 0 with
 * *out filled, or -1: ENOMEM, or EINVAL if fn is NULL and the watcher
 * would have to wait. */
int cc_v2_store_watch(struct cc_v2_store *s, const char *path, bool recursive, bool stream,
                      uint64_t since_index, cc_v2_watch_fn fn, void *ctx,
                      struct cc_v2_watch_result *out);
/* Removes a registered watcher (the callback is not called again). May be
 * called from inside any watcher callback. */
void cc_v2_watcher_cancel(struct cc_v2_watcher *w);
/* The store index when the watcher was registered. */
uint64_t cc_v2_watcher_start_index(const struct cc_v2_watcher *w);

/* Appends the whole store (read-only set, index, tree, history; not
 * watchers, not stats) to out in a compact binary form. Equal stores give
 * equal bytes. 0, or -1 with errno ENOMEM (out->failed). */
int cc_v2_store_snapshot_save(struct cc_v2_store *s, struct cc_buf *out);
/* A new store from snapshot bytes. 0 and *out, or -1: errno EINVAL for a
 * corrupt or truncated snapshot, ENOMEM. Never reads past p[0..n). */
int cc_v2_store_snapshot_load(const void *p, size_t n, struct cc_v2_store **out);

/* Calls fn for every node, the root first, parents before children,
 * children in name order (what cc_v2_store_load takes back), then ev for
 * every history event in index order. Stops at the first nonzero return
 * and returns it. For writing a whole store out (a snapshot installed on a
 * follower). */
int cc_v2_store_walk(struct cc_v2_store *s, int (*fn)(void *ctx, const struct cc_v2_node_rec *rec),
                     int (*ev)(void *ctx, const struct cc_v2_event *e), void *ctx);

/* The next persisted node for cc_v2_store_load: 1 with *rec filled (valid
 * until the next call), 0 at the end, -1 on error. */
typedef int (*cc_v2_rec_next_fn)(void *ctx, struct cc_v2_node_rec *rec);

/* Rebuilds a store from persisted state: the read-only namespaces (as for
 * cc_v2_store_new), every node (any order; the root and namespace dirs may
 * be included or not; a directory that is not included but has
 * descendants is an error), the current index and the history (events in
 * index order, consecutive, at most CC_V2_HISTORY_CAP of them, none after
 * index; copied). next may be NULL (no nodes): with index N that gives an
 * empty store at index N. 0 and *out, or -1: errno EINVAL (inconsistent
 * input, or next failed), ENOMEM. */
int cc_v2_store_load(const char *const *namespaces, size_t n_namespaces, cc_v2_rec_next_fn next,
                     void *ctx, uint64_t index, struct cc_v2_event *const *history,
                     size_t n_history, struct cc_v2_store **out);

#endif
