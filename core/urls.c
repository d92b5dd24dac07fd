/* etcd URL lists (see urls.h for the rules and the messages). */
#include "core/urls.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* C-locale white space, the ASCII part of Go's strings.TrimSpace. */
static bool url_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool url_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool url_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char url_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Formats err, quoting the trimmed input [s, s+len). */
static int url_fail(char *err, size_t errlen, const char *what, const char *s, size_t len)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s: %.*s", what, (int)(len > 4096 ? 4096 : len), s);
    return -1;
}

/* Host names as DNS and /etc/hosts have them, plus '_' which some
 * container setups use; anything else (spaces, quotes, '%', '/') could only
 * be a typo or an injection into a later message or request. */
static bool url_host_name_ok(const char *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!url_is_alpha(c) && !url_is_digit(c) && c != '-' && c != '.' && c != '_')
            return false;
    }
    return true;
}

void cc_url_format(struct cc_url *u)
{
    bool v6 = strchr(u->host, ':') != NULL;
    snprintf(u->text, sizeof u->text, "%s%s%s%s%s:%u", u->scheme, u->scheme[0] ? "://" : "",
             v6 ? "[" : "", u->host, v6 ? "]" : "", (unsigned)u->port);
}

/* The checks run in etcd's order (scheme, then host:port, then path) so that
 * an input with several faults gets the message etcd would print. */
int cc_url_parse_n(const char *s, size_t len, struct cc_url *out, char *err, size_t errlen)
{
    static const char scheme_msg[] = "URL scheme must be http or https";
    static const char hostport_msg[] = "URL address does not have the form \"host:port\"";
    struct cc_url u;
    memset(&u, 0, sizeof u);

    if (s == NULL)
        s = "", len = 0;
    while (len > 0 && url_is_space(*s))
        s++, len--;
    while (len > 0 && url_is_space(s[len - 1]))
        len--;
    const char *end = s + len;

    /* Scheme: a letter, then letters, digits, '+', '-', '.', then ':'. */
    const char *p = s;
    if (p < end && url_is_alpha(*p)) {
        p++;
        while (p < end &&
               (url_is_alpha(*p) || url_is_digit(*p) || *p == '+' || *p == '-' || *p == '.'))
            p++;
    }
    size_t slen = (size_t)(p - s);
    if (p >= end || *p != ':' || slen == 0 || slen >= sizeof u.scheme)
        return url_fail(err, errlen, scheme_msg, s, len);
    for (size_t i = 0; i < slen; i++)
        u.scheme[i] = url_lower(s[i]);
    if (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0)
        return url_fail(err, errlen, scheme_msg, s, len);
    p++;

    /* Without "//" Go's url.Parse leaves the host empty ("http:a:1"). */
    if (end - p < 2 || p[0] != '/' || p[1] != '/')
        return url_fail(err, errlen, hostport_msg, s, len);
    p += 2;
    const char *auth = p;
    while (p < end && *p != '/' && *p != '?' && *p != '#')
        p++;
    const char *auth_end = p;
    const char *rest = p;

    if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL)
        return url_fail(err, errlen, "URL must not contain user information, a query or a fragment",
                        s, len);

    /* Split host and port the way net.SplitHostPort does: a bracketed IPv6
     * literal, or exactly one colon. */
    const char *host, *host_end, *port;
    bool bracketed = auth < auth_end && *auth == '[';
    if (bracketed) {
        const char *close = memchr(auth, ']', (size_t)(auth_end - auth));
        if (close == NULL || close + 1 >= auth_end || close[1] != ':')
            return url_fail(err, errlen, hostport_msg, s, len);
        host = auth + 1;
        host_end = close;
        port = close + 2;
        if (memchr(port, ':', (size_t)(auth_end - port)) != NULL ||
            memchr(port, '[', (size_t)(auth_end - port)) != NULL ||
            memchr(port, ']', (size_t)(auth_end - port)) != NULL)
            return url_fail(err, errlen, hostport_msg, s, len);
    } else {
        const char *colon = memchr(auth, ':', (size_t)(auth_end - auth));
        if (colon == NULL || memchr(colon + 1, ':', (size_t)(auth_end - colon - 1)) != NULL)
            return url_fail(err, errlen, hostport_msg, s, len);
        host = auth;
        host_end = colon;
        port = colon + 1;
    }

    if (rest < end && *rest == '/')
        return url_fail(err, errlen, "URL must not contain a path", s, len);
    if (rest < end)
        return url_fail(err, errlen, "URL must not contain user information, a query or a fragment",
                        s, len);

    /* Port: decimal digits only; Go accepts "" and names, neither of which
     * can be bound or advertised. */
    size_t plen = (size_t)(auth_end - port);
    unsigned long pv = 0;
    if (plen == 0 || plen > 5)
        return url_fail(err, errlen, "URL port must be a number from 0 to 65535", s, len);
    for (size_t i = 0; i < plen; i++) {
        if (!url_is_digit(port[i]))
            return url_fail(err, errlen, "URL port must be a number from 0 to 65535", s, len);
        pv = pv * 10 + (unsigned long)(port[i] - '0');
    }
    if (pv > 65535)
        return url_fail(err, errlen, "URL port must be a number from 0 to 65535", s, len);

    size_t hlen = (size_t)(host_end - host);
    if (hlen >= sizeof u.host)
        return url_fail(err, errlen, "URL host is not valid", s, len);
    memcpy(u.host, host, hlen);
    u.host[hlen] = '\0';
    if (bracketed) {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, u.host, &a6) != 1)
            return url_fail(err, errlen, "URL host is not valid", s, len);
    } else if (!url_host_name_ok(u.host, hlen)) {
        return url_fail(err, errlen, "URL host is not valid", s, len);
    }
    u.port = (uint16_t)pv;
    cc_url_format(&u);
    *out = u;
    return 0;
}

int cc_url_parse(const char *s, struct cc_url *out, char *err, size_t errlen)
{
    return cc_url_parse_n(s, s ? strlen(s) : 0, out, err, errlen);
}

static int url_cmp_text(const void *a, const void *b)
{
    return strcmp(((const struct cc_url *)a)->text, ((const struct cc_url *)b)->text);
}

int cc_url_list_parse(const char *csv, struct cc_url_list *out, char *err, size_t errlen)
{
    out->n = 0;
    out->v = NULL;
    if (csv == NULL)
        csv = "";
    const char *q = csv;
    while (url_is_space(*q))
        q++;
    if (*q == '\0') {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "no valid URLs given");
        return -1;
    }

    size_t n = 1;
    for (const char *c = csv; *c; c++)
        n += *c == ',';
    struct cc_url *v = calloc(n, sizeof *v);
    if (v == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "out of memory");
        return -1;
    }

    const char *start = csv;
    for (size_t i = 0; i < n; i++) {
        const char *comma = strchr(start, ',');
        size_t elen = comma ? (size_t)(comma - start) : strlen(start);
        if (cc_url_parse_n(start, elen, &v[i], err, errlen) != 0) {
            free(v);
            return -1;
        }
        start = comma ? comma + 1 : start + elen;
    }
    qsort(v, n, sizeof *v, url_cmp_text);
    out->n = n;
    out->v = v;
    return 0;
}

void cc_url_list_free(struct cc_url_list *l)
{
    if (l == NULL)
        return;
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int cc_url_list_copy(struct cc_url_list *dst, const struct cc_url_list *src)
{
    dst->n = 0;
    dst->v = NULL;
    if (src == NULL || src->n == 0)
        return 0;
    dst->v = malloc(src->n * sizeof *dst->v);
    if (dst->v == NULL)
        return -1;
    memcpy(dst->v, src->v, src->n * sizeof *dst->v);
    dst->n = src->n;
    return 0;
}

static bool url_texts_contain(const char *const *texts, size_t n, const char *t)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(texts[i], t) == 0)
            return true;
    return false;
}

/* Set equality over two arrays of strings; n is small (a member's URLs). */
static bool url_text_sets_equal(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    for (size_t i = 0; i < na; i++)
        if (!url_texts_contain(b, nb, a[i]))
            return false;
    for (size_t i = 0; i < nb; i++)
        if (!url_texts_contain(a, na, b[i]))
            return false;
    return true;
}

static const char **url_texts(const struct cc_url_list *l)
{
    const char **t = calloc(l->n ? l->n : 1, sizeof *t);
    if (t == NULL)
        return NULL;
    for (size_t i = 0; i < l->n; i++)
        t[i] = l->v[i].text;
    return t;
}

bool cc_url_list_equal_as_sets(const struct cc_url_list *a, const struct cc_url_list *b)
{
    const char **ta = url_texts(a), **tb = url_texts(b);
    bool eq = ta && tb && url_text_sets_equal(ta, a->n, tb, b->n);
    free(ta);
    free(tb);
    return eq;
}

/* Rewrites u->host to the numeric address it resolves to; leaves it alone
 * when it is already numeric or does not resolve. */
static void url_resolve_host(struct cc_url *u)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (u->host[0] == '\0' || inet_pton(AF_INET, u->host, buf) == 1)
        return;
    if (inet_pton(AF_INET6, u->host, buf) == 1) {
        char norm[INET6_ADDRSTRLEN];
        if (inet_ntop(AF_INET6, buf, norm, sizeof norm) != NULL)
            snprintf(u->host, sizeof u->host, "%s", norm);
        return;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(u->host, NULL, &hints, &res) != 0 || res == NULL)
        return;
    const struct addrinfo *pick = res;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    char name[INET6_ADDRSTRLEN] = "";
    if (pick->ai_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)pick->ai_addr)->sin_addr,
                  name, sizeof name);
    else if (pick->ai_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)pick->ai_addr)->sin6_addr,
                  name, sizeof name);
    freeaddrinfo(res);
    if (name[0] != '\0')
        snprintf(u->host, sizeof u->host, "%s", name);
}

static int url_resolved_copy(struct cc_url_list *dst, const struct cc_url_list *src)
{
    if (cc_url_list_copy(dst, src) != 0)
        return -1;
    for (size_t i = 0; i < dst->n; i++) {
        url_resolve_host(&dst->v[i]);
        cc_url_format(&dst->v[i]);
    }
    return 0;
}

bool cc_url_list_equal_resolved(const struct cc_url_list *a, const struct cc_url_list *b)
{
    if (cc_url_list_equal_as_sets(a, b))
        return true;
    struct cc_url_list ra, rb;
    if (url_resolved_copy(&ra, a) != 0)
        return false;
    if (url_resolved_copy(&rb, b) != 0) {
        cc_url_list_free(&ra);
        return false;
    }
    bool eq = cc_url_list_equal_as_sets(&ra, &rb);
    cc_url_list_free(&ra);
    cc_url_list_free(&rb);
    return eq;
}

char *cc_url_list_join(const struct cc_url_list *l)
{
    size_t need = 1;
    for (size_t i = 0; i < l->n; i++)
        need += strlen(l->v[i].text) + 1;
    char *s = malloc(need);
    if (s == NULL)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t tl = strlen(l->v[i].text);
        if (i > 0)
            s[off++] = ',';
        memcpy(s + off, l->v[i].text, tl);
        off += tl;
    }
    s[off] = '\0';
    return s;
}

void cc_url_list_json(char *out, size_t len, const struct cc_url_list *l)
{
    size_t off = (size_t)snprintf(out, len, "[");
    for (size_t i = 0; i < l->n && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s\"%s\"", i ? "," : "", l->v[i].text);
    if (off < len)
        snprintf(out + off, len - off, "]");
}
