/* ReadIndex (thesis §6.4): a linearizable read without a log write.
 *
 * The leader notes its commit index when the read arrives, then makes sure
 * it is still the leader by hearing from a majority in a heartbeat round
 * sent after that moment. Until its no-op of the term is committed, its
 * commit index may lag what an earlier leader committed, so reads wait for
 * that first. Rounds are numbered (read_seq): an answer for round s
 * confirms every read of rounds <= s. */
#include <stdlib.h>
#include <string.h>

#include "core/raft/raft_state.h"

#define ULL(x) ((unsigned long long)(x))

int cc_raft_read_index(struct cc_raft *r, uint64_t ctx)
{
    if (r->role != CC_RAFT_LEADER)
        return CC_RAFT_ENOTLEADER;
    if (r->n_reads == r->cap_reads) {
        size_t cap = r->cap_reads ? r->cap_reads * 2 : 16;
        struct cc_raft_pending_read *v = realloc(r->reads, cap * sizeof(*v));
        if (v == NULL)
            return CC_RAFT_ENOMEM;
        r->reads = v;
        r->cap_reads = cap;
    }
    struct cc_raft_pending_read *p = &r->reads[r->n_reads++];
    memset(p, 0, sizeof(*p));
    p->ctx = ctx;
    return cc_raft_reads_start(r);
}

int cc_raft_reads_start(struct cc_raft *r)
{
    if (r->role != CC_RAFT_LEADER || r->commit < r->noop_index)
        return 0;
    bool started = false;
    for (size_t i = 0; i < r->n_reads; i++) {
        if (r->reads[i].seq != 0)
            continue;
        if (!started)
            r->read_seq++;
        started = true;
        r->reads[i].seq = r->read_seq;
        r->reads[i].index = r->commit;
    }
    if (!started)
        return 0;
    cc_raft_tracef(r, "read round %llu at commit %llu", ULL(r->read_seq), ULL(r->commit));
    int rc = r->n_pr > 0 ? cc_raft_bcast_heartbeat(r) : 0;
    if (rc != 0)
        return rc;
    return cc_raft_reads_confirm(r);
}

static int desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int cc_raft_reads_confirm(struct cc_raft *r)
{
    const struct cc_raft_membership *v = cc_raft_voters(r);
    if (r->n_reads == 0 || v->n == 0)
        return 0;
    uint64_t acks[CC_RAFT_MAX_MEMBERS];
    for (unsigned i = 0; i < v->n; i++) {
        const struct cc_raft_progress *pr = cc_raft_progress_of(r, v->ids[i]);
        acks[i] = v->ids[i] == r->id ? UINT64_MAX : pr != NULL ? pr->read_ack : 0;
    }
    qsort(acks, v->n, sizeof(acks[0]), desc);
    uint64_t confirmed = acks[cc_raft_quorum(v->n) - 1];
    size_t k = 0;
    while (k < r->n_reads && r->reads[k].seq != 0 && r->reads[k].seq <= confirmed) {
        cc_raft_tracef(r, "read %llu confirmed at index %llu", ULL(r->reads[k].ctx),
                       ULL(r->reads[k].index));
        int rc = cc_raft_out_read(r, r->reads[k].ctx, CC_RAFT_OK, r->reads[k].index);
        if (rc != 0)
            return rc;
        k++;
    }
    memmove(r->reads, r->reads + k, (r->n_reads - k) * sizeof(*r->reads));
    r->n_reads -= k;
    return 0;
}

void cc_raft_reads_fail(struct cc_raft *r)
{
    for (size_t k = 0; k < r->n_reads; k++) {
        cc_raft_tracef(r, "read %llu failed: leadership lost", ULL(r->reads[k].ctx));
        if (cc_raft_out_read(r, r->reads[k].ctx, CC_RAFT_ENOTLEADER, 0) != 0)
            r->out.err = CC_RAFT_ENOMEM;
    }
    r->n_reads = 0;
}
