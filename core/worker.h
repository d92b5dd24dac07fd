/* The scaffold every worker process shares.
 *
 * A worker is the concord binary re-executed by the master with hidden
 * arguments (kind, generation, control fd, inherited listening fds, run
 * directory), followed by the node's original command line, which it parses
 * again (silently) to get the same configuration as the master.
 *
 * The scaffold owns the event loop, the control channel to the master (READY,
 * a STATUS heartbeat every 500 ms, STOP, PEER_RESTARTED, LOG_REOPEN), the
 * nanomsg links of the wiring table, and the exit paths: EOF on the control
 * channel means the master is gone, and the worker exits at once. A kind's
 * main function fills in the hooks, opens what it owns, calls
 * cc_worker_ready() and returns cc_worker_loop(). */
#ifndef CC_CORE_WORKER_H
#define CC_CORE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/roles.h"
#include "ipc/control.h"
#include "ipc/link.h"

#define CC_WORKER_MAX_LINKS     8
#define CC_WORKER_MAX_LISTENERS 16
/* How often a worker reports to the master (the issue asks for >= 1/s). */
#define CC_WORKER_STATUS_MS 500

struct cc_worker {
    enum cc_kind kind;
    const struct cc_kind_info *info;
    uint64_t gen;
    struct cc_config cfg;
    char run_dir[256];
    struct event_base *base;
    struct cc_control ctl;
    int listen_fds[CC_WORKER_MAX_LISTENERS];
    size_t n_listen;
    struct cc_link links[CC_WORKER_MAX_LINKS];
    size_t n_links;
    struct event *status_timer, *stop_timer, *sigterm_ev;
    bool stopping;
    int exit_code;

    /* Hooks (any may be NULL). */
    void (*on_link_msg)(struct cc_worker *w, struct cc_link *l, const struct cc_msg *m);
    /* A link came up with a new peer generation: resend what the peer needs. */
    void (*on_link_up)(struct cc_worker *w, struct cc_link *l);
    /* Graceful stop: stop taking work, finish within deadline_ms, then call
     * cc_worker_exit(). Without the hook the worker exits at once. */
    void (*on_stop)(struct cc_worker *w, unsigned deadline_ms);
    /* Last words before the process exits (close databases, flush). */
    void (*on_exit)(struct cc_worker *w);
    /* Requests awaiting an answer and a small JSON object of kind-specific
     * gauges, for the master's status. */
    uint32_t (*inflight)(struct cc_worker *w);
    void (*detail_json)(struct cc_worker *w, char *buf, size_t len);
    /* A control message the scaffold does not handle itself (HASH_REQ);
     * answer with cc_control_send(&w->ctl, ...). */
    void (*on_control_msg)(struct cc_worker *w, const struct cc_msg *m);
    void *state;
};

/* Entry point when argv[1] is "--cc-worker". Returns the exit status. */
int cc_worker_process_main(int argc, char **argv, char **envp);

/* Opens every link of this kind's wiring rows. 0 or -1. */
int cc_worker_open_links(struct cc_worker *w);
/* The link to the worker of that kind, or NULL. */
struct cc_link *cc_worker_link(struct cc_worker *w, enum cc_kind peer);

/* Tells the master this worker serves. */
void cc_worker_ready(struct cc_worker *w);
/* Runs the loop until cc_worker_exit(); returns the exit status. */
int cc_worker_loop(struct cc_worker *w);
/* Ends the loop; the process then exits with code. */
void cc_worker_exit(struct cc_worker *w, int code);

/* Monotonic seconds. */
double cc_now(void);

#endif
