#include "core/roles.h"

#include <string.h>

int cc_storage_worker_main(struct cc_worker *w);
int cc_consensus_worker_main(struct cc_worker *w);
int cc_peer_worker_main(struct cc_worker *w);
int cc_http_worker_main(struct cc_worker *w);

/* One row per worker kind. http gets the longest stop deadline: it drains
 * in-flight client requests before it exits. */
static const struct cc_kind_info kinds[CC_KIND_COUNT] = {
    [CC_KIND_STORAGE] = {CC_KIND_STORAGE, "storage", cc_storage_worker_main, CC_LISTEN_NONE, 1500},
    [CC_KIND_CONSENSUS] = {CC_KIND_CONSENSUS, "consensus", cc_consensus_worker_main, CC_LISTEN_NONE,
                           1000},
    [CC_KIND_PEER] = {CC_KIND_PEER, "peer", cc_peer_worker_main, CC_LISTEN_PEER, 1000},
    [CC_KIND_HTTP] = {CC_KIND_HTTP, "http", cc_http_worker_main, CC_LISTEN_CLIENT, 2000},
    /* The forwarding worker of proxy nodes arrives with proxy mode. */
    [CC_KIND_FORWARD] = {CC_KIND_FORWARD, "forward", NULL, CC_LISTEN_NONE, 1000},
};

/* Start order: storage first (consensus needs the durable log), http last
 * (it must not take requests before the path behind it exists). */
static const enum cc_kind member_workers[] = {CC_KIND_STORAGE, CC_KIND_CONSENSUS, CC_KIND_PEER,
                                              CC_KIND_HTTP};
static const enum cc_kind proxy_workers[] = {CC_KIND_FORWARD, CC_KIND_HTTP};

const struct cc_kind_info *cc_kind_info(enum cc_kind kind)
{
    if ((unsigned)kind >= CC_KIND_COUNT)
        return NULL;
    return &kinds[kind];
}

const char *cc_kind_name(enum cc_kind kind)
{
    const struct cc_kind_info *k = cc_kind_info(kind);
    return k ? k->name : "?";
}

int cc_kind_from_name(const char *name)
{
    for (int i = 0; i < CC_KIND_COUNT; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return i;
    return -1;
}

const char *cc_role_name(enum cc_role role)
{
    return role == CC_ROLE_PROXY ? "proxy" : "member";
}

const enum cc_kind *cc_role_workers(enum cc_role role, size_t *n)
{
    if (role == CC_ROLE_PROXY) {
        *n = sizeof(proxy_workers) / sizeof(proxy_workers[0]);
        return proxy_workers;
    }
    *n = sizeof(member_workers) / sizeof(member_workers[0]);
    return member_workers;
}
