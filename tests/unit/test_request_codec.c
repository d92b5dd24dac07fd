/* core/v2/request_codec: struct cc_v2_request in raft entries. A golden
 * encoding pins the layout (a round trip alone would accept a codec that
 * writes and reads fields in the same wrong order); every other test checks
 * that decoding refuses what encode never produces, so the encoding stays
 * canonical. */
#include "core/v2/request_codec.h"
#include "core/v2/params.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static const uint8_t golden[] = {
    0x01,                                           /* version */
    0x03,                                           /* method PUT */
    0x41,                                           /* flags: dir, refresh */
    0x02,                                           /* prev_exist true */
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* prev_index */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* expiration_ns -1 */
    0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* wait_index */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, /* time_ns INT64_MIN */
    0x04, 0x00, 0x00, 0x00, '/',  '1',  '/',  'a',  /* path */
    0x02, 0x00, 0x00, 0x00, 'v',  0x00,             /* value, with a NUL */
    0x00, 0x00, 0x00, 0x00,                         /* prev_value "" */
};

static void golden_request(struct cc_v2_request *r)
{
    cc_v2_request_init(r);
    r->method = CC_V2_PUT;
    r->dir = true;
    r->refresh = true;
    r->prev_exist = 1;
    r->prev_index = UINT64_C(0x0102030405060708);
    r->expiration_ns = -1;
    r->wait_index = 9;
    r->time_ns = INT64_MIN;
    r->path = "/1/a";
    r->value.p = "v\0";
    r->value.n = 2;
    r->prev_value.p = NULL;
    r->prev_value.n = 0;
}

static bool same_str(const struct cc_v2_str *a, const struct cc_v2_str *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

static bool same_request(const struct cc_v2_request *a, const struct cc_v2_request *b)
{
    return a->method == b->method && strcmp(a->path, b->path) == 0 &&
           same_str(&a->value, &b->value) && same_str(&a->prev_value, &b->prev_value) &&
           a->prev_index == b->prev_index && a->prev_exist == b->prev_exist && a->dir == b->dir &&
           a->recursive == b->recursive && a->sorted == b->sorted && a->quorum == b->quorum &&
           a->wait == b->wait && a->stream == b->stream && a->refresh == b->refresh &&
           a->no_value_on_success == b->no_value_on_success &&
           a->expiration_ns == b->expiration_ns && a->wait_index == b->wait_index &&
           a->time_ns == b->time_ns;
}

static void test_golden(void)
{
    struct cc_v2_request r, d;
    struct cc_buf b;

    golden_request(&r);
    cc_buf_init(&b);
    CHECK(cc_v2_request_encode(&b, &r) == 0);
    CHECK(b.len == sizeof golden);
    CHECK(b.len == sizeof golden && memcmp(b.data, golden, b.len) == 0);
    CHECK(CC_V2_REQUEST_FIXED + 4 + 2 == sizeof golden);
    CHECK(cc_v2_request_decode(golden, sizeof golden, &d) == 0);
    CHECK(same_request(&r, &d));
    /* decoded strings are NUL-terminated copies, never NULL */
    CHECK(d.value.p[2] == '\0' && d.prev_value.p != NULL && d.prev_value.p[0] == '\0');
    CHECK((const uint8_t *)d.path < golden || (const uint8_t *)d.path >= golden + sizeof golden);
    cc_v2_request_free(&d);
    CHECK(d.path == NULL && d.value.p == NULL && d.prev_value.p == NULL && d.prev_exist == -1);
    cc_buf_free(&b);
}

/* splitmix64, fixed seed: a failure reproduces. */
static uint64_t mix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Every field, both extremes and random values, round trips and
 * re-encodes to the same bytes. */
static void test_round_trip_every_field(void)
{
    char path[64], value[64], prev[64];
    uint64_t seed = 42;

    for (int i = 0; i < 2000; i++) {
        struct cc_v2_request r, d;
        struct cc_buf a, b;
        uint64_t x = mix(&seed);
        size_t pn = x % sizeof path, vn = (x >> 8) % sizeof value, qn = (x >> 16) % sizeof prev;

        cc_v2_request_init(&r);
        for (size_t k = 0; k < pn; k++)
            path[k] = (char)(1 + mix(&seed) % 255); /* anything but NUL */
        path[pn] = '\0';
        for (size_t k = 0; k < vn; k++)
            value[k] = (char)mix(&seed);
        for (size_t k = 0; k < qn; k++)
            prev[k] = (char)mix(&seed);
        r.method = (uint8_t)(CC_V2_GET + i % 7);
        r.path = path;
        r.value.p = value;
        r.value.n = vn;
        r.prev_value.p = prev;
        r.prev_value.n = qn;
        r.prev_exist = (int8_t)(i % 3 - 1);
        r.dir = x >> 24 & 1;
        r.recursive = x >> 25 & 1;
        r.sorted = x >> 26 & 1;
        r.quorum = x >> 27 & 1;
        r.wait = x >> 28 & 1;
        r.stream = x >> 29 & 1;
        r.refresh = x >> 30 & 1;
        r.no_value_on_success = x >> 31 & 1;
        r.prev_index = i == 0 ? UINT64_MAX : mix(&seed);
        r.wait_index = i == 0 ? UINT64_MAX : mix(&seed);
        r.expiration_ns = i == 0 ? INT64_MAX : (int64_t)mix(&seed);
        r.time_ns = i == 0 ? INT64_MIN : (int64_t)mix(&seed);
        if (i == 1) { /* everything at zero and empty */
            cc_v2_request_init(&r);
            r.method = CC_V2_SYNC;
            r.path = "";
        }
        cc_buf_init(&a);
        cc_buf_init(&b);
        CHECK(cc_v2_request_encode(&a, &r) == 0);
        CHECK(cc_v2_request_decode(a.data, a.len, &d) == 0);
        CHECK(same_request(&r, &d));
        CHECK(cc_v2_request_encode(&b, &d) == 0);
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        cc_v2_request_free(&d);
        cc_buf_free(&a);
        cc_buf_free(&b);
    }
}

static void expect_refused(const uint8_t *p, size_t n)
{
    struct cc_v2_request d;

    errno = 0;
    CHECK(cc_v2_request_decode(p, n, &d) < 0);
    CHECK(errno == EINVAL);
    CHECK(d.path == NULL && d.value.p == NULL && d.prev_value.p == NULL);
}

static void test_truncated_and_trailing(void)
{
    uint8_t buf[sizeof golden + 1];

    for (size_t n = 0; n < sizeof golden; n++)
        expect_refused(golden, n);
    memcpy(buf, golden, sizeof golden);
    buf[sizeof golden] = 0;
    expect_refused(buf, sizeof buf);
    expect_refused(NULL, 0);
}

static void test_bad_fields(void)
{
    uint8_t buf[sizeof golden];

#define MUTATE(off, v)                                                                             \
    do {                                                                                           \
        memcpy(buf, golden, sizeof golden);                                                        \
        buf[off] = (v);                                                                            \
        expect_refused(buf, sizeof buf);                                                           \
    } while (0)
    MUTATE(0, 0);     /* version */
    MUTATE(0, 2);     /* a future version */
    MUTATE(1, 0);     /* method */
    MUTATE(1, 8);     /* method */
    MUTATE(1, 0xff);  /* method */
    MUTATE(3, 3);     /* prev_exist */
    MUTATE(3, 0xff);  /* prev_exist */
    MUTATE(41, '\0'); /* NUL in the path */
    MUTATE(36, 5);    /* path length one too long: value shifts, total wrong */
    MUTATE(36, 3);    /* one too short */
    MUTATE(39, 0x80); /* a 2 GiB path */
    MUTATE(47, 0xff); /* a huge value length */
#undef MUTATE
    /* every flag combination is legal, so no flag byte is refused */
    for (int f = 0; f < 256; f++) {
        struct cc_v2_request d;

        memcpy(buf, golden, sizeof golden);
        buf[2] = (uint8_t)f;
        CHECK(cc_v2_request_decode(buf, sizeof buf, &d) == 0);
        CHECK(d.dir == (f & 1) && d.recursive == (f >> 1 & 1) && d.sorted == (f >> 2 & 1));
        CHECK(d.quorum == (f >> 3 & 1) && d.wait == (f >> 4 & 1) && d.stream == (f >> 5 & 1));
        CHECK(d.refresh == (f >> 6 & 1) && d.no_value_on_success == (f >> 7 & 1));
        cc_v2_request_free(&d);
    }
}

static void test_encode_refuses(void)
{
    struct cc_v2_request r;
    struct cc_buf b;

    cc_buf_init(&b);
    cc_put_u8(&b, 0xaa); /* something already there stays */
    golden_request(&r);
    r.method = 0;
    errno = 0;
    CHECK(cc_v2_request_encode(&b, &r) < 0 && errno == EINVAL);
    golden_request(&r);
    r.method = 8;
    CHECK(cc_v2_request_encode(&b, &r) < 0);
    golden_request(&r);
    r.prev_exist = 2;
    CHECK(cc_v2_request_encode(&b, &r) < 0);
    golden_request(&r);
    r.prev_exist = -2;
    CHECK(cc_v2_request_encode(&b, &r) < 0);
    golden_request(&r);
    r.path = NULL;
    CHECK(cc_v2_request_encode(&b, &r) < 0);
    golden_request(&r);
    r.value.p = NULL; /* with n == 2 */
    CHECK(cc_v2_request_encode(&b, &r) < 0);
    CHECK(b.len == 1 && b.data[0] == 0xaa && !b.failed);
    /* a failed buffer: ENOMEM, nothing appended */
    golden_request(&r);
    b.failed = true;
    errno = 0;
    CHECK(cc_v2_request_encode(&b, &r) < 0 && errno == ENOMEM);
    CHECK(b.len == 1);
    cc_buf_free(&b);
}

/* What the parser produces goes through the log unchanged. */
static void test_parsed_request_round_trip(void)
{
    static const char target[] =
        "/v2/keys/a%20b/c?value=x%00y&prevValue=p&prevIndex=7&prevExist=false&ttl=9&dir=0";
    struct cc_v2_http_in in;
    struct cc_v2_request r, d;
    struct cc_v2_error e;
    struct cc_buf b;

    memset(&in, 0, sizeof in);
    in.method = "PUT";
    cc_v2_split_target(target, sizeof target - 1, &in);
    CHECK(cc_v2_parse_key_request(&in, 1000, &r, &e) == CC_V2_PARSE_OK);
    cc_buf_init(&b);
    CHECK(cc_v2_request_encode(&b, &r) == 0);
    CHECK(cc_v2_request_decode(b.data, b.len, &d) == 0);
    CHECK(same_request(&r, &d));
    CHECK_STR(d.path, "/1/a b/c");
    CHECK(d.value.n == 3 && memcmp(d.value.p, "x\0y", 3) == 0);
    CHECK(d.expiration_ns == 1000 + INT64_C(9000000000));
    CHECK(d.prev_exist == 0 && d.prev_index == 7);
    cc_v2_request_free(&d);
    cc_v2_request_free(&r);
    cc_buf_free(&b);
}

int main(void)
{
    RUN(test_golden);
    RUN(test_round_trip_every_field);
    RUN(test_truncated_and_trailing);
    RUN(test_bad_fields);
    RUN(test_encode_refuses);
    RUN(test_parsed_request_round_trip);
    return unit_report();
}
