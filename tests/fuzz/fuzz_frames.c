/* libFuzzer target for the frame codec: whatever the input, decoding must
 * not crash or read out of bounds, every list it accepts must iterate
 * cleanly, cc_msg_need must agree with cc_msg_next, and a decoded message
 * must encode back to exactly the bytes it came from (the encoding is
 * canonical, so two members never disagree on what a frame meant). A RAFT
 * frame also goes through cc_raft_wire_decode, and one it accepts must come
 * back to the same bytes from cc_raft_wire_encode.
 *
 * Run: ./fuzz_frames -max_total_time=60 [corpus-dir]. It finds the frame
 * structure from an empty corpus; a corpus of encoded frames gets deeper
 * faster. A violated property calls abort(), which libFuzzer reports with
 * the input that caused it. */
#include "proto/msg.h"
#include "proto/raft_wire.h"
#include "proto/wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads every byte of a view, so ASan sees a view that leaves its buffer. */
static void touch(const uint8_t *p, size_t n)
{
    volatile uint8_t sink = 0;

    for (size_t i = 0; i < n; i++)
        sink ^= p[i];
    (void)sink;
}

static void visit_none(const uint8_t *v)
{
    (void)v;
}

static void visit_u8(const uint8_t *v)
{
    (void)v;
}

__attribute__((unused)) static void visit_u16(const uint16_t *v)
{
    (void)v;
}

static void visit_u32(const uint32_t *v)
{
    (void)v;
}

static void visit_u64(const uint64_t *v)
{
    (void)v;
}

static void visit_bytes(const struct cc_bytes *v)
{
    if (v->p == NULL)
        abort(); /* decoded views are never NULL (wire.h) */
    touch(v->p, v->n);
}

#define VISIT_NONE      visit_none
#define VISIT_U8        visit_u8
#define VISIT_U16       visit_u16
#define VISIT_U32       visit_u32
#define VISIT_U64       visit_u64
#define VISIT_BYTES     visit_bytes
#define VISIT_LIST(rec) visit_list_##rec

#define VISIT_FIELD(kind, name) VISIT_##kind(&s->name);

/* A list that came out of cc_msg_next iterates without an error and yields
 * exactly count records that use exactly its bytes. */
#define REC_VISIT(rec)                                                                             \
    static void visit_rec_##rec(const struct cc_##rec *s)                                          \
    {                                                                                              \
        CC_REC_FIELDS_##rec(VISIT_FIELD);                                                          \
    }                                                                                              \
                                                                                                   \
    static void visit_list_##rec(const struct cc_list *v)                                          \
    {                                                                                              \
        struct cc_rd r = cc_msg_list_reader(v);                                                    \
        struct cc_##rec item;                                                                      \
        uint32_t seen = 0;                                                                         \
        int rc;                                                                                    \
                                                                                                   \
        while ((rc = cc_msg_##rec##_next(&r, &item)) == 1) {                                       \
            visit_rec_##rec(&item);                                                                \
            seen++;                                                                                \
        }                                                                                          \
        if (rc != 0 || seen != v->count || r.off != v->n)                                          \
            abort();                                                                               \
    }

CC_REC_TYPES(REC_VISIT)

static void visit_msg(const struct cc_msg *m)
{
    switch (m->type) {
#define VISIT_CASE(E, num, name)                                                                   \
    case CC_MSG_##E: {                                                                             \
        const struct cc_msg_##name *s = &m->u.name;                                                \
        CC_MSG_FIELDS_##name(VISIT_FIELD);                                                         \
        break;                                                                                     \
    }
        CC_MSG_TYPES(VISIT_CASE)
#undef VISIT_CASE
    default:
        abort(); /* cc_msg_next returned a type it does not know */
    }
}

/* A RAFT frame the raft mapping accepts maps back to the same bytes. */
static void check_raft(const struct cc_msg *m, const uint8_t *frame, size_t len)
{
    static struct cc_raft_entry ents[64];
    struct cc_raft_msg rm;
    struct cc_buf b;

    if (m->type != CC_MSG_RAFT || cc_raft_wire_decode(m, &rm, ents, 64) != 0)
        return;
    for (size_t i = 0; rm.type == CC_RAFT_MSG_APPEND && i < rm.append.n_entries; i++)
        touch(rm.append.entries[i].data, rm.append.entries[i].len);
    cc_buf_init(&b);
    if (cc_raft_wire_encode(&b, &rm) != 0 || b.len != len || memcmp(b.data, frame, len) != 0)
        abort();
    cc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cc_buf again;
    struct cc_msg m, m2;
    char err[128];
    size_t off = 0;

    cc_buf_init(&again);
    for (;;) {
        size_t start = off, off2 = 0;
        long need = cc_msg_need(data + off, size - off, err, sizeof err);
        int rc = cc_msg_next(data, size, &off, &m, err, sizeof err);

        /* need and next judge the same header the same way. */
        if (rc == 0 && (start != size || need != CC_FRAME_HEADER))
            abort();
        if (rc == 1 && need != 0)
            abort();
        if (need != 0 && rc != (start == size ? 0 : -1))
            abort();
        if (rc <= 0) {
            if (off != start || (rc < 0 && err[0] == '\0'))
                abort();
            break;
        }
        if (off <= start || off > size)
            abort();
        visit_msg(&m);
        check_raft(&m, data + start, off - start);

        cc_buf_reset(&again);
        if (cc_msg_encode(&again, &m) != 0)
            abort();
        if (again.len != off - start || memcmp(again.data, data + start, again.len) != 0)
            abort();
        if (cc_msg_next(again.data, again.len, &off2, &m2, err, sizeof err) != 1 ||
            off2 != again.len || m2.type != m.type)
            abort();
    }
    cc_buf_free(&again);
    return 0;
}
