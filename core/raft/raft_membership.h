/* Voter sets and the configuration history the core must be able to roll
 * back: the membership in effect at the snapshot point (the base) plus every
 * configuration entry appended above it. The latest one rules, committed or
 * not (thesis §4.1). */
#ifndef CC_CORE_RAFT_RAFT_MEMBERSHIP_H
#define CC_CORE_RAFT_RAFT_MEMBERSHIP_H

#include "core/raft/raft.h"

/* Inserts id keeping ids sorted. 0, or CC_RAFT_EINVAL (present, full, 0). */
int cc_raft_membership_add(struct cc_raft_membership *m, cc_raft_id id);
/* 0, or CC_RAFT_EINVAL when absent. */
int cc_raft_membership_remove(struct cc_raft_membership *m, cc_raft_id id);
/* Sorted, unique, non-zero ids and n in range. */
bool cc_raft_membership_valid(const struct cc_raft_membership *m);

static inline unsigned cc_raft_quorum(unsigned voters)
{
    return voters / 2 + 1;
}

struct cc_raft_confs {
    cc_raft_index base_index; /* the snapshot index */
    struct cc_raft_membership base;
    struct cc_raft_conf_point *p; /* ascending, all above base_index */
    size_t n, cap;
};

void cc_raft_confs_init(struct cc_raft_confs *c, cc_raft_index base_index,
                        const struct cc_raft_membership *base);
void cc_raft_confs_free(struct cc_raft_confs *c);
const struct cc_raft_membership *cc_raft_confs_current(const struct cc_raft_confs *c);
/* The membership in effect at index (the latest entry at or below it). */
const struct cc_raft_membership *cc_raft_confs_at(const struct cc_raft_confs *c,
                                                  cc_raft_index index);
/* Index of the latest configuration entry, base_index if none. */
cc_raft_index cc_raft_confs_last_index(const struct cc_raft_confs *c);
/* 0 or CC_RAFT_ENOMEM. */
int cc_raft_confs_push(struct cc_raft_confs *c, cc_raft_index index,
                       const struct cc_raft_membership *m);
/* Forgets entries with index >= from (their log entries were truncated). */
void cc_raft_confs_truncate(struct cc_raft_confs *c, cc_raft_index from);
/* The snapshot moved to upto: fold older entries into the base. */
void cc_raft_confs_compact(struct cc_raft_confs *c, cc_raft_index upto);
/* Only the given membership at index remains (snapshot installed). */
void cc_raft_confs_reset(struct cc_raft_confs *c, cc_raft_index index,
                         const struct cc_raft_membership *m);

#endif
