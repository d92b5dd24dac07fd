/* The min-heap of nodes with a TTL (etcd's ttl_key_heap.go). Unlike etcd,
 * equal expirations are ordered by path, so the order in which a SYNC
 * expires nodes (and thus their indexes) does not depend on the heap's
 * history: a store loaded from a snapshot expires exactly like the store
 * that wrote it. Each node remembers its position for O(log n) removal. */
#include "core/v2/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool before(const struct cc_v2_snode *a, const struct cc_v2_snode *b)
{
    if (a->expire_ns != b->expire_ns)
        return a->expire_ns < b->expire_ns;
    return strcmp(a->path, b->path) < 0;
}

static void put(struct cc_v2_ttl_heap *h, size_t i, struct cc_v2_snode *n)
{
    h->a[i] = n;
    n->heap_pos = (uint32_t)i;
}

static void sift_up(struct cc_v2_ttl_heap *h, size_t i)
{
    struct cc_v2_snode *n = h->a[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (!before(n, h->a[p]))
            break;
        put(h, i, h->a[p]);
        i = p;
    }
    put(h, i, n);
}

static void sift_down(struct cc_v2_ttl_heap *h, size_t i)
{
    struct cc_v2_snode *n = h->a[i];

    for (;;) {
        size_t l = 2 * i + 1, m = i;
        const struct cc_v2_snode *best = n;

        if (l < h->n && before(h->a[l], best)) {
            m = l;
            best = h->a[l];
        }
        if (l + 1 < h->n && before(h->a[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        put(h, i, h->a[m]);
        i = m;
    }
    put(h, i, n);
}

int cc_v2_ttl_reserve(struct cc_v2_ttl_heap *h)
{
    struct cc_v2_snode **a;
    size_t cap;

    if (h->n < h->cap)
        return 0;
    cap = h->cap ? h->cap * 2 : 16;
    a = realloc(h->a, cap * sizeof *a);
    if (a == NULL) {
        errno = ENOMEM;
        return -1;
    }
    h->a = a;
    h->cap = cap;
    return 0;
}

void cc_v2_ttl_push(struct cc_v2_ttl_heap *h, struct cc_v2_snode *n)
{
    put(h, h->n++, n);
    sift_up(h, h->n - 1);
}

void cc_v2_ttl_remove(struct cc_v2_ttl_heap *h, struct cc_v2_snode *n)
{
    size_t i = n->heap_pos;
    struct cc_v2_snode *moved;

    if (i == CC_V2_NOT_IN_HEAP || i >= h->n || h->a[i] != n)
        return;
    n->heap_pos = CC_V2_NOT_IN_HEAP;
    h->n--;
    if (i == h->n)
        return;
    moved = h->a[h->n];
    put(h, i, moved);
    sift_down(h, i);
    sift_up(h, moved->heap_pos);
}

void cc_v2_ttl_fix(struct cc_v2_ttl_heap *h, struct cc_v2_snode *n)
{
    size_t i = n->heap_pos;

    if (i == CC_V2_NOT_IN_HEAP || i >= h->n || h->a[i] != n)
        return;
    sift_down(h, i);
    sift_up(h, n->heap_pos);
}

struct cc_v2_snode *cc_v2_ttl_top(const struct cc_v2_ttl_heap *h)
{
    return h->n ? h->a[0] : NULL;
}

void cc_v2_ttl_free(struct cc_v2_ttl_heap *h)
{
    free(h->a);
    memset(h, 0, sizeof *h);
}
