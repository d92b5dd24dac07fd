/* Memory for the store's tree nodes, apart from malloc's heap.
 *
 * A node lives as long as its key; the requests that create it live for a
 * few microseconds. From one heap, every write left its request's memory
 * as a free fragment between long-lived nodes: after 100 000 keys the http
 * worker held ~38 000 such fragments (6.9 MB), and malloc's share of a GET
 * grew from ~4 % to ~13 % searching and consolidating them
 * (docs/PERFORMANCE.md). Here nodes come from slabs of their own, one free
 * list per 16-byte size class, so neither kind of memory fragments the
 * other; a node also needs no malloc header (8 bytes less per key).
 *
 * One pool per process (the workers are single-threaded). Blocks larger
 * than CC_V2_POOL_MAX go to malloc. Slabs are kept for reuse, not given
 * back. Under AddressSanitizer the pool passes every block to malloc so
 * that use-after-free and leaks of nodes stay visible; tests switch the
 * slabs on with cc_v2_pool_use_slabs. */
#ifndef CC_CORE_V2_NODE_POOL_H
#define CC_CORE_V2_NODE_POOL_H

#include <stdbool.h>
#include <stddef.h>

#define CC_V2_POOL_MAX 1024

/* size bytes, zeroed, 16-byte aligned; NULL when out of memory. */
void *cc_v2_pool_alloc(size_t size);
/* Gives back a block of cc_v2_pool_alloc(size): the same size. */
void cc_v2_pool_free(void *p, size_t size);

struct cc_v2_pool_stats {
    size_t slab_bytes; /* mapped for slabs */
    size_t used_bytes; /* in blocks handed out from slabs */
};
void cc_v2_pool_stats(struct cc_v2_pool_stats *out);

/* For tests: whether blocks come from slabs (the default, except under
 * AddressSanitizer). Only while no block is allocated. */
void cc_v2_pool_use_slabs(bool on);

#endif
