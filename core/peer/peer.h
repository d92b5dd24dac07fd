/* The peer-transport worker's shared state, for its three files:
 *
 *   peer_worker.c   wiring: identity, listeners, the consensus link, status,
 *                   stop; routes consensus's frames to the dialed peers
 *   peer_inbound.c  connections accepted on the peer port: HTTP or frames
 *                   (received raft traffic goes to consensus)
 *   peer_dial.c     one outgoing connection per other member, for sending
 *
 * etcd's transport shape: each member dials every other one and sends on
 * that connection, and receives on the connections others dialed to it. A
 * connection therefore carries traffic one way, and nothing depends on two
 * members agreeing which of them dials. */
#ifndef CC_CORE_PEER_PEER_H
#define CC_CORE_PEER_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/cluster_ids.h"
#include "core/peer/peer_conn.h"
#include "core/worker.h"

struct bufferevent;
struct event;
struct evconnlistener;
struct evdns_base;
struct evdns_getaddrinfo_request;

/* Until a connection accepted on the peer port has said what it is (HTTP
 * head read, or handshake done), and for a dialed one to answer our hello. */
#define CC_PEER_HANDSHAKE_MS 10000
#define CC_PEER_CONNECT_MS   1000
/* Redial backoff: doubling from the first to the last, back to the first
 * once a connection is up. */
#define CC_PEER_BACKOFF_MIN_MS 50
#define CC_PEER_BACKOFF_MAX_MS 1000
/* A peer's unsent bytes past which RAFT, PEER_PROPOSE and the other small
 * messages are dropped (raft retransmits), and past which a snapshot chunk is dropped and the
 * connection closed (raft restarts the transfer). */
#define CC_PEER_QUEUE_MAX      (64u * 1024 * 1024)
#define CC_PEER_SNAP_QUEUE_MAX (256u * 1024 * 1024)
/* At most this many connections accepted and not closed yet (HTTP,
 * handshaking or handshaken): each holds a buffer and a descriptor. */
#define CC_PEER_MAX_INBOUND 1024
/* A rate-limited line per peer at most this often. */
#define CC_PEER_LOG_EVERY_S 5.0

enum cc_peer_state {
    CC_PEER_BACKOFF,    /* waiting to redial */
    CC_PEER_RESOLVING,  /* looking up a host name */
    CC_PEER_CONNECTING, /* TCP connect in progress */
    CC_PEER_HELLO_SENT, /* connected, waiting for the answer to our hello */
    CC_PEER_CONNECTED,  /* handshaken: frames for this member go here */
};

/* One other member and our outgoing connection to it. */
struct cc_peer {
    struct cc_peer_worker *pw;
    uint64_t id;
    const struct cc_url *url; /* its first peer URL (in pw->cluster) */
    enum cc_peer_state state;
    struct bufferevent *bev; /* the dialed connection, NULL when none */
    struct cc_peer_conn conn;
    struct event *timer; /* backoff, connect timeout or hello deadline */
    struct evdns_getaddrinfo_request *dns_req;
    unsigned backoff_ms;
    uint64_t sent, received, dropped;
    /* The last failure logged: the same one again is not logged again
     * (a peer that is down would otherwise log every second). */
    char last_failure[CC_PEER_REASON_MAX];
    char refused[CC_PEER_REASON_MAX]; /* the last refusal, for the status */
    double drop_logged_at;
    uint64_t drops_unlogged;
};

struct cc_inbound;

struct cc_peer_worker {
    struct cc_worker *w;
    struct cc_cluster_def cluster;
    uint64_t member_ids[CC_MAX_MEMBERS];
    size_t n_members;
    struct evconnlistener *listeners[CC_WORKER_MAX_LISTENERS];
    size_t n_listeners;
    struct event *relisten; /* re-enables the listeners after EMFILE */
    struct cc_peer peers[CC_MAX_MEMBERS];
    size_t n_peers;
    struct cc_inbound *inbound; /* every accepted connection still open */
    size_t n_inbound;           /* ... of them */
    size_t n_inbound_peers;     /* ... of them handshaken */
    /* The host of our own first peer URL, resolved: dialed connections
     * leave from it. */
    struct sockaddr_storage bind_addr;
    socklen_t bind_len;
    struct evdns_base *dns; /* created the first time a peer URL has a name */
    struct cc_buf scratch;  /* one frame being encoded */
    uint64_t http_requests, refused_inbound, dropped_unknown;
    bool stopping;
    struct event *stop_check;
    double stop_until; /* cc_now() past which the stop stops waiting for sends */
    /* Lines about strangers (refusals, garbage): the same text from the
     * same host at most once per CC_PEER_LOG_EVERY_S. */
    struct {
        uint64_t key;
        double at;
        uint64_t suppressed;
    } recent[16];
};

/* peer_dial.c */
int cc_peer_dial_init(struct cc_peer_worker *pw);
/* Writes one frame of member traffic (cc_peer_traffic) to member `to`. */
void cc_peer_dial_send(struct cc_peer_worker *pw, uint64_t to, const struct cc_msg *m);
void cc_peer_dial_close_all(struct cc_peer_worker *pw);
/* Bytes not yet written on every dialed connection, or on p's. */
size_t cc_peer_dial_pending(const struct cc_peer_worker *pw);
size_t cc_peer_dial_pending_one(const struct cc_peer *p);
struct cc_peer *cc_peer_find(struct cc_peer_worker *pw, uint64_t id);
const char *cc_peer_state_name(enum cc_peer_state s);

/* peer_inbound.c */
void cc_peer_inbound_accept(struct cc_peer_worker *pw, int fd, const struct sockaddr *sa,
                            int salen);
void cc_peer_inbound_close_all(struct cc_peer_worker *pw);

/* peer_worker.c */
/* A warning about a remote, logged unless one about the same (host, what)
 * was logged within CC_PEER_LOG_EVERY_S: a misconfigured member redials
 * every second, each time from another port. what is the reason without
 * the varying parts (addresses, ports). */
void cc_peer_warn_limited(struct cc_peer_worker *pw, const char *host, const char *what,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "ip:port" of a socket address. */
void cc_peer_addr_text(const struct sockaddr *sa, socklen_t len, char *out, size_t outlen);
/* Sets TCP_NODELAY and keepalive on a peer connection's socket. */
void cc_peer_tune_socket(int fd);

#endif
