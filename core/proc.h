/* The master's process table: one slot per worker of the node's role.
 *
 * A slot outlives its processes: when a worker dies, the slot keeps its
 * history (restarts, last exit status) and a new process takes its place
 * after a back-off delay. The state names are what `concordctl workers`
 * shows:
 *
 *   starting --READY--> ready --STOP sent--> stopping --exit--> (respawn or stopped)
 *       \                  \
 *        `-- unexpected exit --> backoff --delay--> starting
 */
#ifndef CC_CORE_PROC_H
#define CC_CORE_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/roles.h"
#include "ipc/control.h"

enum cc_proc_state {
    CC_PROC_STOPPED,
    CC_PROC_STARTING,
    CC_PROC_READY,
    CC_PROC_STOPPING,
    CC_PROC_BACKOFF,
};

/* Back-off: the first restart after a crash waits 100 ms, each further crash
 * doubles it up to 5 s; a worker that stayed up 30 s starts again at 100 ms. */
#define CC_BACKOFF_MIN_MS       100
#define CC_BACKOFF_MAX_MS       5000
#define CC_BACKOFF_RESET_S      30.0
#define CC_PROC_MAX_LINKS       8
#define CC_PROC_START_TIMEOUT_S 10.0

struct cc_proc_link {
    uint8_t peer_kind, state;
    uint32_t sendq;
    uint64_t sent, received, peer_gen;
};

struct cc_proc {
    enum cc_kind kind;
    enum cc_proc_state state;
    pid_t pid;
    uint64_t gen;
    struct cc_control ctl;
    unsigned restarts;
    bool exited_before;
    int last_exit_code;   /* valid when last_exit_signal == 0 */
    int last_exit_signal; /* 0: exited normally */
    double started_at, ready_at, last_heartbeat;
    unsigned backoff_ms;
    bool respawn_now;    /* the stop was asked for (reload/restart): no back-off */
    bool crashed_in_row; /* for the back-off */
    struct event *timer; /* start deadline, stop deadline or back-off delay */
    /* From the last STATUS. */
    uint32_t queue_depth, inflight;
    struct cc_proc_link links[CC_PROC_MAX_LINKS];
    size_t n_links;
    char detail[8192];
};

const char *cc_proc_state_name(enum cc_proc_state s);

/* The delay before restarting a worker that exited unexpectedly, given the
 * previous delay (0 = none yet) and how long it had been up. Pure. */
unsigned cc_proc_next_backoff(unsigned prev_ms, double up_for_s);

/* "signal 9", "exit 1", or "-" when it never exited. */
void cc_proc_last_exit_text(const struct cc_proc *p, char *buf, size_t len);

#endif
