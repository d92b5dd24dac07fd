/* The wiring table: which workers talk over which nanomsg link, and who binds.
 *
 * Every link is an NN_PAIR over ipc:// in the node's run directory. Links
 * survive worker restarts by design, not by nanomsg's reconnection: when a
 * worker restarts, the master tells its neighbours (PEER_RESTARTED); the
 * connecting side of each link then closes and reopens its socket, and both
 * sides greet again (HELLO / HELLO_ACK). nanomsg may silently drop what was
 * queued for a dead peer and may never reconnect a connecting socket that had
 * a backlog (STACK.md), so neither is relied on. */
#ifndef CC_IPC_WIRING_H
#define CC_IPC_WIRING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/roles.h"

struct cc_link_def {
    const char *name; /* also the ipc file name: "<name>.ipc" */
    enum cc_kind binder;
    enum cc_kind connector;
};

/* Every link of every role. */
const struct cc_link_def *cc_wiring(size_t *n);

/* The links a worker of this kind takes part in within a node of this role
 * (both ends run in it), in table order; returns the count written to out
 * (at most max). */
size_t cc_wiring_for(enum cc_role role, enum cc_kind kind, const struct cc_link_def **out,
                     size_t max);

/* True if kinds a and b share a link (the master uses it to decide whom to
 * tell about a restart). */
bool cc_wiring_linked(enum cc_kind a, enum cc_kind b);

#endif
