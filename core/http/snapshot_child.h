/* Writing the view out as a snapshot without stopping the http worker.
 *
 * Serialising 100 000 keys takes ~40 ms and writing and syncing the ~23 MB
 * far longer; done in the worker's loop, every request would wait for it
 * once per --snapshot-count writes. So the worker forks: the child has a
 * copy-on-write image of the store as it is at that instant, serialises
 * it into DATA_DIR/member/CC_SNAP_VIEW_TMP (core/storage/snap_file.h:
 * data only, the header is storage's), syncs it, reports its length and
 * hash on a pipe and exits; the worker goes on serving meanwhile and, when
 * the report comes, tells storage (SNAPSHOT_SAVE), which seals the file
 * with the entry's term and the voters. The child touches nothing but the
 * store's memory, malloc and that file (no nanomsg, no libevent), and
 * dies with the worker. */
#ifndef CC_CORE_HTTP_SNAPSHOT_CHILD_H
#define CC_CORE_HTTP_SNAPSHOT_CHILD_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/v2/store.h"

/* ok: the file holds `len` data bytes of the store at `index`, with FNV-1a
 * 64 `hash`. */
typedef void (*cc_snapshot_child_done_fn)(void *ctx, bool ok, uint64_t index, uint64_t len,
                                          uint64_t hash);

struct cc_snapshot_child {
    pid_t pid; /* 0: none running */
    int fd;    /* the report pipe's read end */
    struct event *ev;
    uint64_t index;
    cc_snapshot_child_done_fn done;
    void *ctx;
};

void cc_snapshot_child_init(struct cc_snapshot_child *c, cc_snapshot_child_done_fn done, void *ctx);
/* Forks a child writing store (at raft index) into member_dir. 0, or -1
 * when one is running already or the fork failed (logged). */
int cc_snapshot_child_start(struct cc_snapshot_child *c, struct event_base *base,
                            struct cc_v2_store *store, uint64_t index, const char *member_dir);
bool cc_snapshot_child_running(const struct cc_snapshot_child *c);
/* Kills and reaps a running child (the worker is exiting). */
void cc_snapshot_child_stop(struct cc_snapshot_child *c);

#endif
