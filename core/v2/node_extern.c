/* Deep copy, free and binary codec of the client-side node and event types
 * (etcd's NodeExtern and Event); see node.h. */
#include "core/v2/node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Child arrays still to free, so that a listing as deep as the tree is
 * freed without recursion. */
struct clear_frame {
    struct cc_v2_node *a;
    size_t n, i;
};

void cc_v2_node_clear(struct cc_v2_node *n)
{
    struct clear_frame small[16], *st = small, *grown;
    size_t cap = 16, top = 0;

    if (n == NULL)
        return;
    free(n->key);
    free(n->value.p);
    if (n->nodes != NULL)
        st[top++] = (struct clear_frame){n->nodes, n->n_nodes, 0};
    while (top > 0) {
        struct clear_frame *f = &st[top - 1];
        struct cc_v2_node *c;

        if (f->i == f->n) {
            free(f->a);
            top--;
            continue;
        }
        c = &f->a[f->i++];
        if (c->nodes == NULL) {
            free(c->key);
            free(c->value.p);
            continue;
        }
        if (top == cap) {
            grown = st == small ? malloc(2 * cap * sizeof *st) : realloc(st, 2 * cap * sizeof *st);
            if (grown == NULL) {
                /* Out of memory: this one subtree recurses instead. */
                cc_v2_node_clear(c);
                continue;
            }
            if (st == small)
                memcpy(grown, small, sizeof small);
            st = grown;
            cap *= 2;
        }
        free(c->key);
        free(c->value.p);
        st[top++] = (struct clear_frame){c->nodes, c->n_nodes, 0};
    }
    if (st != small)
        free(st);
    memset(n, 0, sizeof *n);
}

static char *dup_bytes(const char *p, size_t n)
{
    char *d = malloc(n + 1);

    if (d == NULL)
        return NULL;
    if (n > 0)
        memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

int cc_v2_node_copy(struct cc_v2_node *dst, const struct cc_v2_node *src)
{
    *dst = *src;
    dst->key = NULL;
    dst->value.p = NULL;
    dst->nodes = NULL;
    dst->n_nodes = 0;
    if (src->key != NULL && (dst->key = dup_bytes(src->key, strlen(src->key))) == NULL)
        goto fail;
    if (src->value.p != NULL && (dst->value.p = dup_bytes(src->value.p, src->value.n)) == NULL)
        goto fail;
    if (src->n_nodes > 0) {
        /* Listings from a recursive get are as deep as the tree; a copy of
         * one is rare (events in the history have no children). */
        dst->nodes = calloc(src->n_nodes, sizeof *dst->nodes);
        if (dst->nodes == NULL)
            goto fail;
        for (size_t i = 0; i < src->n_nodes; i++) {
            if (cc_v2_node_copy(&dst->nodes[i], &src->nodes[i]) < 0)
                goto fail;
            dst->n_nodes = i + 1;
        }
    }
    return 0;
fail:
    cc_v2_node_clear(dst);
    errno = ENOMEM;
    return -1;
}

void cc_v2_event_free(struct cc_v2_event *ev)
{
    if (ev == NULL)
        return;
    cc_v2_node_clear(&ev->node);
    if (ev->prev_node != NULL) {
        cc_v2_node_clear(ev->prev_node);
        free(ev->prev_node);
    }
    free(ev);
}

struct cc_v2_event *cc_v2_event_dup(const struct cc_v2_event *ev)
{
    struct cc_v2_event *d = calloc(1, sizeof *d);

    if (d == NULL)
        return NULL;
    d->action = ev->action;
    d->etcd_index = ev->etcd_index;
    d->refresh = ev->refresh;
    if (cc_v2_node_copy(&d->node, &ev->node) < 0)
        goto fail;
    if (ev->prev_node != NULL) {
        d->prev_node = calloc(1, sizeof *d->prev_node);
        if (d->prev_node == NULL || cc_v2_node_copy(d->prev_node, ev->prev_node) < 0) {
            free(d->prev_node);
            d->prev_node = NULL;
            goto fail;
        }
    }
    return d;
fail:
    cc_v2_event_free(d);
    errno = ENOMEM;
    return NULL;
}

/* Node flags on the wire. */
#define NODE_F_VALUE 0x01u
#define NODE_F_DIR   0x02u
/* Event flags on the wire. */
#define EV_F_REFRESH 0x01u
#define EV_F_PREV    0x02u

static void encode_node(struct cc_buf *b, const struct cc_v2_node *n)
{
    uint8_t flags = (uint8_t)((n->has_value ? NODE_F_VALUE : 0u) | (n->dir ? NODE_F_DIR : 0u));

    cc_put_str(b, n->key);
    cc_put_u8(b, flags);
    cc_put_u64(b, (uint64_t)n->expiration_ns);
    cc_put_u64(b, n->modified_index);
    cc_put_u64(b, n->created_index);
    if (n->has_value) {
        if (n->value.n > UINT32_MAX) {
            b->failed = true;
            return;
        }
        cc_put_bytes(b, n->value.p, (uint32_t)n->value.n);
    }
}

void cc_v2_event_encode(struct cc_buf *b, const struct cc_v2_event *ev)
{
    uint8_t flags = (uint8_t)((ev->refresh ? EV_F_REFRESH : 0u) | (ev->prev_node ? EV_F_PREV : 0u));

    cc_put_u8(b, (uint8_t)ev->action);
    cc_put_u64(b, ev->etcd_index);
    cc_put_u8(b, flags);
    encode_node(b, &ev->node);
    if (ev->prev_node != NULL)
        encode_node(b, ev->prev_node);
}

/* 0, -1 with r->bad set (malformed), or -1 with errno ENOMEM. */
static int decode_node(struct cc_rd *r, struct cc_v2_node *n)
{
    const uint8_t *key, *val = NULL;
    uint32_t key_n, val_n = 0;
    uint8_t flags;

    memset(n, 0, sizeof *n);
    key = cc_get_bytes(r, &key_n);
    flags = cc_get_u8(r);
    n->expiration_ns = (int64_t)cc_get_u64(r);
    n->modified_index = cc_get_u64(r);
    n->created_index = cc_get_u64(r);
    if (flags & NODE_F_VALUE)
        val = cc_get_bytes(r, &val_n);
    /* A key is an absolute store path: non-empty, rooted, no NUL. */
    if (r->bad || (flags & ~(NODE_F_VALUE | NODE_F_DIR)) != 0 || key_n == 0 || key[0] != '/' ||
        memchr(key, '\0', key_n) != NULL) {
        r->bad = true;
        return -1;
    }
    n->has_value = (flags & NODE_F_VALUE) != 0;
    n->dir = (flags & NODE_F_DIR) != 0;
    n->key = dup_bytes((const char *)key, key_n);
    if (n->key == NULL)
        goto oom;
    if (n->has_value) {
        n->value.p = dup_bytes((const char *)val, val_n);
        if (n->value.p == NULL)
            goto oom;
        n->value.n = val_n;
    }
    return 0;
oom:
    cc_v2_node_clear(n);
    errno = ENOMEM;
    return -1;
}

struct cc_v2_event *cc_v2_event_decode(struct cc_rd *r)
{
    struct cc_v2_event *ev;
    uint8_t action, flags;

    action = cc_get_u8(r);
    ev = calloc(1, sizeof *ev);
    if (ev == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    ev->etcd_index = cc_get_u64(r);
    flags = cc_get_u8(r);
    if (r->bad || action > CC_V2_ACT_CAD || (flags & ~(EV_F_REFRESH | EV_F_PREV)) != 0) {
        r->bad = true;
        goto fail;
    }
    ev->action = (enum cc_v2_action)action;
    ev->refresh = (flags & EV_F_REFRESH) != 0;
    if (decode_node(r, &ev->node) < 0)
        goto fail;
    if (flags & EV_F_PREV) {
        ev->prev_node = calloc(1, sizeof *ev->prev_node);
        if (ev->prev_node == NULL) {
            errno = ENOMEM;
            goto fail;
        }
        if (decode_node(r, ev->prev_node) < 0)
            goto fail;
    }
    return ev;
fail:
    cc_v2_event_free(ev);
    if (r->bad)
        errno = EINVAL;
    return NULL;
}
