/* Trace-pinned ReadIndex: a linearizable read is answered only after the
 * leader has committed an entry of its term and heard from a majority in a
 * heartbeat round started after the read arrived. A follower redirects; a
 * leader cut off from the majority never answers OK. */
#include "tests/sim/scenario.h"

static void test_read_answered_after_leadership_is_confirmed(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_raft_index idx, at = 0;
    CHECK(cc_sim_propose(c, l, "v=1", &idx) == 0);
    CHECK(wait_applied(c, idx, 100));
    cc_sim_trace_skip(c);
    CHECK(cc_sim_read_index(c, l, 7) == 0);
    CHECK(cc_sim_read_answer(c, 7, &at) == 0); /* not before a heartbeat round */
    cc_sim_run(c, 20);
    CHECK(cc_sim_read_answer(c, 7, &at) == 1);
    CHECK(at == idx);
    CHECK_TRACE(c, "[  154] 2 read index #7\n"
                   "        read round 1 at commit 2\n"
                   "[  161] 2 < heartbeat resp from 1\n"
                   "        read 7 confirmed at index 2\n");
    scenario_end(c);
}

static void test_follower_redirects_reads(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_raft_id f = l == 1 ? 2 : 1;
    CHECK(cc_sim_read_index(c, f, 1) == CC_RAFT_ENOTLEADER);
    CHECK(cc_raft_leader(cc_sim_raft(c, f)) == l);
    scenario_end(c);
}

static void test_isolated_leader_never_confirms_a_read(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_sim_trace_skip(c);
    cc_sim_isolate(c, l);
    CHECK(cc_sim_read_index(c, l, 9) == 0);
    cc_sim_run(c, 300);
    /* It stepped down (check-quorum) and failed the read for a retry. */
    CHECK(cc_sim_read_answer(c, 9, NULL) == -1);
    CHECK_TRACE(c, "[  143] -- isolate 2\n"
                   "[  143] 2 read index #9\n"
                   "        read round 1 at commit 1\n"
                   "[  270] 1 tick\n"
                   "        election timeout as follower\n"
                   "        start pre-vote for term 2\n"
                   "[  272] 3 < pre-vote from 1\n"
                   "        grant pre-vote to 1 for term 2\n"
                   "[  273] 1 < pre-vote resp from 3\n"
                   "        pre-vote won with 2 of 3\n"
                   "        start election for term 2\n"
                   "[  279] 3 < vote from 1\n"
                   "        term 1 -> 2\n"
                   "        grant vote to 1 for term 2\n"
                   "[  284] 1 < vote resp from 3\n"
                   "        election won with 2 of 3 votes\n"
                   "        candidate -> leader in term 2\n"
                   "[  287] 3 < append from 1\n"
                   "        leader is 1\n"
                   "        append 2^2\n"
                   "[  292] 1 < append resp from 3\n"
                   "        commit 0 -> 2\n"
                   "[  295] 3 < append from 1\n"
                   "        commit 0 -> 2\n"
                   "[  326] 2 tick\n"
                   "        no quorum heard for an election timeout: step down\n"
                   "        read 9 failed: leadership lost\n"
                   "        leader -> follower\n");
    scenario_end(c);
}

int main(void)
{
    RUN(test_read_answered_after_leadership_is_confirmed);
    RUN(test_follower_redirects_reads);
    RUN(test_isolated_leader_never_confirms_a_read);
    return unit_report();
}
