/* The raft-entry form of a v2 request; see request_codec.h for the layout. */
#include "core/v2/request_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
    F_DIR = 1u << 0,
    F_RECURSIVE = 1u << 1,
    F_SORTED = 1u << 2,
    F_QUORUM = 1u << 3,
    F_WAIT = 1u << 4,
    F_STREAM = 1u << 5,
    F_REFRESH = 1u << 6,
    F_NO_VALUE_ON_SUCCESS = 1u << 7,
};

void cc_v2_request_init(struct cc_v2_request *r)
{
    memset(r, 0, sizeof *r);
    r->path = NULL;
    r->value.p = NULL;
    r->prev_value.p = NULL;
    r->prev_exist = -1;
}

void cc_v2_request_free(struct cc_v2_request *r)
{
    free(r->path);
    free(r->value.p);
    free(r->prev_value.p);
    cc_v2_request_init(r);
}

static bool method_known(uint8_t m)
{
    return m >= CC_V2_GET && m <= CC_V2_SYNC;
}

static bool str_fits(const struct cc_v2_str *s)
{
    return s->n <= UINT32_MAX && (s->p != NULL || s->n == 0);
}

int cc_v2_request_encode(struct cc_buf *out, const struct cc_v2_request *r)
{
    size_t path_len, start = out->len;
    unsigned flags = 0;

    if (!method_known(r->method) || r->prev_exist < -1 || r->prev_exist > 1 || r->path == NULL ||
        !str_fits(&r->value) || !str_fits(&r->prev_value)) {
        errno = EINVAL;
        return -1;
    }
    path_len = strlen(r->path); /* so a NUL cannot hide inside */
    if (path_len > UINT32_MAX) {
        errno = EINVAL;
        return -1;
    }
    flags |= r->dir ? F_DIR : 0;
    flags |= r->recursive ? F_RECURSIVE : 0;
    flags |= r->sorted ? F_SORTED : 0;
    flags |= r->quorum ? F_QUORUM : 0;
    flags |= r->wait ? F_WAIT : 0;
    flags |= r->stream ? F_STREAM : 0;
    flags |= r->refresh ? F_REFRESH : 0;
    flags |= r->no_value_on_success ? F_NO_VALUE_ON_SUCCESS : 0;

    cc_put_u8(out, CC_V2_REQUEST_VERSION);
    cc_put_u8(out, r->method);
    cc_put_u8(out, (uint8_t)flags);
    cc_put_u8(out, (uint8_t)(r->prev_exist + 1));
    cc_put_u64(out, r->prev_index);
    cc_put_u64(out, (uint64_t)r->expiration_ns);
    cc_put_u64(out, r->wait_index);
    cc_put_u64(out, (uint64_t)r->time_ns);
    cc_put_bytes(out, r->path, (uint32_t)path_len);
    cc_put_bytes(out, r->value.p, (uint32_t)r->value.n);
    cc_put_bytes(out, r->prev_value.p, (uint32_t)r->prev_value.n);
    if (out->failed) {
        out->len = start;
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

/* A NUL-terminated copy of p[0..n). */
static char *dup_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    if (s != NULL) {
        if (n > 0)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

int cc_v2_request_decode(const uint8_t *p, size_t n, struct cc_v2_request *out)
{
    struct cc_rd rd;
    const uint8_t *path, *value, *prev;
    uint32_t path_n, value_n, prev_n;
    uint8_t version, method, flags, prev_exist;
    struct cc_v2_request r;

    cc_v2_request_init(out);
    cc_v2_request_init(&r);
    cc_rd_init(&rd, p, n);
    version = cc_get_u8(&rd);
    method = cc_get_u8(&rd);
    flags = cc_get_u8(&rd);
    prev_exist = cc_get_u8(&rd);
    r.prev_index = cc_get_u64(&rd);
    r.expiration_ns = (int64_t)cc_get_u64(&rd);
    r.wait_index = cc_get_u64(&rd);
    r.time_ns = (int64_t)cc_get_u64(&rd);
    path = cc_get_bytes(&rd, &path_n);
    value = cc_get_bytes(&rd, &value_n);
    prev = cc_get_bytes(&rd, &prev_n);
    if (rd.bad || cc_rd_left(&rd) != 0 || version != CC_V2_REQUEST_VERSION ||
        !method_known(method) || prev_exist > 2 || memchr(path, 0, path_n) != NULL) {
        errno = EINVAL;
        return -1;
    }
    r.method = method;
    r.prev_exist = (int8_t)(prev_exist - 1);
    r.dir = flags & F_DIR;
    r.recursive = flags & F_RECURSIVE;
    r.sorted = flags & F_SORTED;
    r.quorum = flags & F_QUORUM;
    r.wait = flags & F_WAIT;
    r.stream = flags & F_STREAM;
    r.refresh = flags & F_REFRESH;
    r.no_value_on_success = flags & F_NO_VALUE_ON_SUCCESS;
    r.path = dup_bytes(path, path_n);
    r.value.p = dup_bytes(value, value_n);
    r.value.n = value_n;
    r.prev_value.p = dup_bytes(prev, prev_n);
    r.prev_value.n = prev_n;
    if (r.path == NULL || r.value.p == NULL || r.prev_value.p == NULL) {
        cc_v2_request_free(&r);
        errno = ENOMEM;
        return -1;
    }
    *out = r;
    return 0;
}
