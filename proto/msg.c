/* Frame codec for the messages of msg.h.
 *
 * The per-message code is generated from the field lists in msg.h: each
 * field F(KIND, name) expands to a call of the function that handles KIND
 * (DEC_U32 is dec_u32, DEC_LIST(status_link) is dec_list_status_link), so a
 * message's encoder, size planner and decoder are straight-line calls in
 * field order and cannot disagree with its struct.
 *
 * Decoding never allocates and never trusts a length: every length and list
 * count is compared with the bytes actually present before it is used. */
#include "proto/msg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Decoding state: the reader plus why it went bad when the reason is more
 * specific than "overrun", for the error message. */
struct dec {
    struct cc_rd r;
    bool list_too_long; /* a list count cannot fit in the bytes left */
    uint32_t count;     /* that count */
};

/* ---- field kinds ----
 * Every kind has its handlers even while no field uses the kind (there is no
 * U16 field but PEER_HELLO), so adding such a field is only a table edit. */
#define KIND_FN static __attribute__((unused))

KIND_FN void dec_none(struct dec *d, uint8_t *v)
{
    (void)d;
    (void)v;
}

KIND_FN void dec_u8(struct dec *d, uint8_t *v)
{
    *v = cc_get_u8(&d->r);
}

KIND_FN void dec_u16(struct dec *d, uint16_t *v)
{
    *v = cc_get_u16(&d->r);
}

KIND_FN void dec_u32(struct dec *d, uint32_t *v)
{
    *v = cc_get_u32(&d->r);
}

KIND_FN void dec_u64(struct dec *d, uint64_t *v)
{
    *v = cc_get_u64(&d->r);
}

KIND_FN void dec_bytes(struct dec *d, struct cc_bytes *v)
{
    v->p = cc_get_bytes(&d->r, &v->n);
}

KIND_FN void enc_none(struct cc_buf *b, const uint8_t *v)
{
    (void)b;
    (void)v;
}

KIND_FN void enc_u8(struct cc_buf *b, const uint8_t *v)
{
    cc_put_u8(b, *v);
}

KIND_FN void enc_u16(struct cc_buf *b, const uint16_t *v)
{
    cc_put_u16(b, *v);
}

KIND_FN void enc_u32(struct cc_buf *b, const uint32_t *v)
{
    cc_put_u32(b, *v);
}

KIND_FN void enc_u64(struct cc_buf *b, const uint64_t *v)
{
    cc_put_u64(b, *v);
}

KIND_FN void enc_bytes(struct cc_buf *b, const struct cc_bytes *v)
{
    cc_put_bytes(b, v->p, v->n);
}

/* A list was validated by its planner; its records go out verbatim. */
KIND_FN void enc_list(struct cc_buf *b, const struct cc_list *v)
{
    cc_put_u32(b, v->count);
    cc_put_raw(b, v->p, v->n);
}

/* Planners return a field's encoded size, or -1 if the field cannot be
 * encoded. Sizes are int64_t so that a few 4 GiB fields cannot overflow the
 * sum before it is compared with CC_FRAME_MAX. */
KIND_FN int64_t plan_none(const uint8_t *v)
{
    (void)v;
    return 0;
}

KIND_FN int64_t plan_u8(const uint8_t *v)
{
    (void)v;
    return 1;
}

KIND_FN int64_t plan_u16(const uint16_t *v)
{
    (void)v;
    return 2;
}

KIND_FN int64_t plan_u32(const uint32_t *v)
{
    (void)v;
    return 4;
}

KIND_FN int64_t plan_u64(const uint64_t *v)
{
    (void)v;
    return 8;
}

KIND_FN int64_t plan_bytes(const struct cc_bytes *v)
{
    if (v->n > 0 && v->p == NULL)
        return -1;
    return 4 + (int64_t)v->n;
}

#define DEC_NONE       dec_none
#define DEC_U8         dec_u8
#define DEC_U16        dec_u16
#define DEC_U32        dec_u32
#define DEC_U64        dec_u64
#define DEC_BYTES      dec_bytes
#define DEC_LIST(rec)  dec_list_##rec
#define ENC_NONE       enc_none
#define ENC_U8         enc_u8
#define ENC_U16        enc_u16
#define ENC_U32        enc_u32
#define ENC_U64        enc_u64
#define ENC_BYTES      enc_bytes
#define ENC_LIST(rec)  enc_list
#define PLAN_NONE      plan_none
#define PLAN_U8        plan_u8
#define PLAN_U16       plan_u16
#define PLAN_U32       plan_u32
#define PLAN_U64       plan_u64
#define PLAN_BYTES     plan_bytes
#define PLAN_LIST(rec) plan_list_##rec

#define DEC_FIELD(kind, name) DEC_##kind(d, &s->name);
#define ENC_FIELD(kind, name) ENC_##kind(b, &s->name);
#define PLAN_FIELD(kind, name)                                                                     \
    if ((k = PLAN_##kind(&s->name)) < 0)                                                           \
        return -1;                                                                                 \
    total += k;

/* Checks a list count against the bytes left before any item is decoded,
 * so a count of 4 billion in a short payload costs nothing. */
static bool list_fits(struct dec *d, uint32_t count, size_t min_size)
{
    if (d->r.bad)
        return false;
    if (count > cc_rd_left(&d->r) / min_size) {
        d->r.bad = true;
        d->list_too_long = true;
        d->count = count;
        return false;
    }
    return true;
}

/* ---- records ----
 * rec_dec_<rec>   decodes one record
 * walk_<rec>      decodes count records, checking the count first
 * dec_list_<rec>  decodes a LIST field: count, then the records as a view
 * plan_list_<rec> checks a list given for encoding and sizes it
 * and the public cc_msg_<rec>_next / _put. */
#define REC_CODEC(rec)                                                                             \
    _Static_assert(CC_REC_WIRE_MIN(rec) > 0,                                                       \
                   "record " #rec " must have a nonzero wire size, or a list count is unbounded"); \
                                                                                                   \
    static void rec_dec_##rec(struct dec *d, struct cc_##rec *s)                                   \
    {                                                                                              \
        CC_REC_FIELDS_##rec(DEC_FIELD);                                                            \
    }                                                                                              \
                                                                                                   \
    static void walk_##rec(struct dec *d, uint32_t count)                                          \
    {                                                                                              \
        struct cc_##rec item;                                                                      \
                                                                                                   \
        if (!list_fits(d, count, CC_REC_WIRE_MIN(rec)))                                            \
            return;                                                                                \
        for (uint32_t i = 0; i < count && !d->r.bad; i++)                                          \
            rec_dec_##rec(d, &item);                                                               \
    }                                                                                              \
                                                                                                   \
    static void dec_list_##rec(struct dec *d, struct cc_list *v)                                   \
    {                                                                                              \
        size_t start;                                                                              \
                                                                                                   \
        v->count = cc_get_u32(&d->r);                                                              \
        start = d->r.off;                                                                          \
        walk_##rec(d, v->count);                                                                   \
        if (d->r.bad) {                                                                            \
            *v = (struct cc_list){0};                                                              \
            return;                                                                                \
        }                                                                                          \
        /* start <= off <= len, and a payload is at most CC_FRAME_MAX */                           \
        v->p = d->r.p + start;                                                                     \
        v->n = (uint32_t)(d->r.off - start);                                                       \
    }                                                                                              \
                                                                                                   \
    static int64_t plan_list_##rec(const struct cc_list *v)                                        \
    {                                                                                              \
        struct dec d = {.list_too_long = false};                                                   \
                                                                                                   \
        if (v->n > 0 && v->p == NULL)                                                              \
            return -1;                                                                             \
        cc_rd_init(&d.r, v->p, v->n);                                                              \
        walk_##rec(&d, v->count);                                                                  \
        if (d.r.bad || d.r.off != d.r.len)                                                         \
            return -1;                                                                             \
        return 4 + (int64_t)v->n;                                                                  \
    }                                                                                              \
                                                                                                   \
    int cc_msg_##rec##_next(struct cc_rd *r, struct cc_##rec *out)                                 \
    {                                                                                              \
        struct dec d = {.r = *r};                                                                  \
                                                                                                   \
        memset(out, 0, sizeof *out);                                                               \
        if (!d.r.bad && d.r.off == d.r.len)                                                        \
            return 0;                                                                              \
        rec_dec_##rec(&d, out);                                                                    \
        *r = d.r;                                                                                  \
        return r->bad ? -1 : 1;                                                                    \
    }                                                                                              \
                                                                                                   \
    void cc_msg_##rec##_put(struct cc_buf *b, const struct cc_##rec *s)                            \
    {                                                                                              \
        CC_REC_FIELDS_##rec(ENC_FIELD);                                                            \
    }

CC_REC_TYPES(REC_CODEC)

struct cc_rd cc_msg_list_reader(const struct cc_list *l)
{
    struct cc_rd r;

    cc_rd_init(&r, l->p, l->n);
    return r;
}

/* ---- messages ---- */

#define MSG_CODEC(E, num, name)                                                                    \
    static void msg_dec_##name(struct dec *d, struct cc_msg_##name *s)                             \
    {                                                                                              \
        CC_MSG_FIELDS_##name(DEC_FIELD);                                                           \
    }                                                                                              \
                                                                                                   \
    static void msg_enc_##name(struct cc_buf *b, const struct cc_msg_##name *s)                    \
    {                                                                                              \
        CC_MSG_FIELDS_##name(ENC_FIELD);                                                           \
    }                                                                                              \
                                                                                                   \
    static int64_t msg_plan_##name(const struct cc_msg_##name *s)                                  \
    {                                                                                              \
        int64_t total = 0, k;                                                                      \
                                                                                                   \
        CC_MSG_FIELDS_##name(PLAN_FIELD);                                                          \
        return total;                                                                              \
    }

CC_MSG_TYPES(MSG_CODEC)

/* The switch also makes a number used twice in CC_MSG_TYPES a compile
 * error (duplicate case value). */
const char *cc_msg_name(uint16_t type)
{
    switch (type) {
#define NAME_CASE(E, num, name)                                                                    \
    case CC_MSG_##E:                                                                               \
        return #E;
        CC_MSG_TYPES(NAME_CASE)
#undef NAME_CASE
    }
    return "?";
}

/* Payload size of m, or -1 if m cannot be encoded (unknown type, bad
 * list or bytes view). */
static int64_t msg_plan(const struct cc_msg *m)
{
    switch (m->type) {
#define PLAN_CASE(E, num, name)                                                                    \
    case CC_MSG_##E:                                                                               \
        return msg_plan_##name(&m->u.name);
        CC_MSG_TYPES(PLAN_CASE)
#undef PLAN_CASE
    }
    return -1;
}

static void msg_enc(struct cc_buf *b, const struct cc_msg *m)
{
    switch (m->type) {
#define ENC_CASE(E, num, name)                                                                     \
    case CC_MSG_##E:                                                                               \
        msg_enc_##name(b, &m->u.name);                                                             \
        break;
        CC_MSG_TYPES(ENC_CASE)
#undef ENC_CASE
    }
}

/* The caller has checked that type is known. */
static void msg_dec(struct dec *d, struct cc_msg *m)
{
    switch (m->type) {
#define DEC_CASE(E, num, name)                                                                     \
    case CC_MSG_##E:                                                                               \
        msg_dec_##name(d, &m->u.name);                                                             \
        break;
        CC_MSG_TYPES(DEC_CASE)
#undef DEC_CASE
    }
}

static bool known_type(uint16_t type)
{
    return cc_msg_name(type)[0] != '?';
}

int cc_msg_encode(struct cc_buf *out, const struct cc_msg *m)
{
    int64_t size = msg_plan(m);
    size_t start = out->len;

    if (size < 0) {
        errno = EINVAL;
        return -1;
    }
    if (size > CC_FRAME_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    /* One reservation for the whole frame: after it no put can fail, so a
     * frame is either appended whole or not at all. */
    if (cc_buf_reserve(out, CC_FRAME_HEADER + (size_t)size) < 0)
        return -1;
    cc_put_u16(out, CC_FRAME_MAGIC);
    cc_put_u8(out, CC_FRAME_VERSION);
    cc_put_u8(out, 0);
    cc_put_u16(out, m->type);
    cc_put_u16(out, 0);
    cc_put_u32(out, (uint32_t)size);
    msg_enc(out, m);
    /* A planner that disagreed with its encoder would send a frame whose
     * length lies; cheap enough to refuse rather than trust. */
    if (out->failed || out->len - start != CC_FRAME_HEADER + (size_t)size) {
        out->len = start;
        errno = out->failed ? ENOMEM : EINVAL;
        return -1;
    }
    return 0;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

struct hdr {
    uint16_t type;
    uint32_t len;
};

/* Checks the header bytes present in p[0..avail), field by field, so that a
 * stream is refused as soon as its first wrong byte arrives. Returns 1 with
 * *h filled when all 12 bytes are present and valid, 0 when fewer are
 * present and those are valid, -1 with a reason otherwise. */
static int check_header(const uint8_t *p, size_t avail, struct hdr *h, char *err, size_t errlen)
{
    struct cc_rd r;
    uint16_t magic;
    uint8_t version, flags;
    uint16_t reserved;

    if (avail == 0)
        return 0;
    if (avail == 1) {
        if (p[0] != (CC_FRAME_MAGIC & 0xff))
            return fail(err, errlen, "bad magic byte 0x%02x", p[0]);
        return 0;
    }
    cc_rd_init(&r, p, avail < CC_FRAME_HEADER ? avail : CC_FRAME_HEADER);
    magic = cc_get_u16(&r);
    if (magic != CC_FRAME_MAGIC)
        return fail(err, errlen, "bad magic 0x%04x", magic);
    version = cc_get_u8(&r);
    if (r.bad)
        return 0;
    if (version != CC_FRAME_VERSION)
        return fail(err, errlen, "unsupported version %u", version);
    flags = cc_get_u8(&r);
    if (r.bad)
        return 0;
    if (flags != 0)
        return fail(err, errlen, "unknown flags 0x%02x", flags);
    h->type = cc_get_u16(&r);
    if (r.bad)
        return 0;
    if (!known_type(h->type))
        return fail(err, errlen, "unknown type %u", h->type);
    reserved = cc_get_u16(&r);
    if (r.bad)
        return 0;
    if (reserved != 0)
        return fail(err, errlen, "reserved 0x%04x in %s header", reserved, cc_msg_name(h->type));
    h->len = cc_get_u32(&r);
    if (r.bad)
        return 0;
    if (h->len > CC_FRAME_MAX)
        return fail(err, errlen, "payload length %" PRIu32 " over limit in %s", h->len,
                    cc_msg_name(h->type));
    return 1;
}

long cc_msg_need(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct hdr h;
    int rc = check_header(buf, len, &h, err, errlen);

    if (rc < 0)
        return -1;
    if (rc == 0)
        return (long)(CC_FRAME_HEADER - len);
    if (len - CC_FRAME_HEADER >= h.len)
        return 0;
    return (long)(h.len - (len - CC_FRAME_HEADER));
}

int cc_msg_next(const uint8_t *buf, size_t len, size_t *off, struct cc_msg *m, char *err,
                size_t errlen)
{
    struct hdr h;
    struct dec d = {.list_too_long = false};
    size_t avail;
    const char *name;
    int rc;

    memset(m, 0, sizeof *m);
    if (*off == len)
        return 0;
    if (*off > len)
        return fail(err, errlen, "offset %zu past end %zu", *off, len);
    avail = len - *off;
    rc = check_header(buf + *off, avail, &h, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return fail(err, errlen, "truncated header (%zu of %d bytes)", avail, CC_FRAME_HEADER);
    name = cc_msg_name(h.type);
    if (avail - CC_FRAME_HEADER < h.len)
        return fail(err, errlen, "truncated payload in %s (%zu of %" PRIu32 " bytes)", name,
                    avail - CC_FRAME_HEADER, h.len);

    cc_rd_init(&d.r, buf + *off + CC_FRAME_HEADER, h.len);
    m->type = h.type;
    msg_dec(&d, m);
    if (d.r.bad || d.r.off != d.r.len) {
        /* No half-decoded views escape to a caller that ignores -1. */
        memset(m, 0, sizeof *m);
        if (d.list_too_long)
            return fail(err, errlen, "list count %" PRIu32 " exceeds payload in %s", d.count, name);
        if (d.r.bad)
            return fail(err, errlen, "payload overrun in %s", name);
        return fail(err, errlen, "%zu trailing bytes in %s payload", d.r.len - d.r.off, name);
    }
    *off += CC_FRAME_HEADER + h.len;
    return 1;
}
