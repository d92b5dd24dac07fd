/* The store's node tree (etcd's node.go): allocation, children kept sorted
 * by name, the client view of a node (Repr and loadInternalNode), and the
 * path helpers. Every walk over a subtree is iterative, using the
 * directories' scratch fields, so a very deep tree cannot exhaust the
 * stack. */
#include "core/v2/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/v2/node_pool.h"

/* A node with room for size bytes after its path (the value and its NUL,
 * or a directory's part), path filled in, the rest zero. */
static struct cc_v2_snode *alloc_node(const char *path, size_t path_len, size_t size)
{
    struct cc_v2_snode *n = cc_v2_pool_alloc(size);
    const char *slash;

    if (n == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(n->path, path, path_len);
    n->path[path_len] = '\0';
    n->path_len = (uint32_t)path_len; /* keys are at most 4096 bytes */
    slash = memrchr(n->path, '/', path_len);
    n->name_off = slash ? (uint32_t)(slash - n->path) + 1 : 0;
    n->heap_pos = CC_V2_NOT_IN_HEAP;
    return n;
}

static size_t key_size(size_t path_len, size_t value_len)
{
    return offsetof(struct cc_v2_snode, path) + path_len + 1 + value_len + 1;
}

static size_t dir_size(size_t path_len)
{
    return cc_v2_sdir_off(path_len) + sizeof(struct cc_v2_sdir);
}

/* The pool is told the size back: what the node was allocated with. */
static void release(struct cc_v2_snode *n)
{
    cc_v2_pool_free(n, n->dir ? dir_size(n->path_len) : key_size(n->path_len, n->value_len));
}

struct cc_v2_snode *cc_v2_snode_new_dir(const char *path, size_t path_len)
{
    struct cc_v2_snode *n = alloc_node(path, path_len, dir_size(path_len));

    if (n != NULL)
        n->dir = true;
    return n;
}

struct cc_v2_snode *cc_v2_snode_new_key(const char *path, size_t path_len, const char *value,
                                        size_t value_len)
{
    struct cc_v2_snode *n = alloc_node(path, path_len, key_size(path_len, value_len));

    if (n == NULL)
        return NULL;
    if (value_len > 0)
        memcpy(cc_v2_snode_value(n), value, value_len);
    n->value_len = value_len;
    return n;
}

static void free_one(struct cc_v2_snode *n)
{
    if (n->dir) {
        struct cc_v2_sdir *k = cc_v2_snode_sdir(n);

        free(k->kids);
        free(k->pend);
    }
    release(n);
}

void cc_v2_snode_free_tree(struct cc_v2_snode *top)
{
    struct cc_v2_snode *n = top, *p;

    if (top == NULL)
        return;
    if (top->dir)
        cc_v2_snode_walk_start(top);
    for (;;) {
        struct cc_v2_snode *c = cc_v2_snode_walk_next(n);

        if (c != NULL) {
            /* a key is a leaf: freed at once, no walk of its own */
            if (c->dir) {
                cc_v2_snode_walk_start(c);
                n = c;
            } else {
                release(c);
            }
            continue;
        }
        p = n->parent;
        if (n == top) {
            free_one(n);
            return;
        }
        free_one(n);
        n = p;
    }
}

struct cc_v2_snode *cc_v2_snode_preorder_next(struct cc_v2_snode *top, struct cc_v2_snode *n,
                                              uint32_t *depth)
{
    struct cc_v2_snode *c;

    if (n->dir)
        cc_v2_snode_walk_start(n);
    if ((c = cc_v2_snode_walk_next(n)) != NULL) {
        if (depth)
            (*depth)++;
        return c;
    }
    /* climb to the first ancestor with a child left */
    while (n != top && (c = cc_v2_snode_walk_next(n->parent)) == NULL) {
        n = n->parent;
        if (depth)
            (*depth)--;
    }
    return n == top ? NULL : c;
}

static int name_cmp(const char *a, size_t an, const struct cc_v2_snode *b)
{
    const char *bn = cc_v2_snode_name(b);
    size_t bl = b->path_len - b->name_off;
    int c = memcmp(a, bn, an < bl ? an : bl);

    if (c != 0)
        return c;
    return an < bl ? -1 : an > bl;
}

struct cc_v2_snode *cc_v2_snode_child(const struct cc_v2_snode *d, const char *name, size_t len,
                                      size_t *pos)
{
    const struct cc_v2_sdir *k = cc_v2_snode_sdir(d);
    size_t lo = 0, hi = k->n_kids;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, len, k->kids[mid]);

        if (c == 0) {
            if (pos)
                *pos = mid;
            return k->kids[mid];
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (pos)
        *pos = lo;
    for (size_t i = 0; i < k->n_pend; i++)
        if (name_cmp(name, len, k->pend[i]) == 0) {
            if (pos)
                *pos = SIZE_MAX; /* not in kids */
            return k->pend[i];
        }
    return NULL;
}

int cc_v2_snode_reserve(struct cc_v2_snode *d)
{
    struct cc_v2_sdir *k = cc_v2_snode_sdir(d);
    size_t need = k->n_kids + k->n_pend + 1;

    if (need > k->cap_kids) {
        size_t cap = k->cap_kids ? k->cap_kids * 2 : 4;
        struct cc_v2_snode **a;

        if (cap < need)
            cap = need;
        a = realloc(k->kids, cap * sizeof *a);
        if (a == NULL) {
            errno = ENOMEM;
            return -1;
        }
        k->kids = a;
        k->cap_kids = (uint32_t)cap;
    }
    if (k->pend == NULL && k->n_kids > 0) {
        k->pend = malloc(CC_V2_PEND_MAX * sizeof *k->pend);
        if (k->pend == NULL) {
            errno = ENOMEM;
            return -1;
        }
    }
    return 0;
}

static int snode_cmp(const struct cc_v2_snode *a, const struct cc_v2_snode *b)
{
    return name_cmp(cc_v2_snode_name(a), a->path_len - a->name_off, b);
}

void cc_v2_snode_settle(struct cc_v2_snode *d)
{
    struct cc_v2_sdir *k = cc_v2_snode_sdir(d);
    size_t np = k->n_pend, i, j, m;

    if (np == 0)
        return;
    /* sort the few pending ones (insertion sort), then merge from the end */
    for (i = 1; i < np; i++) {
        struct cc_v2_snode *x = k->pend[i];

        for (j = i; j > 0 && snode_cmp(k->pend[j - 1], x) > 0; j--)
            k->pend[j] = k->pend[j - 1];
        k->pend[j] = x;
    }
    /* From the end: each pending child finds its slot by binary search,
     * and the run of kids after it moves up with one memmove, so a merge
     * costs O(np log n) comparisons and one pass of moves. */
    i = k->n_kids;
    for (j = np; j > 0; j--) {
        struct cc_v2_snode *x = k->pend[j - 1];
        size_t lo = 0, hi = i;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (snode_cmp(k->kids[mid], x) > 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        m = lo + j; /* x's final slot: j-1 pending ones go before it */
        memmove(&k->kids[m], &k->kids[lo], (i - lo) * sizeof *k->kids);
        k->kids[m - 1] = x;
        i = lo;
    }
    k->n_kids += (uint32_t)np;
    k->n_pend = 0;
}

void cc_v2_snode_insert(struct cc_v2_snode *d, struct cc_v2_snode *c)
{
    struct cc_v2_sdir *k = cc_v2_snode_sdir(d);

    c->parent = d;
    /* In order (or the first): append. */
    if (k->n_kids == 0 || snode_cmp(c, k->kids[k->n_kids - 1]) > 0) {
        if (k->n_pend == 0) {
            k->kids[k->n_kids++] = c;
            return;
        }
    }
    if (k->pend != NULL) {
        if (k->n_pend == CC_V2_PEND_MAX)
            cc_v2_snode_settle(d);
        k->pend[k->n_pend++] = c;
        return;
    }
    /* no pend buffer (reserve saw an empty dir): a sorted insert */
    size_t pos;

    cc_v2_snode_child(d, cc_v2_snode_name(c), c->path_len - c->name_off, &pos);
    memmove(&k->kids[pos + 1], &k->kids[pos], (k->n_kids - pos) * sizeof *k->kids);
    k->kids[pos] = c;
    k->n_kids++;
}

void cc_v2_snode_detach(struct cc_v2_snode *n)
{
    struct cc_v2_snode *d = n->parent;
    struct cc_v2_sdir *k;
    size_t pos;

    if (d == NULL)
        return;
    k = cc_v2_snode_sdir(d);
    if (cc_v2_snode_child(d, cc_v2_snode_name(n), n->path_len - n->name_off, &pos) == n) {
        if (pos != SIZE_MAX) {
            memmove(&k->kids[pos], &k->kids[pos + 1], (k->n_kids - pos - 1) * sizeof *k->kids);
            k->n_kids--;
        } else {
            for (size_t i = 0; i < k->n_pend; i++)
                if (k->pend[i] == n) {
                    k->pend[i] = k->pend[--k->n_pend];
                    break;
                }
        }
    }
    n->parent = NULL;
}

void cc_v2_snode_replace(struct cc_v2_snode *old, struct cc_v2_snode *n)
{
    struct cc_v2_snode *d = old->parent;
    struct cc_v2_sdir *k;
    size_t pos;

    n->parent = d;
    old->parent = NULL;
    if (d == NULL ||
        cc_v2_snode_child(d, cc_v2_snode_name(old), old->path_len - old->name_off, &pos) != old)
        return;
    k = cc_v2_snode_sdir(d);
    if (pos != SIZE_MAX) {
        k->kids[pos] = n;
        return;
    }
    for (size_t i = 0; i < k->n_pend; i++)
        if (k->pend[i] == old)
            k->pend[i] = n;
}

struct cc_v2_snode *cc_v2_snode_set_value(struct cc_v2_snode *n, struct cc_v2_ttl_heap *heap,
                                          const char *p, size_t len)
{
    struct cc_v2_snode *m;

    if (len == n->value_len) {
        /* memmove: a refresh writes the node's own value back */
        if (len > 0)
            memmove(cc_v2_snode_value(n), p, len);
        return n;
    }
    m = cc_v2_pool_alloc(key_size(n->path_len, len));
    if (m == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(m, n, offsetof(struct cc_v2_snode, path) + n->path_len + 1);
    if (len > 0)
        memcpy(cc_v2_snode_value(m), p, len);
    cc_v2_snode_value(m)[len] = '\0';
    m->value_len = len;
    cc_v2_snode_replace(n, m);
    if (m->heap_pos != CC_V2_NOT_IN_HEAP)
        heap->a[m->heap_pos] = m;
    release(n);
    return m;
}

bool cc_v2_snode_hidden(const struct cc_v2_snode *n)
{
    return cc_v2_snode_name(n)[0] == '_';
}

/* The node itself, without children. */
static int fill_extern(const struct cc_v2_snode *n, struct cc_v2_node *o)
{
    memset(o, 0, sizeof *o);
    o->key = malloc(n->path_len + 1);
    if (o->key == NULL)
        return -1;
    memcpy(o->key, n->path, n->path_len + 1);
    o->dir = n->dir;
    o->expiration_ns = n->expire_ns;
    o->modified_index = n->modified_index;
    o->created_index = n->created_index;
    if (!n->dir) {
        o->has_value = true;
        o->value.p = malloc(n->value_len + 1);
        if (o->value.p == NULL) {
            free(o->key);
            o->key = NULL;
            return -1;
        }
        memcpy(o->value.p, cc_v2_snode_value(n), n->value_len + 1);
        o->value.n = n->value_len;
    }
    return 0;
}

/* Settles the directory d and sizes o's listing for its children. */
static int open_listing(struct cc_v2_snode *d, struct cc_v2_node *o)
{
    struct cc_v2_sdir *k = cc_v2_snode_sdir(d);

    cc_v2_snode_settle(d);
    k->walk_p = o;
    k->walk_i = 0;
    if (k->n_kids == 0)
        return 0;
    o->nodes = calloc(k->n_kids, sizeof *o->nodes);
    return o->nodes ? 0 : -1;
}

static void close_listing(struct cc_v2_node *o)
{
    if (o->n_nodes == 0) {
        free(o->nodes);
        o->nodes = NULL;
    }
}

int cc_v2_snode_extern(struct cc_v2_snode *top, bool list, bool recursive, struct cc_v2_node *out)
{
    struct cc_v2_snode *cur = top;

    if (fill_extern(top, out) < 0)
        goto oom;
    if (!top->dir || !list)
        return 0;
    if (open_listing(top, out) < 0)
        goto oom;
    for (;;) {
        struct cc_v2_sdir *k = cc_v2_snode_sdir(cur);
        struct cc_v2_node *po = k->walk_p, *o;
        struct cc_v2_snode *c;

        if (k->walk_i == k->n_kids) {
            close_listing(po);
            if (cur == top)
                return 0;
            cur = cur->parent;
            continue;
        }
        c = k->kids[k->walk_i++];
        if (cc_v2_snode_hidden(c))
            continue; /* hidden nodes are never listed, nor their subtree */
        o = &po->nodes[po->n_nodes];
        if (fill_extern(c, o) < 0)
            goto oom;
        po->n_nodes++;
        if (recursive && c->dir && cc_v2_snode_n_children(c) > 0) {
            if (open_listing(c, o) < 0)
                goto oom;
            cur = c;
        }
    }
oom:
    cc_v2_node_clear(out);
    errno = ENOMEM;
    return -1;
}

void cc_v2_snode_rec(const struct cc_v2_snode *n, struct cc_v2_node_rec *rec)
{
    rec->path = n->path;
    rec->value = n->dir ? NULL : cc_v2_snode_value(n);
    rec->value_len = n->dir ? 0 : n->value_len;
    rec->dir = n->dir;
    rec->expiration_ns = n->expire_ns;
    rec->created_index = n->created_index;
    rec->modified_index = n->modified_index;
}

char *cc_v2_store_path_clean(const char *p)
{
    size_t len = strlen(p), i = 0, w = 0;
    char *out = malloc(len + 2);

    if (out == NULL)
        return NULL;
    out[w++] = '/';
    while (i < len) {
        size_t j = i, clen;

        if (p[i] == '/') {
            i++;
            continue;
        }
        while (j < len && p[j] != '/')
            j++;
        clen = j - i;
        if (clen == 1 && p[i] == '.') {
            /* "." names the current dir: dropped */
        } else if (clen == 2 && p[i] == '.' && p[i + 1] == '.') {
            /* ".." removes the previous component; at the root, nothing */
            while (w > 1 && out[w - 1] != '/')
                w--;
            if (w > 1)
                w--;
        } else {
            if (w > 1)
                out[w++] = '/';
            memcpy(out + w, p + i, clen);
            w += clen;
        }
        i = j;
    }
    out[w] = '\0';
    return out;
}

bool cc_v2_path_hidden_below(const char *watch, size_t watch_len, const char *key)
{
    size_t key_len = strlen(key);
    const char *after;

    /* A watcher deeper than the key (inside a deleted directory) is never
     * filtered. */
    if (watch_len > key_len)
        return false;
    after = key + watch_len;
    return after[0] == '_' || strstr(after, "/_") != NULL;
}
