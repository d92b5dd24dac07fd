/* libFuzzer target for the /v2/keys edge: request parsing, the request
 * codec and the JSON renderers.
 *
 * Input layout: byte 0 picks the method (low 4 bits, from a list that has
 * the five keys methods, refused ones and a lower-case one) and whether
 * there is a query (bit 4) and a Content-Type (bit 5); the rest is split at
 * the two-byte separator "\xff\xfe" into the raw path, the raw query, the
 * Content-Type value and the body (missing parts are empty). The whole
 * input is also fed to the request decoder.
 *
 * Properties (a violation calls abort()):
 *  - the parser returns one of its statuses and never crashes or leaks;
 *  - OK: the store path starts with "/1", is clean (path.Clean leaves it
 *    alone) and holds no NUL; the request encodes, decodes to the same
 *    fields and re-encodes to the same bytes; an event and an error built
 *    from it render as valid UTF-8 without raw control bytes;
 *  - REDIRECT: the Location starts with '/', holds only printable ASCII,
 *    and asking for it is not redirected again;
 *  - ETCD_ERROR: a parse error code (201-203, 209-212) with index 0;
 *  - the decoder accepts only what re-encodes to exactly the same bytes.
 *
 * Run: ./fuzz_keys_request -max_total_time=60 [corpus-dir]. */
#include "core/v2/json.h"
#include "core/v2/params.h"
#include "core/v2/request_codec.h"
#include "core/v2/urlcodec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW INT64_C(1795606979320693683)

static const char *const methods[16] = {
    "GET",   "HEAD",    "PUT",     "POST", "DELETE", "PUT", "POST",   "GET",
    "PATCH", "CONNECT", "OPTIONS", "get",  "",       "PUT", "DELETE", "GET",
};

static void require(bool ok)
{
    if (!ok)
        abort();
}

/* Go's utf8.Valid over the rendered JSON, and no raw byte below 0x20
 * except the final newline. */
static void check_json(const struct cc_buf *b)
{
    require(!b->failed && b->len > 0 && b->data[b->len - 1] == '\n');
    for (size_t i = 0; i + 1 < b->len;) {
        uint32_t r;
        size_t w = cc_v2_utf8_decode(b->data + i, b->len - 1 - i, &r);

        require(!(w == 1 && r == 0xFFFD)); /* invalid UTF-8 must be escaped */
        require(r >= 0x20);
        i += w;
    }
}

static bool same_str(const struct cc_v2_str *a, const struct cc_v2_str *b)
{
    return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

static void check_codec(const struct cc_v2_request *r)
{
    struct cc_buf a, b;
    struct cc_v2_request d;

    cc_buf_init(&a);
    cc_buf_init(&b);
    require(cc_v2_request_encode(&a, r) == 0);
    require(cc_v2_request_decode(a.data, a.len, &d) == 0);
    require(d.method == r->method && strcmp(d.path, r->path) == 0);
    require(same_str(&d.value, &r->value) && same_str(&d.prev_value, &r->prev_value));
    require(d.prev_index == r->prev_index && d.prev_exist == r->prev_exist);
    require(d.dir == r->dir && d.recursive == r->recursive && d.sorted == r->sorted);
    require(d.quorum == r->quorum && d.wait == r->wait && d.stream == r->stream);
    require(d.refresh == r->refresh && d.no_value_on_success == r->no_value_on_success);
    require(d.expiration_ns == r->expiration_ns && d.wait_index == r->wait_index);
    require(d.time_ns == r->time_ns);
    require(cc_v2_request_encode(&b, &d) == 0);
    require(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    cc_v2_request_free(&d);
    cc_buf_free(&a);
    cc_buf_free(&b);
}

static void check_ok(const struct cc_v2_request *r)
{
    size_t n = strlen(r->path);
    struct cc_buf b;
    struct cc_v2_event ev;
    struct cc_v2_node prev;
    struct cc_v2_error e;

    require(n >= 2 && memcmp(r->path, "/1", 2) == 0);
    require(r->method >= CC_V2_GET && r->method <= CC_V2_QGET);
    require(r->value.p != NULL && r->prev_value.p != NULL);
    require(r->value.p[r->value.n] == '\0' && r->prev_value.p[r->prev_value.n] == '\0');
    cc_buf_init(&b);
    cc_v2_path_clean(&b, r->path, n);
    require(!b.failed && b.len == n && memcmp(b.data, r->path, n) == 0);
    cc_buf_free(&b);

    check_codec(r);

    memset(&ev, 0, sizeof ev);
    memset(&prev, 0, sizeof prev);
    ev.action = CC_V2_ACT_CAS;
    ev.node.key = r->path;
    ev.node.value = r->value;
    ev.node.has_value = true;
    ev.node.expiration_ns = r->expiration_ns;
    ev.node.modified_index = r->prev_index;
    ev.node.created_index = r->wait_index;
    prev.key = r->path;
    prev.value = r->prev_value;
    prev.has_value = r->prev_value.n > 0;
    prev.dir = !prev.has_value;
    prev.expiration_ns = r->expiration_ns ^ 1;
    ev.prev_node = &prev;
    ev.node.nodes = &prev;
    ev.node.n_nodes = r->dir;
    cc_buf_init(&b);
    require(cc_v2_render_event(&b, &ev, NOW) == 0);
    check_json(&b);
    cc_buf_reset(&b);
    cc_v2_error_set(&e, 100, r->path, r->prev_index);
    require(cc_v2_render_error(&b, &e) == 0);
    check_json(&b);
    cc_buf_reset(&b);
    cc_v2_error_set(&e, 101, r->value.p, 0); /* a cause with any bytes */
    require(cc_v2_render_error(&b, &e) == 0);
    check_json(&b);
    cc_buf_free(&b);
}

static void check_redirect(const char *method, const struct cc_v2_request *r)
{
    size_t n = strlen(r->path);
    struct cc_v2_http_in in;
    struct cc_v2_request again;
    struct cc_v2_error e;
    int rc;

    require(n > 0 && r->path[0] == '/');
    for (size_t i = 0; i < n; i++)
        require(r->path[i] >= 0x20 && r->path[i] < 0x7f); /* a space only from the query */
    require(r->value.p != NULL && r->value.n == strlen(r->value.p));
    memset(&in, 0, sizeof in);
    in.method = method;
    cc_v2_split_target(r->path, n, &in);
    rc = cc_v2_parse_key_request(&in, NOW, &again, &e);
    require(rc != CC_V2_PARSE_REDIRECT && rc != CC_V2_PARSE_NOMEM);
    cc_v2_request_free(&again);
}

/* Splits at the next "\xff\xfe": *part / *n, and advances. */
static void next_part(const uint8_t **p, size_t *left, const uint8_t **part, size_t *n)
{
    const uint8_t *s = *p;

    *part = s;
    for (size_t i = 0; i + 1 < *left; i++) {
        if (s[i] == 0xff && s[i + 1] == 0xfe) {
            *n = i;
            *p = s + i + 2;
            *left -= i + 2;
            return;
        }
    }
    *n = *left;
    *p = s + *left;
    *left = 0;
}

static void fuzz_parser(const uint8_t *data, size_t size)
{
    const uint8_t *p = data + 1, *path, *query, *ct, *body;
    size_t left = size - 1, path_n, query_n, ct_n, body_n;
    const char *method = methods[data[0] & 15];
    struct cc_v2_http_in in;
    struct cc_v2_request r;
    struct cc_v2_error e;
    int rc;

    next_part(&p, &left, &path, &path_n);
    next_part(&p, &left, &query, &query_n);
    next_part(&p, &left, &ct, &ct_n);
    next_part(&p, &left, &body, &body_n);
    memset(&in, 0, sizeof in);
    in.method = method;
    in.path = (const char *)path;
    in.path_len = path_n;
    if (data[0] & 16) {
        in.query = (const char *)query;
        in.query_len = query_n;
    }
    if (data[0] & 32) {
        in.content_type = (const char *)ct;
        in.content_type_len = ct_n;
    }
    in.body = body;
    in.body_len = body_n;

    rc = cc_v2_parse_key_request(&in, NOW, &r, &e);
    switch (rc) {
    case CC_V2_PARSE_OK:
        require(e.code == 0);
        check_ok(&r);
        break;
    case CC_V2_PARSE_REDIRECT:
        require(e.code == 0);
        check_redirect(method, &r);
        break;
    case CC_V2_PARSE_ETCD_ERROR: {
        struct cc_buf b;

        require(r.path == NULL && e.index == 0);
        require((e.code >= 201 && e.code <= 203) || (e.code >= 209 && e.code <= 212));
        cc_buf_init(&b);
        require(cc_v2_render_error(&b, &e) == 0);
        check_json(&b);
        cc_buf_free(&b);
        break;
    }
    case CC_V2_PARSE_BAD_REQUEST:
    case CC_V2_PARSE_METHOD_NOT_ALLOWED:
    case CC_V2_PARSE_NOT_FOUND:
        require(r.path == NULL && e.code == 0);
        break;
    default:
        abort(); /* NOMEM does not happen here */
    }
    cc_v2_request_free(&r);
}

static void fuzz_decoder(const uint8_t *data, size_t size)
{
    struct cc_v2_request d;
    struct cc_buf b;

    if (cc_v2_request_decode(data, size, &d) < 0) {
        require(d.path == NULL);
        return;
    }
    cc_buf_init(&b);
    require(cc_v2_request_encode(&b, &d) == 0);
    require(b.len == size && memcmp(b.data, data, size) == 0);
    cc_buf_free(&b);
    check_codec(&d);
    cc_v2_request_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_decoder(data, size);
    if (size > 0)
        fuzz_parser(data, size);
    return 0;
}
