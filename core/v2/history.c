/* The event history (etcd's event_history.go and event_queue.go): a ring of
 * the last CC_V2_HISTORY_CAP events, one per index, that waitIndex watches
 * scan before they wait. */
#include "core/v2/store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cc_v2_history_init(struct cc_v2_history *h)
{
    memset(h, 0, sizeof *h);
    h->ring = calloc(CC_V2_HISTORY_CAP, sizeof *h->ring);
    if (h->ring == NULL) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

void cc_v2_history_free(struct cc_v2_history *h)
{
    for (size_t i = 0; h->ring != NULL && i < h->size; i++)
        cc_v2_event_free(h->ring[(h->front + i) % CC_V2_HISTORY_CAP]);
    free(h->ring);
    memset(h, 0, sizeof *h);
}

void cc_v2_history_add(struct cc_v2_history *h, struct cc_v2_event *ev)
{
    size_t back = (h->front + h->size) % CC_V2_HISTORY_CAP;

    if (h->size == CC_V2_HISTORY_CAP) {
        cc_v2_event_free(h->ring[h->front]);
        h->front = (h->front + 1) % CC_V2_HISTORY_CAP;
    } else {
        h->size++;
    }
    h->ring[back] = ev;
    h->last = ev->node.modified_index;
    h->start = h->ring[h->front]->node.modified_index;
}

const struct cc_v2_event *cc_v2_history_at(const struct cc_v2_history *h, size_t i)
{
    return i < h->size ? h->ring[(h->front + i) % CC_V2_HISTORY_CAP] : NULL;
}

static bool has_prefix(const char *s, const char *prefix, size_t prefix_len)
{
    return strncmp(s, prefix, prefix_len) == 0;
}

void cc_v2_history_scan(const struct cc_v2_history *h, const char *key, bool recursive,
                        uint64_t index, const struct cc_v2_event **found, struct cc_v2_error *err)
{
    size_t key_len = strlen(key);
    /* The recursive prefix: key + "/" (just "/" for the root). */
    bool root = key_len == 1 && key[0] == '/';

    *found = NULL;
    if (index < h->start) {
        err->code = CC_V2_E_EVENT_INDEX_CLEARED;
        snprintf(err->cause, sizeof err->cause,
                 "the requested history has been cleared [%" PRIu64 "/%" PRIu64 "]", h->start,
                 index);
        return;
    }
    if (index > h->last)
        return; /* in the future: wait for it */
    for (size_t i = (size_t)(index - h->start); i < h->size; i++) {
        const struct cc_v2_event *e = cc_v2_history_at(h, i);
        const char *ek = e->node.key;
        bool ok;

        if (e->refresh)
            continue; /* refreshes are invisible to watchers */
        ok = strcmp(ek, key) == 0;
        /* etcd 2.3.8 appended the "/" to key itself inside this loop, so
         * after the first event an exact-key match could no longer be
         * found; 3.4 fixed that and we follow 3.4. */
        if (recursive && !ok)
            ok = root ? ek[0] == '/' : has_prefix(ek, key, key_len) && ek[key_len] == '/';
        /* A deleted or expired directory matches every path it is a raw
         * string prefix of (etcd's strings.HasPrefix, no "/" check). */
        if (!ok && (e->action == CC_V2_ACT_DELETE || e->action == CC_V2_ACT_EXPIRE) &&
            e->prev_node != NULL && e->prev_node->dir)
            ok = has_prefix(key, e->prev_node->key, strlen(e->prev_node->key));
        if (ok) {
            *found = e;
            return;
        }
    }
}
