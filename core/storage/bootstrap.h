/* The first entries of a new cluster's log.
 *
 * Like etcd, which starts every member of a new cluster with the same
 * configuration entries at term 1, every Concord member of a new cluster
 * writes the same entries at indexes 1..n+1, term 1, already committed: the
 * members' peer URLs (/0/members/<id>/raftAttributes, in id order) and the
 * cluster version (/0/version). They depend only on the identity, which is
 * the same on every member, so the logs agree without any election, and the
 * first leader is elected in term 2 on top of them. */
#ifndef CC_CORE_STORAGE_BOOTSTRAP_H
#define CC_CORE_STORAGE_BOOTSTRAP_H

#include "core/cluster_ids.h"
#include "proto/msg.h"

#define CC_BOOTSTRAP_TERM 1

/* Appends the entry records to out. 0 or -1 (out of memory). */
int cc_bootstrap_entries(const struct cc_cluster_def *id, struct cc_buf *out, uint32_t *count);

#endif
