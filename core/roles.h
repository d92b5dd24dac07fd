/* Roles and worker kinds: which processes a node runs, in which order.
 *
 * A node is a member (raft + store) or a proxy (stateless forwarder). The
 * master starts the workers of its role in table order, each one only after
 * the previous one reported READY, and stops them in reverse order: http
 * stops taking requests before the workers it depends on go away. */
#ifndef CC_CORE_ROLES_H
#define CC_CORE_ROLES_H

#include <stdbool.h>
#include <stddef.h>

/* Wire values (proto READY/PEER_RESTARTED carry them): append, never renumber. */
enum cc_kind {
    CC_KIND_STORAGE = 0,
    CC_KIND_CONSENSUS = 1,
    CC_KIND_PEER = 2,
    CC_KIND_HTTP = 3,
    CC_KIND_FORWARD = 4,
    CC_KIND_COUNT
};

enum cc_role { CC_ROLE_MEMBER, CC_ROLE_PROXY };

/* Which of the master's listening sockets a worker inherits. */
enum cc_listeners { CC_LISTEN_NONE, CC_LISTEN_CLIENT, CC_LISTEN_PEER };

struct cc_worker;
typedef int (*cc_worker_main_fn)(struct cc_worker *w);

struct cc_kind_info {
    enum cc_kind kind;
    const char *name;
    cc_worker_main_fn main;
    enum cc_listeners listeners;
    /* How long a graceful stop may take before the master sends SIGKILL. */
    unsigned stop_deadline_ms;
};

const struct cc_kind_info *cc_kind_info(enum cc_kind kind);
const char *cc_kind_name(enum cc_kind kind);
/* -1 if unknown. */
int cc_kind_from_name(const char *name);

const char *cc_role_name(enum cc_role role);
/* The workers of a role in start order; *n receives the count. */
const enum cc_kind *cc_role_workers(enum cc_role role, size_t *n);

#endif
