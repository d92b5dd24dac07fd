/* The simulator playing the embedder for one node (see embedder.c). */
#ifndef CC_TESTS_SIM_EMBEDDER_H
#define CC_TESTS_SIM_EMBEDDER_H

#include "tests/sim/sim_internal.h"

/* Creates the node's core from its durable state and starts its ticks. */
void sim_node_boot(struct cc_sim *c, struct sim_node *n);
/* Loses everything volatile. */
void sim_node_crash(struct sim_node *n);
void sim_node_free(struct sim_node *n);
/* Steps ev and carries out the update. Returns the step's result. */
int sim_node_step(struct cc_sim *c, struct sim_node *n, const struct cc_raft_event *ev);
/* The oldest persist batch is durable now. */
void sim_node_persist_done(struct cc_sim *c, struct sim_node *n);
/* Answers a fetch from the durable log. */
void sim_node_load(struct cc_sim *c, struct sim_node *n, cc_raft_index from, cc_raft_index to);

#endif
