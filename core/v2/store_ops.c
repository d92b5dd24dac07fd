/* The store's mutations, one function per etcd 2.3.8 operation (store.go:
 * Create, Set, Update, CompareAndSwap, Delete, CompareAndDelete,
 * DeleteExpiredKeys, with internalCreate and internalGet), keeping etcd's
 * order of checks, error causes and indexes, and its stats counting
 * (quirks included: see the notes at each early return).
 *
 * Every operation builds its event and allocates what it needs before it
 * touches the tree where that is simple; the event then goes to the hooks,
 * the history and the watchers (emit). */
#include "core/v2/store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* etcd treats an expiration before 2000-01-01T00:00:00Z given to a create
 * or set as "no TTL" (minExpireTime in store.go). */
#define MIN_EXPIRE_NS INT64_C(946684800000000000)

void cc_v2_store_error(struct cc_v2_error *err, int code, const char *cause, size_t cause_len,
                       uint64_t index)
{
    if (cause_len >= sizeof err->cause)
        cause_len = sizeof err->cause - 1;
    err->code = code;
    memcpy(err->cause, cause, cause_len);
    err->cause[cause_len] = '\0';
    err->index = index;
}

static void error_str(struct cc_v2_error *err, int code, const char *cause, uint64_t index)
{
    cc_v2_store_error(err, code, cause, strlen(cause), index);
}

static bool readonly(const struct cc_v2_store *s, const char *path)
{
    for (size_t i = 0; i < s->n_readonly; i++)
        if (strcmp(s->readonly[i], path) == 0)
            return true;
    return false;
}

struct cc_v2_snode *cc_v2_store_lookup(struct cc_v2_store *s, const char *path,
                                       struct cc_v2_error *err)
{
    struct cc_v2_snode *cur = s->root;
    const char *p = path + 1, *q;

    while (*p != '\0') {
        struct cc_v2_snode *c;

        q = strchr(p, '/');
        if (q == NULL)
            q = p + strlen(p);
        if (!cur->dir) {
            error_str(err, CC_V2_E_NOT_DIR, cur->path, s->index);
            return NULL;
        }
        c = cc_v2_snode_child(cur, p, (size_t)(q - p), NULL);
        if (c == NULL) {
            /* the first missing component, as a full path */
            cc_v2_store_error(err, CC_V2_E_KEY_NOT_FOUND, path, (size_t)(q - path), s->index);
            return NULL;
        }
        cur = c;
        p = *q ? q + 1 : q;
    }
    return cur;
}

static struct cc_v2_event *new_event(enum cc_v2_action action, const char *key, uint64_t modified,
                                     uint64_t created)
{
    struct cc_v2_event *ev = calloc(1, sizeof *ev);

    if (ev == NULL)
        return NULL;
    ev->action = action;
    ev->node.key = strdup(key);
    if (ev->node.key == NULL) {
        free(ev);
        return NULL;
    }
    ev->node.modified_index = modified;
    ev->node.created_index = created;
    ev->etcd_index = modified;
    return ev;
}

/* prevNode: the old node without children (etcd's Repr(false, false)). */
static int set_prev(struct cc_v2_event *ev, struct cc_v2_snode *n)
{
    ev->prev_node = calloc(1, sizeof *ev->prev_node);
    if (ev->prev_node == NULL)
        return -1;
    if (cc_v2_snode_extern(n, false, false, ev->prev_node) < 0) {
        free(ev->prev_node);
        ev->prev_node = NULL;
        return -1;
    }
    return 0;
}

static int set_ev_value(struct cc_v2_event *ev, const char *p, size_t n)
{
    ev->node.value.p = malloc(n + 1);
    if (ev->node.value.p == NULL)
        return -1;
    if (n > 0)
        memcpy(ev->node.value.p, p, n);
    ev->node.value.p[n] = '\0';
    ev->node.value.n = n;
    ev->node.has_value = true;
    return 0;
}

static void changed(struct cc_v2_store *s, const struct cc_v2_snode *n, bool deleted)
{
    struct cc_v2_node_rec rec;

    if (s->hooks.on_change == NULL)
        return;
    cc_v2_snode_rec(n, &rec);
    s->hooks.on_change(s->hooks.ctx, &rec, deleted);
}

/* Publishes a mutation's event: the caller's copy, the hook, the history
 * (which takes ev), then the watchers unless it is a refresh. */
static int emit(struct cc_v2_store *s, struct cc_v2_event *ev, bool refresh,
                struct cc_v2_result *out)
{
    ev->refresh = refresh;
    if (out != NULL) {
        out->event = cc_v2_event_dup(ev);
        if (out->event == NULL) {
            cc_v2_event_free(ev);
            return -1;
        }
    }
    if (s->hooks.on_event)
        s->hooks.on_event(s->hooks.ctx, ev);
    cc_v2_history_add(&s->hist, ev);
    if (!refresh)
        cc_v2_whub_notify(&s->hub, ev);
    return 0;
}

/* What a refresh writes back: the node's value (a dir's is ""). */
static void keep_value(const struct cc_v2_snode *n, struct cc_v2_str *v)
{
    v->p = n->dir ? "" : cc_v2_snode_value(n);
    v->n = n->dir ? 0 : n->value_len;
}

/* etcd's node.UpdateTTL: 0 makes the node permanent. */
static int update_ttl(struct cc_v2_store *s, struct cc_v2_snode *n, int64_t expire)
{
    if (n->expire_ns != 0) {
        n->expire_ns = expire;
        if (expire == 0)
            cc_v2_ttl_remove(&s->heap, n);
        else
            cc_v2_ttl_fix(&s->heap, n);
        return 0;
    }
    if (expire == 0)
        return 0;
    if (cc_v2_ttl_reserve(&s->heap) < 0)
        return -1;
    n->expire_ns = expire;
    cc_v2_ttl_push(&s->heap, n);
    return 0;
}

/* etcd's node.Remove with its callback: removes top and its subtree,
 * children before their directory; each removed path notifies its
 * watchers with the event (deleted) and is reported to the hook. */
static void remove_subtree(struct cc_v2_store *s, struct cc_v2_snode *top,
                           const struct cc_v2_event *ev)
{
    struct cc_v2_snode *n = top;

    cc_v2_whub_begin(&s->hub);
    if (n->dir)
        cc_v2_snode_walk_start(n);
    for (;;) {
        struct cc_v2_snode *c = cc_v2_snode_walk_next(n);

        if (c != NULL) {
            if (c->dir)
                cc_v2_snode_walk_start(c);
            n = c;
            continue;
        }
        cc_v2_ttl_remove(&s->heap, n);
        cc_v2_whub_notify_path(&s->hub, ev, n->path, n->path_len, true);
        changed(s, n, true);
        if (n == top)
            break;
        n = n->parent;
    }
    cc_v2_whub_end(&s->hub);
    cc_v2_snode_detach(top);
    cc_v2_snode_free_tree(top);
}

/* etcd's internalCreate. On success *evp is the event (not yet emitted)
 * and the index has moved; on a store error out->err is set. */
static int internal_create(struct cc_v2_store *s, const char *path_in, bool dir,
                           const struct cc_v2_str *value, bool unique, bool replace, int64_t expire,
                           enum cc_v2_action action, struct cc_v2_result *out,
                           struct cc_v2_event **evp)
{
    uint64_t cur = s->index, next = cur + 1;
    struct cc_v2_snode *d = s->root, *old = NULL, *n = NULL, *chain = NULL, *tail = NULL;
    struct cc_v2_event *ev = NULL;
    const char *p, *q, *end;
    char *path;
    size_t len;

    *evp = NULL;
    if (unique) {
        /* an in-order key: the next index, 20 digits, zero-padded */
        size_t m = strlen(path_in) + 23;
        char *tmp = malloc(m);

        if (tmp == NULL)
            return -1;
        snprintf(tmp, m, "%s/%020" PRIu64, path_in, next);
        path = cc_v2_store_path_clean(tmp);
        free(tmp);
    } else {
        path = strdup(path_in);
    }
    if (path == NULL)
        return -1;
    len = strlen(path);
    if (readonly(s, path)) {
        error_str(&out->err, CC_V2_E_ROOT_RONLY, "/", cur);
        goto done;
    }
    if (expire < MIN_EXPIRE_NS)
        expire = 0;

    /* Walk the parent dirs; a key in the way is error 104. */
    end = strrchr(path, '/');
    for (p = path + 1; p < end; p = q + 1) {
        struct cc_v2_snode *c;

        q = memchr(p, '/', (size_t)(end - p));
        if (q == NULL)
            q = end;
        c = cc_v2_snode_child(d, p, (size_t)(q - p), NULL);
        if (c == NULL)
            break;
        if (!c->dir) {
            error_str(&out->err, CC_V2_E_NOT_DIR, c->path, cur);
            s->stats.sets_fail++; /* etcd counts this as a failed set too */
            goto done;
        }
        d = c;
    }
    /* The missing ones become a chain of new dirs, linked at commit. */
    for (; p < end; p = q + 1) {
        struct cc_v2_snode *c;

        q = memchr(p, '/', (size_t)(end - p));
        if (q == NULL)
            q = end;
        c = cc_v2_snode_new_dir(path, (size_t)(q - path));
        if (c == NULL)
            goto oom;
        c->created_index = c->modified_index = next;
        if (tail == NULL) {
            chain = c;
        } else if (cc_v2_snode_reserve(tail) < 0) {
            cc_v2_snode_free_tree(c);
            goto oom;
        } else {
            cc_v2_snode_insert(tail, c);
        }
        tail = c;
    }
    if (tail == NULL) {
        old = cc_v2_snode_child(d, end + 1, len - (size_t)(end + 1 - path), NULL);
        if (old != NULL && !replace) {
            error_str(&out->err, CC_V2_E_NODE_EXIST, path, cur);
            goto done;
        }
        if (old != NULL && old->dir) {
            error_str(&out->err, CC_V2_E_NOT_FILE, path, cur);
            goto done;
        }
    }

    ev = new_event(action, path, next, next);
    if (ev == NULL || (old != NULL && set_prev(ev, old) < 0))
        goto oom;
    n = dir ? cc_v2_snode_new_dir(path, len) : cc_v2_snode_new_key(path, len, value->p, value->n);
    if (n == NULL)
        goto oom;
    n->created_index = n->modified_index = next;
    if (dir)
        ev->node.dir = true;
    else if (set_ev_value(ev, value->p, value->n) < 0)
        goto oom;
    if (expire != 0 && cc_v2_ttl_reserve(&s->heap) < 0)
        goto oom;
    if (cc_v2_snode_reserve(tail ? tail : d) < 0 || (chain && cc_v2_snode_reserve(d) < 0))
        goto oom;

    /* Commit. */
    if (old != NULL) {
        /* same name, same place: no shifting of the siblings */
        cc_v2_ttl_remove(&s->heap, old);
        cc_v2_snode_replace(old, n);
        cc_v2_snode_free_tree(old);
    } else {
        if (chain != NULL)
            cc_v2_snode_insert(d, chain);
        cc_v2_snode_insert(tail ? tail : d, n);
    }
    if (expire != 0) {
        n->expire_ns = expire;
        cc_v2_ttl_push(&s->heap, n);
        ev->node.expiration_ns = expire;
    }
    s->index = next;
    for (struct cc_v2_snode *c = chain; c != NULL && c != n; c = cc_v2_snode_sdir(c)->kids[0])
        changed(s, c, false);
    changed(s, n, false);
    *evp = ev;
    free(path);
    return 0;
oom:
    cc_v2_event_free(ev);
    if (n != NULL)
        cc_v2_snode_free_tree(n);
    cc_v2_snode_free_tree(chain);
    free(path);
    errno = ENOMEM;
    return -1;
done:
    free(path);
    return 0;
}

int cc_v2_op_create(struct cc_v2_store *s, const char *path, bool dir,
                    const struct cc_v2_str *value, bool unique, int64_t expire,
                    struct cc_v2_result *out)
{
    struct cc_v2_event *ev;

    if (internal_create(s, path, dir, value, unique, false, expire, CC_V2_ACT_CREATE, out, &ev) < 0)
        return -1;
    if (ev == NULL) {
        s->stats.create_fail++;
        return 0;
    }
    s->stats.create_success++;
    return emit(s, ev, false, out);
}

int cc_v2_op_set(struct cc_v2_store *s, const char *path, bool dir, const struct cc_v2_str *value,
                 int64_t expire, bool refresh, struct cc_v2_result *out)
{
    struct cc_v2_error gerr = {0};
    struct cc_v2_snode *n = cc_v2_store_lookup(s, path, &gerr);
    struct cc_v2_str keep;
    struct cc_v2_event *ev;

    if (n == NULL && (gerr.code != CC_V2_E_KEY_NOT_FOUND || refresh)) {
        out->err = gerr;
        s->stats.sets_fail++;
        return 0;
    }
    if (refresh) {
        /* a refresh keeps the old value (a dir's is "": it then fails 102) */
        keep_value(n, &keep);
        value = &keep;
    }
    if (internal_create(s, path, dir, value, false, true, expire, CC_V2_ACT_SET, out, &ev) < 0)
        return -1;
    if (ev == NULL) {
        s->stats.sets_fail++;
        return 0;
    }
    s->stats.sets_success++;
    return emit(s, ev, refresh, out);
}

int cc_v2_op_update(struct cc_v2_store *s, const char *path, const struct cc_v2_str *value,
                    int64_t expire, bool refresh, struct cc_v2_result *out)
{
    uint64_t next = s->index + 1;
    struct cc_v2_snode *n;
    struct cc_v2_event *ev;
    struct cc_v2_str keep;

    if (readonly(s, path)) {
        error_str(&out->err, CC_V2_E_ROOT_RONLY, "/", s->index);
        s->stats.update_success++; /* sic: etcd 2.3.8 counts this as a success */
        return 0;
    }
    n = cc_v2_store_lookup(s, path, &out->err);
    if (n == NULL) {
        s->stats.update_fail++;
        return 0;
    }
    if (n->dir && value->n != 0) {
        error_str(&out->err, CC_V2_E_NOT_FILE, path, s->index);
        s->stats.update_success++; /* sic, as above */
        return 0;
    }
    if (refresh) {
        keep_value(n, &keep);
        value = &keep;
    }
    ev = new_event(CC_V2_ACT_UPDATE, path, next, n->created_index);
    if (ev == NULL || set_prev(ev, n) < 0)
        goto oom;
    if (n->dir) {
        /* a directory's value and modifiedIndex never change (etcd's
         * node.Write fails on dirs); only its TTL does */
        ev->node.dir = true;
    } else {
        if (set_ev_value(ev, value->p, value->n) < 0 ||
            (n = cc_v2_snode_set_value(n, &s->heap, value->p, value->n)) == NULL)
            goto oom;
        n->modified_index = next;
    }
    if (update_ttl(s, n, expire) < 0)
        goto oom;
    ev->node.expiration_ns = n->expire_ns;
    s->index = next;
    changed(s, n, false);
    s->stats.update_success++;
    return emit(s, ev, refresh, out);
oom:
    cc_v2_event_free(ev);
    errno = ENOMEM;
    return -1;
}

/* etcd's node.Compare and getCompareFailCause: "[prevValue != value]",
 * "[prevIndex != modifiedIndex]", or both. */
static bool compare(const struct cc_v2_snode *n, const struct cc_v2_str *pv, uint64_t pi,
                    char *cause, size_t cap)
{
    bool index_ok = pi == 0 || n->modified_index == pi;
    bool value_ok =
        pv->n == 0 || (pv->n == n->value_len && memcmp(pv->p, cc_v2_snode_value(n), pv->n) == 0);
    size_t len = 0;

    if (index_ok && value_ok)
        return true;
    cause[0] = '\0';
    if (!value_ok) {
        int k = snprintf(cause, cap, "[%.*s != %.*s]", (int)(pv->n > cap ? cap : pv->n), pv->p,
                         (int)(n->value_len > cap ? cap : n->value_len), cc_v2_snode_value(n));

        len = k < 0 ? 0 : (size_t)k >= cap ? cap - 1 : (size_t)k;
    }
    if (!index_ok)
        snprintf(cause + len, cap - len, "%s[%" PRIu64 " != %" PRIu64 "]", value_ok ? "" : " ", pi,
                 n->modified_index);
    return false;
}

int cc_v2_op_cas(struct cc_v2_store *s, const char *path, const struct cc_v2_str *prev_value,
                 uint64_t prev_index, const struct cc_v2_str *value, int64_t expire, bool refresh,
                 struct cc_v2_result *out)
{
    struct cc_v2_snode *n;
    struct cc_v2_event *ev;
    struct cc_v2_str keep;
    uint64_t next;

    if (readonly(s, path)) {
        error_str(&out->err, CC_V2_E_ROOT_RONLY, "/", s->index);
        s->stats.cas_success++; /* sic: etcd 2.3.8 counts this as a success */
        return 0;
    }
    n = cc_v2_store_lookup(s, path, &out->err);
    if (n == NULL) {
        s->stats.cas_fail++;
        return 0;
    }
    if (n->dir) {
        error_str(&out->err, CC_V2_E_NOT_FILE, path, s->index);
        s->stats.cas_fail++;
        return 0;
    }
    if (!compare(n, prev_value, prev_index, out->err.cause, sizeof out->err.cause)) {
        out->err.code = CC_V2_E_TEST_FAILED;
        out->err.index = s->index;
        s->stats.cas_fail++;
        return 0;
    }
    if (refresh) {
        keep_value(n, &keep);
        value = &keep;
    }
    next = s->index + 1;
    ev = new_event(CC_V2_ACT_CAS, path, next, n->created_index);
    if (ev == NULL || set_prev(ev, n) < 0 || set_ev_value(ev, value->p, value->n) < 0 ||
        (n = cc_v2_snode_set_value(n, &s->heap, value->p, value->n)) == NULL ||
        update_ttl(s, n, expire) < 0) {
        cc_v2_event_free(ev);
        errno = ENOMEM;
        return -1;
    }
    n->modified_index = next;
    ev->node.expiration_ns = n->expire_ns;
    s->index = next;
    changed(s, n, false);
    s->stats.cas_success++;
    return emit(s, ev, refresh, out);
}

int cc_v2_op_delete(struct cc_v2_store *s, const char *path, bool dir, bool recursive,
                    struct cc_v2_result *out)
{
    struct cc_v2_snode *n;
    struct cc_v2_event *ev;
    uint64_t next = s->index + 1;

    if (readonly(s, path)) {
        error_str(&out->err, CC_V2_E_ROOT_RONLY, "/", s->index);
        s->stats.delete_success++; /* sic: etcd 2.3.8 counts this as a success */
        return 0;
    }
    if (recursive)
        dir = true;
    n = cc_v2_store_lookup(s, path, &out->err);
    if (n == NULL) {
        s->stats.delete_fail++;
        return 0;
    }
    if (n->dir && !dir) {
        error_str(&out->err, CC_V2_E_NOT_FILE, n->path, s->index);
        s->stats.delete_fail++;
        return 0;
    }
    if (n->dir && cc_v2_snode_n_children(n) > 0 && !recursive) {
        error_str(&out->err, CC_V2_E_DIR_NOT_EMPTY, n->path, s->index);
        s->stats.delete_fail++;
        return 0;
    }
    ev = new_event(CC_V2_ACT_DELETE, path, next, n->created_index);
    if (ev == NULL || set_prev(ev, n) < 0) {
        cc_v2_event_free(ev);
        errno = ENOMEM;
        return -1;
    }
    ev->node.dir = n->dir;
    remove_subtree(s, n, ev);
    s->index = next;
    s->stats.delete_success++;
    return emit(s, ev, false, out);
}

int cc_v2_op_cad(struct cc_v2_store *s, const char *path, const struct cc_v2_str *prev_value,
                 uint64_t prev_index, struct cc_v2_result *out)
{
    struct cc_v2_snode *n;
    struct cc_v2_event *ev;
    uint64_t next;

    /* no read-only check here in etcd: "/" fails with 102 below */
    n = cc_v2_store_lookup(s, path, &out->err);
    if (n == NULL) {
        s->stats.cad_fail++;
        return 0;
    }
    if (n->dir) {
        error_str(&out->err, CC_V2_E_NOT_FILE, path, s->index);
        s->stats.cad_success++; /* sic: etcd 2.3.8 counts this as a success */
        return 0;
    }
    if (!compare(n, prev_value, prev_index, out->err.cause, sizeof out->err.cause)) {
        out->err.code = CC_V2_E_TEST_FAILED;
        out->err.index = s->index;
        s->stats.cad_success++; /* sic, as above */
        return 0;
    }
    next = s->index + 1;
    ev = new_event(CC_V2_ACT_CAD, path, next, n->created_index);
    if (ev == NULL || set_prev(ev, n) < 0) {
        cc_v2_event_free(ev);
        errno = ENOMEM;
        return -1;
    }
    s->index = next;
    remove_subtree(s, n, ev);
    s->stats.cad_success++;
    return emit(s, ev, false, out);
}

int cc_v2_op_expire(struct cc_v2_store *s, int64_t cutoff)
{
    struct cc_v2_snode *n;

    while ((n = cc_v2_ttl_top(&s->heap)) != NULL && n->expire_ns <= cutoff) {
        uint64_t next = s->index + 1;
        struct cc_v2_event *ev = new_event(CC_V2_ACT_EXPIRE, n->path, next, n->created_index);

        if (ev == NULL || set_prev(ev, n) < 0) {
            cc_v2_event_free(ev);
            errno = ENOMEM;
            return -1;
        }
        /* etcd 2.3.8 leaves "dir" out of an expired dir's node; 3.4 sets
         * it, like a delete does. We follow 3.4. */
        ev->node.dir = n->dir;
        s->index = next;
        cc_v2_ttl_remove(&s->heap, n);
        remove_subtree(s, n, ev);
        s->stats.expire_count++;
        if (emit(s, ev, false, NULL) < 0)
            return -1;
    }
    return 0;
}
