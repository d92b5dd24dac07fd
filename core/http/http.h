/* The client-HTTP worker's shared state and the helpers its handlers use.
 *
 * http_worker.c owns the server, the routing table and the links;
 * keys.c serves /v2/keys; cluster_api.c the members, machines and stats
 * endpoints; view.c keeps the local copy of the store they read. */
#ifndef CC_CORE_HTTP_HTTP_H
#define CC_CORE_HTTP_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/cluster_ids.h"
#include "core/http/hserver.h"
#include "core/http/snapshot_child.h"
#include "core/http/view.h"
#include "core/worker.h"

struct cc_pending_write;
struct cc_watch;
struct cc_waiting;

#define CC_HTTP_WRITE_BUCKETS 4096
/* Limits (V2-CONTRACT has none; they keep one client from hurting others). */
#define CC_HTTP_IDLE_TIMEOUT_S 30
/* A new connection must deliver its first whole request within this: the
 * idle timeout alone never ends a client that sends a byte a second. */
#define CC_HTTP_FIRST_REQUEST_S 10
#define CC_HTTP_MAX_HEADERS     (64 * 1024)
#define CC_HTTP_MAX_WATCHES     100000
#define CC_V2_MAX_KEY_BYTES     4096
#define CC_V2_MAX_KEY_DEPTH     256

struct cc_http {
    struct cc_worker *w;
    struct cc_hserver *server;
    struct cc_view view;
    struct cc_snapshot_child snap_child; /* writes the view out for storage */
    uint64_t snapshots_written;
    /* Pacing (see start_snapshot): consensus asked for a snapshot, the
     * size of the last one written, and view.applied_bytes when it began. */
    bool snap_wanted;
    uint64_t snap_last_bytes, snap_applied_bytes;
    struct cc_cluster_def cluster; /* ids and names from the configuration */
    double started_wall;           /* Unix seconds, for /v2/stats/self */
    /* From consensus (RAFT_STATUS-like fields of HEALTH answers). */
    uint64_t leader, term;
    double leader_since;
    uint64_t send_appends, recv_appends;
    char *followers_json; /* the leader's per-follower stats, NULL otherwise */
    /* Writes and quorum reads waiting for their entry to be applied. */
    struct cc_pending_write *writes[CC_HTTP_WRITE_BUCKETS];
    uint32_t n_writes;
    uint64_t next_req_id;
    /* The READ_INDEX out for the view's start-up barrier (view.h), 0 when
     * none is: asked when consensus is reachable, again after a failure. */
    uint64_t barrier_req;
    unsigned write_timeout_ms;
    /* Quorum reads whose read index the view has not applied yet. */
    struct cc_read_wait {
        uint64_t req_id, index;
    } * read_waits;
    size_t n_read_waits;
    /* Reads that arrived before the view was loaded. */
    struct cc_waiting *waiting_head, **waiting_tail;
    uint32_t n_waiting;
    /* Watches with a registered watcher (long polls and streams), and the
     * last event rendered for them (keys.c: rendered()). */
    struct cc_watch *watches;
    uint32_t n_watches;
    const struct cc_v2_event *rendered_ev;
    uint64_t rendered_index, rendered_at;
    struct cc_buf rendered;
    /* Health probes and the graceful stop. */
    struct pending_health *health;
    uint32_t n_health;
    uint64_t next_health_id;
    uint64_t requests;
    uint32_t active;
    double last_activity;
    struct event *stop_check;
};

/* Wall clock, Unix nanoseconds (TTLs and expirations are wall-clock times). */
int64_t cc_http_now_ns(void);

/* Sends a complete reply; body may be NULL. */
void cc_http_reply(struct cc_hreq *req, int code, const char *reason, const char *ctype,
                   const void *body, size_t len);
/* 405 with Go's body; allow NULL sends no Allow header. */
void cc_http_method_not_allowed(struct cc_hreq *req, const char *allow);
/* The X-Etcd-Cluster-Id header every v2 response carries. */
void cc_http_add_cluster_id(struct cc_http *h, struct cc_hreq *req);

/* /v2/keys */
void cc_keys_handle(struct cc_http *h, struct cc_hreq *req);
/* The view applied an entry this member proposed. */
void cc_keys_on_result(void *ctx, uint64_t req_id, uint64_t raft_index, struct cc_v2_result *res);
/* consensus answered a quorum read's READ_INDEX (code 0 or 300). */
void cc_keys_on_read_index(struct cc_http *h, uint64_t req_id, uint64_t index, int code);
/* The view advanced: answer the quorum reads it has caught up with. */
void cc_keys_serve_reads(struct cc_http *h);
/* consensus refused a proposal. */
void cc_keys_on_propose_fail(struct cc_http *h, uint64_t req_id, int code, const char *cause,
                             size_t cause_len);
/* The view is loaded: serve the reads that waited for it. */
void cc_keys_on_synced(void *ctx);
/* consensus restarted: proposals it held are gone. */
void cc_keys_fail_all_writes(struct cc_http *h, const char *cause);
/* Ends every watch (graceful stop): 200 with what was sent so far. */
void cc_keys_end_watches(struct cc_http *h);
void cc_keys_free(struct cc_http *h);

/* /v2/members, /v2/machines, /v2/stats/... */
bool cc_cluster_api_handle(struct cc_http *h, struct cc_hreq *req, const char *path);

#endif
