#include "core/v2/node_pool.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POOL_SLABS_DEFAULT false
#define POISON(p, n)       ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n)     ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POOL_SLABS_DEFAULT true
#define POISON(p, n)       ((void)(p), (void)(n))
#define UNPOISON(p, n)     ((void)(p), (void)(n))
#endif

#define GRAIN     16
#define N_CLASSES (CC_V2_POOL_MAX / GRAIN)
/* 256 KiB: a 1 KiB class still gets 256 blocks per slab, and a store of a
 * few keys maps little (pages are touched only as blocks are handed out). */
#define SLAB_BYTES ((size_t)256 << 10)

struct free_block {
    struct free_block *next;
};

struct size_class {
    struct free_block *free;
    char *bump, *end; /* the current slab's untouched rest */
};

static struct {
    bool slabs;
    struct size_class cls[N_CLASSES];
    size_t slab_bytes, used_bytes;
} pool = {.slabs = POOL_SLABS_DEFAULT};

void cc_v2_pool_use_slabs(bool on)
{
    pool.slabs = on;
}

static size_t class_of(size_t size)
{
    return (size + GRAIN - 1) / GRAIN - 1;
}

static bool new_slab(struct size_class *c)
{
    void *m = mmap(NULL, SLAB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return false;
    POISON(m, SLAB_BYTES);
    /* The rest of the old slab (less than one block) is abandoned. */
    c->bump = m;
    c->end = (char *)m + SLAB_BYTES;
    pool.slab_bytes += SLAB_BYTES;
    return true;
}

void *cc_v2_pool_alloc(size_t size)
{
    if (size == 0 || size > CC_V2_POOL_MAX || !pool.slabs)
        return calloc(1, size ? size : 1);
    struct size_class *c = &pool.cls[class_of(size)];
    size_t block = (class_of(size) + 1) * GRAIN;
    void *p;
    if (c->free != NULL) {
        p = c->free;
        UNPOISON(p, block);
        c->free = c->free->next;
    } else {
        if ((size_t)(c->end - c->bump) < block && !new_slab(c)) {
            errno = ENOMEM;
            return NULL;
        }
        p = c->bump;
        c->bump += block;
        UNPOISON(p, block);
    }
    pool.used_bytes += block;
    /* Fresh slab pages are zero already; a reused block is not. */
    memset(p, 0, block);
    return p;
}

void cc_v2_pool_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    if (size == 0 || size > CC_V2_POOL_MAX || !pool.slabs) {
        free(p);
        return;
    }
    struct size_class *c = &pool.cls[class_of(size)];
    size_t block = (class_of(size) + 1) * GRAIN;
    struct free_block *f = p;
    f->next = c->free;
    c->free = f;
    pool.used_bytes -= block;
    POISON((char *)p + sizeof(*f), block - sizeof(*f));
}

void cc_v2_pool_stats(struct cc_v2_pool_stats *out)
{
    out->slab_bytes = pool.slab_bytes;
    out->used_bytes = pool.used_bytes;
}
