/* In-memory log: a growable array of slots above the compaction point. */
#include <stdlib.h>
#include <string.h>

#include "core/raft/raft.h"
#include "core/raft/raft_memlog.h"

struct cc_raft_buf *cc_raft_buf_new(const void *data, size_t len)
{
    struct cc_raft_buf *b = malloc(sizeof(*b) + len);
    if (b == NULL)
        return NULL;
    b->refs = 1;
    b->len = len;
    if (len > 0)
        memcpy(b->data, data, len);
    return b;
}

void cc_raft_buf_ref(struct cc_raft_buf *b)
{
    if (b != NULL)
        b->refs++;
}

void cc_raft_buf_unref(struct cc_raft_buf *b)
{
    if (b != NULL && --b->refs == 0)
        free(b);
}

void cc_raft_memlog_init(struct cc_raft_memlog *l, cc_raft_index offset, cc_raft_term offset_term)
{
    memset(l, 0, sizeof(*l));
    l->offset = offset;
    l->offset_term = offset_term;
    l->low_loaded = offset + 1;
}

static void drop_payload(struct cc_raft_memlog *l, struct cc_raft_slot *s)
{
    if (s->loaded && s->buf != NULL)
        l->cached_bytes -= s->buf->len;
    cc_raft_buf_unref(s->buf);
    s->buf = NULL;
    s->loaded = false;
}

void cc_raft_memlog_free(struct cc_raft_memlog *l)
{
    for (size_t k = 0; k < l->n; k++)
        drop_payload(l, &l->s[k]);
    free(l->s);
    memset(l, 0, sizeof(*l));
}

bool cc_raft_memlog_term(const struct cc_raft_memlog *l, cc_raft_index index, cc_raft_term *term)
{
    if (index == l->offset) {
        *term = l->offset_term;
        return true;
    }
    if (index < l->offset || index > cc_raft_memlog_last(l))
        return false;
    *term = l->s[index - l->offset - 1].term;
    return true;
}

cc_raft_term cc_raft_memlog_last_term(const struct cc_raft_memlog *l)
{
    return l->n == 0 ? l->offset_term : l->s[l->n - 1].term;
}

const struct cc_raft_slot *cc_raft_memlog_slot(const struct cc_raft_memlog *l, cc_raft_index index)
{
    if (index <= l->offset || index > cc_raft_memlog_last(l))
        return NULL;
    return &l->s[index - l->offset - 1];
}

static struct cc_raft_slot *push(struct cc_raft_memlog *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct cc_raft_slot *s = realloc(l->s, cap * sizeof(*s));
        if (s == NULL)
            return NULL;
        l->s = s;
        l->cap = cap;
    }
    struct cc_raft_slot *s = &l->s[l->n++];
    memset(s, 0, sizeof(*s));
    return s;
}

/* Snapshots may be ~100 000 entries apart: after a compaction the slot
 * array gives back what it no longer needs instead of keeping its largest
 * size. Failing to shrink is harmless. */
#define SHRINK_MIN_CAP 4096

static void shrink(struct cc_raft_memlog *l)
{
    if (l->cap <= SHRINK_MIN_CAP || l->n >= l->cap / 4)
        return;
    size_t cap = l->n * 2 > SHRINK_MIN_CAP ? l->n * 2 : SHRINK_MIN_CAP;
    struct cc_raft_slot *s = realloc(l->s, cap * sizeof(*s));
    if (s == NULL)
        return;
    l->s = s;
    l->cap = cap;
}

int cc_raft_memlog_append(struct cc_raft_memlog *l, cc_raft_term term, uint8_t type,
                          const void *data, size_t len)
{
    struct cc_raft_buf *b = NULL;
    if (len > 0 && (b = cc_raft_buf_new(data, len)) == NULL)
        return CC_RAFT_ENOMEM;
    struct cc_raft_slot *s = push(l);
    if (s == NULL) {
        cc_raft_buf_unref(b);
        return CC_RAFT_ENOMEM;
    }
    s->term = term;
    s->type = type;
    s->loaded = true;
    s->buf = b;
    l->cached_bytes += len;
    return 0;
}

int cc_raft_memlog_append_unloaded(struct cc_raft_memlog *l, cc_raft_term term)
{
    struct cc_raft_slot *s = push(l);
    if (s == NULL)
        return CC_RAFT_ENOMEM;
    s->term = term;
    return 0;
}

void cc_raft_memlog_truncate(struct cc_raft_memlog *l, cc_raft_index from)
{
    if (from <= l->offset)
        from = l->offset + 1;
    while (cc_raft_memlog_last(l) >= from && l->n > 0)
        drop_payload(l, &l->s[--l->n]);
    if (l->low_loaded > cc_raft_memlog_last(l) + 1)
        l->low_loaded = cc_raft_memlog_last(l) + 1;
}

void cc_raft_memlog_compact(struct cc_raft_memlog *l, cc_raft_index upto)
{
    if (upto <= l->offset || upto > cc_raft_memlog_last(l))
        return;
    size_t drop = (size_t)(upto - l->offset);
    for (size_t k = 0; k < drop; k++)
        drop_payload(l, &l->s[k]);
    l->offset_term = l->s[drop - 1].term;
    memmove(l->s, l->s + drop, (l->n - drop) * sizeof(*l->s));
    l->n -= drop;
    l->offset = upto;
    if (l->low_loaded < upto + 1)
        l->low_loaded = upto + 1;
    shrink(l);
}

void cc_raft_memlog_reset(struct cc_raft_memlog *l, cc_raft_index index, cc_raft_term term)
{
    for (size_t k = 0; k < l->n; k++)
        drop_payload(l, &l->s[k]);
    l->n = 0;
    l->offset = index;
    l->offset_term = term;
    l->low_loaded = index + 1;
}

int cc_raft_memlog_load(struct cc_raft_memlog *l, const struct cc_raft_entry *e)
{
    if (e->index <= l->offset || e->index > cc_raft_memlog_last(l))
        return 0;
    struct cc_raft_slot *s = &l->s[e->index - l->offset - 1];
    if (s->loaded || s->term != e->term)
        return 0;
    struct cc_raft_buf *b = NULL;
    if (e->len > 0 && (b = cc_raft_buf_new(e->data, e->len)) == NULL)
        return CC_RAFT_ENOMEM;
    s->type = (uint8_t)e->type;
    s->loaded = true;
    s->buf = b;
    l->cached_bytes += e->len;
    if (e->index < l->low_loaded)
        l->low_loaded = e->index;
    return 0;
}

void cc_raft_memlog_evict(struct cc_raft_memlog *l, cc_raft_index upto, size_t budget)
{
    if (upto > cc_raft_memlog_last(l))
        upto = cc_raft_memlog_last(l);
    cc_raft_index i = l->low_loaded > l->offset ? l->low_loaded : l->offset + 1;
    /* Empty payloads (no-ops) cost nothing and stay loaded. */
    for (; i <= upto && l->cached_bytes > budget; i++) {
        struct cc_raft_slot *s = &l->s[i - l->offset - 1];
        if (s->buf != NULL)
            drop_payload(l, s);
    }
    if (i > l->low_loaded)
        l->low_loaded = i;
}
