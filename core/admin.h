/* The admin socket: a local Unix stream socket served by the master.
 *
 * Newline-delimited JSON, one request object per line, one answer per line:
 *   {"cmd":"status"}                      node and per-worker state
 *   {"cmd":"restart","worker":"http"}     graceful restart of one worker
 *   {"cmd":"reload"}                      rolling restart (same as SIGHUP)
 *   {"cmd":"help"}                        the command table
 * Errors answer {"error":"..."}. The socket is mode 0600: only the node's
 * own user may steer it. */
#ifndef CC_CORE_ADMIN_H
#define CC_CORE_ADMIN_H

#include <stddef.h>
#include <stdint.h>

struct cc_master;
struct cc_admin;

/* Binds the socket (refusing if another live node already serves it). NULL
 * with a message in err on failure. */
struct cc_admin *cc_admin_open(struct cc_master *m, const char *path, char *err, size_t errlen);
void cc_admin_close(struct cc_admin *a);
/* The storage worker's answer to a `hash` request (HASH_RESP). */
void cc_admin_hash_answer(struct cc_admin *a, uint64_t req_id, uint64_t index, uint64_t hash);

#endif
