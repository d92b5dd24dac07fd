#include "core/peer/peer_http.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/http/http1.h"
#include "core/v2/json.h"
#include "core/version.h"

#define PUT_LIT(b, lit) cc_put_raw((b), (lit), sizeof(lit) - 1)

#define TEXT_PLAIN "text/plain; charset=utf-8"

static void put_str(struct cc_buf *b, const char *s)
{
    cc_put_raw(b, s, strlen(s));
}

/* One response with Connection: close; extra is more header lines, each
 * ending in "\r\n". */
static void respond(struct cc_buf *out, int code, const char *status, const char *ctype,
                    const char *extra, const void *body, size_t len)
{
    char head[512];
    snprintf(head, sizeof(head),
             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n",
             code, status, ctype, extra, len);
    put_str(out, head);
    cc_put_raw(out, body, len);
}

static void respond_text(struct cc_buf *out, int code, const char *status, const char *extra,
                         const char *body)
{
    respond(out, code, status, TEXT_PLAIN, extra, body, strlen(body));
}

static void put_url_array(struct cc_buf *b, const struct cc_url_list *l)
{
    PUT_LIT(b, "[");
    for (size_t i = 0; l != NULL && i < l->n; i++) {
        if (i > 0)
            PUT_LIT(b, ",");
        cc_v2_json_string(b, l->v[i].text, strlen(l->v[i].text));
    }
    PUT_LIT(b, "]");
}

/* etcd's json.NewEncoder(w).Encode(cluster.Members()): the members sorted
 * by id, the id a decimal JSON number (a uint64, beyond 2^53), then "\n".
 *
 * Known difference: etcd lists every member's published clientURLs. This
 * member knows only its own (--advertise-client-urls); the others are [] until
 * members publish their attributes to each other. (etcd's field is omitempty,
 * so it would leave an empty list out rather than write [].) */
static void members_body(const struct cc_peer_http_ctx *ctx, struct cc_buf *b)
{
    const struct cc_cluster_def *c = ctx->cluster;
    PUT_LIT(b, "[");
    for (size_t i = 0; i < c->n; i++) {
        const struct cc_member_def *m = &c->members[i];
        char id[32];
        snprintf(id, sizeof(id), "%" PRIu64, m->id);
        put_str(b, i > 0 ? ",{\"id\":" : "{\"id\":");
        put_str(b, id);
        PUT_LIT(b, ",\"peerURLs\":");
        put_url_array(b, &m->peer_urls);
        PUT_LIT(b, ",\"name\":");
        const char *name = m->name ? m->name : "";
        cc_v2_json_string(b, name, strlen(name));
        PUT_LIT(b, ",\"clientURLs\":");
        put_url_array(b, m->id == c->self_id ? ctx->self_client_urls : NULL);
        PUT_LIT(b, "}");
    }
    PUT_LIT(b, "]\n");
}

/* The request line and header lines as Go's server insists on before it
 * routes (the client port's parser, core/http/http1.c), and a target that
 * is a path. On success method and path (without its query) point into
 * head. */
static bool parse_head(const char *head, size_t n, const char **method, size_t *mlen,
                       const char **path, size_t *plen, char *why, size_t whylen)
{
    static struct cc_h1_head h; /* 4 KiB of header slots: not on the stack */
    long r = cc_h1_parse_head(head, n, &h);
    if (r <= 0) {
        snprintf(why, whylen, "%s",
                 r == 0      ? "incomplete request head"
                 : r == -505 ? "not an HTTP/1.x request"
                 : r == -431 ? "too many header lines"
                             : "malformed request line or header");
        return false;
    }
    if (h.target.p[0] != '/') {
        snprintf(why, whylen, "request target is not a path");
        return false;
    }
    *method = h.method.p;
    *mlen = h.method.n;
    *path = h.target.p;
    const char *q = memchr(h.target.p, '?', h.target.n);
    *plen = q ? (size_t)(q - h.target.p) : h.target.n;
    return true;
}

static bool eq(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

int cc_peer_http_respond(const struct cc_peer_http_ctx *ctx, const char *head, size_t n,
                         struct cc_buf *out, char *why, size_t whylen)
{
    const char *method, *path;
    size_t mlen, plen;
    if (whylen > 0)
        why[0] = '\0';
    if (!parse_head(head, n, &method, &mlen, &path, &plen, why, whylen)) {
        cc_peer_http_bad_request(out);
        return 400;
    }
    bool get = eq(method, mlen, "GET");
    bool members = eq(path, plen, "/members");
    bool members_sub = plen >= 9 && memcmp(path, "/members/", 9) == 0;
    if (!eq(path, plen, "/version") && !members && !members_sub) {
        respond_text(out, 404, "Not Found", "", "404 page not found\n");
        return 404;
    }
    if (!get) {
        respond_text(out, 405, "Method Not Allowed", "Allow: GET\r\n", "Method Not Allowed\n");
        return 405;
    }
    if (!members && !members_sub) {
        respond(out, 200, "OK", "application/json", "", CC_VERSION_JSON,
                sizeof(CC_VERSION_JSON) - 1);
        return 200;
    }
    /* etcd sets the cluster header before it looks at the path. */
    char cid[64];
    snprintf(cid, sizeof(cid), "X-Etcd-Cluster-Id: %" PRIx64 "\r\n", ctx->cluster->cluster_id);
    if (members_sub) {
        respond_text(out, 400, "Bad Request", cid, "bad path\n");
        return 400;
    }
    struct cc_buf body;
    cc_buf_init(&body);
    members_body(ctx, &body);
    if (body.failed)
        out->failed = true;
    else
        respond(out, 200, "OK", "application/json", cid, body.data, body.len);
    cc_buf_free(&body);
    return 200;
}

void cc_peer_http_bad_request(struct cc_buf *out)
{
    respond_text(out, 400, "Bad Request", "", "400 Bad Request");
}

bool cc_peer_http_plausible(const char *p, size_t n, char *why, size_t whylen)
{
    size_t i = 0;
    for (; i < n && p[i] != ' '; i++)
        if (!cc_h1_is_tchar((unsigned char)p[i]) || i >= 32) {
            snprintf(why, whylen, "the method is not a token");
            return false;
        }
    if (i == 0 && n > 0) {
        snprintf(why, whylen, "malformed request line");
        return false;
    }
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if ((ch < 0x20 && ch != '\r' && ch != '\n' && ch != '\t') || ch == 0x7f) {
            snprintf(why, whylen, "control byte 0x%02x in the request head", ch);
            return false;
        }
    }
    return true;
}

void cc_peer_http_too_large(struct cc_buf *out)
{
    respond_text(out, 431, "Request Header Fields Too Large", "",
                 "431 Request Header Fields Too Large");
}
