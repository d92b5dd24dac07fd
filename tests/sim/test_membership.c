/* Trace-pinned membership changes, one server at a time: a new member with
 * an empty data dir is added, catches up and votes; a follower is removed;
 * the leader removes itself, keeps leading until that commits, then steps
 * down and the rest elect a leader among themselves. A second change is
 * refused while one is in flight. */
#include "tests/sim/scenario.h"

static void test_add_then_remove_members(void)
{
    struct cc_sim *c = scenario_new(3, 1, NULL);
    cc_raft_id l = cc_sim_run_until_leader(c, 1000);
    cc_sim_trace_skip(c);

    cc_sim_start_spare(c, 4);
    cc_raft_index idx;
    CHECK(cc_sim_conf_change(c, l, CC_RAFT_CONF_ADD, 4, &idx) == 0);
    /* One change at a time. */
    CHECK(cc_sim_conf_change(c, l, CC_RAFT_CONF_REMOVE, 1, NULL) == CC_RAFT_EBUSY);
    CHECK(wait_applied(c, idx, 200));
    CHECK(cc_raft_membership(cc_sim_raft(c, 4))->n == 4);
    CHECK(same_state(c));
    CHECK_TRACE(c, "[  143] -- start 4 with an empty data dir\n"
                   "[  143] 2 add member 4\n"
                   "        configuration at 2: add 4, 4 voters\n"
                   "[  143] 2 remove member 1\n"
                   "        membership change refused: another change is in flight\n"
                   "[  145] 1 < append from 2\n"
                   "        commit 0 -> 1\n"
                   "[  145] 4 < append from 2\n"
                   "        term 0 -> 1\n"
                   "        leader is 2\n"
                   "        reject append after 2^1: hint 0^0\n"
                   "[  145] 1 < append from 2\n"
                   "        reject append after 2^1: hint 1^1\n"
                   "[  147] 1 < append from 2\n"
                   "        append 2^1\n"
                   "        configuration at 2: add 4, 4 voters\n"
                   "[  149] 2 < append resp from 1\n"
                   "        1 rejected 2: probe from 2\n"
                   "[  150] 3 < append from 2\n"
                   "        append 2^1\n"
                   "        configuration at 2: add 4, 4 voters\n"
                   "        commit 0 -> 1\n"
                   "[  150] 2 < append resp from 4\n"
                   "        4 rejected 2: probe from 1\n"
                   "[  153] 4 < append from 2\n"
                   "        append 1^1..2^1\n"
                   "        configuration at 2: add 4, 4 voters\n"
                   "        commit 0 -> 1\n"
                   "[  155] 2 < append resp from 3\n"
                   "        commit 1 -> 2\n"
                   "[  157] 3 < heartbeat from 2\n"
                   "        commit 1 -> 2\n"
                   "[  158] 1 < append from 2\n"
                   "        commit 1 -> 2\n"
                   "[  160] 4 < append from 2\n"
                   "        commit 1 -> 2\n");

    /* A removed follower applies its removal and shuts down. */
    cc_raft_id f = l == 1 ? 2 : 1;
    CHECK(cc_sim_conf_change(c, l, CC_RAFT_CONF_REMOVE, f, &idx) == 0);
    CHECK(wait_applied(c, idx, 200));
    CHECK(!cc_sim_alive(c, f));
    CHECK(cc_raft_membership(cc_sim_raft(c, l))->n == 3);
    CHECK_TRACE(c, "[  160] 2 remove member 1\n"
                   "        configuration at 3: remove 1, 3 voters\n"
                   "[  161] 3 < append from 2\n"
                   "        reject append after 3^1: hint 2^1\n"
                   "[  162] 4 < append from 2\n"
                   "        append 3^1\n"
                   "        configuration at 3: remove 1, 3 voters\n"
                   "[  163] 1 < append from 2\n"
                   "        append 3^1\n"
                   "        configuration at 3: remove 1, 3 voters\n"
                   "[  164] 3 < append from 2\n"
                   "        append 3^1\n"
                   "        configuration at 3: remove 1, 3 voters\n"
                   "[  165] 2 < append resp from 3\n"
                   "        3 rejected 3: probe from 3\n"
                   "[  168] 2 < append resp from 4\n"
                   "        commit 2 -> 3\n"
                   "[  172] 1 < append from 2\n"
                   "        commit 2 -> 3\n"
                   "[  172] -- 1 applied its own removal: it shuts down\n"
                   "[  173] 4 < append from 2\n"
                   "        commit 2 -> 3\n"
                   "[  175] 3 < append from 2\n"
                   "        commit 2 -> 3\n");

    /* The leader removes itself: it leads until that commits. */
    CHECK(cc_sim_conf_change(c, l, CC_RAFT_CONF_REMOVE, l, &idx) == 0);
    CHECK(wait_applied(c, idx, 200));
    CHECK(!cc_sim_alive(c, l));
    cc_raft_id l2 = cc_sim_run_until_leader(c, 1000);
    CHECK(l2 != 0 && l2 != l);
    CHECK(cc_raft_membership(cc_sim_raft(c, l2))->n == 2);
    CHECK(cc_sim_propose(c, l2, "still works", &idx) == 0);
    CHECK(wait_applied(c, idx, 200));
    CHECK(same_state(c));
    CHECK_TRACE(c, "[  175] 2 remove member 2\n"
                   "        configuration at 4: remove 2, 2 voters\n"
                   "[  176] 4 < append from 2\n"
                   "        append 4^1\n"
                   "        configuration at 4: remove 2, 2 voters\n"
                   "[  179] 3 < append from 2\n"
                   "        append 4^1\n"
                   "        configuration at 4: remove 2, 2 voters\n"
                   "[  184] 2 < append resp from 4\n"
                   "        commit 3 -> 4\n"
                   "        removal committed: step down\n"
                   "        leader -> follower\n"
                   "[  184] -- 2 applied its own removal: it shuts down\n"
                   "[  186] 4 < heartbeat from 2\n"
                   "        commit 3 -> 4\n"
                   "[  189] 3 < heartbeat from 2\n"
                   "        commit 3 -> 4\n"
                   "[  320] 4 tick\n"
                   "        election timeout as follower\n"
                   "        start pre-vote for term 2\n"
                   "[  321] 3 < pre-vote from 4\n"
                   "        grant pre-vote to 4 for term 2\n"
                   "[  324] 4 < pre-vote resp from 3\n"
                   "        pre-vote won with 2 of 2\n"
                   "        start election for term 2\n"
                   "[  329] 3 < vote from 4\n"
                   "        term 1 -> 2\n"
                   "        grant vote to 4 for term 2\n"
                   "[  332] 4 < vote resp from 3\n"
                   "        election won with 2 of 2 votes\n"
                   "        candidate -> leader in term 2\n"
                   "[  339] 3 < append from 4\n"
                   "        leader is 4\n"
                   "        append 5^2\n"
                   "[  345] 4 < append resp from 3\n"
                   "        commit 4 -> 5\n"
                   "[  345] 4 propose \"still works\"\n"
                   "        propose 6^2\n"
                   "[  347] 3 < append from 4\n"
                   "        commit 4 -> 5\n"
                   "[  348] 3 < append from 4\n"
                   "        append 6^2\n"
                   "[  354] 4 < append resp from 3\n"
                   "        commit 5 -> 6\n"
                   "[  357] 3 < append from 4\n"
                   "        commit 5 -> 6\n");
    scenario_end(c);
}

int main(void)
{
    RUN(test_add_then_remove_members);
    return unit_report();
}
