/* The etcd v2 data model shared by the http worker (parsing, rendering,
 * its in-memory view, watches) and the storage worker (applying committed
 * requests): requests as they travel through consensus, nodes and events as
 * the store produces them, and errors.
 *
 * Paths are store paths, as in etcd: the user's keys live under "/1"
 * ("/1/foo" is the user's "/foo"), cluster state under "/0" and v2 auth
 * under "/2". Only the http layer adds or trims the "/1". */
#ifndef CC_CORE_V2_TYPES_H
#define CC_CORE_V2_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CC_V2_KEYS_PREFIX "/1"

/* What a request does; wire values inside raft entries: never renumber. */
enum cc_v2_method {
    CC_V2_GET = 1,    /* local read (never in the log) */
    CC_V2_HEAD = 2,   /* local read, headers only (never in the log) */
    CC_V2_PUT = 3,    /* set / create / update / compareAndSwap, by fields */
    CC_V2_POST = 4,   /* create an in-order key under path */
    CC_V2_DELETE = 5, /* delete / compareAndDelete, by fields */
    CC_V2_QGET = 6,   /* quorum=true read, through consensus */
    CC_V2_SYNC = 7,   /* the leader's time entry: expire what is due at time_ns */
};

/* A byte string that may hold any byte (values can contain NUL); p is
 * NUL-terminated for convenience, n excludes the NUL. */
struct cc_v2_str {
    char *p;
    size_t n;
};

/* etcd's etcdserverpb.Request, as far as v2 uses it. Fields that can be
 * "absent" say so explicitly (etcd's nullable bools). */
struct cc_v2_request {
    uint8_t method; /* enum cc_v2_method */
    char *path;     /* cleaned store path, e.g. "/1/foo"; never NULL */
    struct cc_v2_str value;
    struct cc_v2_str prev_value; /* n == 0: no prevValue condition */
    uint64_t prev_index;         /* 0: no prevIndex condition */
    int8_t prev_exist;           /* -1 absent, 0 false, 1 true */
    bool dir, recursive, sorted, quorum, wait, stream;
    bool refresh;             /* refresh=true (TTL only, invisible to watchers) */
    bool no_value_on_success; /* 3.x parameter, accepted */
    int64_t expiration_ns;    /* absolute Unix ns; 0 = no TTL */
    uint64_t wait_index;      /* waitIndex; 0 = absent */
    int64_t time_ns;          /* SYNC: expire everything due at or before this */
};

enum cc_v2_action {
    CC_V2_ACT_GET,
    CC_V2_ACT_SET,
    CC_V2_ACT_CREATE,
    CC_V2_ACT_UPDATE,
    CC_V2_ACT_DELETE,
    CC_V2_ACT_EXPIRE,
    CC_V2_ACT_CAS, /* "compareAndSwap" */
    CC_V2_ACT_CAD, /* "compareAndDelete" */
};

/* A node as clients see it (etcd's NodeExtern). key is the store path; the
 * renderer trims "/1". For a directory listing, nodes holds the children
 * (n_nodes may be 0 with has_nodes false: an empty dir has no "nodes"). */
struct cc_v2_node {
    char *key;
    struct cc_v2_str value;
    bool has_value; /* keys always (even ""), never dirs or delete events */
    bool dir;
    int64_t expiration_ns; /* 0: permanent */
    uint64_t modified_index, created_index;
    struct cc_v2_node *nodes;
    size_t n_nodes;
};

struct cc_v2_event {
    enum cc_v2_action action;
    struct cc_v2_node node;
    struct cc_v2_node *prev_node; /* NULL: none */
    uint64_t etcd_index;          /* the store index after this event (node.modified_index for
                                     mutations, the current index for a get) */
    bool refresh;                 /* a TTL refresh: applied, never shown to watchers */
};

/* etcd's error codes (V2-CONTRACT §1.6). */
enum cc_v2_errcode {
    CC_V2_E_KEY_NOT_FOUND = 100,
    CC_V2_E_TEST_FAILED = 101,
    CC_V2_E_NOT_FILE = 102,
    CC_V2_E_NOT_DIR = 104,
    CC_V2_E_NODE_EXIST = 105,
    CC_V2_E_ROOT_RONLY = 107,
    CC_V2_E_DIR_NOT_EMPTY = 108,
    CC_V2_E_UNAUTHORIZED = 110,
    CC_V2_E_PREV_VALUE_REQUIRED = 201,
    CC_V2_E_TTL_NAN = 202,
    CC_V2_E_INDEX_NAN = 203,
    CC_V2_E_INVALID_FIELD = 209,
    CC_V2_E_INVALID_FORM = 210,
    CC_V2_E_REFRESH_VALUE = 211,
    CC_V2_E_REFRESH_TTL_REQUIRED = 212,
    CC_V2_E_RAFT_INTERNAL = 300,
    CC_V2_E_LEADER_ELECT = 301,
    CC_V2_E_WATCHER_CLEARED = 400,
    CC_V2_E_EVENT_INDEX_CLEARED = 401,
};

struct cc_v2_error {
    int code;        /* enum cc_v2_errcode; 0 = no error */
    char cause[512]; /* store path form ("/1/foo"): the renderer trims "/1" */
    uint64_t index;  /* the store index at the failure (0 for parse errors) */
};

#endif
