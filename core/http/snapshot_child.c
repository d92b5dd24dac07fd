#include "core/http/snapshot_child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/storage/snap_file.h"

/* What the child writes on the pipe when the file is durable. */
struct report {
    uint64_t index, len, hash;
};

void cc_snapshot_child_init(struct cc_snapshot_child *c, cc_snapshot_child_done_fn done, void *ctx)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->done = done;
    c->ctx = ctx;
}

bool cc_snapshot_child_running(const struct cc_snapshot_child *c)
{
    return c->pid > 0;
}

/* In the child: everything here is single-threaded and ends in _exit, so
 * no atexit handler or stdio buffer of the worker's runs twice. */
/* Bytes written (and waited for) at a time: see cc_snap_writer.paced. */
#define PIECE         (1u << 20)
#define SNAPSHOT_NICE 10

static void child_main(int out, struct cc_v2_store *store, uint64_t index, const char *member_dir)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Behind the members for the CPU (nice 10: about a tenth of a busy
     * worker's share): a snapshot may take longer, writes and reads must
     * not wait for it. Not idle-only, so it still ends under full load. */
    setpriority(PRIO_PROCESS, 0, SNAPSHOT_NICE);
    struct cc_buf b;
    cc_buf_init(&b);
    if (cc_v2_store_snapshot_save(store, &b) != 0 || b.failed)
        _exit(1);
    struct cc_snap_writer w;
    cc_snap_writer_init(&w);
    w.paced = true;
    struct report r = {.index = index};
    if (cc_snap_writer_begin(&w, member_dir, CC_SNAP_VIEW_TMP) != 0)
        _exit(1);
    for (size_t off = 0; off < b.len; off += PIECE) {
        size_t n = b.len - off < PIECE ? b.len - off : PIECE;
        if (cc_snap_writer_append(&w, b.data + off, n) != 0)
            _exit(1);
    }
    if (cc_snap_writer_sync(&w, &r.len, &r.hash) != 0)
        _exit(1);
    ssize_t n = write(out, &r, sizeof(r));
    _exit(n == (ssize_t)sizeof(r) ? 0 : 1);
}

static void reap(struct cc_snapshot_child *c)
{
    int st;
    while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
        ;
    c->pid = 0;
    if (c->ev) {
        event_free(c->ev);
        c->ev = NULL;
    }
    close(c->fd);
    c->fd = -1;
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
    struct cc_snapshot_child *c = arg;
    struct report r;
    ssize_t n;
    while ((n = read(c->fd, &r, sizeof(r))) < 0 && errno == EINTR)
        ;
    bool ok = n == (ssize_t)sizeof(r) && r.index == c->index;
    if (!ok)
        cc_error("the snapshot child for raft index %llu failed", (unsigned long long)c->index);
    reap(c);
    if (c->done)
        c->done(c->ctx, ok, r.index, ok ? r.len : 0, ok ? r.hash : 0);
}

int cc_snapshot_child_start(struct cc_snapshot_child *c, struct event_base *base,
                            struct cc_v2_store *store, uint64_t index, const char *member_dir)
{
    if (c->pid > 0)
        return -1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        cc_error("pipe for the snapshot child: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        cc_error("cannot fork the snapshot child: %s", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        child_main(p[1], store, index, member_dir);
    }
    close(p[1]);
    c->pid = pid;
    c->fd = p[0];
    c->index = index;
    c->ev = event_new(base, c->fd, EV_READ, on_report, c);
    if (c->ev == NULL || event_add(c->ev, NULL) != 0) {
        cc_error("cannot watch the snapshot child");
        cc_snapshot_child_stop(c);
        return -1;
    }
    return 0;
}

void cc_snapshot_child_stop(struct cc_snapshot_child *c)
{
    if (c->pid <= 0)
        return;
    kill(c->pid, SIGKILL);
    reap(c);
}
