/* The control channel between the master and one worker.
 *
 * A plain SOCK_SEQPACKET socketpair, not nanomsg: the master must see a
 * worker's death and a worker its master's at once, and EOF on a socketpair
 * says exactly that (nanomsg hides connection state). Each datagram holds one
 * or more proto frames: READY and STATUS upwards; STOP, PEER_RESTARTED and
 * LOG_REOPEN downwards. */
#ifndef CC_IPC_CONTROL_H
#define CC_IPC_CONTROL_H

#include "proto/msg.h"

struct event_base;
struct event;
struct cc_control;

typedef void (*cc_control_msg_fn)(struct cc_control *c, const struct cc_msg *m, void *arg);
/* The other end closed (or the socket failed). */
typedef void (*cc_control_eof_fn)(struct cc_control *c, void *arg);

struct cc_control {
    int fd;
    struct event *ev;
    cc_control_msg_fn on_msg;
    cc_control_eof_fn on_eof;
    void *arg;
    const char *peer_name; /* for log lines */
};

/* Creates the pair: fds[0] for the master, fds[1] for the worker; both
 * close-on-exec (the worker's end is made inheritable in the child only). */
int cc_control_pair(int fds[2]);

int cc_control_start(struct cc_control *c, struct event_base *base, int fd, const char *peer_name,
                     cc_control_msg_fn on_msg, cc_control_eof_fn on_eof, void *arg);
void cc_control_stop(struct cc_control *c);

/* Sends one message as its own datagram. 0, or -1 (peer gone or buffer full). */
int cc_control_send(struct cc_control *c, const struct cc_msg *m);

#endif
