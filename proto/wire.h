/* Bounds-checked little-endian primitives under every Concord message.
 *
 * Writing goes into a growable struct cc_buf. An allocation failure does not
 * return an error from every put: it sets the sticky flag b->failed, after
 * which every put is a no-op, so a caller writes a whole batch and checks the
 * flag once. Nothing half-written is ever sent, because a failed buffer is
 * dropped as a whole.
 *
 * Reading goes through a struct cc_rd over a caller's bytes. Any read past
 * the end sets r->bad, returns 0 (or NULL) and keeps doing so for every later
 * read, so a decoder reads all its fields and checks r->bad once at the end.
 * Nothing here allocates, and no length read from the input is trusted
 * before it is compared with the bytes actually present. */
#ifndef CC_PROTO_WIRE_H
#define CC_PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable output buffer; data[0..len) is the encoded output. */
struct cc_buf {
    uint8_t *data;
    size_t len, cap;
    bool failed; /* sticky: an allocation failed, the contents are incomplete */
};

void cc_buf_init(struct cc_buf *b);
void cc_buf_free(struct cc_buf *b);
/* Empties the buffer for reuse, keeping its memory, and clears b->failed. */
void cc_buf_reset(struct cc_buf *b);
/* Makes room for extra more bytes. 0, or -1 with errno ENOMEM and b->failed
 * set (also when b->failed was already set: nothing may follow a hole). */
int cc_buf_reserve(struct cc_buf *b, size_t extra);

void cc_put_u8(struct cc_buf *b, uint8_t v);
void cc_put_u16(struct cc_buf *b, uint16_t v);
void cc_put_u32(struct cc_buf *b, uint32_t v);
void cc_put_u64(struct cc_buf *b, uint64_t v);
/* n raw bytes, no length prefix. p may be NULL only when n is 0. */
void cc_put_raw(struct cc_buf *b, const void *p, size_t n);
/* u32 length, then the bytes. p == NULL with n > 0 is a caller bug: it marks
 * the buffer failed rather than sending garbage. */
void cc_put_bytes(struct cc_buf *b, const void *p, uint32_t n);
/* A C string as cc_put_bytes, without its NUL; NULL is the empty string. */
void cc_put_str(struct cc_buf *b, const char *s);

/* A reader over p[0..len); off is the next byte to read. */
struct cc_rd {
    const uint8_t *p;
    size_t len, off;
    bool bad; /* sticky: a read overran (or off was already past len) */
};

void cc_rd_init(struct cc_rd *r, const void *p, size_t len);
/* Bytes not read yet (0 once bad). */
size_t cc_rd_left(const struct cc_rd *r);

uint8_t cc_get_u8(struct cc_rd *r);
uint16_t cc_get_u16(struct cc_rd *r);
uint32_t cc_get_u32(struct cc_rd *r);
uint64_t cc_get_u64(struct cc_rd *r);
/* n raw bytes, no length prefix: a view into the input, NULL on overrun. */
const uint8_t *cc_get_raw(struct cc_rd *r, size_t n);
/* A u32 length and that many bytes: a zero-copy view into the input, valid
 * while the input lives. Sets *n; on overrun returns NULL with *n = 0. A
 * zero-length field returns a non-NULL pointer, so NULL always means bad. */
const uint8_t *cc_get_bytes(struct cc_rd *r, uint32_t *n);

#endif
