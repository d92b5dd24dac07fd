/* Voter sets, configuration history, and the configuration entry format.
 *
 * Entry payload, little-endian:
 *   u8 version (1) | u8 op | u64 node | u8 n | n x u64 voter | u32 ctx_len | ctx
 * The whole voter set is stored, not just the delta, so a member restarting
 * from its log needs no earlier entry to know who votes. */
#include <stdlib.h>
#include <string.h>

#include "core/raft/raft_membership.h"

#define CONF_VERSION 1

bool cc_raft_membership_contains(const struct cc_raft_membership *m, cc_raft_id id)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->ids[i] == id)
            return true;
    return false;
}

int cc_raft_membership_add(struct cc_raft_membership *m, cc_raft_id id)
{
    if (id == 0 || m->n >= CC_RAFT_MAX_MEMBERS || cc_raft_membership_contains(m, id))
        return CC_RAFT_EINVAL;
    unsigned i = m->n;
    while (i > 0 && m->ids[i - 1] > id) {
        m->ids[i] = m->ids[i - 1];
        i--;
    }
    m->ids[i] = id;
    m->n++;
    return 0;
}

int cc_raft_membership_remove(struct cc_raft_membership *m, cc_raft_id id)
{
    for (unsigned i = 0; i < m->n; i++) {
        if (m->ids[i] == id) {
            memmove(&m->ids[i], &m->ids[i + 1], (m->n - i - 1) * sizeof(m->ids[0]));
            m->n--;
            return 0;
        }
    }
    return CC_RAFT_EINVAL;
}

bool cc_raft_membership_valid(const struct cc_raft_membership *m)
{
    if (m->n > CC_RAFT_MAX_MEMBERS)
        return false;
    for (unsigned i = 0; i < m->n; i++)
        if (m->ids[i] == 0 || (i > 0 && m->ids[i - 1] >= m->ids[i]))
            return false;
    return true;
}

void cc_raft_confs_init(struct cc_raft_confs *c, cc_raft_index base_index,
                        const struct cc_raft_membership *base)
{
    memset(c, 0, sizeof(*c));
    c->base_index = base_index;
    c->base = *base;
}

void cc_raft_confs_free(struct cc_raft_confs *c)
{
    free(c->p);
    memset(c, 0, sizeof(*c));
}

const struct cc_raft_membership *cc_raft_confs_current(const struct cc_raft_confs *c)
{
    return c->n > 0 ? &c->p[c->n - 1].membership : &c->base;
}

const struct cc_raft_membership *cc_raft_confs_at(const struct cc_raft_confs *c,
                                                  cc_raft_index index)
{
    for (size_t k = c->n; k > 0; k--)
        if (c->p[k - 1].index <= index)
            return &c->p[k - 1].membership;
    return &c->base;
}

cc_raft_index cc_raft_confs_last_index(const struct cc_raft_confs *c)
{
    return c->n > 0 ? c->p[c->n - 1].index : c->base_index;
}

int cc_raft_confs_push(struct cc_raft_confs *c, cc_raft_index index,
                       const struct cc_raft_membership *m)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct cc_raft_conf_point *p = realloc(c->p, cap * sizeof(*p));
        if (p == NULL)
            return CC_RAFT_ENOMEM;
        c->p = p;
        c->cap = cap;
    }
    c->p[c->n].index = index;
    c->p[c->n].membership = *m;
    c->n++;
    return 0;
}

void cc_raft_confs_truncate(struct cc_raft_confs *c, cc_raft_index from)
{
    while (c->n > 0 && c->p[c->n - 1].index >= from)
        c->n--;
}

void cc_raft_confs_compact(struct cc_raft_confs *c, cc_raft_index upto)
{
    if (upto <= c->base_index)
        return;
    c->base = *cc_raft_confs_at(c, upto);
    c->base_index = upto;
    size_t k = 0;
    while (k < c->n && c->p[k].index <= upto)
        k++;
    if (k > 0) {
        memmove(c->p, c->p + k, (c->n - k) * sizeof(*c->p));
        c->n -= k;
    }
}

void cc_raft_confs_reset(struct cc_raft_confs *c, cc_raft_index index,
                         const struct cc_raft_membership *m)
{
    c->n = 0;
    c->base_index = index;
    c->base = *m;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

size_t cc_raft_conf_encode(const struct cc_raft_conf *conf, void *buf, size_t cap)
{
    size_t need = 1 + 1 + 8 + 1 + 8 * (size_t)conf->membership.n + 4 + conf->context_len;
    if (buf == NULL || cap < need || conf->context_len > UINT32_MAX)
        return need;
    unsigned char *p = buf;
    *p++ = CONF_VERSION;
    *p++ = (unsigned char)conf->op;
    put_u64(p, conf->node);
    p += 8;
    *p++ = (unsigned char)conf->membership.n;
    for (unsigned i = 0; i < conf->membership.n; i++, p += 8)
        put_u64(p, conf->membership.ids[i]);
    uint32_t clen = (uint32_t)conf->context_len;
    for (int i = 0; i < 4; i++)
        *p++ = (unsigned char)(clen >> (8 * i));
    if (clen > 0)
        memcpy(p, conf->context, clen);
    return need;
}

int cc_raft_conf_decode(const void *data, size_t len, struct cc_raft_conf *conf)
{
    const unsigned char *p = data;
    memset(conf, 0, sizeof(*conf));
    if (len < 11 || p[0] != CONF_VERSION)
        return CC_RAFT_ECORRUPT;
    if (p[1] != CC_RAFT_CONF_ADD && p[1] != CC_RAFT_CONF_REMOVE)
        return CC_RAFT_ECORRUPT;
    conf->op = p[1];
    conf->node = get_u64(p + 2);
    unsigned n = p[10];
    size_t off = 11;
    if (n > CC_RAFT_MAX_MEMBERS || len - off < 8 * (size_t)n + 4)
        return CC_RAFT_ECORRUPT;
    conf->membership.n = n;
    for (unsigned i = 0; i < n; i++, off += 8)
        conf->membership.ids[i] = get_u64(p + off);
    uint32_t clen = 0;
    for (int i = 0; i < 4; i++)
        clen |= (uint32_t)p[off + i] << (8 * i);
    off += 4;
    if (len - off != clen || !cc_raft_membership_valid(&conf->membership))
        return CC_RAFT_ECORRUPT;
    conf->context = clen > 0 ? p + off : NULL;
    conf->context_len = clen;
    return 0;
}
