#include "core/worker.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

/* See the mallopt() call in cc_worker_process_main. */
#define WORKER_MMAP_THRESHOLD (1 << 20)

double cc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct cc_link *cc_worker_link(struct cc_worker *w, enum cc_kind peer)
{
    for (size_t i = 0; i < w->n_links; i++)
        if (w->links[i].peer == peer)
            return &w->links[i];
    return NULL;
}

static void on_link_msg(struct cc_link *l, const struct cc_msg *m, void *arg)
{
    struct cc_worker *w = arg;
    if (w->on_link_msg)
        w->on_link_msg(w, l, m);
    else
        cc_debug("link %s: %s ignored", l->def->name, cc_msg_name(m->type));
}

static void on_link_up(struct cc_link *l, void *arg)
{
    struct cc_worker *w = arg;
    if (w->on_link_up)
        w->on_link_up(w, l);
}

int cc_worker_open_links(struct cc_worker *w)
{
    const struct cc_link_def *defs[CC_WORKER_MAX_LINKS];
    enum cc_role role = w->cfg.proxy == CC_PROXY_OFF ? CC_ROLE_MEMBER : CC_ROLE_PROXY;
    size_t n = cc_wiring_for(role, w->kind, defs, CC_WORKER_MAX_LINKS);
    for (size_t i = 0; i < n; i++) {
        if (cc_link_open(&w->links[i], w->base, defs[i], w->kind, w->gen, w->run_dir, on_link_msg,
                         on_link_up, w) != 0)
            return -1;
        w->n_links = i + 1;
    }
    return 0;
}

static void send_status(struct cc_worker *w)
{
    struct cc_msg m = {.type = CC_MSG_STATUS};
    struct cc_msg_status *s = &m.u.status;
    struct cc_buf links;
    cc_buf_init(&links);
    uint32_t depth = 0;
    for (size_t i = 0; i < w->n_links; i++) {
        const struct cc_link *l = &w->links[i];
        struct cc_status_link item = {
            .peer_kind = (uint8_t)l->peer,
            .state = l->up ? 1 : 0,
            .sendq = cc_link_queue_depth(l),
            .sent = l->sent,
            .received = l->received,
            .peer_gen = l->peer_gen,
        };
        cc_msg_status_link_put(&links, &item);
        depth += item.sendq;
    }
    char detail[8192] = "";
    if (w->detail_json)
        w->detail_json(w, detail, sizeof(detail));
    s->gen = w->gen;
    s->pid = (uint32_t)getpid();
    s->queue_depth = depth;
    s->inflight = w->inflight ? w->inflight(w) : 0;
    s->links = (struct cc_list){(uint32_t)w->n_links, links.data, (uint32_t)links.len};
    s->detail = (struct cc_bytes){(const uint8_t *)detail, (uint32_t)strlen(detail)};
    cc_control_send(&w->ctl, &m);
    cc_buf_free(&links);
}

static void on_status_timer(evutil_socket_t fd, short what, void *arg)
{
    send_status(arg);
}

static void on_stop_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct cc_worker *w = arg;
    cc_warn("graceful stop did not finish in time; exiting");
    cc_worker_exit(w, 0);
}

static void begin_stop(struct cc_worker *w, unsigned deadline_ms)
{
    if (w->stopping)
        return;
    w->stopping = true;
    cc_info("stopping (within %u ms)", deadline_ms);
    if (w->on_stop == NULL) {
        cc_worker_exit(w, 0);
        return;
    }
    struct timeval tv = {deadline_ms / 1000, (deadline_ms % 1000) * 1000};
    w->stop_timer = evtimer_new(w->base, on_stop_deadline, w);
    evtimer_add(w->stop_timer, &tv);
    w->on_stop(w, deadline_ms);
}

static void on_control_msg(struct cc_control *c, const struct cc_msg *m, void *arg)
{
    struct cc_worker *w = arg;
    switch (m->type) {
    case CC_MSG_STOP:
        begin_stop(w, m->u.stop.deadline_ms);
        break;
    case CC_MSG_PEER_RESTARTED: {
        struct cc_link *l = cc_worker_link(w, (enum cc_kind)m->u.peer_restarted.kind);
        if (l == NULL)
            break;
        cc_debug("%s restarted (gen %llu): resetting link %s",
                 cc_kind_name(m->u.peer_restarted.kind),
                 (unsigned long long)m->u.peer_restarted.gen, l->def->name);
        cc_link_reset(l, m->u.peer_restarted.gen);
        break;
    }
    case CC_MSG_LOG_REOPEN:
        if (cc_log_reopen() != 0)
            cc_log_errno(CC_LOG_ERROR, errno, "cannot reopen the log file");
        break;
    default:
        if (w->on_control_msg)
            w->on_control_msg(w, m);
        else
            cc_warn("control: unexpected %s from the master", cc_msg_name(m->type));
    }
}

static void on_control_eof(struct cc_control *c, void *arg)
{
    struct cc_worker *w = arg;
    /* The master is gone: nobody supervises us, nobody can stop us cleanly. */
    cc_warn("master is gone; exiting");
    cc_worker_exit(w, 0);
}

static void on_sigterm(evutil_socket_t fd, short what, void *arg)
{
    struct cc_worker *w = arg;
    begin_stop(w, w->info->stop_deadline_ms);
}

void cc_worker_ready(struct cc_worker *w)
{
    struct cc_msg m = {.type = CC_MSG_READY};
    m.u.ready.kind = (uint8_t)w->kind;
    m.u.ready.gen = w->gen;
    m.u.ready.pid = (uint32_t)getpid();
    cc_control_send(&w->ctl, &m);
    send_status(w);
    cc_info("ready (generation %llu)", (unsigned long long)w->gen);
}

int cc_worker_loop(struct cc_worker *w)
{
    event_base_dispatch(w->base);
    return w->exit_code;
}

void cc_worker_exit(struct cc_worker *w, int code)
{
    w->exit_code = code;
    event_base_loopbreak(w->base);
}

static void worker_cleanup(struct cc_worker *w)
{
    if (w->on_exit)
        w->on_exit(w);
    for (size_t i = 0; i < w->n_links; i++)
        cc_link_close(&w->links[i]);
    cc_control_stop(&w->ctl);
    if (w->status_timer)
        event_free(w->status_timer);
    if (w->stop_timer)
        event_free(w->stop_timer);
    if (w->sigterm_ev)
        event_free(w->sigterm_ev);
    for (size_t i = 0; i < w->n_listen; i++)
        if (w->listen_fds[i] >= 0)
            close(w->listen_fds[i]);
    event_base_free(w->base);
    cc_config_free(&w->cfg);
}

static int parse_uint(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_fd_list(struct cc_worker *w, const char *s)
{
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", s);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        unsigned long long fd;
        if (parse_uint(t, &fd) != 0 || w->n_listen == CC_WORKER_MAX_LISTENERS)
            return -1;
        w->listen_fds[w->n_listen++] = (int)fd;
    }
    return 0;
}

/* Hidden arguments, written only by the master (master.c spawn_worker):
 *   --cc-worker KIND --cc-gen N --cc-ctl-fd FD --cc-listen-fds A,B
 *   --cc-run-dir DIR --cc-args <the node's own arguments...> */
static int parse_hidden_args(struct cc_worker *w, int argc, char **argv, int *args_at)
{
    int ctl_fd = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--cc-args") == 0) {
            *args_at = i;
            w->ctl.fd = ctl_fd;
            return ctl_fd >= 0 && w->run_dir[0] ? 0 : -1;
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        unsigned long long n;
        if (strcmp(a, "--cc-worker") == 0) {
            int k = cc_kind_from_name(v);
            if (k < 0)
                return -1;
            w->kind = (enum cc_kind)k;
        } else if (strcmp(a, "--cc-gen") == 0) {
            if (parse_uint(v, &n) != 0)
                return -1;
            w->gen = n;
        } else if (strcmp(a, "--cc-ctl-fd") == 0) {
            if (parse_uint(v, &n) != 0)
                return -1;
            ctl_fd = (int)n;
        } else if (strcmp(a, "--cc-listen-fds") == 0) {
            if (v[0] && parse_fd_list(w, v) != 0)
                return -1;
        } else if (strcmp(a, "--cc-run-dir") == 0) {
            snprintf(w->run_dir, sizeof(w->run_dir), "%s", v);
        } else {
            return -1;
        }
    }
    return -1;
}

int cc_worker_process_main(int argc, char **argv, char **envp)
{
    static struct cc_worker worker;
    struct cc_worker *w = &worker;
    int args_at = 0;
    w->ctl.fd = -1;
    if (parse_hidden_args(w, argc, argv, &args_at) != 0) {
        fprintf(stderr, "concord: bad worker arguments (workers are started by the master)\n");
        return 2;
    }
    w->info = cc_kind_info(w->kind);
    if (w->info->main == NULL) {
        fprintf(stderr, "concord: the %s worker is not built yet\n", w->info->name);
        return 2;
    }
    /* The node's own command line, as the master saw it. */
    argv[args_at] = argv[0];
    char err[512];
    enum cc_config_result cr = cc_config_parse(&w->cfg, argc - args_at, argv + args_at, envp, NULL,
                                               NULL, stderr, err, sizeof(err));
    if (cr != CC_CONFIG_OK) {
        fprintf(stderr, "concord %s worker: %s\n", w->info->name, err);
        return 2;
    }
    if (cc_log_init(w->info->name, w->cfg.log_file, w->cfg.debug) != 0)
        cc_log_errno(CC_LOG_ERROR, errno, "cannot open log file %s", w->cfg.log_file);
    prctl(PR_SET_NAME, w->info->name, 0, 0, 0);
    /* If the master dies while this loop is stuck, the kernel still tells us. */
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() == 1)
        return 0;
    signal(SIGPIPE, SIG_IGN);
    /* Large buffers (a snapshot in transit, a sync of a restarting view)
     * are mapped and given back when freed. glibc's default threshold
     * grows with the largest block freed, after which such buffers come
     * from the heap and stay resident for the life of the worker. */
    mallopt(M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD);
    /* The master owns these: Ctrl-C reaches the whole process group, but only
     * the master decides the order in which workers stop. */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);

    struct event_config *ec = event_config_new();
    w->base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (w->base == NULL) {
        cc_error("cannot create the event loop");
        return 1;
    }
    int ctl_fd = w->ctl.fd;
    fcntl(ctl_fd, F_SETFD, FD_CLOEXEC);
    if (cc_control_start(&w->ctl, w->base, ctl_fd, "master", on_control_msg, on_control_eof, w) !=
        0) {
        cc_error("cannot watch the control channel");
        return 1;
    }
    for (size_t i = 0; i < w->n_listen; i++)
        fcntl(w->listen_fds[i], F_SETFD, FD_CLOEXEC);
    w->sigterm_ev = evsignal_new(w->base, SIGTERM, on_sigterm, w);
    event_add(w->sigterm_ev, NULL);
    w->status_timer = event_new(w->base, -1, EV_PERSIST, on_status_timer, w);
    struct timeval tv = {0, CC_WORKER_STATUS_MS * 1000};
    event_add(w->status_timer, &tv);

    int rc = w->info->main(w);
    worker_cleanup(w);
    cc_info("exited (%d)", rc);
    return rc;
}
