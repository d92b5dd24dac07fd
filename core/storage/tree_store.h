/* The v2 key tree of the storage worker: the deterministic store
 * (core/v2/store.h) in memory, written through to Berkeley DB.
 *
 * Every node change the store reports while it applies an entry is written
 * to nodes.db inside the caller's transaction, with the new store index
 * and each new event (history.db keeps the last CC_V2_HISTORY_CAP), so the
 * tree on disk always matches the applied index stored in the same
 * transaction. At start the store is rebuilt from those tables: no replay
 * of applied entries. */
#ifndef CC_CORE_STORAGE_TREE_STORE_H
#define CC_CORE_STORAGE_TREE_STORE_H

#include "core/storage/db.h"
#include "core/v2/store.h"
#include "proto/msg.h"

struct cc_tree_store {
    struct cc_db *db;
    struct cc_v2_store *store;
    DB_TXN *txn; /* the transaction of the entry being applied */
    int err;     /* the first database error met by a hook during it */
};

/* The namespaces every store is created with (etcd's /0 and /1). */
extern const char *const cc_tree_namespaces[];
extern const size_t cc_tree_n_namespaces;

/* Loads the tree, its index and its history from the database. */
int cc_tree_store_open(struct cc_tree_store *t, struct cc_db *db, char *err, size_t errlen);
void cc_tree_store_close(struct cc_tree_store *t);

/* Applies one committed raft entry inside txn. 0, or -1 / a BDB error (the
 * transaction must then be aborted and the in-memory store is reloaded). */
int cc_tree_store_apply(struct cc_tree_store *t, DB_TXN *txn, const struct cc_entry *e);

/* The whole store, for a http worker that must start from scratch. */
int cc_tree_store_snapshot(struct cc_tree_store *t, struct cc_buf *out);
uint64_t cc_tree_store_index(const struct cc_tree_store *t);

/* Replaces the whole tree (memory and tables) by a snapshot's, in txn.
 * 0, -1 (the bytes do not load) or a BDB error; on error the in-memory tree
 * is unchanged. */
int cc_tree_store_install(struct cc_tree_store *t, DB_TXN *txn, const void *snap, size_t len);

/* A hash of the store (tree, index, history) that equal stores share: for
 * comparing members (admin `hash`). 0 or -1 (out of memory). */
int cc_tree_store_hash(struct cc_tree_store *t, uint64_t *hash);

#endif
