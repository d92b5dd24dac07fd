/* A /v2/keys HTTP request turned into a struct cc_v2_request, or into the
 * answer etcd gives instead (V2-CONTRACT §1.1, §1.2, §1.12).
 *
 * The reference is what etcd does between reading the request line and
 * calling its store: Go's net/http (URL parsing, ServeMux path cleaning and
 * routing, Request.ParseForm) and etcd 2.3.8's keysHandler.ServeHTTP and
 * parseKeyRequest (etcdhttp/client.go). Where Go 1.6 (which built 2.3.8)
 * and Go 1.19 (which built the etcd 3.4.23 we compare against) differ, this
 * follows 1.19: a raw ';' in a query or form is an error ("invalid
 * semicolon separator in query") where 1.6 took it as a separator, and a
 * control byte (below 0x20, or 0x7f) anywhere in the raw path or query is a
 * plain 400. noValueOnSuccess (3.x) is parsed too.
 *
 * The steps, each ending the request when it answers:
 *
 *  1. The raw path must start with '/' and path and query must be free of
 *     control bytes; the path is percent-decoded ('+' stays '+'); a bad
 *     escape: plain 400 (CC_V2_PARSE_BAD_REQUEST). Go's own text for it is
 *     CC_V2_BAD_REQUEST_BODY, sent with Connection: close.
 *  2. Unless the method is CONNECT, the decoded path is cleaned as Go's
 *     ServeMux does (path.Clean, keeping one trailing slash; "%2F" counts as
 *     a slash, since cleaning works on the decoded path). If that changes
 *     it: 301 (CC_V2_PARSE_REDIRECT), not executed. out->path is then the
 *     Location value (the cleaned path re-escaped, plus "?" and the raw
 *     query when there is one, bytes from 0x80 up as lower-case %xx), and
 *     out->value the body Go sends for a GET (an HTML link, "\n\n"-ended);
 *     Go sends "Content-Type: text/html; charset=utf-8" for GET and HEAD,
 *     and no body for other methods.
 *  3. A path other than "/v2/keys" and "/v2/keys/..." is not ours: 404
 *     (CC_V2_PARSE_NOT_FOUND; body CC_V2_NOT_FOUND_BODY).
 *  4. A method other than GET HEAD PUT POST DELETE (case-sensitive): 405
 *     (CC_V2_PARSE_METHOD_NOT_ALLOWED), with "Allow: " CC_V2_KEYS_ALLOW and
 *     body CC_V2_METHOD_NOT_ALLOWED_BODY. OPTIONS never gets here (CORS).
 *  5. Concord only: a key containing a NUL byte ("%00") is refused with a
 *     plain 400. etcd stores such keys; our keys are C strings.
 *  6. Parameters: for PUT and POST (not DELETE: Go reads a form body for
 *     POST, PUT and PATCH only), a body whose Content-Type is
 *     application/x-www-form-urlencoded (with parameters, any case) is read
 *     first; then the query. The first value of a name wins, so the body
 *     beats the query. Any other Content-Type (or none) leaves the body
 *     unread; a Content-Type that does not parse, a body over 10 MiB ("http:
 *     POST too large"), a bad escape or a raw ';' in body or query: etcd
 *     error 210 with Go's message as cause (the body's error wins over the
 *     query's).
 *  7. parseKeyRequest's checks, in its order: prevIndex, waitIndex (203);
 *     recursive, sorted, wait, dir, quorum, stream (209); wait with any
 *     method but GET (209); prevValue present and empty (201);
 *     noValueOnSuccess (209); ttl non-empty and not a uint64 (202);
 *     prevExist (209); refresh (209), and refresh=true with a non-empty
 *     value (211) or without a ttl (212). All with index 0
 *     (CC_V2_PARSE_ETCD_ERROR: render err with cc_v2_render_error, status
 *     from cc_v2_error_status).
 *
 * Then the request: path = "/1" joined with the decoded path after
 * "/v2/keys" (so "/v2/keys" and "/v2/keys/" are both "/1"); value is the
 * first "value" or ""; prev_value the first "prevValue" (absent: n == 0);
 * ttl given: expiration_ns = now_ns + ttl * 1e9, computed as Go does, in
 * 64-bit two's complement that wraps on overflow (a huge ttl can land in
 * the past; etcd's store then treats anything before 2000 as permanent);
 * GET with quorum=true becomes CC_V2_QGET (etcdserver.Do), whatever wait
 * says. */
#ifndef CC_CORE_V2_PARAMS_H
#define CC_CORE_V2_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "core/v2/errors.h"
#include "core/v2/request_codec.h"
#include "core/v2/types.h"

#define CC_V2_KEYS_ALLOW              "HEAD,GET,PUT,POST,DELETE"
#define CC_V2_METHOD_NOT_ALLOWED_BODY "Method Not Allowed\n"
#define CC_V2_NOT_FOUND_BODY          "404 page not found\n"
#define CC_V2_BAD_REQUEST_BODY        "400 Bad Request"
/* Go reads at most this much of a form body. */
#define CC_V2_MAX_FORM_BODY (10u << 20)

enum cc_v2_parse_status {
    CC_V2_PARSE_NOMEM = -1,             /* errno ENOMEM; out and err hold nothing */
    CC_V2_PARSE_OK = 0,                 /* out filled */
    CC_V2_PARSE_ETCD_ERROR = 1,         /* err filled, index 0 */
    CC_V2_PARSE_BAD_REQUEST = 2,        /* plain 400 */
    CC_V2_PARSE_REDIRECT = 3,           /* 301: out->path, out->value (see above) */
    CC_V2_PARSE_METHOD_NOT_ALLOWED = 4, /* 405 */
    CC_V2_PARSE_NOT_FOUND = 5,          /* 404 */
};

/* The request as it arrived. path and query are raw (still percent-encoded,
 * as on the request line, origin form): path is everything before the first
 * '?', query everything after it (NULL, or query_len 0, when there is
 * none: Go makes no difference). content_type is the first Content-Type
 * header's value, NULL when there is none. */
struct cc_v2_http_in {
    const char *method; /* NUL-terminated, as sent */
    const char *path;
    size_t path_len;
    const char *query;
    size_t query_len;
    const char *content_type;
    size_t content_type_len;
    const uint8_t *body;
    size_t body_len;
};

/* Splits a raw request target into in->path and in->query at its first '?'
 * (a fragment is not split off: Go keeps '#' in the path). */
void cc_v2_split_target(const char *target, size_t n, struct cc_v2_http_in *in);

/* Parses in (see the steps above) at time now_ns (Unix ns, for the ttl).
 * Returns an enum cc_v2_parse_status. out is always initialised; with OK or
 * REDIRECT it holds allocations to release with cc_v2_request_free. err is
 * filled only with ETCD_ERROR (code 0 otherwise). */
int cc_v2_parse_key_request(const struct cc_v2_http_in *in, int64_t now_ns,
                            struct cc_v2_request *out, struct cc_v2_error *err);

#endif
