/* libFuzzer target for the HTTP/1.x request-head parser and the chunked
 * body decoder (core/http/http1.c): bytes from any client must never crash
 * them, make them read outside what they were given, or break their
 * contract in core/http/http1.h.
 *
 * Input: bytes 0-1 (little-endian) pick a split point in the rest, taken
 * modulo its length + 1; byte 2 picks the chunked decoder's max_body (its
 * value, or for 0xfc-0xff a large one); the rest is the payload, given to
 * both the head parser and the chunked decoder, each time from an
 * exactly-sized heap copy so that ASan sees a read past the end.
 * Properties checked, with abort() on a violation:
 *   - cc_h1_parse_head returns 0, a length in (0, len], -400, -431, -501 or -505;
 *   - on success the method, target and every header name and value lie
 *     inside the head; the method and names are non-empty tokens, the
 *     target non-empty without blanks or controls, values have no blanks
 *     at either end and no control bytes but tab; minor is a digit; a
 *     chunked request has no Content-Length and is HTTP/1.1 or later;
 *     cc_h1_header finds each name;
 *   - the head alone parses to the same length, and without its last byte
 *     to 0; a prefix cut at the split point parses to 0 or to the same
 *     result as the whole (more input never changes a verdict);
 *   - cc_h1_chunked_feed: fed in two pieces at the split point, the result
 *     is the same as fed whole (status; on MORE and DONE the bytes used and
 *     the output); MORE uses everything, DONE at most everything; the
 *     output never exceeds max_body.
 *
 * Run: ./fuzz_http1 -max_total_time=60 [corpus-dir]. */
#include "core/http/http1.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok)
{
    if (!ok)
        abort();
}

static char *copy_of(const uint8_t *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    require(c != NULL);
    if (n > 0)
        memcpy(c, p, n);
    return c;
}

static bool is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool inside(struct cc_h1_str s, const char *buf, size_t n)
{
    return s.p != NULL && s.p >= buf && s.n <= n && (size_t)(s.p - buf) <= n - s.n;
}

static bool is_token(struct cc_h1_str s)
{
    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!is_tchar((unsigned char)s.p[i]))
            return false;
    return true;
}

static bool valid_result(long r, size_t len)
{
    return r == 0 || r == -400 || r == -431 || r == -501 || r == -505 ||
           (r > 0 && (size_t)r <= len);
}

static long parse(const uint8_t *p, size_t n, struct cc_h1_head *h)
{
    char *c = copy_of(p, n);
    long r = cc_h1_parse_head(c, n, h);
    free(c);
    require(valid_result(r, n));
    return r;
}

static void check_head(const char *buf, size_t n, const struct cc_h1_head *h)
{
    require(inside(h->method, buf, n) && is_token(h->method));
    require(inside(h->target, buf, n) && h->target.n > 0);
    for (size_t i = 0; i < h->target.n; i++) {
        unsigned char ch = (unsigned char)h->target.p[i];
        require(ch > 0x20 && ch != 0x7f);
    }
    require(h->minor >= 0 && h->minor <= 9);
    require(h->n_headers <= CC_H1_MAX_HEADERS);
    for (size_t i = 0; i < h->n_headers; i++) {
        struct cc_h1_str name = h->headers[i].name, value = h->headers[i].value;
        require(inside(name, buf, n) && is_token(name));
        require(inside(value, buf, n));
        if (value.n > 0) {
            require(value.p[0] != ' ' && value.p[0] != '\t');
            require(value.p[value.n - 1] != ' ' && value.p[value.n - 1] != '\t');
        }
        for (size_t j = 0; j < value.n; j++) {
            unsigned char ch = (unsigned char)value.p[j];
            require((ch >= 0x20 || ch == '\t') && ch != 0x7f);
        }
        /* the lookup finds this name (asked for in lower case: see the
         * unit test on cc_h1_header for names given in other cases) */
        char lower[256];
        if (name.n < sizeof lower) {
            for (size_t j = 0; j < name.n; j++) {
                char ch = name.p[j];
                lower[j] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
            }
            lower[name.n] = '\0';
            const struct cc_h1_str *v = cc_h1_header(h, lower);
            require(v != NULL && inside(*v, buf, n));
        }
    }
    require(!(h->chunked && h->has_length));
    require(!h->chunked || h->minor >= 1);
}

static void fuzz_head(const uint8_t *p, size_t len, size_t split)
{
    static struct cc_h1_head h, h2;
    char *buf = copy_of(p, len);
    long r = cc_h1_parse_head(buf, len, &h);
    require(valid_result(r, len));
    if (r > 0) {
        check_head(buf, (size_t)r, &h);
        size_t n = (size_t)r;
        require(parse(p, n, &h2) == r);
        require(h2.n_headers == h.n_headers && h2.minor == h.minor);
        require(parse(p, n - 1, &h2) == 0);
    }
    free(buf);
    long rs = parse(p, split, &h2);
    require(rs == 0 || rs == r);
}

struct chunked_run {
    int status;
    size_t used, out_len;
    char *out;
};

/* Feeds p[0..len) to a fresh decoder in two pieces, at `at`. */
static void feed_chunked(const uint8_t *p, size_t len, size_t at, uint64_t max_body,
                         struct chunked_run *run)
{
    struct cc_h1_chunked c;
    memset(&c, 0, sizeof c);
    run->out = malloc(len ? len : 1); /* room for len bytes, as the contract asks */
    require(run->out != NULL);
    run->out_len = 0;
    run->used = 0;
    size_t pieces[2] = {at, len - at}, off = 0;
    for (int i = 0; i < 2; i++) {
        char *in = copy_of(p + off, pieces[i]);
        size_t used = (size_t)-1;
        run->status =
            cc_h1_chunked_feed(&c, in, pieces[i], &used, run->out, &run->out_len, max_body);
        free(in);
        require(run->status == CC_H1_CHUNKED_MORE || run->status == CC_H1_CHUNKED_DONE ||
                run->status == CC_H1_CHUNKED_BAD);
        require(run->out_len <= len && run->out_len <= max_body);
        if (run->status == CC_H1_CHUNKED_BAD)
            return;
        require(used <= pieces[i]);
        require(run->status == CC_H1_CHUNKED_DONE || used == pieces[i]);
        run->used += used;
        if (run->status == CC_H1_CHUNKED_DONE)
            return;
        off += pieces[i];
    }
}

static void fuzz_chunked(const uint8_t *p, size_t len, size_t split, uint64_t max_body)
{
    struct chunked_run whole, two;
    feed_chunked(p, len, len, max_body, &whole);
    feed_chunked(p, len, split, max_body, &two);
    require(whole.status == two.status);
    if (whole.status != CC_H1_CHUNKED_BAD) {
        require(whole.used == two.used);
        require(whole.out_len == two.out_len);
        require(whole.out_len == 0 || memcmp(whole.out, two.out, whole.out_len) == 0);
        require(whole.out_len <= whole.used);
    }
    free(whole.out);
    free(two.out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t big[] = {UINT64_MAX, UINT64_MAX >> 4, 1u << 20, 4096};
    if (size < 3)
        return 0;
    const uint8_t *p = data + 3;
    size_t len = size - 3;
    size_t split = ((size_t)data[0] | (size_t)data[1] << 8) % (len + 1);
    uint64_t max_body = data[2] >= 0xfc ? big[data[2] - 0xfc] : data[2];
    fuzz_head(p, len, split);
    fuzz_chunked(p, len, split, max_body);
    return 0;
}
