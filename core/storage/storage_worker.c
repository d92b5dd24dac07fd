/* The storage worker: the only process that will open the node's Berkeley DB
 * environment (raft log, hard state, key tree, TTL index). Today it runs its
 * event loop and its links to consensus and http; the store itself arrives
 * with the v2 keys API. */
#include "core/log.h"
#include "core/worker.h"

int cc_storage_worker_main(struct cc_worker *w);

int cc_storage_worker_main(struct cc_worker *w)
{
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}
