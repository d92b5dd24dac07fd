/* core/http/http1: request heads and chunked bodies parsed from a buffer
 * (the contract is in core/http/http1.h). */
#include "core/http/http1.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static struct cc_h1_head head; /* 4 KiB of headers: kept off the stack */

/* cc_h1_parse_head over an exactly-sized heap copy of s[0..n), so that a
 * sanitizer build sees any read past the end. The copy lives until the next
 * parse, as the head points into it. */
static long parse_n(const char *s, size_t n, struct cc_h1_head *h)
{
    static char *copy;
    free(copy);
    copy = malloc(n ? n : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, s, n);
    return cc_h1_parse_head(copy, n, h);
}

static long parse(const char *s)
{
    return parse_n(s, strlen(s), &head);
}

/* A parsed string as a NUL-terminated one (a few rotating buffers). */
static const char *str(struct cc_h1_str s)
{
    static char bufs[4][256];
    static int next;
    char *b = bufs[next++ % 4];
    size_t n = s.n < sizeof bufs[0] - 1 ? s.n : sizeof bufs[0] - 1;
    memcpy(b, s.p, n);
    b[n] = '\0';
    return b;
}

static const char *value(const char *name)
{
    const struct cc_h1_str *v = cc_h1_header(&head, name);
    return v ? str(*v) : NULL;
}

/* ---- request heads ---- */

static void test_get_crlf_head_fields(void)
{
    const char *req = "GET /v2/keys/foo?wait=true HTTP/1.1\r\n"
                      "Host: 127.0.0.1:2379\r\n"
                      "User-Agent:go-http-client/1.1  \r\n"
                      "X-Blank: \t padded value \t\r\n"
                      "X-Empty:\r\n"
                      "\r\n";
    CHECK(parse(req) == (long)strlen(req));
    CHECK_STR(str(head.method), "GET");
    CHECK_STR(str(head.target), "/v2/keys/foo?wait=true");
    CHECK(head.minor == 1);
    CHECK(head.n_headers == 4);
    CHECK_STR(str(head.headers[0].name), "Host");
    CHECK_STR(str(head.headers[0].value), "127.0.0.1:2379");
    CHECK_STR(str(head.headers[1].name), "User-Agent");
    CHECK_STR(str(head.headers[1].value), "go-http-client/1.1");
    CHECK_STR(str(head.headers[2].name), "X-Blank");
    CHECK_STR(str(head.headers[2].value), "padded value");
    CHECK_STR(str(head.headers[3].name), "X-Empty");
    CHECK(head.headers[3].value.n == 0);
    CHECK(head.keep_alive);
    CHECK(!head.has_length && !head.chunked && !head.expect_continue);
}

static void test_bare_lf_lines_and_leading_empty_lines(void)
{
    const char *req = "PUT /x HTTP/1.1\nHost: h\nContent-Length: 3\n\n";
    CHECK(parse(req) == (long)strlen(req));
    CHECK_STR(str(head.method), "PUT");
    CHECK_STR(str(head.target), "/x");
    CHECK(head.n_headers == 2);
    CHECK_STR(value("host"), "h");
    CHECK(head.has_length && head.content_length == 3);

    /* mixed CRLF and LF */
    req = "GET / HTTP/1.1\r\nA: 1\nB: 2\r\n\n";
    CHECK(parse(req) == (long)strlen(req));
    CHECK_STR(value("a"), "1");
    CHECK_STR(value("b"), "2");

    /* empty lines before the request line are skipped, and counted */
    req = "\r\n\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK(parse(req) == (long)strlen(req));
    CHECK_STR(str(head.method), "GET");
    CHECK_STR(str(head.target), "/after");
    CHECK_STR(value("host"), "h");
}

static void test_every_prefix_of_a_head_is_incomplete(void)
{
    static const char *const reqs[] = {
        "GET /v2/keys/a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n",
        "POST /x HTTP/1.0\nConnection: keep-alive\nTransfer-Encoding: identity-not\n\n",
        "\r\n\nGET / HTTP/1.1\r\nExpect: 100-continue\r\nX:  y \r\n\r\n",
        "DELETE /k HTTP/1.1\r\n\r\n",
    };
    for (size_t r = 0; r < sizeof reqs / sizeof reqs[0]; r++) {
        size_t len = strlen(reqs[r]);
        for (size_t i = 0; i < len; i++) {
            long got = parse_n(reqs[r], i, &head);
            if (got != 0)
                fprintf(stderr, "request %zu, prefix %zu: %ld\n", r, i, got);
            CHECK(got == 0);
        }
    }
    /* the complete ones (the second is refused only once complete) */
    CHECK(parse(reqs[0]) == (long)strlen(reqs[0]));
    CHECK(parse(reqs[1]) == -501);
    CHECK(parse(reqs[2]) == (long)strlen(reqs[2]));
    CHECK(parse(reqs[3]) == (long)strlen(reqs[3]));
}

static void test_bytes_after_the_head_are_not_counted(void)
{
    const char *first = "PUT /v2/keys/a HTTP/1.1\r\nContent-Length: 7\r\n\r\n";
    const char *req = "PUT /v2/keys/a HTTP/1.1\r\nContent-Length: 7\r\n\r\nvalue=1";
    CHECK(parse(req) == (long)strlen(first));
    CHECK(head.content_length == 7);

    /* pipelined: the first head, then the second */
    const char *two = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
                      "GET /two HTTP/1.1\r\nHost: b\r\n\r\n";
    size_t len = strlen(two);
    long n = parse(two);
    CHECK(n == (long)strlen("GET /one HTTP/1.1\r\nHost: a\r\n\r\n"));
    CHECK_STR(str(head.target), "/one");
    CHECK_STR(value("host"), "a");
    if (n > 0) {
        long m = parse_n(two + n, len - (size_t)n, &head);
        CHECK(m == (long)(len - (size_t)n));
        CHECK_STR(str(head.target), "/two");
        CHECK_STR(value("host"), "b");
    }

    /* the body may even look like a head's end */
    req = "GET / HTTP/1.1\r\n\r\n\r\n\r\n";
    CHECK(parse(req) == (long)strlen("GET / HTTP/1.1\r\n\r\n"));
}

static void test_keep_alive_http10(void)
{
    CHECK(parse("GET / HTTP/1.0\r\n\r\n") > 0);
    CHECK(head.minor == 0);
    CHECK(!head.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") > 0);
    CHECK(head.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
    CHECK(head.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nconnection: foo , keep-alive\r\n\r\n") > 0);
    CHECK(head.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") > 0);
    CHECK(!head.keep_alive);
}

static void test_keep_alive_http11_connection_close(void)
{
    CHECK(parse("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n") > 0);
    CHECK(head.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n") > 0);
    CHECK(!head.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nCONNECTION: CLOSE\r\n\r\n") > 0);
    CHECK(!head.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n") > 0);
    CHECK(!head.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nConnection: close ,foo\r\n\r\n") > 0);
    CHECK(!head.keep_alive);
    /* a token that merely contains "close" is not it */
    CHECK(parse("GET / HTTP/1.1\r\nConnection: closed, xclose\r\n\r\n") > 0);
    CHECK(head.keep_alive);
}

static void test_connection_close_wins_over_a_later_keep_alive(void)
{
    /* BUG (http1.c derive()): with the tokens in two Connection lines, a
     * later "keep-alive" undoes an earlier "close" on HTTP/1.0, although
     * "close" means the connection does not persist (RFC 9112 §9.6; Go's
     * shouldClose checks every Connection value for "close"). */
    CHECK(parse("GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n") > 0);
    CHECK(!head.keep_alive);
    /* the HTTP/1.1 form of it is right */
    CHECK(parse("GET / HTTP/1.1\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n") > 0);
    CHECK(!head.keep_alive);
}

static void test_content_length(void)
{
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 42\r\n\r\n") > 0);
    CHECK(head.has_length && head.content_length == 42);
    CHECK(!head.chunked);
    CHECK(parse("PUT / HTTP/1.1\r\ncontent-length:0\r\n\r\n") > 0);
    CHECK(head.has_length && head.content_length == 0);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 18446744073709551\r\n\r\n") > 0);
    CHECK(head.content_length == UINT64_C(18446744073709551));
    /* the same value twice is fine */
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n") > 0);
    CHECK(head.has_length && head.content_length == 5);
    /* no Content-Length */
    CHECK(parse("GET / HTTP/1.1\r\n\r\n") > 0);
    CHECK(!head.has_length && head.content_length == 0);
}

static void test_content_length_refused(void)
{
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") == -400);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: abc\r\n\r\n") == -400);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n") == -400);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == -400);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: +1\r\n\r\n") == -400);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n") == -400);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n") == -400);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length:\r\n\r\n") == -400);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length:   \r\n\r\n") == -400);
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n") == -400);
}

static void test_transfer_encoding(void)
{
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
    CHECK(head.chunked && !head.has_length);
    CHECK(parse("POST / HTTP/1.1\r\ntransfer-encoding: Chunked\r\n\r\n") > 0);
    CHECK(head.chunked);
    /* with a Content-Length, in either order: smuggling */
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") ==
          -400);
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n") ==
          -400);
    /* anything but chunked */
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") == -501);
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == -501);
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n") == -501);
    CHECK(parse("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n") == -400);
    /* chunked is HTTP/1.1's */
    CHECK(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == -400);
}

static void test_expect_continue(void)
{
    CHECK(parse("PUT / HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n") > 0);
    CHECK(head.expect_continue);
    CHECK(parse("PUT / HTTP/1.1\r\nexpect:  100-Continue \r\n\r\n") > 0);
    CHECK(head.expect_continue);
    CHECK(parse("PUT / HTTP/1.1\r\nExpect: something-else\r\n\r\n") > 0);
    CHECK(!head.expect_continue);
    CHECK(parse("PUT / HTTP/1.1\r\n\r\n") > 0);
    CHECK(!head.expect_continue);
}

static void test_malformed_request_lines_are_400(void)
{
    CHECK(parse("GET\r\n\r\n") == -400);
    CHECK(parse("GET HTTP/1.1\r\n\r\n") == -400);  /* no target */
    CHECK(parse("GET  HTTP/1.1\r\n\r\n") == -400); /* empty target */
    CHECK(parse("GET  / HTTP/1.1\r\n\r\n") == -400);
    CHECK(parse("GET /  HTTP/1.1\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1 \r\n\r\n") == -400);
    CHECK(parse(" GET / HTTP/1.1\r\n\r\n") == -400);
    CHECK(parse("G(T / HTTP/1.1\r\n\r\n") == -400); /* '(' is not a token char */
    CHECK(parse("GE:T / HTTP/1.1\r\n\r\n") == -400);
    CHECK(parse("GET /a\x01"
                "b HTTP/1.1\r\n\r\n") == -400);
    CHECK(parse("GET /a\x7f HTTP/1.1\r\n\r\n") == -400);
    CHECK(parse("GET /a\tb HTTP/1.1\r\n\r\n") == -400);
    CHECK(parse("GET /a b HTTP/1.1\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.x\r\n\r\n") == -400);
    CHECK(parse("GET / HTTX/1.1\r\n\r\n") == -400);
    CHECK(parse("GET / http/1.1\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.10\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/11\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\r\n\r\n") == -400);
    CHECK(parse("\rGET / HTTP/1.1\r\n\r\n") == -400);
    /* the request line is judged as soon as it is whole */
    CHECK(parse("GET / HTTX/1.1\r\n") == -400);
}

static void test_other_versions_are_505(void)
{
    CHECK(parse("GET / HTTP/2.0\r\n\r\n") == -505);
    CHECK(parse("GET / HTTP/0.9\r\n\r\n") == -505);
    CHECK(parse("GET / HTTP/3.0\r\n\r\n") == -505);
    CHECK(parse("GET / HTTP/1.0\r\n\r\n") > 0);
    CHECK(head.minor == 0);
}

static void test_malformed_header_lines_are_400(void)
{
    CHECK(parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\n: value\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\nHost : h\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\nHo st: h\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\nHo\"st: h\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\nHo\x80st: h\r\n\r\n") == -400);
    /* obs-fold: a line starting with a space or a tab */
    CHECK(parse("GET / HTTP/1.1\r\nX-A: 1\r\n continued\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\nX-A: 1\r\n\tcontinued\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\n Host: h\r\n\r\n") == -400);
    /* a bare CR inside a line */
    CHECK(parse("GET / HTTP/1.1\r\nX-A: 1\r2\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\nX-A: 1\r\r\n\r\n") == -400);
}

static void test_header_value_bytes(void)
{
    CHECK(parse("GET / HTTP/1.1\r\nX-A: a\x01"
                "b\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n") == -400);
    CHECK(parse("GET / HTTP/1.1\r\nX-A: \x1f\r\n\r\n") == -400);
    long n = parse_n("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 28, &head);
    CHECK(n == -400);
    /* a tab inside a value, and bytes past ASCII (obs-text), are fine */
    CHECK(parse("GET / HTTP/1.1\r\nX-A: a\tb\r\n\r\n") > 0);
    CHECK_STR(value("x-a"), "a\tb");
    CHECK(parse("GET / HTTP/1.1\r\nX-A: caf\xc3\xa9\r\n\r\n") > 0);
    CHECK_STR(value("x-a"), "caf\xc3\xa9");
}

/* A request with n header lines "X-<i>: <i>". */
static const char *with_headers(size_t n)
{
    static char buf[8192];
    size_t len = (size_t)snprintf(buf, sizeof buf, "GET / HTTP/1.1\r\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "X-%zu: %zu\r\n", i, i);
    snprintf(buf + len, sizeof buf - len, "\r\n");
    return buf;
}

static void test_header_count_limit(void)
{
    const char *req = with_headers(CC_H1_MAX_HEADERS);
    CHECK(parse(req) == (long)strlen(req));
    CHECK(head.n_headers == CC_H1_MAX_HEADERS);
    CHECK_STR(str(head.headers[CC_H1_MAX_HEADERS - 1].name), "X-127");
    CHECK_STR(value("x-127"), "127");
    CHECK(parse(with_headers(CC_H1_MAX_HEADERS + 1)) == -431);
    CHECK(parse(with_headers(CC_H1_MAX_HEADERS + 20)) == -431);
}

static void test_header_lookup_any_case(void)
{
    CHECK(parse("GET / HTTP/1.1\r\nHost: one\r\nX-Thing: two\r\nhost: three\r\n\r\n") > 0);
    /* a lower-case name finds any case in the request */
    CHECK_STR(value("host"), "one"); /* the first of two */
    CHECK_STR(value("x-thing"), "two");
    /* BUG (http1.c ieq(), used by cc_h1_header): only the request's header
     * name is folded to lower case, the name asked for is compared as
     * given, so a name with a capital letter never matches ("Host" and
     * "HOST" get NULL here), contrary to "(any case)" in http1.h. */
    CHECK_STR(value("Host"), "one");
    CHECK_STR(value("HOST"), "one");
    CHECK_STR(value("X-THING"), "two");
    CHECK(cc_h1_header(&head, "X-Missing") == NULL);
    CHECK(cc_h1_header(&head, "X-Thin") == NULL);
    CHECK(cc_h1_header(&head, "X-Things") == NULL);
    CHECK(cc_h1_header(&head, "") == NULL);
    CHECK(parse("GET / HTTP/1.1\r\n\r\n") > 0);
    CHECK(cc_h1_header(&head, "Host") == NULL);
}

/* ---- chunked bodies ---- */

struct dec {
    struct cc_h1_chunked c;
    char out[1024];
    size_t out_len;
};

static void dec_init(struct dec *d)
{
    memset(d, 0, sizeof *d);
}

/* Feeds in[0..n) from an exactly-sized heap copy. */
static int feed(struct dec *d, const char *in, size_t n, size_t *used, uint64_t max_body)
{
    char *copy = malloc(n ? n : 1);
    if (copy == NULL)
        abort();
    memcpy(copy, in, n);
    CHECK(d->out_len + n <= sizeof d->out);
    *used = (size_t)-1;
    int r = cc_h1_chunked_feed(&d->c, copy, n, used, d->out, &d->out_len, max_body);
    free(copy);
    return r;
}

static bool out_is(const struct dec *d, const char *want)
{
    size_t n = strlen(want);
    if (d->out_len != n || memcmp(d->out, want, n) != 0) {
        fprintf(stderr, "decoded \"%.*s\", want \"%s\"\n", (int)d->out_len, d->out, want);
        return false;
    }
    return true;
}

static const char hello[] = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

static void test_chunked_whole_body(void)
{
    struct dec d;
    size_t used;
    dec_init(&d);
    CHECK(feed(&d, hello, strlen(hello), &used, 1024) == CC_H1_CHUNKED_DONE);
    CHECK(used == strlen(hello));
    CHECK(out_is(&d, "hello world"));

    /* bare LF line ends are accepted too */
    const char *lf = "5\nhello\n6\n world\n0\n\n";
    dec_init(&d);
    CHECK(feed(&d, lf, strlen(lf), &used, 1024) == CC_H1_CHUNKED_DONE);
    CHECK(used == strlen(lf));
    CHECK(out_is(&d, "hello world"));

    /* an empty body */
    dec_init(&d);
    CHECK(feed(&d, "0\r\n\r\n", 5, &used, 0) == CC_H1_CHUNKED_DONE);
    CHECK(used == 5 && d.out_len == 0);

    /* an empty feed is MORE, using nothing */
    dec_init(&d);
    CHECK(feed(&d, "", 0, &used, 1024) == CC_H1_CHUNKED_MORE);
    CHECK(used == 0 && d.out_len == 0);
}

static void test_chunked_one_byte_at_a_time(void)
{
    struct dec d;
    size_t len = strlen(hello), used;
    dec_init(&d);
    for (size_t i = 0; i < len; i++) {
        int r = feed(&d, hello + i, 1, &used, 1024);
        CHECK(used == 1);
        if (i + 1 < len) {
            if (r != CC_H1_CHUNKED_MORE)
                fprintf(stderr, "byte %zu: %d\n", i, r);
            CHECK(r == CC_H1_CHUNKED_MORE);
            if (r != CC_H1_CHUNKED_MORE)
                return;
        } else {
            CHECK(r == CC_H1_CHUNKED_DONE);
        }
    }
    CHECK(out_is(&d, "hello world"));

    /* and at every split point into two */
    for (size_t at = 0; at <= len; at++) {
        size_t used2;
        dec_init(&d);
        int r = feed(&d, hello, at, &used, 1024);
        CHECK(r == (at == len ? CC_H1_CHUNKED_DONE : CC_H1_CHUNKED_MORE));
        CHECK(used == at);
        if (at < len) {
            CHECK(feed(&d, hello + at, len - at, &used2, 1024) == CC_H1_CHUNKED_DONE);
            CHECK(used2 == len - at);
        }
        CHECK(out_is(&d, "hello world"));
    }
}

static void test_chunked_extensions_and_trailers_ignored(void)
{
    const char *body = "5;name=val\r\nhello\r\n"
                       "6 ; a=b;c=\"d;e\"\r\n world\r\n"
                       "0;last\r\n"
                       "X-T: v\r\n"
                       "Other-Trailer: w\r\n"
                       "\r\n";
    struct dec d;
    size_t used;
    dec_init(&d);
    CHECK(feed(&d, body, strlen(body), &used, 1024) == CC_H1_CHUNKED_DONE);
    CHECK(used == strlen(body));
    CHECK(out_is(&d, "hello world"));

    const char *trailer = "0\r\nX-T: v\r\n\r\n";
    dec_init(&d);
    CHECK(feed(&d, trailer, strlen(trailer), &used, 1024) == CC_H1_CHUNKED_DONE);
    CHECK(used == strlen(trailer) && d.out_len == 0);
}

static void test_chunked_stops_after_the_last_line(void)
{
    const char *body = "3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
    size_t body_len = strlen("3\r\nabc\r\n0\r\n\r\n");
    struct dec d;
    size_t used;
    dec_init(&d);
    CHECK(feed(&d, body, strlen(body), &used, 1024) == CC_H1_CHUNKED_DONE);
    CHECK(used == body_len);
    CHECK(out_is(&d, "abc"));

    /* also after trailers */
    body = "0\r\nX-T: v\r\n\r\nxyz";
    dec_init(&d);
    CHECK(feed(&d, body, strlen(body), &used, 1024) == CC_H1_CHUNKED_DONE);
    CHECK(used == strlen(body) - 3);
}

static void test_chunked_uppercase_hex(void)
{
    char body[256];
    char data[0x1B + 1];
    memset(data, 'q', 0x1B);
    data[0x1B] = '\0';
    snprintf(body, sizeof body, "1B\r\n%s\r\nA\r\n0123456789\r\n0\r\n\r\n", data);
    struct dec d;
    size_t used;
    dec_init(&d);
    CHECK(feed(&d, body, strlen(body), &used, 1024) == CC_H1_CHUNKED_DONE);
    CHECK(used == strlen(body));
    CHECK(d.out_len == 0x1B + 10);
    CHECK(d.out_len == 0x1B + 10 && memcmp(d.out + 0x1B, "0123456789", 10) == 0);

    /* lower and mixed case, and leading zeros */
    snprintf(body, sizeof body, "001b\r\n%s\r\n0\r\n\r\n", data);
    dec_init(&d);
    CHECK(feed(&d, body, strlen(body), &used, 1024) == CC_H1_CHUNKED_DONE);
    CHECK(d.out_len == 0x1B);
}

static void test_chunked_malformed_is_bad(void)
{
    static const char *const bad[] = {
        "zz\r\n",           /* not hex */
        "\r\n",             /* no size */
        ";ext\r\n",         /* no size */
        "-1\r\n",           /* sign */
        "0x5\r\nhello\r\n", /* prefix */
        "3\r\nabcX",        /* no CRLF after the data */
        "3\r\nabc\rX",      /* CR then not LF */
        "3\r\nabcd\r\n",    /* more data than the size */
        "3\rX",             /* CR then not LF after the size */
        "0\r\nX-T: v\rX",   /* trailer CR then not LF */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct dec d;
        size_t used;
        dec_init(&d);
        int r = feed(&d, bad[i], strlen(bad[i]), &used, 1024);
        if (r != CC_H1_CHUNKED_BAD)
            fprintf(stderr, "case %zu: %d\n", i, r);
        CHECK(r == CC_H1_CHUNKED_BAD);
    }
}

static void test_chunked_size_beyond_max_body_is_bad(void)
{
    struct dec d;
    size_t used;
    /* far beyond: refused at the size line, before any data */
    dec_init(&d);
    CHECK(feed(&d, "1000\r\n", 6, &used, 100) == CC_H1_CHUNKED_BAD);
    dec_init(&d);
    CHECK(feed(&d, "ffffffffffffffffffff\r\n", 22, &used, UINT64_MAX) == CC_H1_CHUNKED_BAD);
    /* exactly max_body is fine */
    dec_init(&d);
    CHECK(feed(&d, "64\r\n", 4, &used, 100) == CC_H1_CHUNKED_MORE);
    /* just beyond, with the data: refused */
    char body[128];
    memset(body, 'x', sizeof body);
    memcpy(body, "65\r\n", 4);
    dec_init(&d);
    CHECK(feed(&d, body, 4 + 101, &used, 100) == CC_H1_CHUNKED_BAD);

    /* BUG (http1.c cc_h1_chunked_feed, CH_SIZE): the size check is
     * `left > max_body >> 4` before `left = left * 16 + digit`, so sizes up
     * to 16 * (max_body >> 4) + 15 pass the size line; the header says "A
     * chunk size past max_body is BAD". 0x65 = 101 > 100 and 0xb = 11 > 10
     * get MORE here (BAD only once the data past max_body arrives). */
    dec_init(&d);
    CHECK(feed(&d, "65\r\n", 4, &used, 100) == CC_H1_CHUNKED_BAD);
    dec_init(&d);
    CHECK(feed(&d, "b\r\n", 3, &used, 10) == CC_H1_CHUNKED_BAD);
}

static void test_chunked_total_beyond_max_body_is_bad(void)
{
    struct dec d;
    size_t used;
    /* 5 + 6 = 11 > 10, each chunk alone fits */
    dec_init(&d);
    CHECK(feed(&d, hello, strlen(hello), &used, 10) == CC_H1_CHUNKED_BAD);
    /* 11 exactly fits */
    dec_init(&d);
    CHECK(feed(&d, hello, strlen(hello), &used, 11) == CC_H1_CHUNKED_DONE);
    CHECK(out_is(&d, "hello world"));
    /* the limit counts across feeds */
    dec_init(&d);
    CHECK(feed(&d, "5\r\nhello\r\n", 10, &used, 10) == CC_H1_CHUNKED_MORE);
    CHECK(feed(&d, "6\r\n world\r\n", 11, &used, 10) == CC_H1_CHUNKED_BAD);
    CHECK(d.out_len <= 10);
}

int main(void)
{
    RUN(test_get_crlf_head_fields);
    RUN(test_bare_lf_lines_and_leading_empty_lines);
    RUN(test_every_prefix_of_a_head_is_incomplete);
    RUN(test_bytes_after_the_head_are_not_counted);
    RUN(test_keep_alive_http10);
    RUN(test_keep_alive_http11_connection_close);
    RUN(test_connection_close_wins_over_a_later_keep_alive);
    RUN(test_content_length);
    RUN(test_content_length_refused);
    RUN(test_transfer_encoding);
    RUN(test_expect_continue);
    RUN(test_malformed_request_lines_are_400);
    RUN(test_other_versions_are_505);
    RUN(test_malformed_header_lines_are_400);
    RUN(test_header_value_bytes);
    RUN(test_header_count_limit);
    RUN(test_header_lookup_any_case);
    RUN(test_chunked_whole_body);
    RUN(test_chunked_one_byte_at_a_time);
    RUN(test_chunked_extensions_and_trailers_ignored);
    RUN(test_chunked_stops_after_the_last_line);
    RUN(test_chunked_uppercase_hex);
    RUN(test_chunked_malformed_is_bad);
    RUN(test_chunked_size_beyond_max_body_is_bad);
    RUN(test_chunked_total_beyond_max_body_is_bad);
    return unit_report();
}
