#include "core/cluster_ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha1.h"

static uint64_t first8(const uint8_t d[20])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | d[i];
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

uint64_t cc_member_id(const struct cc_url_list *peer_urls, const char *token)
{
    const char *texts[64];
    size_t n = peer_urls->n < 64 ? peer_urls->n : 64;
    for (size_t i = 0; i < n; i++)
        texts[i] = peer_urls->v[i].text;
    qsort(texts, n, sizeof(texts[0]), cmp_str);
    struct cc_sha1 s;
    cc_sha1_init(&s);
    for (size_t i = 0; i < n; i++)
        cc_sha1_update(&s, texts[i], strlen(texts[i]));
    cc_sha1_update(&s, token, strlen(token));
    uint8_t d[20];
    cc_sha1_final(&s, d);
    return first8(d);
}

uint64_t cc_cluster_id(const uint64_t *sorted_ids, size_t n)
{
    struct cc_sha1 s;
    cc_sha1_init(&s);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[8];
        for (int j = 0; j < 8; j++)
            b[j] = (uint8_t)(sorted_ids[i] >> (56 - 8 * j));
        cc_sha1_update(&s, b, 8);
    }
    uint8_t d[20];
    cc_sha1_final(&s, d);
    return first8(d);
}

static int cmp_member(const void *a, const void *b)
{
    uint64_t x = ((const struct cc_member_def *)a)->id, y = ((const struct cc_member_def *)b)->id;
    return x < y ? -1 : x > y;
}

int cc_cluster_from_config(const struct cc_config *cfg, struct cc_cluster_def *out, char *err,
                           size_t errlen)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < cfg->n_initial; i++) {
        const struct cc_initial_member *im = &cfg->initial[i];
        size_t j = 0;
        while (j < out->n && strcmp(out->members[j].name, im->name) != 0)
            j++;
        if (j == out->n) {
            if (out->n == CC_MAX_MEMBERS) {
                snprintf(err, errlen, "more than %d members in --initial-cluster", CC_MAX_MEMBERS);
                cc_cluster_def_free(out);
                return -1;
            }
            out->members[out->n++].name = im->name;
        }
        struct cc_url_list *l = &out->members[j].peer_urls;
        struct cc_url *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
        if (nv == NULL) {
            snprintf(err, errlen, "out of memory");
            cc_cluster_def_free(out);
            return -1;
        }
        l->v = nv;
        l->v[l->n++] = im->url;
    }
    uint64_t ids[CC_MAX_MEMBERS];
    for (size_t j = 0; j < out->n; j++) {
        out->members[j].id = cc_member_id(&out->members[j].peer_urls, cfg->initial_cluster_token);
        if (strcmp(out->members[j].name, cfg->name) == 0)
            out->self_id = out->members[j].id;
    }
    qsort(out->members, out->n, sizeof(out->members[0]), cmp_member);
    for (size_t j = 0; j < out->n; j++)
        ids[j] = out->members[j].id;
    out->cluster_id = cc_cluster_id(ids, out->n);
    return 0;
}

void cc_cluster_def_free(struct cc_cluster_def *c)
{
    for (size_t j = 0; j < c->n; j++) {
        free(c->members[j].peer_urls.v);
        free(c->members[j].name_owned);
    }
    memset(c, 0, sizeof(*c));
}
