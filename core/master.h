/* The master process: supervises the workers of the node's role.
 *
 * The master never serves a request and never opens raft or store state, so
 * that it stays simple and survives any worker's crash. It owns the
 * configuration, the listening sockets (inherited by the workers), the run
 * directory, the process table and the admin socket.
 *
 * Its life is one small state machine, advanced after every event:
 *
 *   M_STARTING   spawn the role's workers in table order, each after the
 *                previous one reported READY
 *   M_RUNNING    respawn any worker that dies, with back-off
 *   M_RELOADING  (SIGHUP) restart every worker, one at a time, in start order:
 *                stop it gracefully, respawn the binary on disk, wait for READY
 *   M_STOPPING   (SIGTERM/SIGINT) close the listening sockets, stop workers in
 *                reverse start order, each within its deadline (then SIGKILL)
 *   M_EXIT       every worker gone: leave the loop, exit 0
 */
#ifndef CC_CORE_MASTER_H
#define CC_CORE_MASTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/proc.h"
#include "core/roles.h"

#define CC_MASTER_MAX_LISTENERS 16

enum cc_master_state { M_STARTING, M_RUNNING, M_RELOADING, M_STOPPING, M_EXIT };

struct cc_admin;

struct cc_master {
    const struct cc_config *cfg;
    enum cc_role role;
    enum cc_master_state state;
    struct event_base *base;
    char self_exe[4096];
    int argc;
    char **argv; /* the node's own arguments, passed on to every worker */
    char run_dir[256];
    bool run_dir_fallback;
    bool run_dir_created; /* by this start (removed again if it fails) */
    char admin_path[256];
    int client_fds[CC_MASTER_MAX_LISTENERS], peer_fds[CC_MASTER_MAX_LISTENERS];
    size_t n_client, n_peer;
    struct cc_proc procs[CC_KIND_COUNT];
    const enum cc_kind *order; /* start order of the role's workers */
    size_t n_procs;
    size_t cursor; /* M_STARTING / M_RELOADING: next slot to handle */
    uint64_t next_gen;
    uint64_t reload_gen; /* next_gen when the reload began */
    double started_at;
    struct event *sig_evs[8];
    size_t n_sig_evs;
    struct cc_admin *admin;
    uint64_t member_id, cluster_id; /* from the identity; 0 for a proxy */
};

/* Runs the node; returns the process exit status. */
int cc_master_run(const struct cc_config *cfg, int argc, char **argv);

/* For the admin socket. */
struct cc_proc *cc_master_proc(struct cc_master *m, enum cc_kind kind);
/* Graceful restart of one worker; -1 with err if it cannot be done now. */
int cc_master_restart_worker(struct cc_master *m, enum cc_kind kind, char *err, size_t errlen);
/* SIGHUP and `concordctl reload`: rolling restart of every worker. */
void cc_master_reload(struct cc_master *m);
const char *cc_master_state_name(enum cc_master_state s);

#endif
