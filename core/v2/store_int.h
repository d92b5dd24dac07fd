/* Internals of the v2 store shared by its files: the node tree (node.c),
 * the TTL heap (ttl_heap.c), the event history (history.c), the watcher
 * hub (watch.c), the operations (store.c) and the snapshot and load code
 * (store_snapshot.c). Nothing outside core/v2/store* includes this. */
#ifndef CC_CORE_V2_STORE_INT_H
#define CC_CORE_V2_STORE_INT_H

#include "core/v2/store.h"

#define CC_V2_NOT_IN_HEAP UINT32_MAX

struct cc_v2_ttl_heap;

/* A directory's own part of its node. Children are kept in a strictly
 * increasing array by name (byte order), which gives both the lookups and
 * a deterministic, sorted listing. */
struct cc_v2_sdir {
    /* Children sorted by name (kids[0..n_kids)), plus up to
     * CC_V2_PEND_MAX recent ones in arrival order (pend): inserting into a
     * sorted array costs a memmove of everything after the slot, which made
     * a directory of 100 000 keys move ~400 KB per write. Out-of-order
     * inserts wait in pend and are merged 64 at a time. Anything that walks
     * kids by index calls cc_v2_snode_settle() first. */
    struct cc_v2_snode **kids;
    uint32_t n_kids, cap_kids;
    struct cc_v2_snode **pend;
    uint32_t n_pend;
    /* Scratch for the iterative tree walks (no recursion, however deep
     * the tree): the next child to visit, and a walk's own pointer. */
    uint32_t walk_i;
    void *walk_p;
};

/* A stored node (etcd's node), in one allocation: the fields, then the
 * path; a key's value follows its path, a directory's cc_v2_sdir follows
 * its path (aligned).
 *
 * There is one per key (in the http view, the member's only copy of the
 * tree), so everything a key does not need is left out: counts
 * and offsets are 32-bit, the children and walk scratch belong to
 * directories only, and the path and value take no malloc chunk (and its
 * overhead) of their own. A 64-byte name under /1/load with a 128-byte
 * value: one 272-byte chunk instead of 128 + 80 + 144. Keys are at most
 * 4096 bytes, and no directory nears 2^32 children. */
struct cc_v2_snode {
    struct cc_v2_snode *parent;
    uint64_t created_index, modified_index;
    int64_t expire_ns; /* 0: permanent */
    size_t value_len;  /* keys: their value's length (it may hold NULs) */
    uint32_t path_len; /* strlen(path) */
    uint32_t name_off; /* the last component starts at path + name_off */
    uint32_t heap_pos; /* position in the TTL heap, or CC_V2_NOT_IN_HEAP */
    bool dir;
    char path[]; /* full, clean store path, NUL-terminated */
};

static inline const char *cc_v2_snode_name(const struct cc_v2_snode *n)
{
    return n->path + n->name_off;
}

/* A key's value, NUL-terminated (value_len bytes before the NUL). */
static inline char *cc_v2_snode_value(const struct cc_v2_snode *n)
{
    return (char *)n->path + n->path_len + 1;
}

/* Where a directory's part starts: after the path, aligned. */
static inline size_t cc_v2_sdir_off(size_t path_len)
{
    size_t a = _Alignof(struct cc_v2_sdir);

    return (offsetof(struct cc_v2_snode, path) + path_len + 1 + a - 1) / a * a;
}

static inline struct cc_v2_sdir *cc_v2_snode_sdir(const struct cc_v2_snode *d)
{
    return (struct cc_v2_sdir *)((char *)d + cc_v2_sdir_off(d->path_len));
}

/* node.c */
#define CC_V2_PEND_MAX 64

struct cc_v2_snode *cc_v2_snode_new_dir(const char *path, size_t path_len);
/* A key with a copy of value[0..value_len). */
struct cc_v2_snode *cc_v2_snode_new_key(const char *path, size_t path_len, const char *value,
                                        size_t value_len);
/* Merges pend into kids: afterwards kids[0..n_kids) are all the children,
 * in name order. Never allocates (cc_v2_snode_reserve made room). */
void cc_v2_snode_settle(struct cc_v2_snode *d);
/* Starts a walk over the children of the directory d: settles it and
 * rewinds its walk_i. */
static inline void cc_v2_snode_walk_start(struct cc_v2_snode *d)
{
    cc_v2_snode_settle(d);
    cc_v2_snode_sdir(d)->walk_i = 0;
}
/* The walk's next child of n, or NULL when there is none (or n is a key). */
static inline struct cc_v2_snode *cc_v2_snode_walk_next(struct cc_v2_snode *n)
{
    struct cc_v2_sdir *k;

    if (!n->dir)
        return NULL;
    k = cc_v2_snode_sdir(n);
    return k->walk_i < k->n_kids ? k->kids[k->walk_i++] : NULL;
}
/* The node after n in a pre-order walk of top's subtree, children in name
 * order, or NULL at the end. depth (NULL: not wanted) follows the level. */
struct cc_v2_snode *cc_v2_snode_preorder_next(struct cc_v2_snode *top, struct cc_v2_snode *n,
                                              uint32_t *depth);
/* Children of the directory d, counting those not merged yet. */
static inline size_t cc_v2_snode_n_children(const struct cc_v2_snode *d)
{
    const struct cc_v2_sdir *k = cc_v2_snode_sdir(d);

    return k->n_kids + k->n_pend;
}
/* Puts n where old is among its parent's children (same name). */
void cc_v2_snode_replace(struct cc_v2_snode *old, struct cc_v2_snode *n);
/* Frees n and its whole subtree; does not touch the parent or the heap. */
void cc_v2_snode_free_tree(struct cc_v2_snode *n);
/* The child called name[0..len), or NULL. *pos gets its index or the index
 * where it would go. */
struct cc_v2_snode *cc_v2_snode_child(const struct cc_v2_snode *d, const char *name, size_t len,
                                      size_t *pos);
/* Makes room for one more child. 0 or -1 (ENOMEM). */
int cc_v2_snode_reserve(struct cc_v2_snode *d);
/* Inserts c (whose name must be absent) at its place; room must have been
 * reserved. Sets c->parent. */
void cc_v2_snode_insert(struct cc_v2_snode *d, struct cc_v2_snode *c);
/* Takes n out of its parent's children. */
void cc_v2_snode_detach(struct cc_v2_snode *n);
/* Gives the key n the value p[0..len) (p may point into n). A value of
 * another length needs another allocation: n is then freed, and its copy
 * takes its place among its parent's children and in the heap, the only
 * holders of a key's address besides the caller. Returns the node that
 * holds the key now, or NULL (ENOMEM, n unchanged). */
struct cc_v2_snode *cc_v2_snode_set_value(struct cc_v2_snode *n, struct cc_v2_ttl_heap *heap,
                                          const char *p, size_t len);
bool cc_v2_snode_hidden(const struct cc_v2_snode *n);
/* The client view (etcd's Repr / loadInternalNode): list adds the visible
 * children, recursive their subtrees too. 0 or -1 (ENOMEM, out zeroed). */
int cc_v2_snode_extern(struct cc_v2_snode *n, bool list, bool recursive, struct cc_v2_node *out);
void cc_v2_snode_rec(const struct cc_v2_snode *n, struct cc_v2_node_rec *rec);
/* Go's path.Clean("/" + p) into a new string; NULL on ENOMEM. */
char *cc_v2_store_path_clean(const char *p);
/* etcd's isHidden(watchPath, keyPath): is there a hidden component in
 * key below watch? */
bool cc_v2_path_hidden_below(const char *watch, size_t watch_len, const char *key);

/* ttl_heap.c: a min-heap by (expire_ns, path). */
struct cc_v2_ttl_heap {
    struct cc_v2_snode **a;
    size_t n, cap;
};
int cc_v2_ttl_reserve(struct cc_v2_ttl_heap *h);
void cc_v2_ttl_push(struct cc_v2_ttl_heap *h, struct cc_v2_snode *n); /* room reserved */
void cc_v2_ttl_remove(struct cc_v2_ttl_heap *h, struct cc_v2_snode *n);
void cc_v2_ttl_fix(struct cc_v2_ttl_heap *h, struct cc_v2_snode *n);
struct cc_v2_snode *cc_v2_ttl_top(const struct cc_v2_ttl_heap *h);
void cc_v2_ttl_free(struct cc_v2_ttl_heap *h);

/* history.c: the last CC_V2_HISTORY_CAP events, a ring. */
struct cc_v2_history {
    struct cc_v2_event **ring;
    size_t front, size;
    uint64_t start, last; /* indexes of the oldest and newest, 0 when empty */
};
int cc_v2_history_init(struct cc_v2_history *h);
void cc_v2_history_free(struct cc_v2_history *h);
/* Takes ownership of ev (evicting the oldest when full). */
void cc_v2_history_add(struct cc_v2_history *h, struct cc_v2_event *ev);
const struct cc_v2_event *cc_v2_history_at(const struct cc_v2_history *h, size_t i);
/* etcd's EventHistory.scan: 0 with *found (NULL: nothing yet), or 401 in
 * err (its index left for the caller to set). */
void cc_v2_history_scan(const struct cc_v2_history *h, const char *key, bool recursive,
                        uint64_t index, const struct cc_v2_event **found, struct cc_v2_error *err);

/* watch.c: watchers by exact path. */
struct cc_v2_watch_key;
struct cc_v2_whub {
    struct cc_v2_watch_key **buckets;
    size_t n_buckets, n_keys;
    uint64_t count; /* live watchers */
    int busy;       /* > 0 while notifying: removals are deferred */
    struct cc_v2_watcher *graveyard;
};
void cc_v2_whub_init(struct cc_v2_whub *hub);
void cc_v2_whub_free(struct cc_v2_whub *hub);
int cc_v2_whub_add(struct cc_v2_whub *hub, const char *path, bool recursive, bool stream,
                   uint64_t since, uint64_t start, cc_v2_watch_fn fn, void *ctx,
                   struct cc_v2_watcher **out);
/* Brackets a batch of notifications: watchers removed inside are freed at
 * the outermost end. */
void cc_v2_whub_begin(struct cc_v2_whub *hub);
void cc_v2_whub_end(struct cc_v2_whub *hub);
/* etcd's notifyWatchers(e, path, deleted) and notify(e) (minus the history
 * part, which the store does). */
void cc_v2_whub_notify_path(struct cc_v2_whub *hub, const struct cc_v2_event *ev, const char *path,
                            size_t path_len, bool deleted);
void cc_v2_whub_notify(struct cc_v2_whub *hub, const struct cc_v2_event *ev);

/* store.c */
struct cc_v2_store {
    struct cc_v2_snode *root;
    uint64_t index;
    char **readonly; /* "/" and the namespaces, clean */
    size_t n_readonly;
    struct cc_v2_ttl_heap heap;
    struct cc_v2_history hist;
    struct cc_v2_whub hub;
    struct cc_v2_store_stats stats;
    struct cc_v2_store_hooks hooks;
};

/* store_ops.c: etcd's store operations on a clean path. Each returns 0
 * with out filled (an event, or err.code set), or -1 (ENOMEM). */
int cc_v2_op_create(struct cc_v2_store *s, const char *path, bool dir,
                    const struct cc_v2_str *value, bool unique, int64_t expire,
                    struct cc_v2_result *out);
int cc_v2_op_set(struct cc_v2_store *s, const char *path, bool dir, const struct cc_v2_str *value,
                 int64_t expire, bool refresh, struct cc_v2_result *out);
int cc_v2_op_update(struct cc_v2_store *s, const char *path, const struct cc_v2_str *value,
                    int64_t expire, bool refresh, struct cc_v2_result *out);
int cc_v2_op_cas(struct cc_v2_store *s, const char *path, const struct cc_v2_str *prev_value,
                 uint64_t prev_index, const struct cc_v2_str *value, int64_t expire, bool refresh,
                 struct cc_v2_result *out);
int cc_v2_op_delete(struct cc_v2_store *s, const char *path, bool dir, bool recursive,
                    struct cc_v2_result *out);
int cc_v2_op_cad(struct cc_v2_store *s, const char *path, const struct cc_v2_str *prev_value,
                 uint64_t prev_index, struct cc_v2_result *out);
/* etcd's DeleteExpiredKeys: expires every node due at or before cutoff. */
int cc_v2_op_expire(struct cc_v2_store *s, int64_t cutoff);
/* etcd's internalGet: the node at a clean path, or NULL with err set (100
 * with the first missing component, 104 with the key in the way). */
struct cc_v2_snode *cc_v2_store_lookup(struct cc_v2_store *s, const char *path,
                                       struct cc_v2_error *err);
void cc_v2_store_error(struct cc_v2_error *err, int code, const char *cause, size_t cause_len,
                       uint64_t index);

/* An empty store (root only, no namespaces yet): used by new and the
 * loaders, which then add the read-only set. */
struct cc_v2_store *cc_v2_store_alloc(void);
/* Adds a namespace to the read-only set (and a dir for it unless one
 * exists). 0 or -1 (ENOMEM, EINVAL). */
int cc_v2_store_add_namespace(struct cc_v2_store *s, const char *ns, bool make_dir);
/* Puts every TTL node of the tree in the heap (after a load). */
int cc_v2_store_rebuild_heap(struct cc_v2_store *s);

#endif
