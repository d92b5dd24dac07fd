/* The watcher hub (etcd's watcher_hub.go and watcher.go): watchers listed
 * by the exact path they watch, in registration order, in a hash table.
 * An event reaches the lists of every path from "/" down to its key, and,
 * when a directory is deleted or expires, the lists of every path removed
 * with it.
 *
 * Callbacks may cancel any watcher. While notifications run (busy > 0) a
 * removed watcher is only marked dead and queued; it is unlinked and freed
 * when the outermost batch ends, so no list changes under an iteration. */
#include "core/v2/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct cc_v2_watch_key {
    char *path;
    size_t path_len;
    uint64_t hash;
    struct cc_v2_watch_key *hnext;
    struct cc_v2_watcher *head, *tail;
};

struct cc_v2_watcher {
    struct cc_v2_whub *hub;
    struct cc_v2_watch_key *key;
    struct cc_v2_watcher *prev, *next, *grave_next;
    bool recursive, stream, dead;
    uint64_t since, start;
    cc_v2_watch_fn fn;
    void *ctx;
};

static uint64_t hash_path(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211u;
    }
    return h;
}

void cc_v2_whub_init(struct cc_v2_whub *hub)
{
    memset(hub, 0, sizeof *hub);
}

void cc_v2_whub_free(struct cc_v2_whub *hub)
{
    for (size_t b = 0; b < hub->n_buckets; b++) {
        struct cc_v2_watch_key *k = hub->buckets[b], *kn;

        for (; k != NULL; k = kn) {
            struct cc_v2_watcher *w = k->head, *wn;

            kn = k->hnext;
            for (; w != NULL; w = wn) {
                wn = w->next;
                free(w);
            }
            free(k->path);
            free(k);
        }
    }
    free(hub->buckets);
    memset(hub, 0, sizeof *hub);
}

static struct cc_v2_watch_key *find_key(const struct cc_v2_whub *hub, const char *path, size_t len,
                                        uint64_t h)
{
    struct cc_v2_watch_key *k;

    if (hub->n_buckets == 0)
        return NULL;
    for (k = hub->buckets[h & (hub->n_buckets - 1)]; k != NULL; k = k->hnext)
        if (k->hash == h && k->path_len == len && memcmp(k->path, path, len) == 0)
            return k;
    return NULL;
}

/* Doubles the table; on failure the old one stays (only slower). */
static void grow(struct cc_v2_whub *hub)
{
    size_t nb = hub->n_buckets ? hub->n_buckets * 2 : 16;
    struct cc_v2_watch_key **b = calloc(nb, sizeof *b);

    if (b == NULL)
        return;
    for (size_t i = 0; i < hub->n_buckets; i++) {
        struct cc_v2_watch_key *k = hub->buckets[i], *kn;

        for (; k != NULL; k = kn) {
            kn = k->hnext;
            k->hnext = b[k->hash & (nb - 1)];
            b[k->hash & (nb - 1)] = k;
        }
    }
    free(hub->buckets);
    hub->buckets = b;
    hub->n_buckets = nb;
}

int cc_v2_whub_add(struct cc_v2_whub *hub, const char *path, bool recursive, bool stream,
                   uint64_t since, uint64_t start, cc_v2_watch_fn fn, void *ctx,
                   struct cc_v2_watcher **out)
{
    size_t len = strlen(path);
    uint64_t h = hash_path(path, len);
    struct cc_v2_watch_key *k;
    struct cc_v2_watcher *w;

    if (hub->n_keys >= hub->n_buckets)
        grow(hub);
    if (hub->n_buckets == 0)
        goto oom;
    w = calloc(1, sizeof *w);
    if (w == NULL)
        goto oom;
    k = find_key(hub, path, len, h);
    if (k == NULL) {
        k = calloc(1, sizeof *k);
        if (k == NULL || (k->path = malloc(len + 1)) == NULL) {
            free(k);
            free(w);
            goto oom;
        }
        memcpy(k->path, path, len + 1);
        k->path_len = len;
        k->hash = h;
        k->hnext = hub->buckets[h & (hub->n_buckets - 1)];
        hub->buckets[h & (hub->n_buckets - 1)] = k;
        hub->n_keys++;
    }
    *w = (struct cc_v2_watcher){.hub = hub,
                                .key = k,
                                .prev = k->tail,
                                .recursive = recursive,
                                .stream = stream,
                                .since = since,
                                .start = start,
                                .fn = fn,
                                .ctx = ctx};
    if (k->tail)
        k->tail->next = w;
    else
        k->head = w;
    k->tail = w;
    hub->count++;
    *out = w;
    return 0;
oom:
    errno = ENOMEM;
    return -1;
}

/* Unlinks a watcher (and its path entry once empty) and frees it. */
static void unlink_free(struct cc_v2_whub *hub, struct cc_v2_watcher *w)
{
    struct cc_v2_watch_key *k = w->key, **pp;

    if (w->prev)
        w->prev->next = w->next;
    else
        k->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        k->tail = w->prev;
    free(w);
    if (k->head != NULL)
        return;
    for (pp = &hub->buckets[k->hash & (hub->n_buckets - 1)]; *pp != k; pp = &(*pp)->hnext)
        ;
    *pp = k->hnext;
    hub->n_keys--;
    free(k->path);
    free(k);
}

static void retire(struct cc_v2_watcher *w)
{
    struct cc_v2_whub *hub = w->hub;

    if (w->dead)
        return;
    w->dead = true;
    hub->count--;
    if (hub->busy > 0) {
        w->grave_next = hub->graveyard;
        hub->graveyard = w;
        return;
    }
    unlink_free(hub, w);
}

void cc_v2_watcher_cancel(struct cc_v2_watcher *w)
{
    if (w != NULL)
        retire(w);
}

uint64_t cc_v2_watcher_start_index(const struct cc_v2_watcher *w)
{
    return w->start;
}

void cc_v2_whub_begin(struct cc_v2_whub *hub)
{
    hub->busy++;
}

void cc_v2_whub_end(struct cc_v2_whub *hub)
{
    if (--hub->busy > 0)
        return;
    while (hub->graveyard != NULL) {
        struct cc_v2_watcher *w = hub->graveyard;

        hub->graveyard = w->grave_next;
        unlink_free(hub, w);
    }
}

void cc_v2_whub_notify_path(struct cc_v2_whub *hub, const struct cc_v2_event *ev, const char *path,
                            size_t path_len, bool deleted)
{
    const char *key = ev->node.key;
    struct cc_v2_watch_key *k;
    bool original;

    if (hub->count == 0)
        return;
    k = find_key(hub, path, path_len, hash_path(path, path_len));
    if (k == NULL)
        return;
    original = strlen(key) == path_len && memcmp(key, path, path_len) == 0;
    /* A change at or under a hidden name does not reach a watcher above
     * it, only one on that exact path. */
    if (!original && cc_v2_path_hidden_below(path, path_len, key))
        return;
    cc_v2_whub_begin(hub);
    for (struct cc_v2_watcher *w = k->head; w != NULL; w = w->next) {
        bool took;

        if (w->dead)
            continue;
        /* Interested: a recursive watcher, the exact path, or a path
         * inside a deleted directory; and not before its since index. */
        if (!(w->recursive || original || deleted) || ev->node.modified_index < w->since)
            continue;
        took = w->fn(w->ctx, w, ev);
        if (!took || !w->stream)
            retire(w);
    }
    cc_v2_whub_end(hub);
}

void cc_v2_whub_notify(struct cc_v2_whub *hub, const struct cc_v2_event *ev)
{
    const char *key = ev->node.key;
    size_t len = strlen(key);

    if (hub->count == 0)
        return;
    /* "/", then each prefix of the key ending before a "/", then the key:
     * "/a/b" notifies "/", "/a", "/a/b". */
    cc_v2_whub_begin(hub);
    cc_v2_whub_notify_path(hub, ev, "/", 1, false);
    for (size_t i = 1; i <= len; i++)
        if (i == len || key[i] == '/')
            cc_v2_whub_notify_path(hub, ev, key, i, false);
    cc_v2_whub_end(hub);
}
