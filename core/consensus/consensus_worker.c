/* The consensus worker: orders every write into the raft log.
 *
 * Today it runs a single-member cluster: it is the leader of its own term,
 * and an entry is committed as soon as storage has made it durable (a quorum
 * of one). The message flow is the one replication will use:
 *
 *   http --PROPOSE--> consensus --APPEND(entries, commit)--> storage
 *   storage --PERSISTED--> consensus      storage --APPLIED--> http
 *
 * Entries stay in memory here ("unstable") until storage says they are
 * durable, so a storage worker that dies mid-write gets them again when it
 * comes back. A restarted consensus worker asks storage for the durable log
 * state (LOG_STATE) and starts a new term from it.
 *
 * As the leader, it also proposes etcd's time entry (SYNC) every 500 ms, so
 * TTL expiry happens at the same log position on every member, and on a new
 * data dir it records the cluster's membership and version in the store as
 * etcd does (/0/members/<id>/..., /0/version). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cluster_ids.h"
#include "core/log.h"
#include "core/storage/raft_log.h"
#include "core/v2/request_codec.h"
#include "core/version.h"
#include "core/worker.h"

int cc_consensus_worker_main(struct cc_worker *w);

#define SYNC_INTERVAL_MS 500
/* One APPEND stays well under the frame limit; more entries go in more. */
#define APPEND_MAX_BYTES (4u << 20)

enum entry_type { ENTRY_NORMAL = 0, ENTRY_NOOP = 1 };

struct unstable {
    struct cc_entry e; /* e.data points at data */
    uint8_t *data;
};

struct consensus {
    struct cc_worker *w;
    struct cc_cluster_def cluster;
    bool have_state; /* LOG_STATE received since this process started */
    struct cc_hard_state hs;
    uint64_t last_index, last_term, persisted;
    struct unstable *u;
    size_t nu, cap_u;
    size_t sent; /* unstable entries already handed to storage */
    /* Proposals that arrived before the log state was known (a restart):
     * numbered and appended once it is. */
    struct cc_buf early;
    uint32_t n_early;
    struct event *sync_timer, *flush_ev;
    uint64_t proposals, commits;
};

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void schedule_flush(struct consensus *c)
{
    event_active(c->flush_ev, EV_WRITE, 0);
}

/* Appends one entry to the in-memory tail of the log. */
static int append_entry(struct consensus *c, uint8_t type, uint64_t origin, uint64_t req_id,
                        const uint8_t *data, uint32_t n)
{
    if (c->nu == c->cap_u) {
        size_t cap = c->cap_u ? c->cap_u * 2 : 64;
        struct unstable *nv = realloc(c->u, cap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        c->u = nv;
        c->cap_u = cap;
    }
    uint8_t *copy = NULL;
    if (n > 0) {
        copy = malloc(n);
        if (copy == NULL)
            return -1;
        memcpy(copy, data, n);
    }
    struct unstable *u = &c->u[c->nu++];
    u->data = copy;
    u->e = (struct cc_entry){.index = ++c->last_index,
                             .term = c->hs.term,
                             .type = type,
                             .origin = origin,
                             .req_id = req_id,
                             .data = {copy, n}};
    c->last_term = c->hs.term;
    schedule_flush(c);
    return 0;
}

/* An internal write (membership, version, SYNC), as http would propose it. */
static void propose_internal(struct consensus *c, const struct cc_v2_request *req)
{
    struct cc_buf b;
    cc_buf_init(&b);
    if (cc_v2_request_encode(&b, req) == 0 && !b.failed)
        append_entry(c, ENTRY_NORMAL, 0, 0, b.data, (uint32_t)b.len);
    else
        cc_error("cannot encode an internal request for %s", req->path);
    cc_buf_free(&b);
}

static void put_internal(struct consensus *c, const char *path, const char *value)
{
    struct cc_v2_request r = {.method = CC_V2_PUT,
                              .path = (char *)path,
                              .value = {(char *)value, strlen(value)},
                              .prev_exist = -1};
    propose_internal(c, &r);
}

static void json_url_array(char *out, size_t len, const struct cc_url_list *l)
{
    size_t off = (size_t)snprintf(out, len, "[");
    for (size_t i = 0; i < l->n && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s\"%s\"", i ? "," : "", l->v[i].text);
    if (off < len)
        snprintf(out + off, len - off, "]");
}

/* etcd records each member's peer URLs when the cluster is created and each
 * member's name and client URLs whenever it starts (publish). */
static void bootstrap_entries(struct consensus *c, bool new_cluster)
{
    const struct cc_config *cfg = &c->w->cfg;
    char path[128], value[4096], urls[3500];
    if (new_cluster) {
        for (size_t i = 0; i < c->cluster.n; i++) {
            const struct cc_member_def *m = &c->cluster.members[i];
            snprintf(path, sizeof(path), "/0/members/%llx/raftAttributes",
                     (unsigned long long)m->id);
            json_url_array(urls, sizeof(urls), &m->peer_urls);
            snprintf(value, sizeof(value), "{\"peerURLs\":%s}", urls);
            put_internal(c, path, value);
        }
    }
    snprintf(path, sizeof(path), "/0/members/%llx/attributes",
             (unsigned long long)c->cluster.self_id);
    json_url_array(urls, sizeof(urls), &cfg->advertise_client_urls);
    snprintf(value, sizeof(value), "{\"name\":\"%s\",\"clientURLs\":%s}", cfg->name, urls);
    put_internal(c, path, value);
    if (new_cluster)
        put_internal(c, "/0/version", CC_ETCD_CLUSTER_VERSION);
}

static void send_append(struct consensus *c)
{
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_STORAGE);
    if (l == NULL || !c->have_state)
        return;
    while (c->sent < c->nu) {
        struct cc_buf list;
        cc_buf_init(&list);
        uint32_t count = 0;
        while (c->sent < c->nu && (count == 0 || list.len < APPEND_MAX_BYTES)) {
            cc_msg_entry_put(&list, &c->u[c->sent].e);
            c->sent++;
            count++;
        }
        struct cc_msg m = {.type = CC_MSG_APPEND};
        m.u.append.term = c->hs.term;
        m.u.append.vote = c->hs.vote;
        /* A quorum of one: what storage makes durable is committed. */
        m.u.append.commit = c->last_index;
        m.u.append.entries = (struct cc_list){count, list.data, (uint32_t)list.len};
        if (list.failed || cc_link_send(l, &m) != 0)
            cc_error("cannot send %u entries to storage", count);
        cc_buf_free(&list);
    }
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    send_append(arg);
}

static void drop_persisted(struct consensus *c, uint64_t index)
{
    size_t k = 0;
    while (k < c->nu && c->u[k].e.index <= index) {
        free(c->u[k].data);
        k++;
    }
    memmove(c->u, c->u + k, (c->nu - k) * sizeof(*c->u));
    c->nu -= k;
    c->sent = c->sent > k ? c->sent - k : 0;
}

static void on_log_state(struct consensus *c, const struct cc_msg_log_state *s)
{
    if (!c->have_state) {
        /* A new term of our own: raft's single-member election. */
        c->hs.term = s->term + 1;
        c->hs.vote = c->cluster.self_id;
        c->hs.commit = s->last_index;
        c->last_index = s->last_index;
        c->last_term = s->last_term;
        c->persisted = s->last_index;
        c->have_state = true;
        cc_info("leader of term %llu at log index %llu (member %llx)",
                (unsigned long long)c->hs.term, (unsigned long long)c->last_index,
                (unsigned long long)c->cluster.self_id);
        /* The leader's no-op opens its term. */
        append_entry(c, ENTRY_NOOP, 0, 0, NULL, 0);
        bootstrap_entries(c, s->last_index == 0);
        struct cc_rd rd;
        cc_rd_init(&rd, c->early.data, c->early.len);
        struct cc_entry e;
        while (c->n_early > 0 && cc_msg_entry_next(&rd, &e) > 0) {
            append_entry(c, ENTRY_NORMAL, e.origin, e.req_id, e.data.p, e.data.n);
            c->n_early--;
        }
        cc_buf_free(&c->early);
        c->n_early = 0;
    } else {
        /* storage restarted: resend what it does not have durably. */
        c->persisted = s->last_index;
        drop_persisted(c, s->last_index);
        c->sent = 0;
        cc_info("storage restarted at log index %llu; resending %zu entries",
                (unsigned long long)s->last_index, c->nu);
    }
    struct cc_link *l = cc_worker_link(c->w, CC_KIND_STORAGE);
    struct cc_msg m = {.type = CC_MSG_COMMIT};
    m.u.commit.commit = c->persisted;
    if (l)
        cc_link_send(l, &m);
    schedule_flush(c);
}

static void on_link_up(struct cc_worker *w, struct cc_link *l)
{
    if (l->peer != CC_KIND_STORAGE)
        return;
    struct cc_msg m = {.type = CC_MSG_LOG_STATE_REQ};
    cc_link_send(l, &m);
}

static void answer_health(struct consensus *c, struct cc_link *l, uint64_t req_id)
{
    struct cc_link *storage = cc_worker_link(c->w, CC_KIND_STORAGE);
    struct cc_msg r = {.type = CC_MSG_HEALTH_RESP};
    r.u.health_resp.req_id = req_id;
    r.u.health_resp.healthy = c->have_state && storage && storage->up;
    r.u.health_resp.leader = c->have_state ? c->cluster.self_id : 0;
    r.u.health_resp.raft_index = c->persisted;
    r.u.health_resp.raft_term = c->hs.term;
    cc_link_send(l, &r);
}

static void on_link_msg(struct cc_worker *w, struct cc_link *l, const struct cc_msg *m)
{
    struct consensus *c = w->state;
    switch (m->type) {
    case CC_MSG_PROPOSE:
        if (w->stopping) {
            struct cc_msg f = {.type = CC_MSG_PROPOSE_FAIL};
            f.u.propose_fail.req_id = m->u.propose.req_id;
            f.u.propose_fail.code = 300;
            const char *cause = "etcdserver: server stopped";
            f.u.propose_fail.cause = (struct cc_bytes){(const uint8_t *)cause, strlen(cause)};
            cc_link_send(l, &f);
            break;
        }
        c->proposals++;
        if (!c->have_state) {
            struct cc_entry e = {.origin = c->cluster.self_id,
                                 .req_id = m->u.propose.req_id,
                                 .data = m->u.propose.data};
            cc_msg_entry_put(&c->early, &e);
            c->n_early++;
        } else if (append_entry(c, ENTRY_NORMAL, c->cluster.self_id, m->u.propose.req_id,
                                m->u.propose.data.p, m->u.propose.data.n) != 0) {
            cc_error("out of memory: proposal %llu dropped",
                     (unsigned long long)m->u.propose.req_id);
        }
        break;
    case CC_MSG_PERSISTED:
        if (m->u.persisted.index > c->persisted) {
            c->persisted = m->u.persisted.index;
            c->hs.commit = c->persisted;
            c->commits++;
        }
        drop_persisted(c, m->u.persisted.index);
        break;
    case CC_MSG_LOG_STATE:
        on_log_state(c, &m->u.log_state);
        break;
    case CC_MSG_HEALTH_REQ:
        answer_health(c, l, m->u.health_req.req_id);
        break;
    default:
        cc_debug("link %s: %s ignored", l->def->name, cc_msg_name(m->type));
    }
}

static void on_sync_timer(evutil_socket_t fd, short what, void *arg)
{
    struct consensus *c = arg;
    if (!c->have_state) {
        /* The answer to LOG_STATE_REQ can be lost with a restarting storage
         * worker: ask again until it comes. */
        struct cc_link *l = cc_worker_link(c->w, CC_KIND_STORAGE);
        struct cc_msg m = {.type = CC_MSG_LOG_STATE_REQ};
        if (l && l->up)
            cc_link_send(l, &m);
        return;
    }
    if (c->w->stopping)
        return;
    struct cc_v2_request r = {.method = CC_V2_SYNC, .path = "/", .prev_exist = -1};
    r.time_ns = wall_ns();
    propose_internal(c, &r);
}

static uint32_t inflight(struct cc_worker *w)
{
    return (uint32_t)((struct consensus *)w->state)->nu;
}

static void detail_json(struct cc_worker *w, char *buf, size_t len)
{
    struct consensus *c = w->state;
    snprintf(buf, len,
             "{\"term\":%llu,\"role\":\"%s\",\"leader\":\"%llx\",\"last_index\":%llu,"
             "\"commit\":%llu,\"unstable\":%zu,\"proposals\":%llu}",
             (unsigned long long)c->hs.term, c->have_state ? "leader" : "follower",
             (unsigned long long)(c->have_state ? c->cluster.self_id : 0),
             (unsigned long long)c->last_index, (unsigned long long)c->hs.commit, c->nu,
             (unsigned long long)c->proposals);
}

static void on_exit_hook(struct cc_worker *w)
{
    struct consensus *c = w->state;
    drop_persisted(c, UINT64_MAX);
    free(c->u);
    cc_buf_free(&c->early);
    event_free(c->sync_timer);
    event_free(c->flush_ev);
    cc_cluster_def_free(&c->cluster);
}

int cc_consensus_worker_main(struct cc_worker *w)
{
    static struct consensus c;
    c.w = w;
    w->state = &c;
    cc_buf_init(&c.early);
    char err[256];
    if (cc_cluster_from_config(&w->cfg, &c.cluster, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        return 1;
    }
    w->on_link_msg = on_link_msg;
    w->on_link_up = on_link_up;
    w->on_exit = on_exit_hook;
    w->inflight = inflight;
    w->detail_json = detail_json;
    c.flush_ev = event_new(w->base, -1, 0, on_flush, &c);
    c.sync_timer = event_new(w->base, -1, EV_PERSIST, on_sync_timer, &c);
    struct timeval tv = {0, SYNC_INTERVAL_MS * 1000};
    event_add(c.sync_timer, &tv);
    if (cc_worker_open_links(w) != 0)
        return 1;
    cc_worker_ready(w);
    return cc_worker_loop(w);
}
