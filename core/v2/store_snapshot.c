/* Whole-store serialisation (what the storage worker hands the http worker
 * at start) and the rebuild of a store from persisted nodes.
 *
 * Snapshot layout (little-endian, proto/wire.h primitives):
 *   raw[8]  "CCV2SNP1"
 *   u64     current index
 *   u32     number of namespaces, then each as a string (the read-only set
 *           minus "/")
 *   nodes   in pre-order, children in name order, the root first:
 *           u32 depth (root 0), string name (root ""), u8 flags (1: dir),
 *           u64 createdIndex, u64 modifiedIndex, u64 expiration (int64 ns),
 *           bytes value (keys only); ended by a u32 depth of 0xffffffff
 *   u32     number of history events, then each (cc_v2_event_encode)
 *   u64     FNV-1a 64 of every byte before it
 * Decoding checks the hash first (a flipped byte anywhere is refused),
 * then every length, the tree's shape (depths, strictly
 * increasing names, parents that are dirs), the indexes and the history's
 * contiguity, and that nothing follows; any violation is EINVAL. */
#include "core/v2/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_MAGIC "CCV2SNP1"
#define SNAP_END   UINT32_MAX
#define F_DIR      0x01u

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037u;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211u;
    }
    return h;
}

static void put_node(struct cc_buf *b, const struct cc_v2_snode *n, uint32_t depth)
{
    cc_put_u32(b, depth);
    cc_put_str(b, cc_v2_snode_name(n));
    cc_put_u8(b, n->dir ? F_DIR : 0);
    cc_put_u64(b, n->created_index);
    cc_put_u64(b, n->modified_index);
    cc_put_u64(b, (uint64_t)n->expire_ns);
    if (!n->dir) {
        if (n->value_len > UINT32_MAX)
            b->failed = true;
        else
            cc_put_bytes(b, cc_v2_snode_value(n), (uint32_t)n->value_len);
    }
}

int cc_v2_store_snapshot_save(struct cc_v2_store *s, struct cc_buf *out)
{
    struct cc_v2_snode *n = s->root;
    uint32_t depth = 0;
    size_t start = out->len;

    cc_put_raw(out, SNAP_MAGIC, 8);
    cc_put_u64(out, s->index);
    cc_put_u32(out, (uint32_t)(s->n_readonly - 1));
    for (size_t i = 1; i < s->n_readonly; i++)
        cc_put_str(out, s->readonly[i]);
    for (; n != NULL; n = cc_v2_snode_preorder_next(s->root, n, &depth))
        put_node(out, n, depth);
    cc_put_u32(out, SNAP_END);
    cc_put_u32(out, (uint32_t)s->hist.size);
    for (size_t i = 0; i < s->hist.size; i++)
        cc_v2_event_encode(out, cc_v2_history_at(&s->hist, i));
    if (!out->failed)
        cc_put_u64(out, fnv1a(out->data + start, out->len - start));
    if (out->failed) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int cc_v2_store_walk(struct cc_v2_store *s, int (*fn)(void *ctx, const struct cc_v2_node_rec *rec),
                     int (*ev)(void *ctx, const struct cc_v2_event *e), void *ctx)
{
    struct cc_v2_snode *n = s->root;
    struct cc_v2_node_rec rec;
    int r;
    /* the same pre-order walk as the snapshot */
    for (; n != NULL; n = cc_v2_snode_preorder_next(s->root, n, NULL)) {
        cc_v2_snode_rec(n, &rec);
        if ((r = fn(ctx, &rec)) != 0)
            return r;
    }
    for (size_t i = 0; i < s->hist.size; i++)
        if ((r = ev(ctx, cc_v2_history_at(&s->hist, i))) != 0)
            return r;
    return 0;
}

static bool valid_name(const uint8_t *p, uint32_t n)
{
    if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
        return false;
    return memchr(p, '/', n) == NULL && memchr(p, '\0', n) == NULL;
}

/* History events must be consecutive, at most CC_V2_HISTORY_CAP, none
 * after the store's index. */
static int check_history(const struct cc_v2_store *s, struct cc_v2_event *const *ev, size_t n)
{
    if (n > CC_V2_HISTORY_CAP)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t idx = ev[i]->node.modified_index;

        if (idx == 0 || idx > s->index || (i > 0 && idx != ev[0]->node.modified_index + i))
            return -1;
    }
    return 0;
}

/* Reads the node records into s's tree. 0, or -1 with errno. */
static int read_tree(struct cc_rd *r, struct cc_v2_store *s)
{
    struct cc_v2_snode **stack = NULL, **grown;
    size_t cap = 0, top = 0;
    int rc = -1;

    errno = EINVAL;
    for (bool first = true;; first = false) {
        uint32_t depth = cc_get_u32(r), name_n, val_n = 0;
        const uint8_t *name, *val = NULL;
        struct cc_v2_snode *parent, *n, *prev = NULL;
        struct cc_v2_sdir *k;
        uint8_t flags;
        uint64_t created, modified;
        int64_t expire;
        char *path;
        size_t plen;

        if (r->bad || (first && depth != 0) || (!first && depth == 0))
            goto out;
        if (depth == SNAP_END)
            break;
        name = cc_get_bytes(r, &name_n);
        flags = cc_get_u8(r);
        created = cc_get_u64(r);
        modified = cc_get_u64(r);
        expire = (int64_t)cc_get_u64(r);
        if (!(flags & F_DIR))
            val = cc_get_bytes(r, &val_n);
        if (r->bad || (flags & ~F_DIR) != 0 || created > modified || modified > s->index)
            goto out;
        if (first) {
            if (name_n != 0 || !(flags & F_DIR) || expire != 0)
                goto out;
            s->root->created_index = created;
            s->root->modified_index = modified;
            n = s->root;
        } else {
            if (depth > top + 1 || !valid_name(name, name_n))
                goto out;
            parent = stack[depth - 1];
            if (!parent->dir)
                goto out;
            k = cc_v2_snode_sdir(parent);
            if (k->n_kids > 0)
                prev = k->kids[k->n_kids - 1];
            /* strictly increasing names within a dir */
            if (prev != NULL) {
                size_t pl = prev->path_len - prev->name_off;
                int c = memcmp(cc_v2_snode_name(prev), name, pl < name_n ? pl : name_n);

                if (c > 0 || (c == 0 && pl >= name_n))
                    goto out;
            }
            plen = (parent == s->root ? 0 : parent->path_len) + 1 + name_n;
            path = malloc(plen + 1);
            if (path == NULL)
                goto oom;
            memcpy(path, parent->path, plen - 1 - name_n);
            path[plen - 1 - name_n] = '/';
            memcpy(path + plen - name_n, name, name_n);
            n = (flags & F_DIR) ? cc_v2_snode_new_dir(path, plen)
                                : cc_v2_snode_new_key(path, plen, (const char *)val, val_n);
            free(path);
            if (n == NULL || cc_v2_snode_reserve(parent) < 0) {
                cc_v2_snode_free_tree(n);
                goto oom;
            }
            n->created_index = created;
            n->modified_index = modified;
            n->expire_ns = expire;
            k->kids[k->n_kids++] = n;
            n->parent = parent;
        }
        if (depth >= cap) {
            cap = cap ? cap * 2 : 64;
            grown = realloc(stack, cap * sizeof *stack);
            if (grown == NULL)
                goto oom;
            stack = grown;
        }
        stack[depth] = n;
        top = depth;
    }
    rc = 0;
    goto out;
oom:
    errno = ENOMEM;
out:
    free(stack);
    return rc;
}

/* Every namespace of the read-only set must be a dir in the tree. */
static bool namespaces_present(const struct cc_v2_store *s)
{
    for (size_t i = 1; i < s->n_readonly; i++) {
        const char *ns = s->readonly[i] + 1;
        const struct cc_v2_snode *d = cc_v2_snode_child(s->root, ns, strlen(ns), NULL);

        if (d == NULL || !d->dir)
            return false;
    }
    return true;
}

int cc_v2_store_snapshot_load(const void *p, size_t n, struct cc_v2_store **out)
{
    struct cc_v2_store *s = cc_v2_store_alloc();
    struct cc_v2_event **evs = NULL;
    const uint8_t *magic;
    struct cc_rd r;
    uint32_t n_ns, n_ev = 0;

    *out = NULL;
    if (s == NULL)
        return -1;
    cc_rd_init(&r, (const uint8_t *)p + (n >= 8 ? n - 8 : 0), n >= 8 ? 8 : 0);
    if (n < 16 || cc_get_u64(&r) != fnv1a(p, n - 8))
        goto bad;
    cc_rd_init(&r, p, n - 8);
    magic = cc_get_raw(&r, 8);
    s->index = cc_get_u64(&r);
    n_ns = cc_get_u32(&r);
    if (r.bad || memcmp(magic, SNAP_MAGIC, 8) != 0 || n_ns > cc_rd_left(&r) / 4)
        goto bad;
    for (uint32_t i = 0; i < n_ns; i++) {
        uint32_t len;
        const uint8_t *ns = cc_get_bytes(&r, &len);
        char *z;

        if (ns == NULL || len < 2 || ns[0] != '/' || !valid_name(ns + 1, len - 1))
            goto bad;
        z = strndup((const char *)ns, len);
        if (z == NULL || cc_v2_store_add_namespace(s, z, false) < 0) {
            free(z);
            goto fail;
        }
        free(z);
    }
    if (read_tree(&r, s) < 0)
        goto fail;
    if (!namespaces_present(s))
        goto bad;
    n_ev = cc_get_u32(&r);
    if (r.bad || n_ev > CC_V2_HISTORY_CAP)
        goto bad;
    evs = calloc(n_ev ? n_ev : 1, sizeof *evs);
    if (evs == NULL)
        goto oom;
    for (uint32_t i = 0; i < n_ev; i++)
        if ((evs[i] = cc_v2_event_decode(&r)) == NULL)
            goto fail;
    if (cc_rd_left(&r) != 0 || check_history(s, evs, n_ev) < 0)
        goto bad;
    for (uint32_t i = 0; i < n_ev; i++) {
        cc_v2_history_add(&s->hist, evs[i]);
        evs[i] = NULL;
    }
    free(evs);
    if (cc_v2_store_rebuild_heap(s) < 0) {
        cc_v2_store_free(s);
        errno = ENOMEM;
        return -1;
    }
    *out = s;
    return 0;
oom:
    errno = ENOMEM;
    goto fail;
bad:
    errno = EINVAL;
fail:
    for (uint32_t i = 0; evs != NULL && i < n_ev; i++)
        cc_v2_event_free(evs[i]);
    free(evs);
    {
        int e = errno;

        cc_v2_store_free(s);
        errno = e;
    }
    return -1;
}

/* Marks in a dir's walk_i while loading records: a dir created only
 * because a descendant came first (it must get its own record), and the
 * root and namespace dirs (which may get one). A new dir's walk_i is 0:
 * FILLED; a key is filled by its one record. */
enum { FILLED = 0, MUST_FILL = 1, MAY_FILL = 2 };

static int load_rec(struct cc_v2_store *s, const struct cc_v2_node_rec *rec, size_t *pending)
{
    struct cc_v2_snode *d = s->root, *n;
    struct cc_v2_sdir *k;
    const char *path = rec->path, *p, *q;
    size_t pos;

    for (p = path + 1; *p != '\0'; p = *q ? q + 1 : q) {
        q = strchr(p, '/');
        if (q == NULL)
            q = p + strlen(p);
        if (!d->dir)
            return -1;
        n = cc_v2_snode_child(d, p, (size_t)(q - p), &pos);
        if (n == NULL) {
            bool leaf = *q == '\0';
            size_t len = (size_t)(q - path);

            if (leaf && !rec->dir)
                n = cc_v2_snode_new_key(path, len, rec->value ? rec->value : "", rec->value_len);
            else
                n = cc_v2_snode_new_dir(path, len);
            if (n == NULL || cc_v2_snode_reserve(d) < 0) {
                cc_v2_snode_free_tree(n);
                errno = ENOMEM;
                return -2;
            }
            cc_v2_snode_insert(d, n);
            if (!leaf) {
                cc_v2_snode_sdir(n)->walk_i = MUST_FILL;
                (*pending)++;
            }
        } else if (*q == '\0') {
            /* a dir seen before its record: fill it (once) */
            if (!n->dir || !rec->dir)
                return -1;
            k = cc_v2_snode_sdir(n);
            if (k->walk_i == FILLED)
                return -1;
            if (k->walk_i == MUST_FILL)
                (*pending)--;
            k->walk_i = FILLED;
        }
        d = n;
    }
    if (d == s->root) {
        k = cc_v2_snode_sdir(d);
        if (k->walk_i != MAY_FILL || !rec->dir || rec->expiration_ns != 0)
            return -1;
        k->walk_i = FILLED;
    }
    if (rec->created_index > rec->modified_index || rec->modified_index > s->index)
        return -1;
    d->created_index = rec->created_index;
    d->modified_index = rec->modified_index;
    d->expire_ns = rec->expiration_ns;
    return 0;
}

int cc_v2_store_load(const char *const *namespaces, size_t n_namespaces, cc_v2_rec_next_fn next,
                     void *ctx, uint64_t index, struct cc_v2_event *const *history,
                     size_t n_history, struct cc_v2_store **out)
{
    struct cc_v2_store *s = cc_v2_store_new(namespaces, n_namespaces);
    struct cc_v2_sdir *root;
    struct cc_v2_node_rec rec;
    size_t pending = 0;
    int rc;

    *out = NULL;
    if (s == NULL)
        return -1;
    s->index = index;
    root = cc_v2_snode_sdir(s->root);
    root->walk_i = MAY_FILL;
    for (size_t i = 0; i < root->n_kids; i++)
        cc_v2_snode_sdir(root->kids[i])->walk_i = MAY_FILL; /* the namespaces */
    while (next != NULL && (rc = next(ctx, &rec)) != 0) {
        char *clean;

        if (rc < 0 || rec.path == NULL)
            goto bad;
        clean = cc_v2_store_path_clean(rec.path);
        if (clean == NULL)
            goto oom;
        rc = strcmp(clean, rec.path) == 0 ? load_rec(s, &rec, &pending) : -1;
        free(clean);
        if (rc == -2)
            goto fail;
        if (rc < 0)
            goto bad;
    }
    if (pending != 0 || !namespaces_present(s) || check_history(s, history, n_history) < 0)
        goto bad;
    for (size_t i = 0; i < n_history; i++) {
        struct cc_v2_event *e = cc_v2_event_dup(history[i]);

        if (e == NULL)
            goto oom;
        cc_v2_history_add(&s->hist, e);
    }
    if (cc_v2_store_rebuild_heap(s) < 0)
        goto oom;
    *out = s;
    return 0;
oom:
    errno = ENOMEM;
    goto fail;
bad:
    errno = EINVAL;
fail:
    rc = errno;
    cc_v2_store_free(s);
    errno = rc;
    return -1;
}
