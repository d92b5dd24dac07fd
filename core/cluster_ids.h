/* Member and cluster ids, derived as etcd 2 derives them, so that every
 * member computes the same ids from the same --initial-cluster and token:
 *   member id  = first 8 bytes (big-endian) of SHA-1(sorted peer URLs
 *                concatenated + token)
 *   cluster id = first 8 bytes of SHA-1(the sorted member ids as 8-byte
 *                big-endian words). */
#ifndef CC_CORE_CLUSTER_IDS_H
#define CC_CORE_CLUSTER_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define CC_MAX_MEMBERS 16

struct cc_member_def {
    uint64_t id;
    const char *name;             /* the config's, or name_owned */
    char *name_owned;             /* set when read from the identity file */
    struct cc_url_list peer_urls; /* owned */
};

struct cc_cluster_def {
    uint64_t cluster_id;
    uint64_t self_id;
    size_t n;
    struct cc_member_def members[CC_MAX_MEMBERS]; /* sorted by id */
};

/* From --initial-cluster (grouped by name) and --initial-cluster-token.
 * 0, or -1 with err. */
int cc_cluster_from_config(const struct cc_config *cfg, struct cc_cluster_def *out, char *err,
                           size_t errlen);
void cc_cluster_def_free(struct cc_cluster_def *c);

uint64_t cc_member_id(const struct cc_url_list *peer_urls, const char *token);
uint64_t cc_cluster_id(const uint64_t *sorted_ids, size_t n);

#endif
