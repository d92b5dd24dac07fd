#include "core/http/http1.h"

#include <stddef.h>
#include <string.h>

bool cc_h1_is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static bool ieq(struct cc_h1_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)s.p[i], b = (unsigned char)lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

/* The end of the line starting at p: the LF, or NULL when there is none yet.
 * *next is the first byte after the line; *len excludes CR LF or LF. */
static const char *line_end(const char *p, const char *end, size_t *len, const char **next)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    if (lf == NULL)
        return NULL;
    *len = (size_t)(lf - p) - (lf > p && lf[-1] == '\r');
    *next = lf + 1;
    return lf;
}

static struct cc_h1_str trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct cc_h1_str){p, n};
}

/* A comma-separated header value contains token (any case). */
static bool has_token(struct cc_h1_str v, const char *token)
{
    const char *p = v.p, *end = v.p + v.n;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        if (ieq(trim(p, (size_t)(e - p)), token))
            return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}

static int parse_request_line(const char *p, size_t n, struct cc_h1_head *out)
{
    const char *end = p + n;
    const char *sp1 = memchr(p, ' ', n);
    if (sp1 == NULL || sp1 == p)
        return -400;
    for (const char *q = p; q < sp1; q++)
        if (!cc_h1_is_tchar((unsigned char)*q))
            return -400;
    const char *t = sp1 + 1;
    const char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (sp2 == NULL || sp2 == t)
        return -400;
    for (const char *q = t; q < sp2; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f)
            return -400;
    const char *v = sp2 + 1;
    size_t vn = (size_t)(end - v);
    if (vn != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9')
        return -400;
    if (v[5] != '1')
        return -505;
    out->method = (struct cc_h1_str){p, (size_t)(sp1 - p)};
    out->target = (struct cc_h1_str){t, (size_t)(sp2 - t)};
    out->minor = v[7] - '0';
    return 0;
}

static int parse_length(struct cc_h1_str v, uint64_t *out)
{
    if (v.n == 0 || v.n > 19)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(v.p[i] - '0');
    }
    *out = n;
    return 0;
}

/* Content-Length, Transfer-Encoding, Connection and Expect. */
static int derive(struct cc_h1_head *h)
{
    bool close = false, keep = false;
    for (size_t i = 0; i < h->n_headers; i++) {
        struct cc_h1_str name = h->headers[i].name, value = h->headers[i].value;
        if (ieq(name, "content-length")) {
            uint64_t n;
            if (parse_length(value, &n) != 0 || (h->has_length && n != h->content_length))
                return -400;
            h->has_length = true;
            h->content_length = n;
        } else if (ieq(name, "transfer-encoding")) {
            if (value.n == 0 || h->chunked)
                return -400;
            if (!ieq(value, "chunked"))
                return -501; /* Go: "unsupported transfer encoding" */
            h->chunked = true;
        } else if (ieq(name, "host")) {
            h->has_host = true;
        } else if (ieq(name, "connection")) {
            close = close || has_token(value, "close");
            keep = keep || has_token(value, "keep-alive");
        } else if (ieq(name, "expect")) {
            h->expect_continue = ieq(value, "100-continue");
        }
    }
    /* "close" anywhere wins (Go's shouldClose); HTTP/1.0 stays open only
     * when asked to. */
    h->keep_alive = !close && (h->minor >= 1 || keep);
    /* Both at once is how requests get smuggled past proxies (RFC 9112
     * §6.3): refused, as Go does. */
    if (h->chunked && h->has_length)
        return -400;
    if (h->chunked && h->minor == 0)
        return -400;
    return 0;
}

long cc_h1_parse_head(const char *buf, size_t len, struct cc_h1_head *out)
{
    const char *p = buf, *end = buf + len, *next;
    size_t n;
    memset(out, 0, offsetof(struct cc_h1_head, headers));
    out->n_headers = 0;
    out->has_length = out->chunked = out->keep_alive = out->expect_continue = false;
    out->has_host = false;
    out->content_length = 0;
    /* Go skips empty lines before the request line (RFC 9112 §2.2). */
    while (p < end && (*p == '\r' || *p == '\n')) {
        if (*p == '\r' && (p + 1 >= end || p[1] != '\n'))
            return p + 1 >= end ? 0 : -400;
        p += *p == '\r' ? 2 : 1;
    }
    if (line_end(p, end, &n, &next) == NULL)
        return 0;
    int r = parse_request_line(p, n, out);
    if (r != 0)
        return r;
    for (p = next;;) {
        if (line_end(p, end, &n, &next) == NULL)
            return 0;
        if (n == 0)
            break;
        if (*p == ' ' || *p == '\t')
            return -400; /* obs-fold */
        const char *colon = memchr(p, ':', n);
        if (colon == NULL || colon == p)
            return -400;
        for (const char *q = p; q < colon; q++)
            if (!cc_h1_is_tchar((unsigned char)*q))
                return -400;
        for (const char *q = colon + 1; q < p + n; q++)
            if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f)
                return -400;
        if (out->n_headers == CC_H1_MAX_HEADERS)
            return -431;
        struct cc_h1_header *hd = &out->headers[out->n_headers++];
        hd->name = (struct cc_h1_str){p, (size_t)(colon - p)};
        hd->value = trim(colon + 1, (size_t)(p + n - colon - 1));
        p = next;
    }
    r = derive(out);
    if (r != 0)
        return r;
    return (long)(next - buf);
}

const struct cc_h1_str *cc_h1_header(const struct cc_h1_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_headers; i++)
        if (ieq(h->headers[i].name, name))
            return &h->headers[i].value;
    return NULL;
}

/* ---- chunked bodies ---- */

enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_TRAILER_LF };

#define CH_MAX_LINE 4096

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

int cc_h1_chunked_feed(struct cc_h1_chunked *c, const char *in, size_t len, size_t *used, char *out,
                       size_t *out_len, uint64_t max_body)
{
    size_t i = 0;
    while (i < len) {
        char ch = in[i];
        switch (c->state) {
        case CH_SIZE: {
            int v = hexval(ch);
            if (v >= 0) {
                if (c->left > (max_body - (uint64_t)v) / 16 || (uint64_t)v > max_body)
                    return CC_H1_CHUNKED_BAD;
                c->left = c->left * 16 + (uint64_t)v;
                c->line++;
                i++;
                break;
            }
            if (c->line == 0)
                return CC_H1_CHUNKED_BAD;
            if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = CH_EXT;
                break;
            }
            if (ch == '\r') {
                c->state = CH_SIZE_LF;
                i++;
                break;
            }
            if (ch == '\n') {
                c->state = CH_SIZE_LF;
                break;
            }
            return CC_H1_CHUNKED_BAD;
        }
        case CH_EXT:
            if (ch == '\r' || ch == '\n') {
                c->state = CH_SIZE_LF;
                i += ch == '\r';
                break;
            }
            if (++c->line > CH_MAX_LINE)
                return CC_H1_CHUNKED_BAD;
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return CC_H1_CHUNKED_BAD;
            i++;
            c->line = 0;
            c->state = c->left == 0 ? CH_TRAILER : CH_DATA;
            break;
        case CH_DATA: {
            size_t take = len - i;
            if (take > c->left)
                take = (size_t)c->left;
            if (*out_len + take > max_body)
                return CC_H1_CHUNKED_BAD;
            memcpy(out + *out_len, in + i, take);
            *out_len += take;
            c->left -= take;
            i += take;
            if (c->left == 0)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (ch == '\r') {
                c->state = CH_DATA_LF;
                i++;
            } else if (ch == '\n') {
                c->state = CH_DATA_LF;
            } else {
                return CC_H1_CHUNKED_BAD;
            }
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                return CC_H1_CHUNKED_BAD;
            i++;
            c->state = CH_SIZE;
            c->line = 0;
            break;
        case CH_TRAILER:
            /* Trailer lines until an empty one. */
            if (ch == '\r') {
                i++;
                c->state = CH_TRAILER_LF;
                break;
            }
            if (ch == '\n') {
                c->state = CH_TRAILER_LF;
                break;
            }
            if (++c->line > CH_MAX_LINE)
                return CC_H1_CHUNKED_BAD;
            i++;
            break;
        case CH_TRAILER_LF:
            if (ch != '\n')
                return CC_H1_CHUNKED_BAD;
            i++;
            if (c->line == 0) {
                *used = i;
                return CC_H1_CHUNKED_DONE;
            }
            c->line = 0;
            c->state = CH_TRAILER;
            break;
        default:
            return CC_H1_CHUNKED_BAD;
        }
    }
    *used = i;
    return CC_H1_CHUNKED_MORE;
}
