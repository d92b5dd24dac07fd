/* A member's identity: its own id, the cluster id and the initial members
 * with their peer URLs, fixed when the data dir is created.
 *
 * etcd reads --initial-cluster, --initial-cluster-state and
 * --initial-cluster-token only to create a member; once its data dir exists
 * they are ignored. Concord writes what they decided to
 * DATA_DIR/member/identity.json (atomically, fsynced) before any worker
 * starts, and every worker reads that file, so a member restarted with other
 * -initial-* flags keeps its ids and its peers. */
#ifndef CC_CORE_IDENTITY_H
#define CC_CORE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cluster_ids.h"
#include "core/config.h"

/* The master, before starting workers: loads the identity if the data dir
 * has one (then *created is false and a log line says the -initial-* flags
 * are ignored), else derives it from the configuration and writes it.
 * 0, or -1 with one line in err. */
int cc_identity_open(const struct cc_config *cfg, struct cc_cluster_def *out, bool *created,
                     char *err, size_t errlen);

/* A worker: reads the identity the master wrote. 0, or -1 with err. */
int cc_identity_load(const struct cc_config *cfg, struct cc_cluster_def *out, char *err,
                     size_t errlen);

/* True when DATA_DIR/member/identity.json exists. */
bool cc_identity_exists(const struct cc_config *cfg);

#endif
