/* The consensus worker: will host the raft state machine. Today it answers
 * the health probe of the http worker: the node is healthy when consensus
 * runs and reaches storage (the path every write will take). */
#include "core/log.h"
#include "core/worker.h"

int cc_consensus_worker_main(struct cc_worker *w);

static void on_link_msg(struct cc_worker *w, struct cc_link *l, const struct cc_msg *m)
{
    if (m->type != CC_MSG_HEALTH_REQ) {
        cc_debug("link %s: %s ignored", l->def->name, cc_msg_name(m->type));
        return;
    }
    struct cc_link *storage = cc_worker_link(w, CC_KIND_STORAGE);
    struct cc_msg r = {.type = CC_MSG_HEALTH_RESP};
    r.u.health_resp.req_id = m->u.health_req.req_id;
    r.u.health_resp.healthy = storage && storage->up;
    cc_link_send(l, &r);
}

int cc_consensus_worker_main(struct cc_worker *w)
{
    w->on_link_msg = on_link_msg;
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}
