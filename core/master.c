#include "core/master.h"

#include <errno.h>
#include <inttypes.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/admin.h"
#include "core/listen.h"
#include "core/identity.h"
#include "core/log.h"
#include "core/worker.h"
#include "ipc/paths.h"
#include "ipc/wiring.h"

static void advance(struct cc_master *m);
static void spawn_worker(struct cc_master *m, struct cc_proc *p);

const char *cc_master_state_name(enum cc_master_state s)
{
    static const char *const names[] = {"starting", "running", "reloading", "stopping", "exit"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

struct cc_proc *cc_master_proc(struct cc_master *m, enum cc_kind kind)
{
    for (size_t i = 0; i < m->n_procs; i++)
        if (m->procs[i].kind == kind)
            return &m->procs[i];
    return NULL;
}

static void set_timer(struct cc_master *m, struct cc_proc *p, unsigned ms, event_callback_fn cb)
{
    if (p->timer)
        event_free(p->timer);
    p->timer = evtimer_new(m->base, cb, p);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(p->timer, &tv);
}

static void clear_timer(struct cc_proc *p)
{
    if (p->timer) {
        event_free(p->timer);
        p->timer = NULL;
    }
}

/* The master is found from a slot through this back pointer table; slots are
 * fixed in the master struct for the process' whole life. */
static struct cc_master *the_master;

static void on_kill_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cc_proc *p = arg;
    if (p->pid > 0) {
        cc_warn("%s worker (pid %ld) did not %s in time; killing it", cc_kind_name(p->kind),
                (long)p->pid, p->state == CC_PROC_STARTING ? "become ready" : "stop");
        kill(p->pid, SIGKILL);
    }
}

static void on_backoff_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cc_proc *p = arg;
    clear_timer(p);
    if (p->state == CC_PROC_BACKOFF)
        spawn_worker(the_master, p);
}

static void request_stop(struct cc_master *m, struct cc_proc *p, bool respawn)
{
    const struct cc_kind_info *k = cc_kind_info(p->kind);
    p->respawn_now = respawn;
    if (p->state == CC_PROC_BACKOFF) {
        clear_timer(p);
        p->state = CC_PROC_STOPPED;
        if (respawn)
            spawn_worker(m, p);
        return;
    }
    if (p->state != CC_PROC_READY && p->state != CC_PROC_STARTING)
        return;
    struct cc_msg msg = {.type = CC_MSG_STOP};
    msg.u.stop.deadline_ms = k->stop_deadline_ms;
    p->state = CC_PROC_STOPPING;
    if (cc_control_send(&p->ctl, &msg) != 0)
        kill(p->pid, SIGTERM);
    /* Its own deadline plus a margin for exiting; then it is killed. */
    set_timer(m, p, k->stop_deadline_ms + 500, on_kill_timer);
}

/* Tells the workers linked to p that p has a new generation, so that they
 * reopen their links to it (ipc/wiring.h). */
static void notify_neighbours(struct cc_master *m, const struct cc_proc *p)
{
    struct cc_msg msg = {.type = CC_MSG_PEER_RESTARTED};
    msg.u.peer_restarted.kind = (uint8_t)p->kind;
    msg.u.peer_restarted.gen = p->gen;
    for (size_t i = 0; i < m->n_procs; i++) {
        struct cc_proc *q = &m->procs[i];
        if (q == p || (q->state != CC_PROC_READY && q->state != CC_PROC_STARTING))
            continue;
        if (cc_wiring_linked(p->kind, q->kind))
            cc_control_send(&q->ctl, &msg);
    }
}

static void on_ctl_msg(struct cc_control *c, const struct cc_msg *msg, void *arg)
{
    struct cc_proc *p = arg;
    struct cc_master *m = the_master;
    p->last_heartbeat = cc_now();
    switch (msg->type) {
    case CC_MSG_READY:
        if (p->state != CC_PROC_STARTING)
            break;
        clear_timer(p);
        p->state = CC_PROC_READY;
        p->ready_at = cc_now();
        cc_info("%s worker ready (pid %ld, generation %llu)", cc_kind_name(p->kind), (long)p->pid,
                (unsigned long long)p->gen);
        notify_neighbours(m, p);
        advance(m);
        break;
    case CC_MSG_STATUS: {
        const struct cc_msg_status *s = &msg->u.status;
        p->queue_depth = s->queue_depth;
        p->inflight = s->inflight;
        p->n_links = 0;
        struct cc_rd rd = cc_msg_list_reader(&s->links);
        struct cc_status_link sl;
        while (p->n_links < CC_PROC_MAX_LINKS && cc_msg_status_link_next(&rd, &sl) > 0)
            p->links[p->n_links++] = (struct cc_proc_link){sl.peer_kind, sl.state,    sl.sendq,
                                                           sl.sent,      sl.received, sl.peer_gen};
        size_t n = s->detail.n < sizeof(p->detail) - 1 ? s->detail.n : sizeof(p->detail) - 1;
        memcpy(p->detail, s->detail.p, n);
        p->detail[n] = '\0';
        break;
    }
    case CC_MSG_HASH_RESP:
        cc_admin_hash_answer(m->admin, msg->u.hash_resp.req_id, msg->u.hash_resp.index,
                             msg->u.hash_resp.hash);
        break;
    default:
        cc_warn("unexpected %s from the %s worker", cc_msg_name(msg->type), cc_kind_name(p->kind));
    }
}

static void on_ctl_eof(struct cc_control *c, void *arg)
{
    /* The worker is exiting; SIGCHLD tells us when it is gone. */
    cc_control_stop(c);
}

static void build_fd_list(const int *fds, size_t n, char *out, size_t len)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%d", i ? "," : "", fds[i]);
}

static void spawn_worker(struct cc_master *m, struct cc_proc *p)
{
    const struct cc_kind_info *k = cc_kind_info(p->kind);
    const int *fds = NULL;
    size_t nfds = 0;
    if (k->listeners == CC_LISTEN_CLIENT) {
        fds = m->client_fds;
        nfds = m->n_client;
    } else if (k->listeners == CC_LISTEN_PEER) {
        fds = m->peer_fds;
        nfds = m->n_peer;
    }
    int pair[2];
    if (cc_control_pair(pair) != 0) {
        cc_log_errno(CC_LOG_ERROR, errno, "socketpair() failed for the %s worker", k->name);
        p->state = CC_PROC_BACKOFF;
        p->backoff_ms = cc_proc_next_backoff(p->backoff_ms, 0);
        set_timer(m, p, p->backoff_ms, on_backoff_timer);
        return;
    }
    p->gen = ++m->next_gen;
    char title[64], gen[24], ctl[16], fdlist[256];
    snprintf(title, sizeof(title), "concord: %s", k->name);
    snprintf(gen, sizeof(gen), "%llu", (unsigned long long)p->gen);
    snprintf(ctl, sizeof(ctl), "%d", pair[1]);
    build_fd_list(fds, nfds, fdlist, sizeof(fdlist));

    pid_t pid = fork();
    if (pid < 0) {
        cc_log_errno(CC_LOG_ERROR, errno, "fork() failed for the %s worker", k->name);
        close(pair[0]);
        close(pair[1]);
        p->state = CC_PROC_BACKOFF;
        p->backoff_ms = cc_proc_next_backoff(p->backoff_ms, 0);
        set_timer(m, p, p->backoff_ms, on_backoff_timer);
        return;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. A fresh exec is
         * required: nanomsg state does not survive fork (STACK.md). */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        fcntl(pair[1], F_SETFD, 0);
        for (size_t i = 0; i < nfds; i++)
            fcntl(fds[i], F_SETFD, 0);
        char *av[12 + 256];
        int a = 0;
        av[a++] = title;
        av[a++] = "--cc-worker";
        av[a++] = (char *)k->name;
        av[a++] = "--cc-gen";
        av[a++] = gen;
        av[a++] = "--cc-ctl-fd";
        av[a++] = ctl;
        av[a++] = "--cc-listen-fds";
        av[a++] = fdlist;
        av[a++] = "--cc-run-dir";
        av[a++] = m->run_dir;
        av[a++] = "--cc-args";
        for (int i = 1; i < m->argc && a < (int)(sizeof(av) / sizeof(av[0])) - 1; i++)
            av[a++] = m->argv[i];
        av[a] = NULL;
        execv(m->self_exe, av);
        _exit(127);
    }
    close(pair[1]);
    p->pid = pid;
    p->state = CC_PROC_STARTING;
    p->started_at = cc_now();
    p->last_heartbeat = p->started_at;
    p->respawn_now = false;
    p->n_links = 0;
    p->queue_depth = p->inflight = 0;
    p->detail[0] = '\0';
    cc_control_start(&p->ctl, m->base, pair[0], k->name, on_ctl_msg, on_ctl_eof, p);
    set_timer(m, p, (unsigned)(CC_PROC_START_TIMEOUT_S * 1000), on_kill_timer);
    cc_info("started %s worker (pid %ld, generation %llu)", k->name, (long)pid,
            (unsigned long long)p->gen);
}

static void handle_exit(struct cc_master *m, struct cc_proc *p, int status)
{
    double up_for = p->state == CC_PROC_READY ? cc_now() - p->ready_at : 0;
    bool expected = p->state == CC_PROC_STOPPING;
    clear_timer(p);
    cc_control_stop(&p->ctl);
    p->exited_before = true;
    p->last_exit_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    p->last_exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    char how[32];
    cc_proc_last_exit_text(p, how, sizeof(how));
    pid_t pid = p->pid;
    p->pid = 0;

    if (m->state == M_STOPPING) {
        cc_info("%s worker (pid %ld) stopped (%s)", cc_kind_name(p->kind), (long)pid, how);
        p->state = CC_PROC_STOPPED;
    } else if (expected && p->respawn_now) {
        cc_info("%s worker (pid %ld) stopped for restart (%s)", cc_kind_name(p->kind), (long)pid,
                how);
        p->restarts++;
        spawn_worker(m, p);
    } else {
        p->backoff_ms = cc_proc_next_backoff(p->backoff_ms, up_for);
        p->restarts++;
        p->state = CC_PROC_BACKOFF;
        cc_warn("%s worker (pid %ld) exited unexpectedly (%s); restarting in %u ms",
                cc_kind_name(p->kind), (long)pid, how, p->backoff_ms);
        set_timer(m, p, p->backoff_ms, on_backoff_timer);
    }
    advance(m);
}

static void reap(struct cc_master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < m->n_procs; i++)
            if (m->procs[i].pid == pid) {
                handle_exit(m, &m->procs[i], status);
                break;
            }
    }
}

/* The state machine of master.h, run after every event that can move it. */
static void advance(struct cc_master *m)
{
    switch (m->state) {
    case M_STARTING:
        while (m->cursor < m->n_procs) {
            struct cc_proc *p = &m->procs[m->cursor];
            if (p->state == CC_PROC_READY) {
                m->cursor++;
                continue;
            }
            if (p->state == CC_PROC_STOPPED)
                spawn_worker(m, p);
            return; /* wait for its READY */
        }
        m->state = M_RUNNING;
        cc_info("all %zu workers ready; %s %s is serving", m->n_procs, cc_role_name(m->role),
                m->cfg->name);
        break;
    case M_RELOADING:
        while (m->cursor < m->n_procs) {
            struct cc_proc *p = &m->procs[m->cursor];
            if (p->state == CC_PROC_READY && p->gen > m->reload_gen) {
                m->cursor++;
                continue;
            }
            if (p->state == CC_PROC_READY)
                request_stop(m, p, true);
            else if (p->state == CC_PROC_STOPPED) /* SIGHUP came before its first start */
                spawn_worker(m, p);
            return; /* wait for the new process' READY */
        }
        m->state = M_RUNNING;
        cc_info("reload done: every worker restarted");
        break;
    case M_STOPPING:
        while (m->cursor > 0) {
            struct cc_proc *p = &m->procs[m->cursor - 1];
            if (p->state == CC_PROC_STOPPED) {
                m->cursor--;
                continue;
            }
            if (p->state != CC_PROC_STOPPING)
                request_stop(m, p, false);
            if (p->state == CC_PROC_STOPPED) {
                m->cursor--;
                continue;
            }
            return; /* wait for it to exit */
        }
        m->state = M_EXIT;
        event_base_loopbreak(m->base);
        break;
    case M_RUNNING:
    case M_EXIT:
        break;
    }
}

void cc_master_reload(struct cc_master *m)
{
    if (m->state == M_STOPPING || m->state == M_EXIT)
        return;
    if (m->state == M_RELOADING) {
        cc_info("reload already in progress");
        return;
    }
    cc_info("reload: restarting every worker, one at a time");
    m->state = M_RELOADING;
    m->reload_gen = m->next_gen;
    m->cursor = 0;
    advance(m);
}

int cc_master_restart_worker(struct cc_master *m, enum cc_kind kind, char *err, size_t errlen)
{
    struct cc_proc *p = cc_master_proc(m, kind);
    if (p == NULL) {
        snprintf(err, errlen, "no %s worker in a %s node", cc_kind_name(kind),
                 cc_role_name(m->role));
        return -1;
    }
    if (m->state == M_STOPPING || m->state == M_EXIT) {
        snprintf(err, errlen, "the node is stopping");
        return -1;
    }
    if (p->state == CC_PROC_STOPPING || p->state == CC_PROC_STARTING) {
        snprintf(err, errlen, "the %s worker is %s", cc_kind_name(kind),
                 cc_proc_state_name(p->state));
        return -1;
    }
    cc_info("restarting the %s worker on request", cc_kind_name(kind));
    request_stop(m, p, true);
    return 0;
}

static void begin_stop(struct cc_master *m, const char *why)
{
    if (m->state == M_STOPPING || m->state == M_EXIT)
        return;
    cc_info("%s: stopping gracefully", why);
    /* Stop accepting: new connections are refused from now on. http drains
     * the connections it already has. */
    cc_listen_close(m->client_fds, m->n_client);
    cc_listen_close(m->peer_fds, m->n_peer);
    m->state = M_STOPPING;
    m->cursor = m->n_procs;
    advance(m);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct cc_master *m = arg;
    switch (sig) {
    case SIGTERM:
        begin_stop(m, "SIGTERM");
        break;
    case SIGINT:
        begin_stop(m, "SIGINT");
        break;
    case SIGHUP:
        cc_master_reload(m);
        break;
    case SIGUSR1: {
        cc_info("SIGUSR1: reopening log files");
        if (cc_log_reopen() != 0)
            cc_log_errno(CC_LOG_ERROR, errno, "cannot reopen %s", m->cfg->log_file);
        struct cc_msg msg = {.type = CC_MSG_LOG_REOPEN};
        for (size_t i = 0; i < m->n_procs; i++)
            if (m->procs[i].pid > 0)
                cc_control_send(&m->procs[i].ctl, &msg);
        break;
    }
    case SIGCHLD:
        reap(m);
        break;
    }
}

/* mkdir -p with mode 0700 for every level we create. */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *s = buf + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* The run directory holds sockets other local users must not reach. A
 * fallback directory in /tmp must be ours, not a planted one. */
static int prepare_run_dir(struct cc_master *m, char *err, size_t errlen)
{
    struct stat st;
    m->run_dir_created = lstat(m->run_dir, &st) != 0;
    if (make_dirs(m->run_dir) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", m->run_dir, strerror(errno));
        return -1;
    }
    if (lstat(m->run_dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
        snprintf(err, errlen, "%s is not a directory owned by this user", m->run_dir);
        return -1;
    }
    chmod(m->run_dir, 0700);
    return 0;
}

static void remove_run_files(struct cc_master *m)
{
    size_t n;
    const struct cc_link_def *links = cc_wiring(&n);
    for (size_t i = 0; i < n; i++) {
        char addr[512];
        if (cc_ipc_address(m->run_dir, links[i].name, addr, sizeof(addr)) == 0)
            unlink(addr + strlen("ipc://"));
    }
    rmdir(m->run_dir);
}

static int open_listeners(struct cc_master *m, char *err, size_t errlen)
{
    if (cc_listen_urls(&m->cfg->listen_client_urls, m->client_fds, CC_MASTER_MAX_LISTENERS,
                       &m->n_client, err, errlen) != 0)
        return -1;
    if (m->role == CC_ROLE_MEMBER &&
        cc_listen_urls(&m->cfg->listen_peer_urls, m->peer_fds, CC_MASTER_MAX_LISTENERS, &m->n_peer,
                       err, errlen) != 0) {
        cc_listen_close(m->client_fds, m->n_client);
        return -1;
    }
    return 0;
}

static int setup(struct cc_master *m, char *err, size_t errlen)
{
    ssize_t n = readlink("/proc/self/exe", m->self_exe, sizeof(m->self_exe) - 1);
    if (n <= 0) {
        snprintf(err, errlen, "cannot find the concord executable: %s", strerror(errno));
        return -1;
    }
    m->self_exe[n] = '\0';
    /* A binary replaced on disk while we run shows as "... (deleted)": the
     * path is still where the new one is. */
    const char *del = " (deleted)";
    size_t sl = strlen(m->self_exe), dl = strlen(del);
    if (sl > dl && strcmp(m->self_exe + sl - dl, del) == 0)
        m->self_exe[sl - dl] = '\0';

    if (make_dirs(m->cfg->data_dir) != 0) {
        snprintf(err, errlen, "cannot create data dir %s: %s", m->cfg->data_dir, strerror(errno));
        return -1;
    }
    if (m->cfg->proxy == CC_PROXY_OFF) {
        /* Fixed before any worker starts: they all read it. */
        struct cc_cluster_def id;
        bool created;
        if (cc_identity_open(m->cfg, &id, &created, err, errlen) != 0)
            return -1;
        cc_info("%s member %" PRIx64 " (%s) of cluster %" PRIx64 ", %zu member(s)",
                created ? "new" : "existing", id.self_id, m->cfg->name, id.cluster_id, id.n);
        m->member_id = id.self_id;
        m->cluster_id = id.cluster_id;
        cc_cluster_def_free(&id);
    }
    if (cc_run_dir(m->cfg->data_dir, m->run_dir, sizeof(m->run_dir), &m->run_dir_fallback) != 0) {
        snprintf(err, errlen, "no usable run directory for data dir %s", m->cfg->data_dir);
        return -1;
    }
    if (m->run_dir_fallback)
        cc_info("data dir path too long for Unix sockets; run directory is %s", m->run_dir);
    if (prepare_run_dir(m, err, errlen) != 0)
        return -1;
    if (cc_config_was_set(m->cfg, "admin-socket") && m->cfg->admin_socket[0])
        snprintf(m->admin_path, sizeof(m->admin_path), "%s", m->cfg->admin_socket);
    else if (cc_admin_socket_default(m->cfg->data_dir, m->admin_path, sizeof(m->admin_path)) != 0) {
        snprintf(err, errlen, "no usable admin socket path for data dir %s", m->cfg->data_dir);
        return -1;
    }
    m->admin = cc_admin_open(m, m->admin_path, err, errlen);
    if (m->admin == NULL)
        return -1;
    if (open_listeners(m, err, errlen) != 0)
        return -1;
    return 0;
}

int cc_master_run(const struct cc_config *cfg, int argc, char **argv)
{
    static struct cc_master master;
    struct cc_master *m = &master;
    the_master = m;
    m->cfg = cfg;
    m->argc = argc;
    m->argv = argv;
    m->role = cfg->proxy == CC_PROXY_OFF ? CC_ROLE_MEMBER : CC_ROLE_PROXY;
    m->started_at = cc_now();
    m->order = cc_role_workers(m->role, &m->n_procs);
    for (size_t i = 0; i < m->n_procs; i++) {
        m->procs[i].kind = m->order[i];
        m->procs[i].ctl.fd = -1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Thousands of client connections need descriptors; the workers
     * inherit the raised limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    m->base = event_base_new();
    if (m->base == NULL) {
        cc_error("cannot create the event loop");
        return 1;
    }
    char err[512];
    if (setup(m, err, sizeof(err)) != 0) {
        cc_error("%s", err);
        /* The operator watching the terminal must see why, not only the log. */
        if (cfg->log_file && cfg->log_file[0])
            fprintf(stderr, "concord: %s\n", err);
        if (m->admin)
            cc_admin_close(m->admin);
        /* A start that failed (a port in use, say) leaves no empty run
         * directory behind, least of all a fallback one in /tmp; one that
         * was there already may be another instance's. */
        if (m->run_dir_created)
            rmdir(m->run_dir);
        event_base_free(m->base);
        return 1;
    }
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGCHLD};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        m->sig_evs[i] = evsignal_new(m->base, sigs[i], on_signal, m);
        event_add(m->sig_evs[i], NULL);
        m->n_sig_evs++;
    }
    /* main() blocked them until now; pending ones are delivered here. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    cc_info("concord %s starting as a %s: name %s, data dir %s, admin socket %s", CC_VERSION,
            cc_role_name(m->role), cfg->name, cfg->data_dir, m->admin_path);
    m->state = M_STARTING;
    m->cursor = 0;
    advance(m);
    event_base_dispatch(m->base);

    for (size_t i = 0; i < m->n_procs; i++) {
        clear_timer(&m->procs[i]);
        cc_control_stop(&m->procs[i].ctl);
    }
    for (size_t i = 0; i < m->n_sig_evs; i++)
        event_free(m->sig_evs[i]);
    cc_admin_close(m->admin);
    cc_listen_close(m->client_fds, m->n_client);
    cc_listen_close(m->peer_fds, m->n_peer);
    remove_run_files(m);
    event_base_free(m->base);
    cc_info("stopped");
    return 0;
}
