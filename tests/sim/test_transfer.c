/* Trace-pinned leadership transfer (used on graceful stop): the leader
 * brings the target up to date, stops taking proposals, sends timeout-now,
 * and the target wins the next term at once, without waiting for an
 * election timeout and despite the others' leader lease. */
#include "tests/sim/scenario.h"

static void test_transfer_to_a_chosen_peer(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_raft_id target = l == 3 ? 1 : 3;
    cc_raft_term term = term_of(c, l);
    cc_raft_index idx;
    CHECK(cc_sim_propose(c, l, "before", &idx) == 0);
    cc_sim_trace_skip(c);
    CHECK(cc_sim_transfer(c, l, target) == 0);
    /* While the target catches up, the log must stop growing. */
    CHECK(cc_sim_propose(c, l, "during", NULL) == CC_RAFT_EBUSY);
    uint64_t start = cc_sim_now(c);
    CHECK(wait_leader(c, target, 1000));
    CHECK(cc_sim_now(c) - start < 100); /* well under an election timeout */
    CHECK(term_of(c, target) == term + 1);
    CHECK(cc_sim_propose(c, target, "after", &idx) == 0);
    CHECK(wait_applied(c, idx, 100));
    CHECK(same_state(c));
    CHECK_TRACE(c, "[  143] 2 transfer leadership\n"
                   "        transfer leadership to 3\n"
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
                   "        commit 1 -> 2\n"
                   "[  157] 2 < append resp from 3\n"
                   "        3 is up to date: send timeout-now\n"
                   "[  162] 3 < timeout-now from 2\n"
                   "        timeout-now from 2\n"
                   "        start election for term 2 (leadership transfer)\n"
                   "[  169] 1 < vote from 3\n"
                   "        term 1 -> 2\n"
                   "        grant vote to 3 for term 2\n"
                   "[  169] 2 < vote from 3\n"
                   "        term 1 -> 2\n"
                   "        transfer to 3 aborted: leadership lost\n"
                   "        leader -> follower\n"
                   "        grant vote to 3 for term 2\n"
                   "[  172] 3 < vote resp from 2\n"
                   "        election won with 2 of 3 votes\n"
                   "        candidate -> leader in term 2\n"
                   "[  172] 3 propose \"after\"\n"
                   "        propose 4^2\n"
                   "[  178] 2 < append from 3\n"
                   "        leader is 3\n"
                   "        append 3^2\n"
                   "[  179] 1 < append from 3\n"
                   "        leader is 3\n"
                   "        append 3^2\n"
                   "[  183] 3 < append resp from 2\n"
                   "        commit 2 -> 3\n"
                   "[  183] 2 < append from 3\n"
                   "        append 4^2\n"
                   "[  184] 2 < append from 3\n"
                   "        commit 2 -> 3\n"
                   "[  186] 1 < append from 3\n"
                   "        append 4^2\n"
                   "        commit 2 -> 3\n"
                   "[  189] 3 < append resp from 2\n"
                   "        commit 3 -> 4\n"
                   "[  191] 1 < append from 3\n"
                   "        commit 3 -> 4\n"
                   "[  193] 2 < append from 3\n"
                   "        commit 3 -> 4\n");
    scenario_end(c);
}

static void test_transfer_to_the_most_up_to_date_peer(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_raft_id slow = l == 1 ? 2 : 1;
    cc_sim_isolate(c, slow); /* it falls behind */
    cc_raft_index idx;
    CHECK(cc_sim_propose(c, l, "x", &idx) == 0);
    cc_sim_run(c, 20);
    cc_sim_heal(c);
    cc_sim_trace_skip(c);
    CHECK(cc_sim_transfer(c, l, 0) == 0);
    cc_raft_id best = 6 - l - slow; /* the third one */
    CHECK(wait_leader(c, best, 1000));
    CHECK_TRACE(c, "[  163] 2 transfer leadership\n"
                   "        transfer leadership to 3\n"
                   "        3 is up to date: send timeout-now\n"
                   "[  166] 3 < timeout-now from 2\n"
                   "        timeout-now from 2\n"
                   "        start election for term 2 (leadership transfer)\n"
                   "[  170] 1 < heartbeat from 2\n"
                   "        commit 0 -> 1\n"
                   "[  172] 2 < vote from 3\n"
                   "        term 1 -> 2\n"
                   "        transfer to 3 aborted: leadership lost\n"
                   "        leader -> follower\n"
                   "        grant vote to 3 for term 2\n"
                   "[  173] 1 < vote from 3\n"
                   "        term 1 -> 2\n"
                   "        grant vote to 3 for term 2\n"
                   "[  178] 3 < vote resp from 2\n"
                   "        election won with 2 of 3 votes\n"
                   "        candidate -> leader in term 2\n");
    scenario_end(c);
}

static void test_transfer_to_a_dead_peer_times_out(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_raft_id target = l == 3 ? 1 : 3;
    cc_sim_crash(c, target);
    cc_raft_index idx;
    CHECK(cc_sim_propose(c, l, "y", &idx) == 0);
    cc_sim_trace_skip(c);
    CHECK(cc_sim_transfer(c, l, target) == 0);
    /* Within an election timeout or two the leader gives up and serves
     * again. */
    cc_sim_run(c, 250);
    CHECK(cc_sim_leader(c) == l);
    CHECK(cc_sim_propose(c, l, "z", &idx) == 0);
    CHECK(wait_applied(c, idx, 100));
    CHECK_TRACE(c, "[  143] 2 transfer leadership\n"
                   "        transfer leadership to 3\n"
                   "[  145] 1 < append from 2\n"
                   "        commit 0 -> 1\n"
                   "[  145] 1 < append from 2\n"
                   "        append 2^1\n"
                   "[  148] 2 < append resp from 1\n"
                   "        commit 1 -> 2\n"
                   "[  150] 1 < append from 2\n"
                   "        commit 1 -> 2\n"
                   "[  236] 2 tick\n"
                   "        transfer to 3 aborted: timed out\n"
                   "[  393] 2 propose \"z\"\n"
                   "        propose 3^1\n"
                   "[  396] 1 < append from 2\n"
                   "        append 3^1\n"
                   "[  399] 2 < append resp from 1\n"
                   "        commit 2 -> 3\n"
                   "[  401] 1 < append from 2\n"
                   "        commit 2 -> 3\n");
    scenario_end(c);
}

int main(void)
{
    RUN(test_transfer_to_a_chosen_peer);
    RUN(test_transfer_to_the_most_up_to_date_peer);
    RUN(test_transfer_to_a_dead_peer_times_out);
    return unit_report();
}
