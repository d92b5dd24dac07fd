/* proto/: wire primitives and the frame codec.
 *
 * The round trip is generated from msg.h's tables like the codec itself:
 * every message type gets a fill and a compare function from its field
 * list, so a type added to CC_MSG_TYPES is tested without touching this
 * file. Fixed byte layouts (golden frames) pin the wire format, which a
 * round trip alone cannot (a codec that writes fields in the wrong order
 * reads them back in the same wrong order). */
#include "proto/msg.h"
#include "proto/wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* splitmix64: a fixed-seed PRNG, so a failure reproduces exactly. */
static uint64_t mix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* ---- test patterns ----
 * Variant 0 fills every field with zeros and empty bytes and lists, 1 with
 * all-ones and the longest bytes and lists, 2 and up with pseudo-random
 * values, so both extremes and byte-order mix-ups are covered. Byte and
 * list contents live in an arena the pattern owns. */
#define N_VARIANTS 8
#define BYTES_MAX  40
#define LIST_MAX   3

struct pat {
    uint64_t x;
    int variant;
    uint8_t *arena;
    size_t cap, used;
};

static void pat_init(struct pat *pt, int variant)
{
    pt->x = 0x5eed0000u + (uint64_t)variant;
    pt->variant = variant;
    pt->cap = 1 << 16;
    pt->used = 0;
    pt->arena = malloc(pt->cap);
    CHECK(pt->arena != NULL);
}

static void pat_free(struct pat *pt)
{
    free(pt->arena);
    pt->arena = NULL;
}

static uint64_t pat_word(struct pat *pt)
{
    if (pt->variant == 0)
        return 0;
    if (pt->variant == 1)
        return UINT64_MAX;
    return mix(&pt->x);
}

static uint32_t pat_len(struct pat *pt, uint32_t max)
{
    if (pt->variant == 0)
        return 0;
    if (pt->variant == 1)
        return max;
    return (uint32_t)(mix(&pt->x) % (max + 1));
}

static uint8_t *pat_alloc(struct pat *pt, size_t n)
{
    uint8_t *p;

    if (pt->arena == NULL || n > pt->cap - pt->used) {
        CHECK(!"pattern arena too small");
        return NULL;
    }
    p = pt->arena + pt->used;
    pt->used += n;
    return p;
}

/* Per-kind fill and compare; the X-macro names below pick them by kind. */
static void fill_none(struct pat *pt, uint8_t *v)
{
    (void)pt;
    *v = 0;
}

static void fill_u8(struct pat *pt, uint8_t *v)
{
    *v = (uint8_t)pat_word(pt);
}

/* PEER_HELLO has the only U16 field; the kind is exercised by its round trip. */
__attribute__((unused)) static void fill_u16(struct pat *pt, uint16_t *v)
{
    *v = (uint16_t)pat_word(pt);
}

static void fill_u32(struct pat *pt, uint32_t *v)
{
    *v = (uint32_t)pat_word(pt);
}

static void fill_u64(struct pat *pt, uint64_t *v)
{
    *v = pat_word(pt);
}

static void fill_bytes(struct pat *pt, struct cc_bytes *v)
{
    uint32_t n = pat_len(pt, BYTES_MAX);
    uint8_t *p = pat_alloc(pt, n);

    v->p = p;
    v->n = p ? n : 0;
    for (uint32_t i = 0; i < v->n; i++)
        p[i] = (uint8_t)pat_word(pt);
}

static bool same_none(const uint8_t *a, const uint8_t *b)
{
    (void)a;
    (void)b;
    return true;
}

static bool same_u8(const uint8_t *a, const uint8_t *b)
{
    return *a == *b;
}

__attribute__((unused)) static bool same_u16(const uint16_t *a, const uint16_t *b)
{
    return *a == *b;
}

static bool same_u32(const uint32_t *a, const uint32_t *b)
{
    return *a == *b;
}

static bool same_u64(const uint64_t *a, const uint64_t *b)
{
    return *a == *b;
}

static bool same_bytes(const struct cc_bytes *a, const struct cc_bytes *b)
{
    /* A decoded view is never NULL, even when empty (wire.h). */
    if (b->p == NULL && a->p != NULL)
        return false;
    return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

#define FILL_NONE      fill_none
#define FILL_U8        fill_u8
#define FILL_U16       fill_u16
#define FILL_U32       fill_u32
#define FILL_U64       fill_u64
#define FILL_BYTES     fill_bytes
#define FILL_LIST(rec) fill_list_##rec
#define SAME_NONE      same_none
#define SAME_U8        same_u8
#define SAME_U16       same_u16
#define SAME_U32       same_u32
#define SAME_U64       same_u64
#define SAME_BYTES     same_bytes
#define SAME_LIST(rec) same_list_##rec

#define FILL_FIELD(kind, name) FILL_##kind(pt, &s->name);
#define SAME_FIELD(kind, name)                                                                     \
    if (!SAME_##kind(&a->name, &b->name)) {                                                        \
        fprintf(stderr, "  field %s differs\n", #name);                                            \
        ok = false;                                                                                \
    }

/* For each record: fill one, compare two, build a list of them (checking
 * each record's own put/next round trip against the struct it came from),
 * and compare two lists item by item. */
#define REC_TEST_FNS(rec)                                                                          \
    static void fill_rec_##rec(struct pat *pt, struct cc_##rec *s)                                 \
    {                                                                                              \
        CC_REC_FIELDS_##rec(FILL_FIELD);                                                           \
    }                                                                                              \
                                                                                                   \
    static bool same_rec_##rec(const struct cc_##rec *a, const struct cc_##rec *b)                 \
    {                                                                                              \
        bool ok = true;                                                                            \
                                                                                                   \
        CC_REC_FIELDS_##rec(SAME_FIELD);                                                           \
        return ok;                                                                                 \
    }                                                                                              \
                                                                                                   \
    static void fill_list_##rec(struct pat *pt, struct cc_list *v)                                 \
    {                                                                                              \
        struct cc_buf b;                                                                           \
        uint32_t count = pat_len(pt, LIST_MAX);                                                    \
        uint8_t *p;                                                                                \
                                                                                                   \
        cc_buf_init(&b);                                                                           \
        for (uint32_t i = 0; i < count; i++) {                                                     \
            struct cc_##rec item, back;                                                            \
            struct cc_rd r;                                                                        \
            size_t at = b.len;                                                                     \
                                                                                                   \
            fill_rec_##rec(pt, &item);                                                             \
            cc_msg_##rec##_put(&b, &item);                                                         \
            CHECK(!b.failed);                                                                      \
            cc_rd_init(&r, b.data + at, b.len - at);                                               \
            CHECK(cc_msg_##rec##_next(&r, &back) == 1);                                            \
            CHECK(same_rec_##rec(&item, &back));                                                   \
            CHECK(r.off == r.len);                                                                 \
            CHECK(cc_msg_##rec##_next(&r, &back) == 0);                                            \
        }                                                                                          \
        p = pat_alloc(pt, b.len);                                                                  \
        if (p != NULL && b.len > 0)                                                                \
            memcpy(p, b.data, b.len);                                                              \
        v->count = count;                                                                          \
        v->p = p;                                                                                  \
        v->n = (uint32_t)b.len;                                                                    \
        cc_buf_free(&b);                                                                           \
    }                                                                                              \
                                                                                                   \
    static bool same_list_##rec(const struct cc_list *a, const struct cc_list *b)                  \
    {                                                                                              \
        struct cc_rd ra = cc_msg_list_reader(a), rb = cc_msg_list_reader(b);                       \
        struct cc_##rec ia, ib;                                                                    \
        uint32_t seen = 0;                                                                         \
        int ka, kb;                                                                                \
                                                                                                   \
        if (a->count != b->count || a->n != b->n)                                                  \
            return false;                                                                          \
        while ((ka = cc_msg_##rec##_next(&ra, &ia)) == 1 &&                                        \
               (kb = cc_msg_##rec##_next(&rb, &ib)) == 1) {                                        \
            if (!same_rec_##rec(&ia, &ib)) {                                                       \
                fprintf(stderr, "  %s item %u differs\n", #rec, seen);                             \
                return false;                                                                      \
            }                                                                                      \
            seen++;                                                                                \
        }                                                                                          \
        return ka == 0 && cc_msg_##rec##_next(&rb, &ib) == 0 && seen == a->count;                  \
    }

CC_REC_TYPES(REC_TEST_FNS)

#define MSG_TEST_FNS(E, num, name)                                                                 \
    static void fill_msg_##name(struct pat *pt, struct cc_msg *m)                                  \
    {                                                                                              \
        struct cc_msg_##name *s = &m->u.name;                                                      \
                                                                                                   \
        memset(m, 0, sizeof *m);                                                                   \
        m->type = CC_MSG_##E;                                                                      \
        CC_MSG_FIELDS_##name(FILL_FIELD);                                                          \
    }                                                                                              \
                                                                                                   \
    static bool same_msg_##name(const struct cc_msg *ma, const struct cc_msg *mb)                  \
    {                                                                                              \
        const struct cc_msg_##name *a = &ma->u.name, *b = &mb->u.name;                             \
        bool ok = true;                                                                            \
                                                                                                   \
        CC_MSG_FIELDS_##name(SAME_FIELD);                                                          \
        return ok;                                                                                 \
    }

CC_MSG_TYPES(MSG_TEST_FNS)

/* The table the round-trip tests iterate: one row per CC_MSG_TYPES row. */
struct msg_case {
    uint16_t type;
    const char *name;
    void (*fill)(struct pat *pt, struct cc_msg *m);
    bool (*same)(const struct cc_msg *a, const struct cc_msg *b);
};

static const struct msg_case msg_cases[] = {
#define CASE_ROW(E, num, name) {CC_MSG_##E, #E, fill_msg_##name, same_msg_##name},
    CC_MSG_TYPES(CASE_ROW)
#undef CASE_ROW
};
#define N_CASES (sizeof msg_cases / sizeof msg_cases[0])

static const struct msg_case *find_case(uint16_t type)
{
    for (size_t i = 0; i < N_CASES; i++)
        if (msg_cases[i].type == type)
            return &msg_cases[i];
    abort(); /* the test names a type the table lost */
}

/* Compares decoded with expected, type included. */
static bool same_msg(const struct msg_case *c, const struct cc_msg *want, const struct cc_msg *got)
{
    if (got->type != want->type) {
        fprintf(stderr, "  type %u, want %u\n", got->type, want->type);
        return false;
    }
    return c->same(want, got);
}

/* Encodes case c, variant v, into out; *m gets the message (its views point
 * into pt's arena). */
static void encode_case(const struct msg_case *c, struct pat *pt, struct cc_msg *m,
                        struct cc_buf *out)
{
    c->fill(pt, m);
    CHECK(cc_msg_encode(out, m) == 0);
}

static bool has(const char *s, const char *part)
{
    return strstr(s, part) != NULL;
}

/* Walks every frame of buf and checks the walk's invariants; on each frame
 * decoded, re-encoding must give the same bytes. Returns the last result. */
static int walk_all(const uint8_t *buf, size_t len)
{
    struct cc_buf again;
    struct cc_msg m;
    char err[128];
    size_t off = 0, start;
    int rc;

    cc_buf_init(&again);
    for (;;) {
        start = off;
        err[0] = '\0';
        rc = cc_msg_next(buf, len, &off, &m, err, sizeof err);
        CHECK(rc >= -1 && rc <= 1);
        if (rc <= 0) {
            CHECK(off == start);
            CHECK(rc == 0 ? off == len : err[0] != '\0');
            break;
        }
        CHECK(off > start && off <= len);
        cc_buf_reset(&again);
        CHECK(cc_msg_encode(&again, &m) == 0);
        CHECK(again.len == off - start && memcmp(again.data, buf + start, again.len) == 0);
        CHECK(cc_msg_need(buf + start, len - start, err, sizeof err) == 0);
    }
    cc_buf_free(&again);
    return rc;
}

/* ---- wire primitives ---- */

static void test_wire_little_endian(void)
{
    static const uint8_t want[] = {0xab, 0x02, 0x01, 0x04, 0x03, 0x02, 0x01, 0x08, 0x07,
                                   0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 2,    0,    0,
                                   0,    'h',  'i',  0,    0,    0,    0};
    struct cc_buf b;
    struct cc_rd r;
    const uint8_t *p;
    uint32_t n;

    cc_buf_init(&b);
    cc_put_u8(&b, 0xab);
    cc_put_u16(&b, 0x0102);
    cc_put_u32(&b, 0x01020304);
    cc_put_u64(&b, 0x0102030405060708u);
    cc_put_str(&b, "hi");
    cc_put_str(&b, NULL);
    CHECK(!b.failed);
    CHECK(b.len == sizeof want && memcmp(b.data, want, sizeof want) == 0);

    cc_rd_init(&r, b.data, b.len);
    CHECK(cc_get_u8(&r) == 0xab);
    CHECK(cc_get_u16(&r) == 0x0102);
    CHECK(cc_get_u32(&r) == 0x01020304);
    CHECK(cc_get_u64(&r) == 0x0102030405060708u);
    p = cc_get_bytes(&r, &n);
    CHECK(n == 2 && p == b.data + 19); /* a view, not a copy */
    p = cc_get_bytes(&r, &n);
    CHECK(p != NULL && n == 0);
    CHECK(!r.bad && r.off == r.len && cc_rd_left(&r) == 0);
    cc_buf_free(&b);
}

static void test_wire_overrun_is_sticky(void)
{
    static const uint8_t in[] = {1, 2, 3, 0xff, 0xff, 0xff, 0xff, 9};
    struct cc_rd r;
    uint32_t n = 7;

    cc_rd_init(&r, in, 3);
    CHECK(cc_get_u32(&r) == 0 && r.bad);
    CHECK(cc_get_u8(&r) == 0); /* a byte is there, but the reader is bad */
    CHECK(cc_rd_left(&r) == 0);

    /* A length prefix larger than the input is refused, not followed. */
    cc_rd_init(&r, in + 3, 5);
    CHECK(cc_get_bytes(&r, &n) == NULL && n == 0 && r.bad);

    cc_rd_init(&r, NULL, 0);
    CHECK(cc_get_u8(&r) == 0 && r.bad);

    cc_rd_init(&r, in, sizeof in);
    r.off = sizeof in + 1; /* a caller's bug must not wrap len - off */
    CHECK(cc_get_raw(&r, 1) == NULL && r.bad);
}

static void test_wire_failed_is_sticky(void)
{
    struct cc_buf b;

    cc_buf_init(&b);
    cc_put_u32(&b, 1);
    CHECK(cc_buf_reserve(&b, SIZE_MAX) == -1 && errno == ENOMEM && b.failed);
    cc_put_u8(&b, 2); /* must not land after the hole */
    CHECK(b.len == 4 && cc_buf_reserve(&b, 1) == -1);
    cc_buf_reset(&b);
    CHECK(!b.failed && b.len == 0);
    cc_put_bytes(&b, NULL, 3); /* a length without its bytes */
    CHECK(b.failed && b.len == 0);
    cc_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

/* ---- round trips ---- */

/* Wire numbers are forever: a renumbered message would be misread by a
 * worker or member still running the previous binary. New types need no
 * row here. */
static void test_names_and_numbers(void)
{
    static const struct {
        uint16_t type;
        const char *name;
    } pinned[] = {
        {1, "READY"},          {2, "STATUS"},      {3, "STOP"},
        {4, "PEER_RESTARTED"}, {5, "LOG_REOPEN"},  {16, "HELLO"},
        {17, "HELLO_ACK"},     {18, "HEALTH_REQ"}, {19, "HEALTH_RESP"},
    };

    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++)
        CHECK_STR(cc_msg_name(pinned[i].type), pinned[i].name);
    for (size_t i = 0; i < N_CASES; i++)
        CHECK_STR(cc_msg_name(msg_cases[i].type), msg_cases[i].name);
    CHECK_STR(cc_msg_name(0), "?");
    CHECK_STR(cc_msg_name(999), "?");
}

static void test_round_trip_every_type(void)
{
    int frames = 0;

    for (size_t i = 0; i < N_CASES; i++) {
        const struct msg_case *c = &msg_cases[i];

        for (int v = 0; v < N_VARIANTS; v++) {
            struct pat pt;
            struct cc_msg want, got;
            struct cc_buf out;
            struct cc_rd h;
            char err[128] = "";
            size_t off = 0;

            pat_init(&pt, v);
            cc_buf_init(&out);
            encode_case(c, &pt, &want, &out);

            cc_rd_init(&h, out.data, out.len);
            CHECK(cc_get_u16(&h) == CC_FRAME_MAGIC);
            CHECK(cc_get_u8(&h) == CC_FRAME_VERSION);
            CHECK(cc_get_u8(&h) == 0);
            CHECK(cc_get_u16(&h) == c->type);
            CHECK(cc_get_u16(&h) == 0);
            CHECK(cc_get_u32(&h) == out.len - CC_FRAME_HEADER);

            CHECK(cc_msg_next(out.data, out.len, &off, &got, err, sizeof err) == 1);
            CHECK_STR(err, "");
            CHECK(off == out.len);
            if (!same_msg(c, &want, &got))
                fprintf(stderr, "  %s variant %d differs\n", c->name, v);
            CHECK(same_msg(c, &want, &got));
            CHECK(cc_msg_next(out.data, out.len, &off, &got, err, sizeof err) == 0);
            frames++;
            cc_buf_free(&out);
            pat_free(&pt);
        }
    }
    CHECK(frames == (int)N_CASES * N_VARIANTS);
}

/* Every type and variant in one buffer, as a worker batches a loop turn
 * into one nanomsg message; they come out in order, then a clean end. */
static void test_batched_frames(void)
{
    struct pat pts[N_VARIANTS];
    struct cc_msg want[N_CASES * N_VARIANTS], got;
    struct cc_buf out;
    size_t off = 0, k = 0;
    char err[128];

    cc_buf_init(&out);
    for (int v = 0; v < N_VARIANTS; v++) {
        pat_init(&pts[v], v);
        for (size_t i = 0; i < N_CASES; i++)
            encode_case(&msg_cases[i], &pts[v], &want[k++], &out);
    }
    k = 0;
    for (int v = 0; v < N_VARIANTS; v++)
        for (size_t i = 0; i < N_CASES; i++) {
            CHECK(cc_msg_next(out.data, out.len, &off, &got, err, sizeof err) == 1);
            CHECK(same_msg(&msg_cases[i], &want[k], &got));
            k++;
        }
    CHECK(off == out.len);
    CHECK(cc_msg_next(out.data, out.len, &off, &got, err, sizeof err) == 0);
    CHECK(walk_all(out.data, out.len) == 0);
    cc_buf_free(&out);
    for (int v = 0; v < N_VARIANTS; v++)
        pat_free(&pts[v]);
}

/* The wire layout itself, byte by byte, from the header comment in msg.h. */
static void test_golden_bytes(void)
{
    /* One field per line; clang-format would align the bytes into columns. */
    /* clang-format off */
    static const uint8_t ready[] = {
        0x43, 0x43, 4, 0, 1, 0, 0, 0, 13, 0, 0, 0, /* header: READY, 13 bytes */
        3,                                         /* kind */
        8, 7, 6, 5, 4, 3, 2, 1,                    /* gen */
        0x0d, 0x0c, 0x0b, 0x0a,                    /* pid */
    };
    static const uint8_t status[] = {
        0x43, 0x43, 4, 0, 2, 0, 0, 0, 60, 0, 0, 0, /* header: STATUS, 60 bytes */
        9, 0, 0, 0, 0, 0, 0, 0,                    /* gen */
        0x2a, 0, 0, 0,                             /* pid */
        5, 0, 0, 0,                                /* queue_depth */
        6, 0, 0, 0,                                /* inflight */
        1, 0, 0, 0,                                /* links: count */
        2,                                         /*   peer_kind */
        1,                                         /*   state */
        7, 0, 0, 0,                                /*   sendq */
        0x10, 0, 0, 0, 0, 0, 0, 0,                 /*   sent */
        0x20, 0, 0, 0, 0, 0, 0, 0,                 /*   received */
        0x30, 0, 0, 0, 0, 0, 0, 0,                 /*   peer_gen */
        2, 0, 0, 0, '{', '}',                      /* detail */
    };
    /* clang-format on */
    struct cc_status_link link = {2, 1, 7, 0x10, 0x20, 0x30};
    struct cc_buf out, lb;
    struct cc_msg m = {.type = CC_MSG_READY};

    cc_buf_init(&out);
    cc_buf_init(&lb);
    m.u.ready = (struct cc_msg_ready){.kind = 3, .gen = 0x0102030405060708u, .pid = 0x0a0b0c0d};
    CHECK(cc_msg_encode(&out, &m) == 0);
    CHECK(out.len == sizeof ready && memcmp(out.data, ready, sizeof ready) == 0);

    cc_buf_reset(&out);
    cc_msg_status_link_put(&lb, &link);
    m = (struct cc_msg){.type = CC_MSG_STATUS};
    m.u.status = (struct cc_msg_status){.gen = 9,
                                        .pid = 42,
                                        .queue_depth = 5,
                                        .inflight = 6,
                                        .links = {1, lb.data, (uint32_t)lb.len},
                                        .detail = {(const uint8_t *)"{}", 2}};
    CHECK(cc_msg_encode(&out, &m) == 0);
    CHECK(out.len == sizeof status && memcmp(out.data, status, sizeof status) == 0);
    cc_buf_free(&out);
    cc_buf_free(&lb);
}

/* ---- streams ---- */

/* A TCP reader sees every possible split of a 3-frame stream; cc_msg_need
 * must name the exact shortfall, and never refuse a valid prefix. */
static void test_need_every_prefix(void)
{
    /* STATUS has lists and bytes, LOG_REOPEN an empty payload */
    static const uint16_t types[3] = {CC_MSG_STATUS, CC_MSG_READY, CC_MSG_LOG_REOPEN};
    struct pat pt;
    struct cc_msg m;
    struct cc_buf s;
    size_t ends[3];
    char err[128];

    pat_init(&pt, 1);
    cc_buf_init(&s);
    for (int i = 0; i < 3; i++) {
        encode_case(find_case(types[i]), &pt, &m, &s);
        ends[i] = s.len;
    }
    CHECK(ends[2] - ends[1] == CC_FRAME_HEADER);

    for (size_t len = 0; len <= s.len; len++) {
        size_t pos = 0, frames = 0, want_frames = 0, have;
        long need, want;

        /* what a stream reader does with the first len bytes */
        for (;;) {
            need = cc_msg_need(s.data + pos, len - pos, err, sizeof err);
            if (need != 0 || cc_msg_next(s.data, len, &pos, &m, err, sizeof err) != 1)
                break;
            frames++;
        }
        while (want_frames < 3 && ends[want_frames] <= len)
            want_frames++;
        CHECK(frames == want_frames);
        CHECK(pos == (frames ? ends[frames - 1] : 0));
        /* a partial header: the rest of it; else the rest of the frame */
        have = len - pos;
        if (have < CC_FRAME_HEADER)
            want = (long)(CC_FRAME_HEADER - have);
        else
            want = (long)(ends[frames] - len);
        CHECK(need == want);
    }
    cc_buf_free(&s);
    pat_free(&pt);
}

static void test_need_refuses_bad_header(void)
{
    uint8_t h[CC_FRAME_HEADER] = {0x43, 0x43, CC_FRAME_VERSION, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    char err[128];

    CHECK(cc_msg_need((const uint8_t *)"GET / HTTP/1.1\r\n", 16, err, sizeof err) == -1);
    CHECK_STR(err, "bad magic 0x4547");
    CHECK(cc_msg_need((const uint8_t *)"G", 1, err, sizeof err) == -1);
    CHECK_STR(err, "bad magic byte 0x47");
    CHECK(cc_msg_need((const uint8_t *)"C", 1, err, sizeof err) == 11);
    CHECK(cc_msg_need(NULL, 0, err, sizeof err) == CC_FRAME_HEADER);

    h[2] = CC_FRAME_VERSION + 1;
    CHECK(cc_msg_need(h, 3, err, sizeof err) == -1);
    CHECK_STR(err, "unsupported version 5");
    h[2] = CC_FRAME_VERSION;
    h[4] = 0xe7; /* type 999 */
    h[5] = 0x03;
    CHECK(cc_msg_need(h, 5, err, sizeof err) == 7); /* half a type: not judged yet */
    CHECK(cc_msg_need(h, 6, err, sizeof err) == -1);
    CHECK_STR(err, "unknown type 999");
    h[4] = 1;
    h[5] = 0;
    h[8] = 1; /* length 0x01000001: 16 MiB + 1 */
    h[11] = 1;
    CHECK(cc_msg_need(h, sizeof h, err, sizeof err) == -1);
    CHECK_STR(err, "payload length 16777217 over limit in READY");
    h[8] = 13;
    h[11] = 0;
    CHECK(cc_msg_need(h, sizeof h, err, sizeof err) == 13);
}

/* ---- rejection ---- */

/* One header for hand-made frames. */
static void put_header(struct cc_buf *b, uint16_t magic, uint8_t version, uint16_t type,
                       uint32_t len)
{
    cc_put_u16(b, magic);
    cc_put_u8(b, version);
    cc_put_u8(b, 0);
    cc_put_u16(b, type);
    cc_put_u16(b, 0);
    cc_put_u32(b, len);
}

/* Overwrites a little-endian u32 inside a frame. */
static void poke_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Decodes a single hand-made buffer and returns the reason it was refused,
 * or "" if it was not. */
static const char *reject(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    struct cc_msg m;
    size_t off = 0;

    err[0] = '\0';
    if (cc_msg_next(buf, len, &off, &m, err, errlen) != -1) {
        snprintf(err, errlen, "(accepted)");
        return err;
    }
    if (off != 0 || m.type != 0)
        snprintf(err, errlen, "(moved or filled on error)");
    return err;
}

static void test_reject_every_truncation(void)
{
    char err[128], want[96];
    int tried = 0;

    for (size_t i = 0; i < N_CASES; i++) {
        const struct msg_case *c = &msg_cases[i];
        struct pat pt;
        struct cc_msg m;
        struct cc_buf f, t;
        size_t plen;

        pat_init(&pt, 1);
        cc_buf_init(&f);
        cc_buf_init(&t);
        encode_case(c, &pt, &m, &f);
        plen = f.len - CC_FRAME_HEADER;

        /* The buffer ends early: the header announces more than is there. */
        for (size_t len = 1; len < f.len; len++, tried++) {
            reject(f.data, len, err, sizeof err);
            if (len < CC_FRAME_HEADER)
                snprintf(want, sizeof want, "truncated header (%zu of 12 bytes)", len);
            else
                snprintf(want, sizeof want, "truncated payload in %s (%zu of %zu bytes)", c->name,
                         len - CC_FRAME_HEADER, plen);
            CHECK_STR(err, want);
        }
        /* The payload ends early but the header agrees: the fields overrun. */
        for (size_t k = 0; k < plen; k++, tried++) {
            cc_buf_reset(&t);
            put_header(&t, CC_FRAME_MAGIC, CC_FRAME_VERSION, c->type, (uint32_t)k);
            cc_put_raw(&t, f.data + CC_FRAME_HEADER, k);
            reject(t.data, t.len, err, sizeof err);
            snprintf(want, sizeof want, "payload overrun in %s", c->name);
            if (!(strcmp(err, want) == 0 ||
                  (has(err, "list count ") && has(err, " exceeds payload in ") &&
                   has(err, c->name))))
                fprintf(stderr, "  %s cut to %zu: \"%s\"\n", c->name, k, err);
            CHECK(strcmp(err, want) == 0 || (has(err, "list count ") && has(err, c->name)));
        }
        cc_buf_free(&f);
        cc_buf_free(&t);
        pat_free(&pt);
    }
    CHECK(tried > 300);
}

static void test_reject_bad_header(void)
{
    struct cc_buf b;
    char err[128];

    cc_buf_init(&b);
    put_header(&b, 0x1234, CC_FRAME_VERSION, CC_MSG_STOP, 4);
    cc_put_u32(&b, 0);
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "bad magic 0x1234");

    cc_buf_reset(&b);
    put_header(&b, CC_FRAME_MAGIC, CC_FRAME_VERSION + 1, CC_MSG_STOP, 4);
    cc_put_u32(&b, 0);
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "unsupported version 5");
    b.data[2] = 0;
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "unsupported version 0");
    b.data[2] = CC_FRAME_VERSION;
    b.data[3] = 0x80;
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "unknown flags 0x80");
    b.data[3] = 0;
    b.data[6] = 1;
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "reserved 0x0001 in STOP header");
    b.data[6] = 0;
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "(accepted)"); /* the control */

    cc_buf_reset(&b);
    put_header(&b, CC_FRAME_MAGIC, CC_FRAME_VERSION, 999, 0);
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "unknown type 999");
    cc_buf_reset(&b);
    put_header(&b, CC_FRAME_MAGIC, CC_FRAME_VERSION, 0, 0);
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "unknown type 0");
    cc_buf_free(&b);
}

static void test_reject_oversize(void)
{
    struct cc_buf b;
    char err[128];

    cc_buf_init(&b);
    /* Over the limit: refused from the header alone, whatever follows. */
    put_header(&b, CC_FRAME_MAGIC, CC_FRAME_VERSION, CC_MSG_STATUS, CC_FRAME_MAX + 1);
    cc_put_u64(&b, 0);
    CHECK_STR(reject(b.data, b.len, err, sizeof err),
              "payload length 16777217 over limit in STATUS");
    cc_buf_reset(&b);
    put_header(&b, CC_FRAME_MAGIC, CC_FRAME_VERSION, CC_MSG_STATUS, UINT32_MAX);
    CHECK_STR(reject(b.data, b.len, err, sizeof err),
              "payload length 4294967295 over limit in STATUS");
    /* Within the limit but more than the buffer holds. */
    cc_buf_reset(&b);
    put_header(&b, CC_FRAME_MAGIC, CC_FRAME_VERSION, CC_MSG_STOP, CC_FRAME_MAX);
    cc_put_u32(&b, 0);
    CHECK_STR(reject(b.data, b.len, err, sizeof err),
              "truncated payload in STOP (4 of 16777216 bytes)");
    cc_buf_free(&b);
}

/* Bytes left over after the last field mean the sender and receiver do not
 * agree on the message: refused for every type, even an empty one. */
static void test_reject_trailing_bytes(void)
{
    char err[128], want[96];

    for (size_t i = 0; i < N_CASES; i++) {
        const struct msg_case *c = &msg_cases[i];
        struct pat pt;
        struct cc_msg m;
        struct cc_buf f, t;

        pat_init(&pt, 2);
        cc_buf_init(&f);
        cc_buf_init(&t);
        encode_case(c, &pt, &m, &f);
        put_header(&t, CC_FRAME_MAGIC, CC_FRAME_VERSION, c->type,
                   (uint32_t)(f.len - CC_FRAME_HEADER + 3));
        cc_put_raw(&t, f.data + CC_FRAME_HEADER, f.len - CC_FRAME_HEADER);
        cc_put_raw(&t, "xyz", 3);
        snprintf(want, sizeof want, "3 trailing bytes in %s payload", c->name);
        CHECK_STR(reject(t.data, t.len, err, sizeof err), want);
        cc_buf_free(&f);
        cc_buf_free(&t);
        pat_free(&pt);
    }
}

/* A huge list count in a short payload is refused by arithmetic before any
 * item is read; an overrun after the items would give another reason. */
static void test_reject_huge_list_count(void)
{
    struct cc_buf b;
    char err[128];

    cc_buf_init(&b);
    put_header(&b, CC_FRAME_MAGIC, CC_FRAME_VERSION, CC_MSG_STATUS, 8 + 4 + 4 + 4 + 4 + 30 + 4);
    cc_put_u64(&b, 1); /* gen */
    cc_put_u32(&b, 2); /* pid */
    cc_put_u32(&b, 3); /* queue_depth */
    cc_put_u32(&b, 4); /* inflight */
    cc_put_u32(&b, UINT32_MAX);
    for (int i = 0; i < 30; i++) /* the bytes of exactly one record */
        cc_put_u8(&b, 0);
    cc_put_u32(&b, 0); /* detail */
    CHECK_STR(reject(b.data, b.len, err, sizeof err),
              "list count 4294967295 exceeds payload in STATUS");

    /* Count 1 is exact: accepted. Count 2 is refused by the same arithmetic
     * (the 34 bytes left hold at most one 30-byte record), not by an overrun
     * after decoding the first item. */
    CHECK(CC_REC_WIRE_MIN(status_link) == 30);
    poke_u32(b.data + CC_FRAME_HEADER + 20, 1);
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "(accepted)");
    poke_u32(b.data + CC_FRAME_HEADER + 20, 2);
    CHECK_STR(reject(b.data, b.len, err, sizeof err), "list count 2 exceeds payload in STATUS");
    cc_buf_free(&b);
}

/* After a bad frame nothing more is handed out, and the good frames before
 * it were. */
static void test_bad_frame_after_good_ones(void)
{
    struct pat pt;
    struct cc_msg m;
    struct cc_buf b;
    size_t off = 0, bad_at;
    char err[128];

    pat_init(&pt, 3);
    cc_buf_init(&b);
    encode_case(&msg_cases[0], &pt, &m, &b);
    encode_case(&msg_cases[1], &pt, &m, &b);
    bad_at = b.len;
    put_header(&b, 0x4242, CC_FRAME_VERSION, CC_MSG_READY, 0);
    encode_case(&msg_cases[2], &pt, &m, &b);
    CHECK(cc_msg_next(b.data, b.len, &off, &m, err, sizeof err) == 1);
    CHECK(cc_msg_next(b.data, b.len, &off, &m, err, sizeof err) == 1);
    CHECK(off == bad_at);
    CHECK(cc_msg_next(b.data, b.len, &off, &m, err, sizeof err) == -1);
    CHECK_STR(err, "bad magic 0x4242");
    CHECK(off == bad_at);
    off = b.len + 1;
    CHECK(cc_msg_next(b.data, b.len, &off, &m, err, sizeof err) == -1);
    cc_buf_free(&b);
    pat_free(&pt);
}

/* Encoding refuses what it could not decode, and leaves the buffer as it
 * was (a frame is appended whole or not at all). */
static void test_encode_refuses(void)
{
    struct cc_status_link link = {1, 1, 2, 3, 4, 5};
    struct cc_buf out, lb;
    struct cc_msg m = {.type = CC_MSG_STATUS};
    uint8_t *big;

    cc_buf_init(&out);
    cc_buf_init(&lb);
    cc_put_u32(&out, 0xdeadbeef);

    m.type = 999;
    CHECK(cc_msg_encode(&out, &m) == -1 && errno == EINVAL && out.len == 4);

    cc_msg_status_link_put(&lb, &link);
    m.type = CC_MSG_STATUS;
    m.u.status.links = (struct cc_list){2, lb.data, (uint32_t)lb.len}; /* count says 2 */
    CHECK(cc_msg_encode(&out, &m) == -1 && errno == EINVAL && out.len == 4);
    m.u.status.links = (struct cc_list){1, lb.data, (uint32_t)lb.len - 1}; /* cut record */
    CHECK(cc_msg_encode(&out, &m) == -1 && errno == EINVAL && out.len == 4);
    m.u.status.links = (struct cc_list){0, lb.data, (uint32_t)lb.len}; /* stray bytes */
    CHECK(cc_msg_encode(&out, &m) == -1 && errno == EINVAL && out.len == 4);
    m.u.status.links = (struct cc_list){UINT32_MAX, lb.data, (uint32_t)lb.len};
    CHECK(cc_msg_encode(&out, &m) == -1 && errno == EINVAL && out.len == 4);
    m.u.status.links = (struct cc_list){1, lb.data, (uint32_t)lb.len};
    m.u.status.detail = (struct cc_bytes){NULL, 5};
    CHECK(cc_msg_encode(&out, &m) == -1 && errno == EINVAL && out.len == 4);

    big = calloc(1, CC_FRAME_MAX);
    CHECK(big != NULL);
    if (big != NULL) {
        /* the payload is the 16 MiB detail plus the other fields */
        m.u.status.detail = (struct cc_bytes){big, CC_FRAME_MAX};
        CHECK(cc_msg_encode(&out, &m) == -1 && errno == EMSGSIZE && out.len == 4);
        m.u.status.detail.n = CC_FRAME_MAX - 4 - (8 + 4 + 4 + 4 + 4 + (uint32_t)lb.len);
        CHECK(cc_msg_encode(&out, &m) == 0);
        CHECK(out.len == 4 + CC_FRAME_HEADER + CC_FRAME_MAX);
        CHECK(walk_all(out.data + 4, out.len - 4) == 0);
        free(big);
    }
    CHECK(!out.failed);
    out.len = 4;

    m.u.status.detail = (struct cc_bytes){NULL, 0};
    CHECK(cc_buf_reserve(&out, SIZE_MAX) == -1);
    CHECK(cc_msg_encode(&out, &m) == -1 && errno == ENOMEM && out.len == 4);
    cc_buf_free(&out);
    cc_buf_free(&lb);
}

/* Random bytes, and valid batches with a few bytes changed, through the
 * decoder: every result must be -1, 0 or 1 with the walk's invariants, and
 * whatever decodes must re-encode to the same bytes. Run under ASan/UBSan
 * this is a small deterministic fuzz; tests/fuzz/ does the long one. */
static void test_garbage(void)
{
    uint64_t x = 42;
    struct pat pt;
    struct cc_msg m;
    struct cc_buf valid;
    uint8_t *buf;
    char err[128];
    int decoded_any = 0, refused = 0;

    pat_init(&pt, 5);
    cc_buf_init(&valid);
    for (size_t i = 0; i < N_CASES; i++)
        encode_case(&msg_cases[i], &pt, &m, &valid);
    buf = malloc(valid.len);
    CHECK(buf != NULL && valid.len > 300);

    for (int round = 0; buf != NULL && round < 4000; round++) {
        size_t len;
        long need;

        if (round % 2 == 0) {
            len = (size_t)(mix(&x) % 300);
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)mix(&x);
            /* a valid-looking header now and then, so payloads get decoded */
            if (len >= CC_FRAME_HEADER && round % 4 == 0)
                memcpy(buf, valid.data, 8);
        } else {
            int flips = 1 + (int)(mix(&x) % 4);

            len = (size_t)(mix(&x) % (valid.len + 1));
            memcpy(buf, valid.data, len);
            for (int i = 0; i < flips && len > 0; i++)
                buf[mix(&x) % len] ^= (uint8_t)(1u << (mix(&x) % 8));
        }
        if (walk_all(buf, len) < 0)
            refused++;
        else
            decoded_any++;
        need = cc_msg_need(buf, len, err, sizeof err);
        CHECK(need >= -1 && need <= (long)CC_FRAME_HEADER + CC_FRAME_MAX);
    }
    CHECK(refused > 1000 && decoded_any > 10);
    free(buf);
    cc_buf_free(&valid);
    pat_free(&pt);
}

int main(void)
{
    RUN(test_wire_little_endian);
    RUN(test_wire_overrun_is_sticky);
    RUN(test_wire_failed_is_sticky);
    RUN(test_names_and_numbers);
    RUN(test_round_trip_every_type);
    RUN(test_batched_frames);
    RUN(test_golden_bytes);
    RUN(test_need_every_prefix);
    RUN(test_need_refuses_bad_header);
    RUN(test_reject_every_truncation);
    RUN(test_reject_bad_header);
    RUN(test_reject_oversize);
    RUN(test_reject_trailing_bytes);
    RUN(test_reject_huge_list_count);
    RUN(test_bad_frame_after_good_ones);
    RUN(test_encode_refuses);
    RUN(test_garbage);
    return unit_report();
}
