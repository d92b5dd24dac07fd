/* /v2/keys request parsing; the rules and their order are in params.h. */
#include "core/v2/params.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/v2/urlcodec.h"

#define KEYS_PREFIX     "/v2/keys"
#define KEYS_PREFIX_LEN (sizeof KEYS_PREFIX - 1)

void cc_v2_split_target(const char *target, size_t n, struct cc_v2_http_in *in)
{
    const char *q = memchr(target, '?', n);

    in->path = target;
    in->path_len = q ? (size_t)(q - target) : n;
    in->query = q ? q + 1 : NULL;
    in->query_len = q ? n - in->path_len - 1 : 0;
}

/* url.parse refuses any ASCII control byte in the raw URL (Go 1.12+). */
static bool has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/* A NUL-terminated malloc'd copy of the buffer's bytes, in *s / *n. */
static int take_buf(struct cc_buf *b, char **s, size_t *n)
{
    cc_put_u8(b, 0);
    if (b->failed)
        return -1;
    *s = (char *)b->data;
    *n = b->len - 1;
    cc_buf_init(b);
    return 0;
}

static void put_str(struct cc_buf *b, const char *s)
{
    cc_put_raw(b, s, strlen(s));
}

/* http.Redirect's answer to ServeMux's cleaning: the Location value and
 * the GET body. */
static int redirect(const struct cc_v2_http_in *in, const char *clean, size_t clean_len,
                    struct cc_v2_request *out)
{
    struct cc_buf url, loc, body;
    size_t loc_len;
    int rc = -1;

    cc_buf_init(&url);
    cc_buf_init(&loc);
    cc_buf_init(&body);
    cc_v2_escape_path(&url, clean, clean_len);
    if (in->query != NULL && in->query_len > 0) {
        cc_put_u8(&url, '?');
        cc_put_raw(&url, in->query, in->query_len);
    }
    /* hexEscapeNonASCII: lower-case hex, as strconv.AppendInt writes it. */
    for (size_t i = 0; i < url.len; i++) {
        uint8_t c = url.data[i];

        if (c >= 0x80) {
            char e[3] = {'%', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]};

            cc_put_raw(&loc, e, 3);
        } else {
            cc_put_u8(&loc, c);
        }
    }
    put_str(&body, "<a href=\"");
    for (size_t i = 0; i < url.len; i++) {
        switch (url.data[i]) {
        case '&':
            put_str(&body, "&amp;");
            break;
        case '<':
            put_str(&body, "&lt;");
            break;
        case '>':
            put_str(&body, "&gt;");
            break;
        case '"':
            put_str(&body, "&#34;");
            break;
        case '\'':
            put_str(&body, "&#39;");
            break;
        default:
            cc_put_u8(&body, url.data[i]);
        }
    }
    put_str(&body, "\">Moved Permanently</a>.\n\n");
    if (url.failed || take_buf(&loc, &out->path, &loc_len) < 0 ||
        take_buf(&body, &out->value.p, &out->value.n) < 0)
        goto out;
    rc = 0;
out:
    cc_buf_free(&url);
    cc_buf_free(&loc);
    cc_buf_free(&body);
    return rc;
}

static enum cc_v2_method keys_method(const char *m)
{
    static const struct {
        const char *name;
        enum cc_v2_method method;
    } methods[] = {
        {"GET", CC_V2_GET},   {"HEAD", CC_V2_HEAD},     {"PUT", CC_V2_PUT},
        {"POST", CC_V2_POST}, {"DELETE", CC_V2_DELETE},
    };

    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].method;
    return 0;
}

/* Request.ParseForm: the form body (POST, PUT, PATCH; PATCH is refused
 * before this) then the query, each error kept in its own text so that the
 * body's wins. Returns 0, 1 with errbuf set, or -1. */
static int parse_form(const struct cc_v2_http_in *in, enum cc_v2_method method,
                      struct cc_v2_form *form, char *errbuf, size_t errlen)
{
    char qerr[sizeof((struct cc_v2_error *)0)->cause] = "";
    const char *ct_err = NULL;
    int rc;

    errbuf[0] = '\0';
    if (method == CC_V2_PUT || method == CC_V2_POST) {
        const char *ct = in->content_type ? in->content_type : "";
        size_t n = in->content_type ? in->content_type_len : 0;
        int is_form;

        /* textproto has trimmed the header value; "" means octet-stream. */
        while (n > 0 && (ct[0] == ' ' || ct[0] == '\t'))
            ct++, n--;
        while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
            n--;
        is_form = n > 0 ? cc_v2_media_type_is_form(ct, n, &ct_err) : 0;
        if (ct_err != NULL)
            snprintf(errbuf, errlen, "%s", ct_err);
        if (is_form && in->body_len > CC_V2_MAX_FORM_BODY) {
            snprintf(errbuf, errlen, "http: POST too large");
        } else if (is_form) {
            char berr[sizeof qerr] = "";

            rc = cc_v2_form_parse(form, (const char *)in->body, in->body_len, berr, sizeof berr);
            if (rc < 0)
                return -1;
            if (rc > 0 && errbuf[0] == '\0')
                snprintf(errbuf, errlen, "%s", berr);
        }
    }
    rc = cc_v2_form_parse(form, in->query ? in->query : "", in->query ? in->query_len : 0, qerr,
                          sizeof qerr);
    if (rc < 0)
        return -1;
    if (rc > 0 && errbuf[0] == '\0')
        snprintf(errbuf, errlen, "%s", qerr);
    return errbuf[0] != '\0';
}

/* getUint64: absent is 0; present must parse (its first value). */
static int get_uint(const struct cc_v2_form *form, const char *key, uint64_t *v)
{
    struct cc_v2_str s;

    *v = 0;
    if (!cc_v2_form_get(form, key, &s))
        return 0;
    return cc_v2_parse_uint(s.p, s.n, v);
}

/* getBool: absent is false; present must parse. */
static int get_bool(const struct cc_v2_form *form, const char *key, bool *v, bool *present)
{
    struct cc_v2_str s;

    *v = false;
    if (present != NULL)
        *present = false;
    if (!cc_v2_form_get(form, key, &s))
        return 0;
    if (present != NULL)
        *present = true;
    return cc_v2_parse_bool(s.p, s.n, v);
}

/* parseKeyRequest's checks (etcd 2.3.8 + 3.4's noValueOnSuccess), in its
 * order. 0, or -1 with err filled. */
static int check_params(const struct cc_v2_form *form, enum cc_v2_method method,
                        struct cc_v2_request *r, uint64_t *ttl, bool *has_ttl,
                        struct cc_v2_error *err)
{
    static const struct {
        const char *name;
        size_t off;
    } bools[] = {
        {"recursive", offsetof(struct cc_v2_request, recursive)},
        {"sorted", offsetof(struct cc_v2_request, sorted)},
        {"wait", offsetof(struct cc_v2_request, wait)},
        {"dir", offsetof(struct cc_v2_request, dir)},
        {"quorum", offsetof(struct cc_v2_request, quorum)},
        {"stream", offsetof(struct cc_v2_request, stream)},
    };
    struct cc_v2_str s;
    bool present, b;

    if (get_uint(form, "prevIndex", &r->prev_index) < 0) {
        cc_v2_error_set(err, CC_V2_E_INDEX_NAN, "invalid value for \"prevIndex\"", 0);
        return -1;
    }
    if (get_uint(form, "waitIndex", &r->wait_index) < 0) {
        cc_v2_error_set(err, CC_V2_E_INDEX_NAN, "invalid value for \"waitIndex\"", 0);
        return -1;
    }
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        if (get_bool(form, bools[i].name, (bool *)((char *)r + bools[i].off), NULL) < 0) {
            cc_v2_error_setf(err, CC_V2_E_INVALID_FIELD, 0, "invalid value for \"%s\"",
                             bools[i].name);
            return -1;
        }
    }
    if (r->wait && method != CC_V2_GET) {
        cc_v2_error_set(err, CC_V2_E_INVALID_FIELD, "\"wait\" can only be used with GET requests",
                        0);
        return -1;
    }
    if (cc_v2_form_get(form, "prevValue", &s) && s.n == 0) {
        cc_v2_error_set(err, CC_V2_E_PREV_VALUE_REQUIRED, "\"prevValue\" cannot be empty", 0);
        return -1;
    }
    if (get_bool(form, "noValueOnSuccess", &r->no_value_on_success, NULL) < 0) {
        cc_v2_error_set(err, CC_V2_E_INVALID_FIELD, "invalid value for \"noValueOnSuccess\"", 0);
        return -1;
    }
    *has_ttl = cc_v2_form_get(form, "ttl", &s) && s.n > 0;
    if (*has_ttl && cc_v2_parse_uint(s.p, s.n, ttl) < 0) {
        cc_v2_error_set(err, CC_V2_E_TTL_NAN, "invalid value for \"ttl\"", 0);
        return -1;
    }
    if (get_bool(form, "prevExist", &b, &present) < 0) {
        cc_v2_error_set(err, CC_V2_E_INVALID_FIELD, "invalid value for prevExist", 0);
        return -1;
    }
    r->prev_exist = present ? (int8_t)b : -1;
    if (get_bool(form, "refresh", &r->refresh, NULL) < 0) {
        cc_v2_error_set(err, CC_V2_E_INVALID_FIELD, "invalid value for refresh", 0);
        return -1;
    }
    if (r->refresh) {
        if (cc_v2_form_get(form, "value", &s) && s.n > 0) {
            cc_v2_error_set(err, CC_V2_E_REFRESH_VALUE, "A value was provided on a refresh", 0);
            return -1;
        }
        if (!*has_ttl) {
            cc_v2_error_set(err, CC_V2_E_REFRESH_TTL_REQUIRED, "No TTL value set", 0);
            return -1;
        }
    }
    return 0;
}

static char *dup_str(const char *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Fills the request's strings: the store path and the two values. */
static int fill_strings(const struct cc_v2_form *form, const char *rest, size_t rest_len,
                        struct cc_v2_request *r)
{
    struct cc_buf key;
    struct cc_v2_str s;
    size_t n;

    /* path.Join("/1", rest): Join skips an empty element. */
    cc_buf_init(&key);
    if (rest_len == 0) {
        cc_v2_path_clean(&key, CC_V2_KEYS_PREFIX, sizeof CC_V2_KEYS_PREFIX - 1);
    } else {
        struct cc_buf joined;

        cc_buf_init(&joined);
        cc_put_raw(&joined, CC_V2_KEYS_PREFIX "/", sizeof CC_V2_KEYS_PREFIX);
        cc_put_raw(&joined, rest, rest_len);
        if (!joined.failed)
            cc_v2_path_clean(&key, (const char *)joined.data, joined.len);
        else
            key.failed = true;
        cc_buf_free(&joined);
    }
    if (take_buf(&key, &r->path, &n) < 0) {
        cc_buf_free(&key);
        return -1;
    }
    if (!cc_v2_form_get(form, "value", &s))
        s.p = "", s.n = 0;
    r->value.p = dup_str(s.p, s.n);
    r->value.n = s.n;
    if (!cc_v2_form_get(form, "prevValue", &s))
        s.p = "", s.n = 0;
    r->prev_value.p = dup_str(s.p, s.n);
    r->prev_value.n = s.n;
    return r->value.p && r->prev_value.p ? 0 : -1;
}

int cc_v2_parse_key_request(const struct cc_v2_http_in *in, int64_t now_ns,
                            struct cc_v2_request *out, struct cc_v2_error *err)
{
    const char *query = in->query ? in->query : "";
    const char *verb = in->method ? in->method : "";
    size_t query_len = in->query ? in->query_len : 0, dlen, clen;
    struct cc_buf decoded, clean;
    struct cc_v2_form form;
    enum cc_v2_method method;
    uint64_t ttl = 0;
    bool has_ttl = false;
    char *path;
    int rc;

    cc_v2_request_init(out);
    cc_v2_error_set(err, 0, NULL, 0);
    cc_buf_init(&decoded);
    cc_buf_init(&clean);
    cc_v2_form_init(&form);

    /* 1. url.ParseRequestURI */
    if (in->path_len == 0 || in->path[0] != '/' || has_ctl(in->path, in->path_len) ||
        has_ctl(query, query_len)) {
        rc = CC_V2_PARSE_BAD_REQUEST;
        goto out;
    }
    if (cc_v2_unescape(&decoded, in->path, in->path_len, false, NULL, NULL) < 0) {
        rc = CC_V2_PARSE_BAD_REQUEST;
        goto out;
    }
    if (decoded.failed)
        goto nomem;
    path = (char *)decoded.data;
    dlen = decoded.len;

    /* 2. ServeMux: cleanPath, redirect when it changes anything. */
    if (strcmp(verb, "CONNECT") != 0) {
        cc_v2_clean_path(&clean, path, dlen);
        if (clean.failed)
            goto nomem;
        clen = clean.len;
        if (clen != dlen || memcmp(clean.data, path, dlen) != 0) {
            rc = redirect(in, (const char *)clean.data, clen, out) < 0 ? CC_V2_PARSE_NOMEM
                                                                       : CC_V2_PARSE_REDIRECT;
            goto out;
        }
    }

    /* 3. routing: "/v2/keys" and the "/v2/keys/" subtree */
    if (dlen < KEYS_PREFIX_LEN || memcmp(path, KEYS_PREFIX, KEYS_PREFIX_LEN) != 0 ||
        (dlen > KEYS_PREFIX_LEN && path[KEYS_PREFIX_LEN] != '/')) {
        rc = CC_V2_PARSE_NOT_FOUND;
        goto out;
    }

    /* 4. allowMethod */
    method = keys_method(verb);
    if (method == 0) {
        rc = CC_V2_PARSE_METHOD_NOT_ALLOWED;
        goto out;
    }

    /* 5. Concord: keys are C strings. */
    if (memchr(path, 0, dlen) != NULL) {
        rc = CC_V2_PARSE_BAD_REQUEST;
        goto out;
    }

    /* 6. ParseForm */
    rc = parse_form(in, method, &form, err->cause, sizeof err->cause);
    if (rc < 0)
        goto nomem;
    if (rc > 0) {
        err->code = CC_V2_E_INVALID_FORM;
        rc = CC_V2_PARSE_ETCD_ERROR;
        goto out;
    }

    /* 7. parseKeyRequest */
    if (check_params(&form, method, out, &ttl, &has_ttl, err) < 0) {
        cc_v2_request_free(out);
        rc = CC_V2_PARSE_ETCD_ERROR;
        goto out;
    }
    if (fill_strings(&form, path + KEYS_PREFIX_LEN, dlen - KEYS_PREFIX_LEN, out) < 0)
        goto nomem;
    out->method = (uint8_t)(method == CC_V2_GET && out->quorum ? CC_V2_QGET : method);
    if (has_ttl) /* time.Now().Add(Duration(ttl) * Second).UnixNano(), wrapping */
        out->expiration_ns = (int64_t)((uint64_t)now_ns + ttl * UINT64_C(1000000000));
    rc = CC_V2_PARSE_OK;
    goto out;
nomem:
    cc_v2_request_free(out);
    cc_v2_error_set(err, 0, NULL, 0);
    errno = ENOMEM;
    rc = CC_V2_PARSE_NOMEM;
out:
    if (rc != CC_V2_PARSE_OK && rc != CC_V2_PARSE_REDIRECT)
        cc_v2_request_free(out);
    if (rc != CC_V2_PARSE_ETCD_ERROR)
        cc_v2_error_set(err, 0, NULL, 0);
    cc_buf_free(&decoded);
    cc_buf_free(&clean);
    cc_v2_form_free(&form);
    return rc;
}
