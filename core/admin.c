#include "core/admin.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "core/log.h"
#include "core/master.h"
#include "core/worker.h"

/* A request line longer than this is not a command: drop the connection. */
#define ADMIN_MAX_LINE 65536

/* How long `hash` waits for the http worker. */
#define ADMIN_HASH_TIMEOUT_MS 3000

struct admin_conn {
    struct admin_conn *prev, *next;
    struct bufferevent *bev;
    struct cc_admin *a;
    uint64_t hash_req;        /* a `hash` waiting for http's answer, 0: none */
    struct event *hash_timer; /* gives up on it */
};

struct cc_admin {
    struct cc_master *m;
    uint64_t next_hash_req;
    struct admin_conn *conns; /* freed with the admin socket */
    struct evconnlistener *listener;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

typedef void (*admin_handler)(struct cc_master *m, yajl_val req, yajl_gen g);

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_key_str(yajl_gen g, const char *k, const char *v)
{
    gen_str(g, k);
    if (v)
        gen_str(g, v);
    else
        yajl_gen_null(g);
}

static void gen_key_int(yajl_gen g, const char *k, long long v)
{
    gen_str(g, k);
    yajl_gen_integer(g, v);
}

/* Seconds with millisecond precision (yajl_gen_double prints 20 digits). */
static void gen_key_seconds(yajl_gen g, const char *k, double s)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%.3f", s);
    gen_str(g, k);
    yajl_gen_number(g, num, (size_t)n);
}

/* Re-emits a parsed JSON value (a worker's detail: peers, raft progress),
 * nested objects and arrays included, to a bounded depth. */
static void gen_value(yajl_gen g, yajl_val v, int depth)
{
    if (depth > 8) {
        yajl_gen_null(g);
    } else if (YAJL_IS_OBJECT(v)) {
        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len; i++) {
            gen_str(g, v->u.object.keys[i]);
            gen_value(g, v->u.object.values[i], depth + 1);
        }
        yajl_gen_map_close(g);
    } else if (YAJL_IS_ARRAY(v)) {
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.len; i++)
            gen_value(g, v->u.array.values[i], depth + 1);
        yajl_gen_array_close(g);
    } else if (YAJL_IS_INTEGER(v)) {
        yajl_gen_integer(g, YAJL_GET_INTEGER(v));
    } else if (YAJL_IS_NUMBER(v)) {
        yajl_gen_double(g, YAJL_GET_DOUBLE(v));
    } else if (YAJL_IS_STRING(v)) {
        gen_str(g, YAJL_GET_STRING(v));
    } else if (YAJL_IS_TRUE(v)) {
        yajl_gen_bool(g, 1);
    } else if (YAJL_IS_FALSE(v)) {
        yajl_gen_bool(g, 0);
    } else {
        yajl_gen_null(g);
    }
}

static void gen_error(yajl_gen g, const char *msg)
{
    yajl_gen_map_open(g);
    gen_key_str(g, "error", msg);
    yajl_gen_map_close(g);
}

static void gen_worker(yajl_gen g, const struct cc_proc *p, double now)
{
    yajl_gen_map_open(g);
    gen_key_str(g, "kind", cc_kind_name(p->kind));
    gen_key_int(g, "pid", p->pid);
    gen_key_int(g, "generation", (long long)p->gen);
    gen_key_str(g, "state", cc_proc_state_name(p->state));
    gen_key_seconds(g, "uptime_s",
                    p->state == CC_PROC_READY || p->state == CC_PROC_STOPPING ? now - p->started_at
                                                                              : 0);
    gen_key_int(g, "restarts", p->restarts);
    gen_str(g, "last_exit");
    if (!p->exited_before) {
        yajl_gen_null(g);
    } else {
        yajl_gen_map_open(g);
        if (p->last_exit_signal)
            gen_key_int(g, "signal", p->last_exit_signal);
        else
            gen_key_int(g, "code", p->last_exit_code);
        yajl_gen_map_close(g);
    }
    gen_str(g, "heartbeat_age_ms");
    if (p->pid > 0)
        yajl_gen_integer(g, (long long)((now - p->last_heartbeat) * 1000));
    else
        yajl_gen_null(g);
    gen_key_int(g, "queue_depth", p->queue_depth);
    gen_key_int(g, "inflight", p->inflight);
    gen_str(g, "links");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < p->n_links; i++) {
        const struct cc_proc_link *l = &p->links[i];
        yajl_gen_map_open(g);
        gen_key_str(g, "peer", cc_kind_name(l->peer_kind));
        gen_key_str(g, "state", l->state ? "up" : "down");
        gen_key_int(g, "peer_generation", (long long)l->peer_gen);
        gen_key_int(g, "sendq", l->sendq);
        gen_key_int(g, "sent", (long long)l->sent);
        gen_key_int(g, "received", (long long)l->received);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    /* The worker's own gauges, already JSON: spliced in verbatim after a
     * validity check, so a broken worker cannot break the answer. */
    gen_str(g, "detail");
    yajl_val d = p->detail[0] ? yajl_tree_parse(p->detail, NULL, 0) : NULL;
    if (d && YAJL_IS_OBJECT(d))
        gen_value(g, d, 0);
    else
        yajl_gen_null(g);
    if (d)
        yajl_tree_free(d);
    yajl_gen_map_close(g);
}

static void cmd_status(struct cc_master *m, yajl_val req, yajl_gen g)
{
    double now = cc_now();
    yajl_gen_map_open(g);
    gen_key_str(g, "role", cc_role_name(m->role));
    gen_key_str(g, "name", m->cfg->name);
    gen_key_str(g, "state", cc_master_state_name(m->state));
    gen_key_int(g, "pid", getpid());
    gen_key_seconds(g, "uptime_s", now - m->started_at);
    gen_key_str(g, "version", CC_VERSION);
    gen_key_str(g, "data_dir", m->cfg->data_dir);
    gen_key_str(g, "run_dir", m->run_dir);
    /* From the identity fixed in the data dir (core/identity.h). */
    char mid[17], cid[17];
    snprintf(mid, sizeof(mid), "%llx", (unsigned long long)m->member_id);
    snprintf(cid, sizeof(cid), "%llx", (unsigned long long)m->cluster_id);
    gen_key_str(g, "member_id", m->member_id ? mid : NULL);
    gen_key_str(g, "cluster_id", m->cluster_id ? cid : NULL);
    gen_str(g, "workers");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < m->n_procs; i++)
        gen_worker(g, &m->procs[i], now);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

static void cmd_restart(struct cc_master *m, yajl_val req, yajl_gen g)
{
    const char *path[] = {"worker", NULL};
    yajl_val w = yajl_tree_get(req, path, yajl_t_string);
    if (w == NULL) {
        gen_error(g, "restart needs \"worker\": one of the node's worker kinds");
        return;
    }
    const char *wname = YAJL_GET_STRING(w);
    int kind = wname ? cc_kind_from_name(wname) : -1;
    char err[256];
    if (kind < 0) {
        snprintf(err, sizeof(err), "unknown worker kind \"%.64s\"", wname ? wname : "");
        gen_error(g, err);
        return;
    }
    if (cc_master_restart_worker(m, (enum cc_kind)kind, err, sizeof(err)) != 0) {
        gen_error(g, err);
        return;
    }
    yajl_gen_map_open(g);
    gen_str(g, "ok");
    yajl_gen_bool(g, 1);
    yajl_gen_map_close(g);
}

static void cmd_reload(struct cc_master *m, yajl_val req, yajl_gen g)
{
    cc_master_reload(m);
    yajl_gen_map_open(g);
    gen_str(g, "ok");
    yajl_gen_bool(g, 1);
    yajl_gen_map_close(g);
}

static void cmd_help(struct cc_master *m, yajl_val req, yajl_gen g);

static const struct {
    const char *name;
    const char *help;
    admin_handler handler;
} commands[] = {
    {"status", "node role, identity and every worker's state", cmd_status},
    {"restart", "gracefully restart one worker: {\"cmd\":\"restart\",\"worker\":KIND}",
     cmd_restart},
    {"reload", "restart every worker, one at a time (as SIGHUP)", cmd_reload},
    {"hash", "hash of the key tree at the applied raft index: {\"index\":N,\"hash\":HEX}", NULL},
    {"help", "this list", cmd_help},
};

static void cmd_help(struct cc_master *m, yajl_val req, yajl_gen g)
{
    yajl_gen_map_open(g);
    gen_str(g, "commands");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        gen_key_str(g, commands[i].name, commands[i].help);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
}

static void write_json(struct bufferevent *bev, yajl_gen g)
{
    const unsigned char *out;
    size_t len;
    yajl_gen_get_buf(g, &out, &len);
    struct evbuffer *o = bufferevent_get_output(bev);
    evbuffer_add(o, out, len);
    evbuffer_add(o, "\n", 1);
}

static void on_hash_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct admin_conn *c = arg;
    c->hash_req = 0;
    yajl_gen g = yajl_gen_alloc(NULL);
    gen_error(g, "no answer from the http worker");
    write_json(c->bev, g);
    yajl_gen_free(g);
}

/* `hash`: the http worker hashes its view, the member's state machine
 * (HASH_REQ on its control channel); the answer comes back through the
 * master's loop. NULL when asked, else why not. */
static const char *ask_hash(struct cc_admin *a, struct admin_conn *c)
{
    struct cc_master *m = a->m;
    struct cc_proc *p = NULL;
    for (size_t i = 0; i < m->n_procs; i++)
        if (m->procs[i].kind == CC_KIND_HTTP && m->procs[i].state == CC_PROC_READY)
            p = &m->procs[i];
    if (p == NULL)
        return "the http worker is not running";
    if (c->hash_req != 0)
        return "a hash is already being computed for this connection";
    struct cc_msg msg = {.type = CC_MSG_HASH_REQ};
    msg.u.hash_req.req_id = ++a->next_hash_req;
    if (cc_control_send(&p->ctl, &msg) != 0)
        return "cannot reach the http worker";
    c->hash_req = msg.u.hash_req.req_id;
    if (c->hash_timer == NULL)
        c->hash_timer = evtimer_new(m->base, on_hash_timeout, c);
    struct timeval tv = {ADMIN_HASH_TIMEOUT_MS / 1000, (ADMIN_HASH_TIMEOUT_MS % 1000) * 1000};
    if (c->hash_timer)
        evtimer_add(c->hash_timer, &tv);
    return NULL;
}

void cc_admin_hash_answer(struct cc_admin *a, uint64_t req_id, uint64_t index, uint64_t hash)
{
    for (struct admin_conn *c = a ? a->conns : NULL; c; c = c->next) {
        if (c->hash_req != req_id)
            continue;
        c->hash_req = 0;
        if (c->hash_timer)
            evtimer_del(c->hash_timer);
        char hex[17];
        snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)hash);
        yajl_gen g = yajl_gen_alloc(NULL);
        yajl_gen_map_open(g);
        gen_key_int(g, "index", (long long)index);
        gen_key_str(g, "hash", hex);
        yajl_gen_map_close(g);
        write_json(c->bev, g);
        yajl_gen_free(g);
        return;
    }
}

static void answer(struct cc_admin *a, struct admin_conn *conn, const char *line)
{
    struct bufferevent *bev = conn->bev;
    yajl_gen g = yajl_gen_alloc(NULL);
    char perr[256] = "";
    yajl_val req = yajl_tree_parse(line, perr, sizeof(perr));
    const char *path[] = {"cmd", NULL};
    yajl_val cmd = req ? yajl_tree_get(req, path, yajl_t_string) : NULL;
    const char *name = cmd ? YAJL_GET_STRING(cmd) : NULL;
    if (req == NULL) {
        char msg[320];
        snprintf(msg, sizeof(msg), "bad JSON: %s", perr);
        for (char *c = msg; *c; c++)
            if (*c == '\n')
                *c = ' ';
        gen_error(g, msg);
    } else if (name == NULL) {
        gen_error(g, "a request is a JSON object with a \"cmd\" string");
    } else if (strcmp(name, "hash") == 0) {
        const char *why = ask_hash(a, conn);
        yajl_tree_free(req);
        if (why == NULL) {
            yajl_gen_free(g);
            return; /* answered when http replies (cc_admin_hash_answer) */
        }
        req = NULL;
        gen_error(g, why);
    } else {
        size_t i;
        for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
            if (strcmp(commands[i].name, name) == 0) {
                commands[i].handler(a->m, req, g);
                break;
            }
        if (i == sizeof(commands) / sizeof(commands[0])) {
            char msg[128];
            snprintf(msg, sizeof(msg), "unknown command \"%.64s\"", name);
            gen_error(g, msg);
        }
    }
    if (req)
        yajl_tree_free(req);
    write_json(bev, g);
    yajl_gen_free(g);
}

static void conn_free(struct admin_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->a->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->hash_timer)
        event_free(c->hash_timer);
    bufferevent_free(c->bev);
    free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct admin_conn *c = arg;
    struct cc_admin *a = c->a;
    struct evbuffer *in = bufferevent_get_input(bev);
    char *line;
    size_t n;
    while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
        if (n > 0)
            answer(a, c, line);
        free(line);
    }
    if (evbuffer_get_length(in) > ADMIN_MAX_LINE) {
        cc_warn("admin: request line over %d bytes; connection closed", ADMIN_MAX_LINE);
        conn_free(c);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_free(arg);
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    struct cc_admin *a = arg;
    struct admin_conn *c = calloc(1, sizeof(*c));
    struct bufferevent *bev =
        c ? bufferevent_socket_new(evconnlistener_get_base(lis), fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (bev == NULL) {
        free(c);
        close(fd);
        return;
    }
    c->bev = bev;
    c->a = a;
    c->next = a->conns;
    if (a->conns)
        a->conns->prev = c;
    a->conns = c;
    bufferevent_setcb(bev, on_read, NULL, on_event, c);
    bufferevent_enable(bev, EV_READ);
}

/* A socket file may be left by a node that was killed: remove it, unless a
 * live node still answers on it (two masters on one data dir would wreck it). */
static int claim_path(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "admin socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        close(fd);
        snprintf(err, errlen,
                 "another concord is already running with admin socket %s (same data dir?)", path);
        return -1;
    }
    close(fd);
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove stale admin socket %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

struct cc_admin *cc_admin_open(struct cc_master *m, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "admin socket path too long (%zu bytes, at most %zu): %s",
                 strlen(path), sizeof(sa.sun_path) - 1, path);
        return NULL;
    }
    if (claim_path(path, err, errlen) != 0)
        return NULL;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "admin socket: %s", strerror(errno));
        return NULL;
    }
    /* Created 0600 from the start: no window where others could connect. */
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r != 0 || listen(fd, 16) != 0) {
        snprintf(err, errlen, "admin socket %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    struct cc_admin *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->m = m;
    snprintf(a->path, sizeof(a->path), "%s", path);
    a->listener = evconnlistener_new(m->base, on_accept, a, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (a->listener == NULL) {
        close(fd);
        free(a);
        snprintf(err, errlen, "admin socket: cannot listen");
        return NULL;
    }
    return a;
}

void cc_admin_close(struct cc_admin *a)
{
    if (a == NULL)
        return;
    while (a->conns)
        conn_free(a->conns);
    evconnlistener_free(a->listener);
    unlink(a->path);
    free(a);
}
