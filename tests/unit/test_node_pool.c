/* The tree nodes' pool (core/v2/node_pool.h): blocks are zeroed, aligned
 * and disjoint, a freed block is reused by its size class only, and a store
 * that creates, resizes and deletes nodes gives every byte back, which
 * holds only if every node is freed with the size it was allocated with.
 * The slabs are switched on explicitly, so the suite tests them under
 * AddressSanitizer too (where the pool otherwise passes blocks to malloc). */
#include <stdint.h>
#include <stdlib.h>

#include "core/v2/node_pool.h"
#include "tests/unit/test_store_util.h"

static size_t used(void)
{
    struct cc_v2_pool_stats st;
    cc_v2_pool_stats(&st);
    return st.used_bytes;
}

static void test_blocks_are_zeroed_aligned_and_disjoint(void)
{
    enum { N = 3000 };
    static unsigned char *p[N];
    static size_t size[N];
    size_t before = used();
    srand(7);
    for (int i = 0; i < N; i++) {
        size[i] = 1 + (size_t)rand() % CC_V2_POOL_MAX;
        p[i] = cc_v2_pool_alloc(size[i]);
        CHECK(p[i] != NULL);
        CHECK(((uintptr_t)p[i] & 15) == 0);
        size_t nonzero = 0;
        for (size_t k = 0; k < size[i]; k++)
            nonzero += p[i][k] != 0;
        CHECK(nonzero == 0);
        memset(p[i], i & 0xff, size[i]);
    }
    /* Every block still holds its own pattern: none overlaps another. */
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < size[i]; k++)
            if (p[i][k] != (unsigned char)(i & 0xff)) {
                CHECK(!"blocks overlap");
                break;
            }
    /* Half go back and come again: reused, and zeroed once more. */
    for (int i = 0; i < N; i += 2)
        cc_v2_pool_free(p[i], size[i]);
    for (int i = 0; i < N; i += 2) {
        p[i] = cc_v2_pool_alloc(size[i]);
        CHECK(p[i] != NULL);
        size_t nonzero = 0;
        for (size_t k = 0; k < size[i]; k++)
            nonzero += p[i][k] != 0;
        CHECK(nonzero == 0);
    }
    for (int i = 0; i < N; i++)
        cc_v2_pool_free(p[i], size[i]);
    CHECK(used() == before);
}

static void test_a_freed_block_serves_its_size_class(void)
{
    void *a = cc_v2_pool_alloc(250); /* class of 256 bytes */
    cc_v2_pool_free(a, 250);
    void *b = cc_v2_pool_alloc(100); /* another class: not a */
    CHECK(b != a);
    void *c = cc_v2_pool_alloc(241); /* same class as 250 */
    CHECK(c == a);
    CHECK(used() >= 256 + 112);
    cc_v2_pool_free(b, 100);
    cc_v2_pool_free(c, 241);
}

static void test_large_blocks_go_to_malloc(void)
{
    size_t before = used();
    void *p = cc_v2_pool_alloc(CC_V2_POOL_MAX + 1);
    CHECK(p != NULL);
    CHECK(used() == before);
    cc_v2_pool_free(p, CC_V2_POOL_MAX + 1);
}

/* Keys are created, their values change length (the node is reallocated),
 * directories come and go with their keys; the store's memory returns to
 * the pool whole. */
static void test_a_store_gives_every_node_back(void)
{
    size_t before = used();
    struct cc_v2_store *s = mk_store();
    char path[64], value[300];
    for (int i = 0; i < 500; i++) {
        snprintf(path, sizeof(path), "/1/d%d/k%d", i % 7, i);
        memset(value, 'a' + i % 26, (size_t)(i % 257));
        value[i % 257] = '\0';
        ok(s, put(path, value));
    }
    CHECK(used() > before);
    for (int i = 0; i < 500; i += 3) {
        snprintf(path, sizeof(path), "/1/d%d/k%d", i % 7, i);
        memset(value, 'z', (size_t)(i % 100));
        value[i % 100] = '\0';
        ok(s, put(path, value)); /* another length: a new node */
    }
    for (int i = 0; i < 500; i += 2) {
        snprintf(path, sizeof(path), "/1/d%d/k%d", i % 7, i);
        ok(s, rq(CC_V2_DELETE, path));
    }
    struct cc_v2_request rm = rq(CC_V2_DELETE, "/1/d3");
    rm.dir = rm.recursive = true;
    ok(s, rm);
    cc_v2_store_free(s);
    CHECK(used() == before);
}

int main(void)
{
    cc_v2_pool_use_slabs(true);
    RUN(test_blocks_are_zeroed_aligned_and_disjoint);
    RUN(test_a_freed_block_serves_its_size_class);
    RUN(test_large_blocks_go_to_malloc);
    RUN(test_a_store_gives_every_node_back);
    return unit_report();
}
