/* The store's node tree (etcd's node.go): allocation, children kept sorted
 * by name, the client view of a node (Repr and loadInternalNode), and the
 * path helpers. Every walk over a subtree is iterative, using the nodes'
 * scratch fields, so a very deep tree cannot exhaust the stack. */
#include "core/v2/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct cc_v2_snode *cc_v2_snode_new(const char *path, size_t path_len, bool dir)
{
    struct cc_v2_snode *n = calloc(1, sizeof *n);
    const char *slash;

    if (n == NULL)
        return NULL;
    n->path = malloc(path_len + 1);
    if (n->path == NULL) {
        free(n);
        return NULL;
    }
    memcpy(n->path, path, path_len);
    n->path[path_len] = '\0';
    n->path_len = (uint32_t)path_len; /* keys are at most 4096 bytes */
    slash = memrchr(n->path, '/', path_len);
    n->name_off = slash ? (uint32_t)(slash - n->path) + 1 : 0;
    n->dir = dir;
    n->heap_pos = CC_V2_NOT_IN_HEAP;
    return n;
}

static void free_one(struct cc_v2_snode *n)
{
    free(n->path);
    free(n->value.p);
    free(n->kids);
    free(n->pend);
    free(n);
}

void cc_v2_snode_free_tree(struct cc_v2_snode *top)
{
    struct cc_v2_snode *n = top, *p;

    if (top == NULL)
        return;
    cc_v2_snode_settle(n);
    n->walk_i = 0;
    for (;;) {
        if (n->walk_i < n->n_kids) {
            struct cc_v2_snode *c = n->kids[n->walk_i++];

            cc_v2_snode_settle(c);
            c->walk_i = 0;
            n = c;
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
    size_t lo = 0, hi = d->n_kids;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, len, d->kids[mid]);

        if (c == 0) {
            if (pos)
                *pos = mid;
            return d->kids[mid];
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (pos)
        *pos = lo;
    for (size_t i = 0; i < d->n_pend; i++)
        if (name_cmp(name, len, d->pend[i]) == 0) {
            if (pos)
                *pos = SIZE_MAX; /* not in kids */
            return d->pend[i];
        }
    return NULL;
}

int cc_v2_snode_reserve(struct cc_v2_snode *d)
{
    size_t need = d->n_kids + d->n_pend + 1;

    if (need > d->cap_kids) {
        size_t cap = d->cap_kids ? d->cap_kids * 2 : 4;
        struct cc_v2_snode **k;

        if (cap < need)
            cap = need;
        k = realloc(d->kids, cap * sizeof *k);
        if (k == NULL) {
            errno = ENOMEM;
            return -1;
        }
        d->kids = k;
        d->cap_kids = (uint32_t)cap;
    }
    if (d->pend == NULL && d->n_kids > 0) {
        d->pend = malloc(CC_V2_PEND_MAX * sizeof *d->pend);
        if (d->pend == NULL) {
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
    size_t np = d->n_pend, i, j, k;

    if (np == 0)
        return;
    /* sort the few pending ones (insertion sort), then merge from the end */
    for (i = 1; i < np; i++) {
        struct cc_v2_snode *x = d->pend[i];

        for (j = i; j > 0 && snode_cmp(d->pend[j - 1], x) > 0; j--)
            d->pend[j] = d->pend[j - 1];
        d->pend[j] = x;
    }
    /* From the end: each pending child finds its slot by binary search,
     * and the run of kids after it moves up with one memmove, so a merge
     * costs O(np log n) comparisons and one pass of moves. */
    i = d->n_kids;
    for (j = np; j > 0; j--) {
        struct cc_v2_snode *x = d->pend[j - 1];
        size_t lo = 0, hi = i;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (snode_cmp(d->kids[mid], x) > 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        k = lo + j; /* x's final slot: j-1 pending ones go before it */
        memmove(&d->kids[k], &d->kids[lo], (i - lo) * sizeof *d->kids);
        d->kids[k - 1] = x;
        i = lo;
    }
    d->n_kids += (uint32_t)np;
    d->n_pend = 0;
}

void cc_v2_snode_insert(struct cc_v2_snode *d, struct cc_v2_snode *c)
{
    c->parent = d;
    /* In order (or the first): append. */
    if (d->n_kids == 0 || snode_cmp(c, d->kids[d->n_kids - 1]) > 0) {
        if (d->n_pend == 0) {
            d->kids[d->n_kids++] = c;
            return;
        }
    }
    if (d->pend != NULL) {
        if (d->n_pend == CC_V2_PEND_MAX)
            cc_v2_snode_settle(d);
        d->pend[d->n_pend++] = c;
        return;
    }
    /* no pend buffer (reserve saw an empty dir): a sorted insert */
    size_t pos;

    cc_v2_snode_child(d, cc_v2_snode_name(c), c->path_len - c->name_off, &pos);
    memmove(&d->kids[pos + 1], &d->kids[pos], (d->n_kids - pos) * sizeof *d->kids);
    d->kids[pos] = c;
    d->n_kids++;
}

void cc_v2_snode_detach(struct cc_v2_snode *n)
{
    struct cc_v2_snode *d = n->parent;
    size_t pos;

    if (d == NULL)
        return;
    if (cc_v2_snode_child(d, cc_v2_snode_name(n), n->path_len - n->name_off, &pos) == n) {
        if (pos != SIZE_MAX) {
            memmove(&d->kids[pos], &d->kids[pos + 1], (d->n_kids - pos - 1) * sizeof *d->kids);
            d->n_kids--;
        } else {
            for (size_t i = 0; i < d->n_pend; i++)
                if (d->pend[i] == n) {
                    d->pend[i] = d->pend[--d->n_pend];
                    break;
                }
        }
    }
    n->parent = NULL;
}

void cc_v2_snode_replace(struct cc_v2_snode *old, struct cc_v2_snode *n)
{
    struct cc_v2_snode *d = old->parent;
    size_t pos;

    n->parent = d;
    old->parent = NULL;
    if (d == NULL ||
        cc_v2_snode_child(d, cc_v2_snode_name(old), old->path_len - old->name_off, &pos) != old)
        return;
    if (pos != SIZE_MAX) {
        d->kids[pos] = n;
        return;
    }
    for (size_t i = 0; i < d->n_pend; i++)
        if (d->pend[i] == old)
            d->pend[i] = n;
}

int cc_v2_snode_set_value(struct cc_v2_snode *n, const char *p, size_t len)
{
    char *v = malloc(len + 1);

    if (v == NULL) {
        errno = ENOMEM;
        return -1;
    }
    if (len > 0)
        memcpy(v, p, len);
    v[len] = '\0';
    free(n->value.p);
    n->value.p = v;
    n->value.n = len;
    return 0;
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
        o->value.p = malloc(n->value.n + 1);
        if (o->value.p == NULL) {
            free(o->key);
            o->key = NULL;
            return -1;
        }
        if (n->value.n > 0)
            memcpy(o->value.p, n->value.p, n->value.n);
        o->value.p[n->value.n] = '\0';
        o->value.n = n->value.n;
    }
    return 0;
}

static int open_listing(struct cc_v2_snode *d, struct cc_v2_node *o)
{
    cc_v2_snode_settle(d);
    if (d->n_kids == 0)
        return 0;
    o->nodes = calloc(d->n_kids, sizeof *o->nodes);
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
    top->walk_p = out;
    top->walk_i = 0;
    for (;;) {
        struct cc_v2_node *po = cur->walk_p, *o;
        struct cc_v2_snode *c;

        if (cur->walk_i == cur->n_kids) {
            close_listing(po);
            if (cur == top)
                return 0;
            cur = cur->parent;
            continue;
        }
        c = cur->kids[cur->walk_i++];
        if (cc_v2_snode_hidden(c))
            continue; /* hidden nodes are never listed, nor their subtree */
        o = &po->nodes[po->n_nodes];
        if (fill_extern(c, o) < 0)
            goto oom;
        po->n_nodes++;
        if (recursive && c->dir && cc_v2_snode_n_children(c) > 0) {
            if (open_listing(c, o) < 0)
                goto oom;
            c->walk_p = o;
            c->walk_i = 0;
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
    rec->value = n->dir ? NULL : (n->value.p ? n->value.p : "");
    rec->value_len = n->dir ? 0 : n->value.n;
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
