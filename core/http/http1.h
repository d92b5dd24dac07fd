/* HTTP/1.x request heads and chunked bodies, parsed from a buffer: pure
 * functions, no I/O, so the client port's server (hserver.c), the unit
 * tests and the fuzzer share them.
 *
 * What is accepted is what Go's net/http (etcd's server) accepts for the
 * requests etcd's clients send: a request line "METHOD SP target SP
 * HTTP/1.x", header lines "Name: value" (lines may end in CRLF or a bare
 * LF), then an empty line. Refused with 400: a malformed request line, a
 * header name that is not a token, a folded header line (obs-fold), a
 * Content-Length that is not a number or two that disagree, both a
 * Content-Length and chunked (how requests are smuggled past proxies).
 * A Transfer-Encoding other than chunked: 501. HTTP/2 and later, or
 * HTTP/0.x: 505. */
#ifndef CC_CORE_HTTP_HTTP1_H
#define CC_CORE_HTTP_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CC_H1_MAX_HEADERS 128

struct cc_h1_str {
    const char *p; /* into the parsed buffer, not NUL-terminated */
    size_t n;
};

struct cc_h1_header {
    struct cc_h1_str name, value; /* value without surrounding blanks */
};

struct cc_h1_head {
    struct cc_h1_str method, target;
    int minor; /* HTTP/1.<minor> */
    struct cc_h1_header headers[CC_H1_MAX_HEADERS];
    size_t n_headers;
    /* Derived from the headers. */
    bool has_length;
    uint64_t content_length;
    bool chunked;
    bool keep_alive;      /* after this request (version and Connection) */
    bool expect_continue; /* "Expect: 100-continue" */
    bool has_host;        /* HTTP/1.1 requires one (Go answers 400 without) */
};

/* Parses the head at the start of buf[0..len). Returns the head's length
 * in bytes (through the empty line) and fills *out; 0 when the head is not
 * complete yet; or minus an HTTP status (-400, -431 when more than
 * CC_H1_MAX_HEADERS header lines, -501, -505) when it can never be valid. */
long cc_h1_parse_head(const char *buf, size_t len, struct cc_h1_head *out);

/* A byte of an HTTP token (a method, a header name). */
bool cc_h1_is_tchar(unsigned char ch);

/* The value of the first header called name (any case), or NULL. */
const struct cc_h1_str *cc_h1_header(const struct cc_h1_head *h, const char *name);

/* A chunked body being decoded (RFC 9112 §7.1; extensions and trailers are
 * read and ignored). */
struct cc_h1_chunked {
    int state;
    uint64_t left; /* bytes left in the current chunk */
    size_t line;   /* length of the size or trailer line so far */
};

enum { CC_H1_CHUNKED_MORE = 0, CC_H1_CHUNKED_DONE = 1, CC_H1_CHUNKED_BAD = -1 };

/* Decodes in[0..len): data bytes are appended to out[*out_len..] (out has
 * room for len more bytes, which is always enough); *used is how many
 * input bytes were consumed. Returns CC_H1_CHUNKED_MORE (all of in was
 * used), CC_H1_CHUNKED_DONE (the body ended; bytes after it were not
 * used) or CC_H1_CHUNKED_BAD. A chunk size past max_body is BAD. */
int cc_h1_chunked_feed(struct cc_h1_chunked *c, const char *in, size_t len, size_t *used, char *out,
                       size_t *out_len, uint64_t max_body);

#endif
