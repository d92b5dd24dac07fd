/* Little-endian primitives; see wire.h for the contracts. Values are
 * assembled byte by byte with shifts, so the code is the same on any host
 * byte order and never makes an unaligned access. */
#include "proto/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation: big enough for a typical batch of small frames, so
 * a worker's reused output buffer settles after one or two doublings. */
#define CC_BUF_MIN_CAP 256

void cc_buf_init(struct cc_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = false;
}

void cc_buf_free(struct cc_buf *b)
{
    free(b->data);
    cc_buf_init(b);
}

void cc_buf_reset(struct cc_buf *b)
{
    b->len = 0;
    b->failed = false;
}

int cc_buf_reserve(struct cc_buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *p;

    if (b->failed)
        goto fail;
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX - b->len)
        goto fail;
    need = b->len + extra;
    /* Doubling keeps appends amortised O(1) for a buffer reused across
     * loop turns. */
    cap = b->cap ? b->cap : CC_BUF_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        goto fail;
    b->data = p;
    b->cap = cap;
    return 0;
fail:
    b->failed = true;
    errno = ENOMEM;
    return -1;
}

/* Appends n bytes of v, least significant first. */
static void put_le(struct cc_buf *b, uint64_t v, size_t n)
{
    if (cc_buf_reserve(b, n) < 0)
        return;
    for (size_t i = 0; i < n; i++)
        b->data[b->len + i] = (uint8_t)(v >> (8 * i));
    b->len += n;
}

void cc_put_u8(struct cc_buf *b, uint8_t v)
{
    put_le(b, v, 1);
}

void cc_put_u16(struct cc_buf *b, uint16_t v)
{
    put_le(b, v, 2);
}

void cc_put_u32(struct cc_buf *b, uint32_t v)
{
    put_le(b, v, 4);
}

void cc_put_u64(struct cc_buf *b, uint64_t v)
{
    put_le(b, v, 8);
}

void cc_put_raw(struct cc_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (p == NULL) {
        b->failed = true;
        errno = EINVAL;
        return;
    }
    if (cc_buf_reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void cc_put_bytes(struct cc_buf *b, const void *p, uint32_t n)
{
    if (n > 0 && p == NULL) {
        /* Writing the length without the bytes would desynchronise every
         * later field, so the whole buffer is declared failed. */
        b->failed = true;
        errno = EINVAL;
        return;
    }
    cc_put_u32(b, n);
    cc_put_raw(b, p, n);
}

void cc_put_str(struct cc_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n > UINT32_MAX) {
        b->failed = true;
        errno = EMSGSIZE;
        return;
    }
    cc_put_bytes(b, s, (uint32_t)n);
}

void cc_rd_init(struct cc_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
    r->bad = false;
}

size_t cc_rd_left(const struct cc_rd *r)
{
    return r->bad || r->off > r->len ? 0 : r->len - r->off;
}

const uint8_t *cc_get_raw(struct cc_rd *r, size_t n)
{
    const uint8_t *p;

    /* off > len can only come from a caller editing the reader; checking it
     * keeps len - off from wrapping into a huge "available" count. A NULL
     * input holds nothing, whatever len says. */
    if (r->bad || r->off > r->len || n > r->len - r->off || (r->p == NULL && n > 0)) {
        r->bad = true;
        return NULL;
    }
    /* NULL + 0 is undefined behaviour, and a view must never be NULL on
     * success: an empty view of a NULL input points at a literal. */
    if (r->p == NULL)
        return (const uint8_t *)"";
    p = r->p + r->off;
    r->off += n;
    return p;
}

/* Reads n bytes as a little-endian value; 0 on overrun. */
static uint64_t get_le(struct cc_rd *r, size_t n)
{
    const uint8_t *p = cc_get_raw(r, n);
    uint64_t v = 0;

    if (p == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint8_t cc_get_u8(struct cc_rd *r)
{
    return (uint8_t)get_le(r, 1);
}

uint16_t cc_get_u16(struct cc_rd *r)
{
    return (uint16_t)get_le(r, 2);
}

uint32_t cc_get_u32(struct cc_rd *r)
{
    return (uint32_t)get_le(r, 4);
}

uint64_t cc_get_u64(struct cc_rd *r)
{
    return get_le(r, 8);
}

const uint8_t *cc_get_bytes(struct cc_rd *r, uint32_t *n)
{
    uint32_t len = cc_get_u32(r);
    const uint8_t *p = cc_get_raw(r, len);

    *n = p ? len : 0;
    return p;
}
