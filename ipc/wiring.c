#include "ipc/wiring.h"

/* The side expected to live longest binds (STACK.md: a connecting side whose
 * binder restarted may not reconnect; we reopen it explicitly anyway). http is
 * restarted most often (reloads), so it always connects. */
static const struct cc_link_def links[] = {
    {"storage-consensus", CC_KIND_STORAGE, CC_KIND_CONSENSUS},
    {"storage-http", CC_KIND_STORAGE, CC_KIND_HTTP},
    {"consensus-http", CC_KIND_CONSENSUS, CC_KIND_HTTP},
    {"consensus-peer", CC_KIND_CONSENSUS, CC_KIND_PEER},
    {"storage-peer", CC_KIND_STORAGE, CC_KIND_PEER},
    {"forward-http", CC_KIND_FORWARD, CC_KIND_HTTP},
};

const struct cc_link_def *cc_wiring(size_t *n)
{
    *n = sizeof(links) / sizeof(links[0]);
    return links;
}

static bool role_runs(enum cc_role role, enum cc_kind kind)
{
    size_t n;
    const enum cc_kind *kinds = cc_role_workers(role, &n);
    for (size_t i = 0; i < n; i++)
        if (kinds[i] == kind)
            return true;
    return false;
}

size_t cc_wiring_for(enum cc_role role, enum cc_kind kind, const struct cc_link_def **out,
                     size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]) && k < max; i++) {
        const struct cc_link_def *d = &links[i];
        if ((d->binder == kind || d->connector == kind) && role_runs(role, d->binder) &&
            role_runs(role, d->connector))
            out[k++] = d;
    }
    return k;
}

bool cc_wiring_linked(enum cc_kind a, enum cc_kind b)
{
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
        if ((links[i].binder == a && links[i].connector == b) ||
            (links[i].binder == b && links[i].connector == a))
            return true;
    return false;
}
