/* Trace-pinned elections: a single node, a three-node cluster, a leader
 * crash, check-quorum deposing a partitioned leader whose minority never
 * commits, and pre-vote keeping a rejoining node from disrupting.
 *
 * Traces change whenever the core's decisions do: rerun with
 * CC_SIM_PRINT_TRACE=1, read the new trace, and paste it if it is right. */
#include "tests/sim/scenario.h"

static void test_single_node_elects_itself_and_commits(void)
{
    struct cc_sim *c = scenario_new(1, 1, NULL);
    CHECK(cc_sim_run_until_leader(c, 1000) == 1);
    CHECK_TRACE(c, "[  190] 1 tick\n"
                   "        election timeout as follower\n"
                   "        start pre-vote for term 1\n"
                   "        pre-vote won with 1 of 1\n"
                   "        start election for term 1\n"
                   "        election won with 1 of 1 votes\n"
                   "        candidate -> leader in term 1\n"
                   "[  191] 1 persisted 1^1\n"
                   "        commit 0 -> 1\n");
    cc_raft_index idx = 0;
    CHECK(cc_sim_propose(c, 1, "x=1", &idx) == 0);
    CHECK(idx == 2);
    /* Committed and applied as soon as its own disk has it. */
    CHECK(wait_applied(c, idx, 20));
    CHECK_TRACE(c, "[  191] 1 propose \"x=1\"\n"
                   "        propose 2^1\n"
                   "[  194] 1 persisted 2^1\n"
                   "        commit 1 -> 2\n");
    scenario_end(c);
}

static void test_three_node_election(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    CHECK(l == 2);
    CHECK_TRACE(c, "[  126] 2 tick\n"
                   "        election timeout as follower\n"
                   "        start pre-vote for term 1\n"
                   "[  127] 1 < pre-vote from 2\n"
                   "        grant pre-vote to 2 for term 1\n"
                   "[  128] 2 < pre-vote resp from 1\n"
                   "        pre-vote won with 2 of 3\n"
                   "        start election for term 1\n"
                   "[  130] 3 < pre-vote from 2\n"
                   "        grant pre-vote to 2 for term 1\n"
                   "[  131] 1 < vote from 2\n"
                   "        term 0 -> 1\n"
                   "        grant vote to 2 for term 1\n"
                   "[  135] 3 < vote from 2\n"
                   "        term 0 -> 1\n"
                   "        grant vote to 2 for term 1\n"
                   "[  135] 2 < vote resp from 1\n"
                   "        election won with 2 of 3 votes\n"
                   "        candidate -> leader in term 1\n"
                   "[  138] 1 < append from 2\n"
                   "        leader is 2\n"
                   "        append 1^1\n"
                   "[  138] 3 < heartbeat from 2\n"
                   "        leader is 2\n"
                   "[  141] 3 < append from 2\n"
                   "        append 1^1\n"
                   "[  143] 2 < append resp from 1\n"
                   "        commit 0 -> 1\n");
    CHECK(term_of(c, 1) == 1 && term_of(c, 3) == 1);
    scenario_end(c);
}

static void test_leader_crash_and_reelection(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_sim_trace_skip(c); /* pinned by test_three_node_election */
    cc_raft_index idx;
    CHECK(cc_sim_propose(c, l, "a", &idx) == 0);
    CHECK(wait_applied(c, idx, 100));
    CHECK_TRACE(c, "[  143] 2 propose \"a\"\n"
                   "        propose 2^1\n"
                   "[  145] 1 < append from 2\n"
                   "        commit 0 -> 1\n"
                   "[  145] 1 < append from 2\n"
                   "        append 2^1\n"
                   "[  148] 2 < append resp from 1\n"
                   "        commit 1 -> 2\n"
                   "[  151] 3 < append from 2\n"
                   "        append 2^1\n"
                   "        commit 0 -> 1\n"
                   "[  151] 1 < append from 2\n"
                   "        commit 1 -> 2\n"
                   "[  153] 3 < append from 2\n"
                   "        commit 1 -> 2\n");
    cc_sim_crash(c, l);
    cc_raft_id l2 = cc_sim_run_until_leader(c, 1000);
    CHECK(l2 != 0 && l2 != l);
    CHECK_TRACE(c, "[  154] -- crash 2\n"
                   "[  290] 1 tick\n"
                   "        election timeout as follower\n"
                   "        start pre-vote for term 2\n"
                   "[  294] 3 < pre-vote from 1\n"
                   "        grant pre-vote to 1 for term 2\n"
                   "[  299] 3 tick\n"
                   "        election timeout as follower\n"
                   "        start pre-vote for term 2\n"
                   "[  299] 1 < pre-vote resp from 3\n"
                   "        pre-vote won with 2 of 3\n"
                   "        start election for term 2\n"
                   "[  303] 1 < pre-vote from 3\n"
                   "        reject pre-vote from 3 for term 2: already voted or have a leader\n"
                   "[  305] 3 < pre-vote resp from 1\n"
                   "        term 1 -> 2\n"
                   "        pre-candidate -> follower\n"
                   "[  306] 3 < vote from 1\n"
                   "        grant vote to 1 for term 2\n"
                   "[  310] 1 < vote resp from 3\n"
                   "        election won with 2 of 3 votes\n"
                   "        candidate -> leader in term 2\n"
                   "[  313] 3 < append from 1\n"
                   "        leader is 1\n"
                   "        append 3^2\n"
                   "[  317] 1 < append resp from 3\n"
                   "        commit 2 -> 3\n");
    cc_sim_restart(c, l);
    CHECK(cc_sim_propose(c, l2, "b", &idx) == 0);
    CHECK(wait_applied(c, idx, 200));
    CHECK(role_of(c, l) == CC_RAFT_FOLLOWER);
    CHECK(same_state(c));
    CHECK_TRACE(c, "[  317] -- restart 2\n"
                   "[  317] 1 propose \"b\"\n"
                   "        propose 4^2\n"
                   "[  321] 3 < append from 1\n"
                   "        commit 2 -> 3\n"
                   "[  321] 3 < append from 1\n"
                   "        append 4^2\n"
                   "[  321] 2 < heartbeat from 1\n"
                   "        term 1 -> 2\n"
                   "        leader is 1\n"
                   "[  324] 2 < append from 1\n"
                   "        append 3^2..4^2\n"
                   "        commit 0 -> 3\n"
                   "[  328] 1 < append resp from 3\n"
                   "        commit 3 -> 4\n"
                   "[  332] 3 < append from 1\n"
                   "        commit 3 -> 4\n"
                   "[  336] 2 < append from 1\n"
                   "        commit 3 -> 4\n");
    scenario_end(c);
}

static void test_partitioned_leader_steps_down(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_sim_trace_skip(c); /* pinned by test_three_node_election */
    cc_sim_isolate(c, l);
    cc_raft_index lost;
    CHECK(cc_sim_propose(c, l, "lost", &lost) == 0);
    /* Check-quorum: within two election timeouts the leader notices it
     * hears from nobody and steps down; the majority elects another. */
    cc_sim_run(c, 250);
    CHECK(role_of(c, l) == CC_RAFT_FOLLOWER);
    CHECK(cc_raft_commit(cc_sim_raft(c, l)) < lost);
    cc_raft_id l2 = cc_sim_run_until_leader(c, 1000);
    CHECK(l2 != 0 && l2 != l);
    CHECK_TRACE(c, "[  143] -- isolate 2\n"
                   "[  143] 2 propose \"lost\"\n"
                   "        propose 2^1\n"
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
                   "        leader -> follower\n");
    cc_raft_index idx;
    CHECK(cc_sim_propose(c, l2, "kept", &idx) == 0);
    cc_sim_run(c, 100);
    CHECK(cc_raft_commit(cc_sim_raft(c, l)) < lost); /* the minority never commits */
    cc_sim_heal(c);
    CHECK(wait_applied(c, idx, 500));
    CHECK(same_state(c));
    /* Its entry was replaced by the new leader's. */
    cc_raft_term t = 0;
    CHECK(cc_raft_log_term(cc_sim_raft(c, l), lost, &t) && t == term_of(c, l2));
    CHECK_TRACE(c, "[  393] 1 propose \"kept\"\n"
                   "        propose 3^2\n"
                   "[  394] 3 < append from 1\n"
                   "        append 3^2\n"
                   "[  398] 1 < append resp from 3\n"
                   "        commit 2 -> 3\n"
                   "[  402] 3 < append from 1\n"
                   "        commit 2 -> 3\n"
                   "[  493] -- heal the network\n"
                   "[  496] 2 tick\n"
                   "        election timeout as follower\n"
                   "        start pre-vote for term 2\n"
                   "[  497] 1 < pre-vote from 2\n"
                   "        reject pre-vote from 2 for term 2: already voted or have a leader\n"
                   "[  499] 2 < pre-vote resp from 1\n"
                   "        term 1 -> 2\n"
                   "        pre-candidate -> follower\n"
                   "[  501] 3 < pre-vote from 2\n"
                   "        reject pre-vote from 2 for term 2: already voted or have a leader\n"
                   "[  503] 2 < heartbeat from 1\n"
                   "        leader is 1\n"
                   "[  511] 2 < append from 1\n"
                   "        drop conflicting entries from 2 to 2\n"
                   "        append 2^2..3^2\n"
                   "        commit 1 -> 3\n");
    scenario_end(c);
}

static void no_pre_vote(struct cc_sim_options *o)
{
    o->raft.pre_vote = false;
}

/* A follower cut off for many election timeouts rejoins. elected: the
 * election's trace (NULL: the same as test_three_node_election's). */
static void rejoin_after_partition(bool pre_vote, const char *elected, const char *rejoined)
{
    struct cc_sim *c = scenario_new(3, 1, pre_vote ? NULL : no_pre_vote);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_raft_id f = l == 1 ? 3 : 1;
    cc_raft_term term = term_of(c, l);
    if (elected != NULL)
        CHECK_TRACE(c, elected);
    else
        cc_sim_trace_skip(c); /* pinned by test_three_node_election */
    cc_sim_isolate(c, f);
    cc_sim_run(c, 400);
    cc_sim_heal(c);
    cc_sim_run(c, 300);
    if (pre_vote) {
        /* It never won a pre-vote, so its term never moved and the leader
         * kept its place. */
        CHECK(cc_sim_leader(c) == l && term_of(c, l) == term);
        CHECK(term_of(c, f) == term);
    } else {
        /* Without pre-vote its inflated term deposes the leader. */
        CHECK(term_of(c, l) > term);
    }
    CHECK_TRACE(c, rejoined);
    scenario_end(c);
}

static void test_pre_vote_stops_a_rejoining_node_from_disrupting(void)
{
    rejoin_after_partition(true, NULL,
                           "[  143] -- isolate 1\n"
                           "[  149] 3 < append from 2\n"
                           "        commit 0 -> 1\n"
                           "[  270] 1 tick\n"
                           "        election timeout as follower\n"
                           "        start pre-vote for term 2\n"
                           "[  430] 1 tick\n"
                           "        election timeout as pre-candidate\n"
                           "        start pre-vote for term 2\n"
                           "[  543] -- heal the network\n"
                           "[  551] 1 < heartbeat from 2\n"
                           "        pre-candidate -> follower\n"
                           "        leader is 2\n"
                           "        commit 0 -> 1\n");
}

static void test_without_pre_vote_a_rejoining_node_disrupts(void)
{
    rejoin_after_partition(false,
                           "[  126] 2 tick\n"
                           "        election timeout as follower\n"
                           "        start election for term 1\n"
                           "[  128] 3 < vote from 2\n"
                           "        term 0 -> 1\n"
                           "        grant vote to 2 for term 1\n"
                           "[  131] 1 < vote from 2\n"
                           "        term 0 -> 1\n"
                           "        grant vote to 2 for term 1\n"
                           "[  133] 2 < vote resp from 3\n"
                           "        election won with 2 of 3 votes\n"
                           "        candidate -> leader in term 1\n"
                           "[  137] 1 < heartbeat from 2\n"
                           "        leader is 2\n"
                           "[  138] 1 < append from 2\n"
                           "        append 1^1\n"
                           "[  138] 3 < heartbeat from 2\n"
                           "        leader is 2\n"
                           "[  141] 3 < append from 2\n"
                           "        append 1^1\n"
                           "[  144] 2 < append resp from 1\n"
                           "        commit 0 -> 1\n",
                           "[  144] -- isolate 1\n"
                           "[  148] 3 < append from 2\n"
                           "        commit 0 -> 1\n"
                           "[  270] 1 tick\n"
                           "        election timeout as follower\n"
                           "        start election for term 2\n"
                           "[  430] 1 tick\n"
                           "        election timeout as candidate\n"
                           "        start election for term 3\n"
                           "[  544] -- heal the network\n"
                           "[  553] 2 < append resp from 1\n"
                           "        term 1 -> 3\n"
                           "        leader -> follower\n"
                           "[  580] 1 tick\n"
                           "        election timeout as candidate\n"
                           "        start election for term 4\n"
                           "[  584] 3 < vote from 1\n"
                           "        ignore vote from 1 for term 4: leader 2 is alive\n"
                           "[  586] 2 < vote from 1\n"
                           "        term 3 -> 4\n"
                           "        grant vote to 1 for term 4\n"
                           "[  590] 1 < vote resp from 2\n"
                           "        election won with 2 of 3 votes\n"
                           "        candidate -> leader in term 4\n"
                           "[  594] 2 < append from 1\n"
                           "        leader is 1\n"
                           "        append 2^4\n"
                           "[  596] 3 < append from 1\n"
                           "        term 1 -> 4\n"
                           "        leader is 1\n"
                           "        append 2^4\n"
                           "[  600] 1 < append resp from 2\n"
                           "        commit 0 -> 2\n"
                           "[  603] 2 < append from 1\n"
                           "        commit 1 -> 2\n"
                           "[  605] 3 < append from 1\n"
                           "        commit 1 -> 2\n");
}

int main(void)
{
    RUN(test_single_node_elects_itself_and_commits);
    RUN(test_three_node_election);
    RUN(test_leader_crash_and_reelection);
    RUN(test_partitioned_leader_steps_down);
    RUN(test_pre_vote_stops_a_rejoining_node_from_disrupting);
    RUN(test_without_pre_vote_a_rejoining_node_disrupts);
    return unit_report();
}
