/* Member and cluster ids must be the ones etcd 2 computes from the same
 * flags: the expected values below were read from a real etcd 3.4 started
 * with --name d --initial-cluster d=http://127.0.0.1:12380 and the default
 * token (GET /v2/members and the X-Etcd-Cluster-Id header). */
#include <stdio.h>
#include <string.h>

#include "core/cluster_ids.h"
#include "core/sha1.h"
#include "tests/unit/unit.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha1_vectors(void)
{
    static const struct {
        const char *in, *want;
    } v[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct cc_sha1 s;
        uint8_t d[20];
        char h[41];
        cc_sha1_init(&s);
        cc_sha1_update(&s, v[i].in, strlen(v[i].in));
        cc_sha1_final(&s, d);
        hex(d, 20, h);
        CHECK_STR(h, v[i].want);
    }
    /* A million 'a's, fed in odd-sized pieces across block boundaries. */
    struct cc_sha1 s;
    uint8_t d[20];
    char h[41], chunk[997];
    memset(chunk, 'a', sizeof(chunk));
    cc_sha1_init(&s);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
        cc_sha1_update(&s, chunk, n);
        left -= n;
    }
    cc_sha1_final(&s, d);
    hex(d, 20, h);
    CHECK_STR(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_ids_match_etcd(void)
{
    struct cc_url_list l;
    char err[128];
    CHECK(cc_url_list_parse("http://127.0.0.1:12380", &l, err, sizeof(err)) == 0);
    uint64_t id = cc_member_id(&l, "etcd-cluster");
    CHECK(id == 0xddd67b312462fd7bULL);
    CHECK(cc_cluster_id(&id, 1) == 0xa7ef944b95711739ULL);
    /* The token salts the id. */
    CHECK(cc_member_id(&l, "my-etcd-cluster") != id);
    cc_url_list_free(&l);
}

static void test_cluster_from_flags(void)
{
    char *argv[] = {"concord",
                    "-name",
                    "etcd1",
                    "-initial-advertise-peer-urls",
                    "http://127.0.1.11:2380",
                    "-initial-cluster-token",
                    "my-etcd-cluster",
                    "-initial-cluster",
                    "etcd0=http://127.0.1.10:2380,etcd1=http://127.0.1.11:2380,etcd2=http://"
                    "127.0.1.12:2380",
                    NULL};
    struct cc_config cfg;
    char err[256];
    CHECK(cc_config_parse(&cfg, 9, argv, NULL, NULL, NULL, NULL, err, sizeof(err)) == CC_CONFIG_OK);
    struct cc_cluster_def c;
    CHECK(cc_cluster_from_config(&cfg, &c, err, sizeof(err)) == 0);
    CHECK(c.n == 3);
    for (size_t i = 1; i < c.n; i++)
        CHECK(c.members[i - 1].id < c.members[i].id);
    uint64_t ids[3];
    bool self_found = false;
    for (size_t i = 0; i < c.n; i++) {
        ids[i] = c.members[i].id;
        CHECK(c.members[i].id == cc_member_id(&c.members[i].peer_urls, "my-etcd-cluster"));
        if (strcmp(c.members[i].name, "etcd1") == 0)
            self_found = c.self_id == c.members[i].id;
    }
    CHECK(self_found);
    CHECK(c.cluster_id == cc_cluster_id(ids, 3));
    cc_cluster_def_free(&c);
    cc_config_free(&cfg);
}

int main(void)
{
    RUN(test_sha1_vectors);
    RUN(test_ids_match_etcd);
    RUN(test_cluster_from_flags);
    return unit_report();
}
