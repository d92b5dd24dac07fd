/* The v2 store's entry points: lifecycle, applying committed requests
 * (etcd's EtcdServer.applyRequest), local gets, watches and accessors. The
 * operations themselves are in store_ops.c.
 *
 * Where this store differs from etcd 2.3.8 on purpose:
 * - children are listed in byte order of their names, sorted or not (etcd:
 *   Go map order when not sorted);
 * - TTL ties expire in path order (etcd: heap accident), so that every copy
 *   of the store expires identically;
 * - a recursive history scan matches the watched key itself at any
 *   position, and an expired directory's event node says "dir" (both as
 *   fixed in etcd 3.4, the reference server of our differential tests).
 * etcd's stats quirks are kept: a failed update/CAS/delete on a read-only
 * path, a failed update of a dir with a value, and a failed CAD (102, 101)
 * all count as successes; a create blocked by a key in the way counts a
 * failed set as well. */
#include "core/v2/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cc_v2_result_clear(struct cc_v2_result *r)
{
    cc_v2_event_free(r->event);
    memset(r, 0, sizeof *r);
}

struct cc_v2_store *cc_v2_store_alloc(void)
{
    struct cc_v2_store *s = calloc(1, sizeof *s);

    if (s == NULL)
        goto oom;
    cc_v2_whub_init(&s->hub);
    s->root = cc_v2_snode_new_dir("/", 1);
    s->readonly = malloc(sizeof *s->readonly);
    if (s->root == NULL || s->readonly == NULL || (s->readonly[0] = strdup("/")) == NULL)
        goto fail;
    s->n_readonly = 1;
    if (cc_v2_history_init(&s->hist) < 0)
        goto fail;
    return s;
fail:
    cc_v2_store_free(s);
oom:
    errno = ENOMEM;
    return NULL;
}

int cc_v2_store_add_namespace(struct cc_v2_store *s, const char *ns, bool make_dir)
{
    char *clean = cc_v2_store_path_clean(ns), **ro;
    struct cc_v2_snode *d;
    size_t pos;

    if (clean == NULL)
        goto oom;
    if (strcmp(clean, "/") == 0) {
        free(clean);
        return 0;
    }
    /* etcd adds namespaces as children of the root: one component only */
    if (strchr(clean + 1, '/') != NULL) {
        free(clean);
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < s->n_readonly; i++)
        if (strcmp(s->readonly[i], clean) == 0) {
            free(clean);
            return 0;
        }
    if (make_dir && cc_v2_snode_child(s->root, clean + 1, strlen(clean + 1), &pos) == NULL) {
        d = cc_v2_snode_new_dir(clean, strlen(clean));
        if (d == NULL || cc_v2_snode_reserve(s->root) < 0) {
            cc_v2_snode_free_tree(d);
            goto oom_free;
        }
        cc_v2_snode_insert(s->root, d);
    }
    ro = realloc(s->readonly, (s->n_readonly + 1) * sizeof *ro);
    if (ro == NULL)
        goto oom_free;
    s->readonly = ro;
    s->readonly[s->n_readonly++] = clean;
    return 0;
oom_free:
    free(clean);
oom:
    errno = ENOMEM;
    return -1;
}

struct cc_v2_store *cc_v2_store_new(const char *const *namespaces, size_t n_namespaces)
{
    struct cc_v2_store *s = cc_v2_store_alloc();

    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n_namespaces; i++)
        if (cc_v2_store_add_namespace(s, namespaces[i], true) < 0) {
            int e = errno;

            cc_v2_store_free(s);
            errno = e;
            return NULL;
        }
    return s;
}

void cc_v2_store_free(struct cc_v2_store *s)
{
    if (s == NULL)
        return;
    cc_v2_whub_free(&s->hub);
    cc_v2_history_free(&s->hist);
    cc_v2_ttl_free(&s->heap);
    cc_v2_snode_free_tree(s->root);
    for (size_t i = 0; s->readonly != NULL && i < s->n_readonly; i++)
        free(s->readonly[i]);
    free(s->readonly);
    free(s);
}

void cc_v2_store_set_hooks(struct cc_v2_store *s, const struct cc_v2_store_hooks *hooks)
{
    if (hooks != NULL)
        s->hooks = *hooks;
    else
        memset(&s->hooks, 0, sizeof s->hooks);
}

int cc_v2_store_rebuild_heap(struct cc_v2_store *s)
{
    s->heap.n = 0;
    for (struct cc_v2_snode *n = s->root; n != NULL;
         n = cc_v2_snode_preorder_next(s->root, n, NULL))
        if (n->expire_ns != 0) {
            if (cc_v2_ttl_reserve(&s->heap) < 0)
                return -1;
            cc_v2_ttl_push(&s->heap, n);
        }
    return 0;
}

/* etcd's Get (the counters included). */
static int get(struct cc_v2_store *s, const char *path, bool recursive, struct cc_v2_result *out)
{
    struct cc_v2_snode *n = cc_v2_store_lookup(s, path, &out->err);

    if (n == NULL) {
        s->stats.gets_fail++;
        return 0;
    }
    out->event = calloc(1, sizeof *out->event);
    if (out->event == NULL || cc_v2_snode_extern(n, true, recursive, &out->event->node) < 0) {
        free(out->event);
        out->event = NULL;
        errno = ENOMEM;
        return -1;
    }
    out->event->action = CC_V2_ACT_GET;
    out->event->etcd_index = s->index;
    s->stats.gets_success++;
    return 0;
}

int cc_v2_store_get(struct cc_v2_store *s, const char *path, bool recursive, bool sorted,
                    int64_t now_ns, struct cc_v2_result *out)
{
    char *clean;
    int rc;

    (void)sorted; /* children are always in key order */
    (void)now_ns;
    memset(out, 0, sizeof *out);
    clean = cc_v2_store_path_clean(path ? path : "/");
    if (clean == NULL) {
        errno = ENOMEM;
        return -1;
    }
    rc = get(s, clean, recursive, out);
    free(clean);
    return rc;
}

int cc_v2_store_apply(struct cc_v2_store *s, const struct cc_v2_request *req,
                      struct cc_v2_result *out)
{
    static const struct cc_v2_str empty = {"", 0};
    const struct cc_v2_str *value = req->value.p ? &req->value : &empty;
    const struct cc_v2_str *prev_value = req->prev_value.p ? &req->prev_value : &empty;
    int64_t exp = req->expiration_ns;
    char *path;
    int rc;

    memset(out, 0, sizeof *out);
    if (req->method == CC_V2_SYNC)
        return cc_v2_op_expire(s, req->time_ns);
    if (req->path == NULL || req->method < CC_V2_GET || req->method > CC_V2_QGET) {
        errno = EINVAL;
        return -1;
    }
    path = cc_v2_store_path_clean(req->path);
    if (path == NULL) {
        errno = ENOMEM;
        return -1;
    }
    switch (req->method) {
    case CC_V2_POST:
        rc = cc_v2_op_create(s, path, req->dir, value, true, exp, out);
        break;
    case CC_V2_PUT:
        if (req->prev_exist == 1) {
            if (req->prev_index == 0 && prev_value->n == 0)
                rc = cc_v2_op_update(s, path, value, exp, req->refresh, out);
            else
                rc = cc_v2_op_cas(s, path, prev_value, req->prev_index, value, exp, req->refresh,
                                  out);
        } else if (req->prev_exist == 0) {
            rc = cc_v2_op_create(s, path, req->dir, value, false, exp, out);
        } else if (req->prev_index > 0 || prev_value->n > 0) {
            rc = cc_v2_op_cas(s, path, prev_value, req->prev_index, value, exp, req->refresh, out);
        } else {
            rc = cc_v2_op_set(s, path, req->dir, value, exp, req->refresh, out);
        }
        break;
    case CC_V2_DELETE:
        if (req->prev_index > 0 || prev_value->n > 0)
            rc = cc_v2_op_cad(s, path, prev_value, req->prev_index, out);
        else
            rc = cc_v2_op_delete(s, path, req->dir, req->recursive, out);
        break;
    default: /* QGET; GET and HEAD never reach the log but read the same */
        rc = get(s, path, req->recursive, out);
        break;
    }
    free(path);
    return rc;
}

uint64_t cc_v2_store_index(const struct cc_v2_store *s)
{
    return s->index;
}

bool cc_v2_store_next_expiry(const struct cc_v2_store *s, int64_t *expire_ns)
{
    const struct cc_v2_snode *n = cc_v2_ttl_top(&s->heap);

    if (n == NULL)
        return false;
    *expire_ns = n->expire_ns;
    return true;
}

void cc_v2_store_history_bounds(const struct cc_v2_store *s, uint64_t *first, uint64_t *last)
{
    *first = s->hist.start;
    *last = s->hist.last;
}

void cc_v2_store_stats(const struct cc_v2_store *s, struct cc_v2_store_stats *out)
{
    *out = s->stats;
    out->watchers = s->hub.count;
}

int cc_v2_store_watch(struct cc_v2_store *s, const char *path, bool recursive, bool stream,
                      uint64_t since_index, cc_v2_watch_fn fn, void *ctx,
                      struct cc_v2_watch_result *out)
{
    const struct cc_v2_event *found;
    char *key;
    int rc = 0;

    memset(out, 0, sizeof *out);
    out->start_index = s->index;
    key = cc_v2_store_path_clean(path ? path : "/");
    if (key == NULL) {
        errno = ENOMEM;
        return -1;
    }
    if (since_index == 0)
        since_index = s->index + 1;
    cc_v2_history_scan(&s->hist, key, recursive, since_index, &found, &out->err);
    if (out->err.code != 0) {
        out->err.index = s->index;
    } else if (found != NULL) {
        out->event = cc_v2_event_dup(found);
        if (out->event == NULL)
            rc = -1;
        else
            out->event->etcd_index = s->index;
    } else if (fn == NULL) {
        errno = EINVAL;
        rc = -1;
    } else {
        rc = cc_v2_whub_add(&s->hub, key, recursive, stream, since_index, s->index, fn, ctx,
                            &out->watcher);
    }
    free(key);
    return rc;
}
