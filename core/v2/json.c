/* etcd v2 JSON rendering; see json.h for the exact shapes. */
#include "core/v2/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/v2/errors.h"
#include "core/v2/urlcodec.h"

static const char hex_digits[] = "0123456789abcdef";

const char *cc_v2_action_name(enum cc_v2_action action)
{
    switch (action) {
    case CC_V2_ACT_GET:
        return "get";
    case CC_V2_ACT_SET:
        return "set";
    case CC_V2_ACT_CREATE:
        return "create";
    case CC_V2_ACT_UPDATE:
        return "update";
    case CC_V2_ACT_DELETE:
        return "delete";
    case CC_V2_ACT_EXPIRE:
        return "expire";
    case CC_V2_ACT_CAS:
        return "compareAndSwap";
    case CC_V2_ACT_CAD:
        return "compareAndDelete";
    }
    return "";
}

static void put_lit(struct cc_buf *out, const char *s)
{
    cc_put_raw(out, s, strlen(s));
}

static void put_u64(struct cc_buf *out, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);

    cc_put_raw(out, tmp, (size_t)n);
}

static void put_i64(struct cc_buf *out, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);

    cc_put_raw(out, tmp, (size_t)n);
}

/* Go's htmlSafeSet: printable ASCII but " \ < > &. */
static bool html_safe(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

void cc_v2_json_string(struct cc_buf *out, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = 0, i = 0;

    cc_put_u8(out, '"');
    while (i < n) {
        unsigned char c = u[i];
        char e[6];
        uint32_t r;
        size_t w;

        if (c < 0x80) {
            if (html_safe(c)) {
                i++;
                continue;
            }
            cc_put_raw(out, u + start, i - start);
            e[0] = '\\';
            switch (c) {
            case '"':
            case '\\':
                e[1] = (char)c;
                cc_put_raw(out, e, 2);
                break;
            case '\n':
                cc_put_raw(out, "\\n", 2);
                break;
            case '\r':
                cc_put_raw(out, "\\r", 2);
                break;
            case '\t':
                cc_put_raw(out, "\\t", 2);
                break;
            default:
                e[1] = 'u', e[2] = '0', e[3] = '0';
                e[4] = hex_digits[c >> 4], e[5] = hex_digits[c & 15];
                cc_put_raw(out, e, 6);
            }
            start = ++i;
            continue;
        }
        w = cc_v2_utf8_decode(u + i, n - i, &r);
        if (w == 1 && r == 0xFFFD) {
            cc_put_raw(out, u + start, i - start);
            cc_put_raw(out, "\\ufffd", 6);
            start = ++i;
            continue;
        }
        if (r == 0x2028 || r == 0x2029) {
            cc_put_raw(out, u + start, i - start);
            cc_put_raw(out, r == 0x2028 ? "\\u2028" : "\\u2029", 6);
            start = i + w;
        }
        i += w;
    }
    cc_put_raw(out, u + start, n - start);
    cc_put_u8(out, '"');
}

static void put_2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void cc_v2_json_time(struct cc_buf *out, int64_t unix_ns)
{
    /* Floor division, so times before 1970 come out right too. */
    int64_t sec = unix_ns / 1000000000, nsec = unix_ns % 1000000000;
    int64_t days, sod, z, era, doe, yoe, y, doy, mp, d, m;
    char buf[40];
    size_t len;

    if (nsec < 0) {
        nsec += 1000000000;
        sec--;
    }
    days = sec / 86400;
    sod = sec % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    /* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
     * civil_from_days). */
    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;

    /* int64 nanoseconds span the years 1677..2262: always four digits. */
    buf[0] = '"';
    put_2(buf + 1, (unsigned)(y / 100));
    put_2(buf + 3, (unsigned)(y % 100));
    buf[5] = '-';
    put_2(buf + 6, (unsigned)m);
    buf[8] = '-';
    put_2(buf + 9, (unsigned)d);
    buf[11] = 'T';
    put_2(buf + 12, (unsigned)(sod / 3600));
    buf[14] = ':';
    put_2(buf + 15, (unsigned)(sod / 60 % 60));
    buf[17] = ':';
    put_2(buf + 18, (unsigned)(sod % 60));
    len = 20;
    if (nsec != 0) {
        /* ".999999999": nine digits, trailing zeros dropped */
        buf[len++] = '.';
        for (int64_t div = 100000000; div > 0 && nsec != 0; div /= 10) {
            buf[len++] = (char)('0' + nsec / div);
            nsec %= div;
        }
    }
    buf[len++] = 'Z';
    buf[len++] = '"';
    cc_put_raw(out, buf, len);
}

int64_t cc_v2_node_ttl(int64_t expiration_ns, int64_t now_ns)
{
    int64_t d, ttl;

    if (__builtin_sub_overflow(expiration_ns, now_ns, &d))
        d = expiration_ns < now_ns ? INT64_MIN : INT64_MAX;
    ttl = d / 1000000000;
    if (d % 1000000000 > 0)
        ttl++;
    return ttl;
}

/* strings.TrimPrefix(key[0..len), "/1") */
static void trimmed_key(const char *key, size_t len, const char **p, size_t *n)
{
    size_t plen = sizeof CC_V2_KEYS_PREFIX - 1;

    *p = key ? key : "";
    *n = key ? len : 0;
    if (*n >= plen && memcmp(*p, CC_V2_KEYS_PREFIX, plen) == 0) {
        *p += plen;
        *n -= plen;
    }
}

static void put_field(struct cc_buf *out, bool *first, const char *name)
{
    if (!*first)
        cc_put_u8(out, ',');
    *first = false;
    cc_put_u8(out, '"');
    put_lit(out, name);
    put_lit(out, "\":");
}

/* Everything of a node up to its children: '{' and key .. ttl. */
static void node_head(struct cc_buf *out, const struct cc_v2_node *n, int64_t now_ns, bool *first)
{
    const char *key;
    size_t klen;
    int64_t ttl;

    cc_put_u8(out, '{');
    *first = true;
    trimmed_key(n->key, n->key ? strlen(n->key) : 0, &key, &klen);
    if (klen > 0) {
        put_field(out, first, "key");
        cc_v2_json_string(out, key, klen);
    }
    if (n->has_value) {
        put_field(out, first, "value");
        cc_v2_json_string(out, n->value.p ? n->value.p : "", n->value.p ? n->value.n : 0);
    }
    if (n->dir) {
        put_field(out, first, "dir");
        put_lit(out, "true");
    }
    if (n->expiration_ns != 0) {
        put_field(out, first, "expiration");
        cc_v2_json_time(out, n->expiration_ns);
        ttl = cc_v2_node_ttl(n->expiration_ns, now_ns);
        if (ttl != 0) {
            put_field(out, first, "ttl");
            put_i64(out, ttl);
        }
    }
}

/* The indexes and '}'. */
static void node_tail(struct cc_buf *out, const struct cc_v2_node *n, bool *first)
{
    if (n->modified_index != 0) {
        put_field(out, first, "modifiedIndex");
        put_u64(out, n->modified_index);
    }
    if (n->created_index != 0) {
        put_field(out, first, "createdIndex");
        put_u64(out, n->created_index);
    }
    cc_put_u8(out, '}');
}

struct frame {
    const struct cc_v2_node *node;
    size_t next; /* the next child to write */
    bool first;  /* no field written yet */
};

/* One node and its subtree. An explicit stack rather than recursion: a
 * recursive listing is as deep as the deepest key, and a key can be long. */
static void render_node(struct cc_buf *out, const struct cc_v2_node *root, int64_t now_ns)
{
    struct frame small[32], *stack = small, *grown;
    size_t depth = 0, cap = sizeof small / sizeof small[0];

    stack[0].node = root;
    stack[0].next = 0;
    node_head(out, root, now_ns, &stack[0].first);
    if (root->n_nodes > 0 && root->nodes != NULL) {
        put_field(out, &stack[0].first, "nodes");
        cc_put_u8(out, '[');
    }
    for (;;) {
        struct frame *f = &stack[depth];
        const struct cc_v2_node *n = f->node, *child;

        if (n->n_nodes > 0 && n->nodes != NULL && f->next < n->n_nodes) {
            child = &n->nodes[f->next];
            if (f->next++ > 0)
                cc_put_u8(out, ',');
            if (depth + 1 == cap) {
                grown = malloc(2 * cap * sizeof *grown);
                if (grown == NULL) {
                    out->failed = true;
                    break;
                }
                memcpy(grown, stack, cap * sizeof *grown);
                if (stack != small)
                    free(stack);
                stack = grown;
                cap *= 2;
            }
            f = &stack[++depth];
            f->node = child;
            f->next = 0;
            node_head(out, child, now_ns, &f->first);
            if (child->n_nodes > 0 && child->nodes != NULL) {
                put_field(out, &f->first, "nodes");
                cc_put_u8(out, '[');
            }
            continue;
        }
        if (n->n_nodes > 0 && n->nodes != NULL)
            cc_put_u8(out, ']');
        node_tail(out, n, &f->first);
        if (depth == 0)
            break;
        depth--;
    }
    if (stack != small)
        free(stack);
}

static int done(struct cc_buf *out)
{
    if (out->failed) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

int cc_v2_render_event_ex(struct cc_buf *out, const struct cc_v2_event *ev, int64_t now_ns,
                          bool no_value_on_success)
{
    bool bare =
        no_value_on_success && (ev->action == CC_V2_ACT_SET || ev->action == CC_V2_ACT_CAS ||
                                ev->action == CC_V2_ACT_CREATE || ev->action == CC_V2_ACT_UPDATE);

    put_lit(out, "{\"action\":");
    cc_v2_json_string(out, cc_v2_action_name(ev->action), strlen(cc_v2_action_name(ev->action)));
    if (!bare) {
        put_lit(out, ",\"node\":");
        render_node(out, &ev->node, now_ns);
        if (ev->prev_node != NULL) {
            put_lit(out, ",\"prevNode\":");
            render_node(out, ev->prev_node, now_ns);
        }
    }
    put_lit(out, "}\n");
    return done(out);
}

int cc_v2_render_event(struct cc_buf *out, const struct cc_v2_event *ev, int64_t now_ns)
{
    return cc_v2_render_event_ex(out, ev, now_ns, false);
}

int cc_v2_render_error(struct cc_buf *out, const struct cc_v2_error *e)
{
    const char *msg = cc_v2_error_message(e->code), *cause;
    size_t n;

    put_lit(out, "{\"errorCode\":");
    put_i64(out, e->code);
    put_lit(out, ",\"message\":");
    cc_v2_json_string(out, msg, strlen(msg));
    trimmed_key(e->cause, strnlen(e->cause, sizeof e->cause), &cause, &n);
    if (n > 0) {
        put_lit(out, ",\"cause\":");
        cc_v2_json_string(out, cause, n);
    }
    put_lit(out, ",\"index\":");
    put_u64(out, e->index);
    put_lit(out, "}\n");
    return done(out);
}
