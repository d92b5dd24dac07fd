/* Helpers shared by the v2 store suites: request builders and a compact
 * text form of events, so a case can say what etcd would answer in one
 * line:
 *
 *   node:  <key>[=<value>][/][ ttl@<expiration>] <modified>/<created>[ {children, ...}]
 *          ("/" marks a dir)
 *   event: <action> <node>[ prev <node>][ refresh] @<etcd index] */
#ifndef CC_TESTS_TEST_STORE_UTIL_H
#define CC_TESTS_TEST_STORE_UTIL_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/v2/json.h"
#include "core/v2/store.h"
#include "tests/unit/unit.h"

#define SEC INT64_C(1000000000)
/* A plausible "now": 2026-01-01T00:00:00Z. */
#define T0 (INT64_C(1767225600) * SEC)

static const char *const test_ns[] = {"/0", "/1"};

static inline struct cc_v2_store *mk_store(void)
{
    struct cc_v2_store *s = cc_v2_store_new(test_ns, 2);

    CHECK(s != NULL);
    return s;
}

/* An empty store whose index is already idx (as if bootstrap entries had
 * been applied), to match etcd's recorded exchanges. */
static inline struct cc_v2_store *mk_store_at(uint64_t idx)
{
    struct cc_v2_store *s = NULL;

    CHECK(cc_v2_store_load(test_ns, 2, NULL, NULL, idx, NULL, 0, &s) == 0);
    return s;
}

static inline struct cc_v2_request rq(uint8_t method, const char *path)
{
    struct cc_v2_request r;

    memset(&r, 0, sizeof r);
    r.method = method;
    r.path = (char *)path;
    r.prev_exist = -1;
    return r;
}

static inline struct cc_v2_str sv(const char *v)
{
    struct cc_v2_str s = {(char *)v, strlen(v)};

    return s;
}

static inline void fmt_node(char *b, size_t cap, const struct cc_v2_node *n)
{
    size_t len = strlen(b);

    snprintf(b + len, cap - len, "%s%s%.*s%s", n->key, n->has_value ? "=" : "", (int)n->value.n,
             n->has_value ? n->value.p : "", n->dir ? "/" : "");
    len = strlen(b);
    if (n->expiration_ns != 0) {
        snprintf(b + len, cap - len, " ttl@%" PRId64, (n->expiration_ns - T0) / SEC);
        len = strlen(b);
    }
    snprintf(b + len, cap - len, " %" PRIu64 "/%" PRIu64, n->modified_index, n->created_index);
    if (n->n_nodes > 0) {
        strncat(b, " {", cap - strlen(b) - 1);
        for (size_t i = 0; i < n->n_nodes; i++) {
            if (i > 0)
                strncat(b, ", ", cap - strlen(b) - 1);
            fmt_node(b, cap, &n->nodes[i]);
        }
        strncat(b, "}", cap - strlen(b) - 1);
    }
}

/* The event as text, in a rotating static buffer (tests only). */
static inline const char *evs(const struct cc_v2_event *ev)
{
    static char bufs[4][4096];
    static int k;
    char *b = bufs[k++ % 4];
    size_t len;

    if (ev == NULL)
        return "(none)";
    snprintf(b, 4096, "%s ", cc_v2_action_name(ev->action));
    fmt_node(b, 4096, &ev->node);
    if (ev->prev_node != NULL) {
        strncat(b, " prev ", 4096 - strlen(b) - 1);
        fmt_node(b, 4096, ev->prev_node);
    }
    if (ev->refresh)
        strncat(b, " refresh", 4096 - strlen(b) - 1);
    len = strlen(b);
    snprintf(b + len, 4096 - len, " @%" PRIu64, ev->etcd_index);
    return b;
}

/* Applies r, expecting success; returns the event as text and frees it. */
static inline const char *ok(struct cc_v2_store *s, struct cc_v2_request r)
{
    struct cc_v2_result res;
    const char *t;

    CHECK(cc_v2_store_apply(s, &r, &res) == 0);
    if (res.err.code != 0)
        fprintf(stderr, "  unexpected error %d %s on %s\n", res.err.code, res.err.cause, r.path);
    CHECK(res.err.code == 0);
    t = evs(res.event);
    cc_v2_result_clear(&res);
    return t;
}

/* Applies r, expecting a store error; returns "<code> <cause> @<index>". */
static inline const char *fails(struct cc_v2_store *s, struct cc_v2_request r)
{
    static char bufs[4][700];
    static int k;
    char *b = bufs[k++ % 4];
    struct cc_v2_result res;

    CHECK(cc_v2_store_apply(s, &r, &res) == 0);
    CHECK(res.event == NULL);
    snprintf(b, 700, "%d %s @%" PRIu64, res.err.code, res.err.cause, res.err.index);
    cc_v2_result_clear(&res);
    return b;
}

static inline const char *get_s(struct cc_v2_store *s, const char *path, bool recursive)
{
    struct cc_v2_result res;
    const char *t;
    static char b[700];

    CHECK(cc_v2_store_get(s, path, recursive, true, T0, &res) == 0);
    if (res.err.code != 0) {
        snprintf(b, sizeof b, "%d %s @%" PRIu64, res.err.code, res.err.cause, res.err.index);
        t = b;
    } else {
        t = evs(res.event);
    }
    cc_v2_result_clear(&res);
    return t;
}

/* Builders for the usual requests. */
static inline struct cc_v2_request put(const char *path, const char *value)
{
    struct cc_v2_request r = rq(CC_V2_PUT, path);

    r.value = sv(value);
    return r;
}

static inline struct cc_v2_request put_ttl(const char *path, const char *value, int64_t ttl_s)
{
    struct cc_v2_request r = put(path, value);

    r.expiration_ns = T0 + ttl_s * SEC;
    return r;
}

static inline struct cc_v2_request mkdir_r(const char *path)
{
    struct cc_v2_request r = rq(CC_V2_PUT, path);

    r.dir = true;
    return r;
}

static inline struct cc_v2_request del(const char *path)
{
    return rq(CC_V2_DELETE, path);
}

static inline struct cc_v2_request del_rec(const char *path)
{
    struct cc_v2_request r = rq(CC_V2_DELETE, path);

    r.recursive = true;
    return r;
}

static inline struct cc_v2_request sync_at(int64_t t)
{
    struct cc_v2_request r = rq(CC_V2_SYNC, NULL);

    r.time_ns = t;
    return r;
}

/* A SYNC, expecting success. */
static inline void sync_ok(struct cc_v2_store *s, int64_t t)
{
    struct cc_v2_request r = sync_at(t);
    struct cc_v2_result res;

    CHECK(cc_v2_store_apply(s, &r, &res) == 0);
    CHECK(res.event == NULL && res.err.code == 0);
}

#endif
