/* One nanomsg link between two workers, driven by libevent.
 *
 * Frames sent during one loop turn are gathered and leave as ONE nanomsg
 * message when the turn's other callbacks have run (nanomsg's cost is per
 * message, not per byte: STACK.md). The receive side drains its socket until
 * EAGAIN (NN_RCVFD is level-triggered) and hands every frame to on_msg.
 *
 * The link greets its peer itself: HELLO when it opens, HELLO_ACK in answer;
 * either marks the link up and records the peer's generation. Until it hears
 * back, it greets again every CC_LINK_RETRY_MS over a reopened socket (the
 * connecting side each time, the binding side every third time): nanomsg
 * may never reconnect on its own (STACK.md), and a PAIR may keep a dead
 * peer's pipe, so one lost greeting must not leave a link down for good.
 * What was queued for a peer that restarted is dropped when the link
 * reopens: the layer above owns request ids and resyncs. */
#ifndef CC_IPC_LINK_H
#define CC_IPC_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/wiring.h"
#include "proto/msg.h"
#include "proto/wire.h"

struct event_base;
struct event;
struct cc_link;

typedef void (*cc_link_msg_fn)(struct cc_link *l, const struct cc_msg *m, void *arg);
/* Called when the link comes up (first HELLO/HELLO_ACK from a new peer generation). */
typedef void (*cc_link_up_fn)(struct cc_link *l, void *arg);

struct cc_link_pending;

#define CC_LINK_RETRY_MS 200

struct cc_link {
    const struct cc_link_def *def;
    enum cc_kind self;
    enum cc_kind peer;
    bool binder;
    char addr[128];
    uint64_t self_gen;
    int sock; /* nanomsg socket, -1 when closed */
    struct event_base *base;
    struct event *rcv_ev, *snd_ev, *flush_ev, *retry_ev;
    struct cc_buf batch; /* frames gathered during this loop turn */
    uint32_t batch_frames;
    struct cc_link_pending *head, *tail; /* messages nanomsg refused (EAGAIN) */
    uint32_t pending_frames;
    size_t pending_bytes;
    uint64_t sent, received, dropped; /* frames */
    bool up;
    unsigned retries; /* greetings sent without an answer */
    uint64_t peer_gen;
    uint32_t peer_pid;
    cc_link_msg_fn on_msg;
    cc_link_up_fn on_up;
    void *arg;
};

/* Prepares and opens the link (bind or connect by the wiring table), then
 * queues a HELLO. Returns 0, or -1 after logging why. */
int cc_link_open(struct cc_link *l, struct event_base *base, const struct cc_link_def *def,
                 enum cc_kind self, uint64_t self_gen, const char *run_dir, cc_link_msg_fn on_msg,
                 cc_link_up_fn on_up, void *arg);

/* Closes the socket and drops whatever was queued. */
void cc_link_close(struct cc_link *l);

/* The peer restarted as generation gen: the link is down until the new peer
 * greets. The connecting side reopens its socket; the binding side keeps it
 * (the new peer connects to it) and greets again. Nothing happens when the
 * link already talks to that generation (it greeted before the master's
 * notice arrived): what is queued for it must not be dropped. */
int cc_link_reset(struct cc_link *l, uint64_t gen);

/* Queues one frame; it leaves at the end of this loop turn. 0 or -1. */
int cc_link_send(struct cc_link *l, const struct cc_msg *m);
/* Queues n_frames frames already encoded back to back (cc_msg_encode,
 * cc_raft_wire_encode), saving a decode/encode round. */
int cc_link_send_raw(struct cc_link *l, const uint8_t *frames, size_t len, uint32_t n_frames);

/* Sends this turn's batch now instead of at the end of the turn: for an
 * answer someone waits on while the turn still has slow work to do. */
void cc_link_flush_now(struct cc_link *l);

/* Frames waiting to leave (this turn's batch plus what nanomsg refused). */
uint32_t cc_link_queue_depth(const struct cc_link *l);

#endif
