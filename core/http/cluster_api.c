/* The cluster endpoints of the client port (V2-CONTRACT §2.1–2.3):
 * /v2/members, /v2/members/leader, /v2/machines, /v2/stats/{self,store,leader}.
 * Membership is read from the view's store, where etcd keeps it:
 * /0/members/<id>/raftAttributes {"peerURLs":[...]} and
 * /0/members/<id>/attributes {"name":...,"clientURLs":[...]}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "core/http/http.h"
#include "core/log.h"
#include "core/v2/json.h"

/* Appends a string literal (its length known at compile time). */
#define PUT_LIT(b, lit) cc_put_raw((b), (lit), sizeof(lit) - 1)

struct member {
    uint64_t id;
    char name[256];
    char peer_urls[2048];   /* JSON array text */
    char client_urls[2048]; /* JSON array text */
    bool started;
};

/* Copies the JSON array at key of a small JSON object, re-encoded. */
static void json_array_field(const char *json, const char *key, char *out, size_t len)
{
    snprintf(out, len, "[]");
    yajl_val v = yajl_tree_parse(json, NULL, 0);
    if (v == NULL)
        return;
    const char *path[] = {key, NULL};
    yajl_val a = yajl_tree_get(v, path, yajl_t_array);
    if (a) {
        struct cc_buf b;
        cc_buf_init(&b);
        PUT_LIT(&b, "[");
        for (size_t i = 0; i < a->u.array.len; i++) {
            const char *s = YAJL_GET_STRING(a->u.array.values[i]);
            if (s == NULL)
                continue;
            if (b.len > 1)
                PUT_LIT(&b, ",");
            cc_v2_json_string(&b, s, strlen(s));
        }
        PUT_LIT(&b, "]");
        if (!b.failed && b.len < len) {
            memcpy(out, b.data, b.len);
            out[b.len] = '\0';
        }
        cc_buf_free(&b);
    }
    yajl_tree_free(v);
}

static void string_field(const char *json, const char *key, char *out, size_t len)
{
    out[0] = '\0';
    yajl_val v = yajl_tree_parse(json, NULL, 0);
    if (v == NULL)
        return;
    const char *path[] = {key, NULL};
    yajl_val s = yajl_tree_get(v, path, yajl_t_string);
    if (s && YAJL_GET_STRING(s))
        snprintf(out, len, "%s", YAJL_GET_STRING(s));
    yajl_tree_free(v);
}

static int cmp_member(const void *a, const void *b)
{
    uint64_t x = ((const struct member *)a)->id, y = ((const struct member *)b)->id;
    return x < y ? -1 : x > y;
}

/* The members recorded in the store, sorted by id; returns the count. */
static size_t read_members(struct cc_http *h, struct member *out, size_t max)
{
    struct cc_v2_result res = {0};
    if (!cc_view_ready(&h->view) ||
        cc_v2_store_get(h->view.store, "/0/members", true, true, 0, &res) != 0 || !res.event) {
        cc_v2_result_clear(&res);
        return 0;
    }
    size_t n = 0;
    const struct cc_v2_node *dir = &res.event->node;
    for (size_t i = 0; i < dir->n_nodes && n < max; i++) {
        const struct cc_v2_node *m = &dir->nodes[i];
        const char *slash = strrchr(m->key, '/');
        if (!m->dir || slash == NULL)
            continue;
        struct member *o = &out[n];
        memset(o, 0, sizeof(*o));
        o->id = strtoull(slash + 1, NULL, 16);
        snprintf(o->peer_urls, sizeof(o->peer_urls), "[]");
        snprintf(o->client_urls, sizeof(o->client_urls), "[]");
        for (size_t j = 0; j < m->n_nodes; j++) {
            const struct cc_v2_node *a = &m->nodes[j];
            const char *leaf = strrchr(a->key, '/');
            if (leaf == NULL || !a->has_value)
                continue;
            if (strcmp(leaf, "/raftAttributes") == 0)
                json_array_field(a->value.p, "peerURLs", o->peer_urls, sizeof(o->peer_urls));
            else if (strcmp(leaf, "/attributes") == 0) {
                json_array_field(a->value.p, "clientURLs", o->client_urls, sizeof(o->client_urls));
                string_field(a->value.p, "name", o->name, sizeof(o->name));
                o->started = true;
            }
        }
        n++;
    }
    cc_v2_result_clear(&res);
    qsort(out, n, sizeof(out[0]), cmp_member);
    return n;
}

static void put_member(struct cc_buf *b, const struct member *m)
{
    char id[24];
    snprintf(id, sizeof(id), "%llx", (unsigned long long)m->id);
    PUT_LIT(b, "{\"id\":\"");
    cc_put_raw(b, id, strlen(id));
    PUT_LIT(b, "\",\"name\":");
    cc_v2_json_string(b, m->name, strlen(m->name));
    PUT_LIT(b, ",\"peerURLs\":");
    cc_put_raw(b, m->peer_urls, strlen(m->peer_urls));
    PUT_LIT(b, ",\"clientURLs\":");
    cc_put_raw(b, m->client_urls, strlen(m->client_urls));
    PUT_LIT(b, "}");
}

static void reply_json(struct cc_hreq *req, int code, const char *reason, const struct cc_buf *b)
{
    cc_http_reply(req, code, reason, "application/json", b->data, b->len);
}

static void reply_message(struct cc_hreq *req, int code, const char *reason, const char *msg)
{
    struct cc_buf b;
    cc_buf_init(&b);
    PUT_LIT(&b, "{\"message\":");
    cc_v2_json_string(&b, msg, strlen(msg));
    PUT_LIT(&b, "}");
    reply_json(req, code, reason, &b);
    cc_buf_free(&b);
}

/* etcd's unmarshalRequest + MemberCreateRequest.UnmarshalJSON: a JSON
 * body {"peerURLs":[...]} of valid peer URLs. 0, or -1 after answering. */
static int read_peer_urls(struct cc_hreq *req, struct cc_url_list *out)
{
    const char *ct = cc_hreq_header(req, "Content-Type");
    if (ct == NULL || strcmp(ct, "application/json") != 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "Bad Content-Type %.400s, accept application/json",
                 ct ? ct : "");
        reply_message(req, 415, "Unsupported Media Type", msg);
        return -1;
    }
    size_t n;
    const uint8_t *in = cc_hreq_body(req, &n);
    char *body = malloc(n + 1);
    if (body == NULL) {
        reply_message(req, 500, "Internal Server Error", "out of memory");
        return -1;
    }
    if (n > 0)
        memcpy(body, in, n);
    body[n] = '\0';
    char perr[256] = "";
    yajl_val v = yajl_tree_parse(body, perr, sizeof(perr));
    free(body);
    const char *path[] = {"peerURLs", NULL};
    yajl_val a = v ? yajl_tree_get(v, path, yajl_t_any) : NULL;
    if (v == NULL || !YAJL_IS_OBJECT(v) || (a && !YAJL_IS_ARRAY(a) && !YAJL_IS_NULL(a))) {
        for (char *c = perr; *c; c++)
            if (*c == '\n')
                *c = ' ';
        reply_message(req, 400, "Bad Request", v ? "json: cannot unmarshal peerURLs" : perr);
        if (v)
            yajl_tree_free(v);
        return -1;
    }
    struct cc_buf csv;
    cc_buf_init(&csv);
    for (size_t i = 0; a && YAJL_IS_ARRAY(a) && i < a->u.array.len; i++) {
        const char *u = YAJL_GET_STRING(a->u.array.values[i]);
        if (i)
            PUT_LIT(&csv, ",");
        if (u)
            cc_put_raw(&csv, u, strlen(u));
    }
    cc_put_u8(&csv, 0);
    yajl_tree_free(v);
    char err[512];
    int r = csv.len <= 1 ? (snprintf(err, sizeof(err), "no valid URLs given"), -1)
                         : cc_url_list_parse((const char *)csv.data, out, err, sizeof(err));
    cc_buf_free(&csv);
    if (r != 0) {
        reply_message(req, 400, "Bad Request", err);
        return -1;
    }
    return 0;
}

/* POST, PUT and DELETE of /v2/members: etcd's checks, in etcd's order. The
 * change itself needs replication between members (not built yet): a
 * request that passes every check is refused with 500, which is what etcd
 * answers when it cannot commit a change. */
static void change_members(struct cc_http *h, struct cc_hreq *req, const char *sub,
                           const struct member *ms, size_t n)
{
    enum cc_hmethod cmd = cc_hreq_method(req);
    const char *id_text = sub[0] == '/' ? sub + 1 : sub;
    char msg[300];
    if (cmd == CC_HM_DELETE && id_text[0] == '\0') {
        cc_http_method_not_allowed(req, NULL); /* as etcd: no Allow header */
        return;
    }
    uint64_t id = 0;
    if (cmd != CC_HM_POST) {
        char *end;
        id = strtoull(id_text, &end, 16);
        if (id_text[0] == '\0' || *end != '\0' ||
            strspn(id_text, "0123456789abcdefABCDEF") != strlen(id_text)) {
            snprintf(msg, sizeof(msg), "No such member: %.200s", id_text);
            reply_message(req, 404, "Not Found", msg);
            return;
        }
    }
    struct cc_url_list urls = {0};
    if (cmd != CC_HM_DELETE && read_peer_urls(req, &urls) != 0)
        return;
    size_t self = n;
    for (size_t i = 0; i < n; i++)
        if (ms[i].id == id)
            self = i;
    for (size_t u = 0; u < urls.n; u++) {
        char quoted[sizeof(urls.v[u].text) + 2];
        snprintf(quoted, sizeof(quoted), "\"%s\"", urls.v[u].text);
        for (size_t i = 0; i < n; i++)
            if (i != self && strstr(ms[i].peer_urls, quoted)) {
                cc_url_list_free(&urls);
                reply_message(req, 409, "Conflict", "membership: peerURL exists");
                return;
            }
    }
    cc_url_list_free(&urls);
    if (cmd != CC_HM_POST && self == n) {
        snprintf(msg, sizeof(msg), "No such member: %llx", (unsigned long long)id);
        reply_message(req, 404, "Not Found", msg);
        return;
    }
    cc_warn("membership change refused: replication between members is not built yet");
    reply_message(req, 500, "Internal Server Error", "Internal Server Error");
}

static void serve_members(struct cc_http *h, struct cc_hreq *req, const char *sub)
{
    enum cc_hmethod cmd = cc_hreq_method(req);
    bool change = cmd == CC_HM_POST || cmd == CC_HM_PUT || cmd == CC_HM_DELETE;
    if (cmd != CC_HM_GET && cmd != CC_HM_HEAD && !change) {
        cc_http_method_not_allowed(req, "GET,POST,DELETE,PUT");
        return;
    }
    cc_http_add_cluster_id(h, req);
    struct member ms[CC_MAX_MEMBERS * 2];
    size_t n = read_members(h, ms, sizeof(ms) / sizeof(ms[0]));
    if (change) {
        change_members(h, req, sub, ms, n);
        return;
    }
    struct cc_buf b;
    cc_buf_init(&b);
    if (sub[0] == '\0' || strcmp(sub, "/") == 0) {
        PUT_LIT(&b, "{\"members\":[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                PUT_LIT(&b, ",");
            put_member(&b, &ms[i]);
        }
        PUT_LIT(&b, "]}\n");
        reply_json(req, 200, "OK", &b);
    } else if (strcmp(sub, "/leader") == 0) {
        size_t i = 0;
        while (i < n && ms[i].id != h->leader)
            i++;
        if (h->leader == 0 || i == n) {
            reply_message(req, 503, "Service Unavailable", "During election");
        } else {
            put_member(&b, &ms[i]);
            PUT_LIT(&b, "\n");
            reply_json(req, 200, "OK", &b);
        }
    } else {
        reply_message(req, 404, "Not Found", "Not found");
    }
    cc_buf_free(&b);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void serve_machines(struct cc_http *h, struct cc_hreq *req)
{
    struct member ms[CC_MAX_MEMBERS * 2];
    size_t n = read_members(h, ms, sizeof(ms) / sizeof(ms[0]));
    char *urls[256];
    size_t nu = 0;
    for (size_t i = 0; i < n; i++) {
        yajl_val a = yajl_tree_parse(ms[i].client_urls, NULL, 0);
        for (size_t j = 0; a && YAJL_IS_ARRAY(a) && j < a->u.array.len && nu < 256; j++) {
            const char *s = YAJL_GET_STRING(a->u.array.values[j]);
            if (s)
                urls[nu++] = strdup(s);
        }
        if (a)
            yajl_tree_free(a);
    }
    qsort(urls, nu, sizeof(urls[0]), cmp_str);
    struct cc_buf b;
    cc_buf_init(&b);
    for (size_t i = 0; i < nu; i++) {
        if (i)
            PUT_LIT(&b, ", ");
        if (urls[i])
            cc_put_raw(&b, urls[i], strlen(urls[i]));
        free(urls[i]);
    }
    cc_http_reply(req, 200, "OK", "text/plain; charset=utf-8", b.data, b.len);
    cc_buf_free(&b);
}

/* Go's time.Duration.String() for a positive duration. */
static void go_duration(double s, char *out, size_t len)
{
    long long ns = (long long)(s * 1e9);
    long long h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
    double sec = (double)(ns % 60000000000LL) / 1e9;
    char secs[32];
    snprintf(secs, sizeof(secs), "%.9f", sec);
    char *e = secs + strlen(secs) - 1; /* trim trailing zeros (and '.') */
    while (*e == '0')
        *e-- = '\0';
    if (*e == '.')
        *e = '\0';
    if (h)
        snprintf(out, len, "%lldh%lldm%ss", h, m, secs);
    else if (m)
        snprintf(out, len, "%lldm%ss", m, secs);
    else
        snprintf(out, len, "%ss", secs);
}

static void serve_stats_self(struct cc_http *h, struct cc_hreq *req)
{
    struct cc_buf b;
    cc_buf_init(&b);
    char tmp[256];
    PUT_LIT(&b, "{\"name\":");
    cc_v2_json_string(&b, h->w->cfg.name, strlen(h->w->cfg.name));
    snprintf(tmp, sizeof(tmp), ",\"id\":\"%llx\",\"state\":\"%s\",\"startTime\":",
             (unsigned long long)h->cluster.self_id,
             h->leader == h->cluster.self_id ? "StateLeader" : "StateFollower");
    cc_put_raw(&b, tmp, strlen(tmp));
    cc_v2_json_time(&b, (int64_t)(h->started_wall * 1e9));
    snprintf(tmp, sizeof(tmp), ",\"leaderInfo\":{\"leader\":\"%llx\",\"uptime\":\"",
             (unsigned long long)h->leader);
    cc_put_raw(&b, tmp, strlen(tmp));
    double since = h->leader ? h->leader_since : (double)cc_http_now_ns() / 1e9;
    go_duration((double)cc_http_now_ns() / 1e9 - since, tmp, sizeof(tmp));
    cc_put_raw(&b, tmp, strlen(tmp));
    PUT_LIT(&b, "\",\"startTime\":");
    cc_v2_json_time(&b, (int64_t)(since * 1e9));
    snprintf(tmp, sizeof(tmp), "},\"recvAppendRequestCnt\":%llu,\"sendAppendRequestCnt\":%llu}",
             (unsigned long long)h->recv_appends, (unsigned long long)h->send_appends);
    cc_put_raw(&b, tmp, strlen(tmp));
    reply_json(req, 200, "OK", &b);
    cc_buf_free(&b);
}

static void serve_stats_store(struct cc_http *h, struct cc_hreq *req)
{
    struct cc_v2_store_stats s;
    memset(&s, 0, sizeof(s));
    if (h->view.store)
        cc_v2_store_stats(h->view.store, &s);
    char body[1024];
    int n = snprintf(
        body, sizeof(body),
        "{\"getsSuccess\":%llu,\"getsFail\":%llu,\"setsSuccess\":%llu,\"setsFail\":%llu,"
        "\"deleteSuccess\":%llu,\"deleteFail\":%llu,\"updateSuccess\":%llu,\"updateFail\":%llu,"
        "\"createSuccess\":%llu,\"createFail\":%llu,\"compareAndSwapSuccess\":%llu,"
        "\"compareAndSwapFail\":%llu,\"compareAndDeleteSuccess\":%llu,"
        "\"compareAndDeleteFail\":%llu,\"expireCount\":%llu,\"watchers\":%llu}",
        (unsigned long long)s.gets_success, (unsigned long long)s.gets_fail,
        (unsigned long long)s.sets_success, (unsigned long long)s.sets_fail,
        (unsigned long long)s.delete_success, (unsigned long long)s.delete_fail,
        (unsigned long long)s.update_success, (unsigned long long)s.update_fail,
        (unsigned long long)s.create_success, (unsigned long long)s.create_fail,
        (unsigned long long)s.cas_success, (unsigned long long)s.cas_fail,
        (unsigned long long)s.cad_success, (unsigned long long)s.cad_fail,
        (unsigned long long)s.expire_count, (unsigned long long)s.watchers);
    cc_http_reply(req, 200, "OK", "application/json", body, (size_t)n);
}

static void serve_stats_leader(struct cc_http *h, struct cc_hreq *req)
{
    if (h->leader != h->cluster.self_id) {
        reply_message(req, 403, "Forbidden", "not current leader");
        return;
    }
    struct cc_buf b;
    cc_buf_init(&b);
    char head[64];
    snprintf(head, sizeof(head),
             "{\"leader\":\"%llx\",\"followers\":", (unsigned long long)h->cluster.self_id);
    cc_put_raw(&b, head, strlen(head));
    const char *f = h->followers_json ? h->followers_json : "{}";
    cc_put_raw(&b, f, strlen(f));
    PUT_LIT(&b, "}");
    reply_json(req, 200, "OK", &b);
    cc_buf_free(&b);
}

bool cc_cluster_api_handle(struct cc_http *h, struct cc_hreq *req, const char *path)
{
    enum cc_hmethod cmd = cc_hreq_method(req);
    if (strncmp(path, "/v2/members", 11) == 0 && (path[11] == '\0' || path[11] == '/')) {
        serve_members(h, req, path + 11);
        return true;
    }
    bool get = cmd == CC_HM_GET || cmd == CC_HM_HEAD;
    const char *stats[] = {"/v2/machines", "/v2/stats/self", "/v2/stats/store", "/v2/stats/leader"};
    for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
        if (strcmp(path, stats[i]) != 0)
            continue;
        if (!get) {
            cc_http_method_not_allowed(req, i == 0 ? "GET,HEAD" : "GET");
        } else if (i == 0) {
            serve_machines(h, req);
        } else if (i == 1) {
            serve_stats_self(h, req);
        } else if (i == 2) {
            serve_stats_store(h, req);
        } else {
            serve_stats_leader(h, req);
        }
        return true;
    }
    return false;
}
