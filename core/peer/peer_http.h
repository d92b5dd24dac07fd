/* The peer port's few HTTP endpoints (V2-CONTRACT §2.6), as a pure
 * function from a request head to the response bytes.
 *
 * A connection on the peer port that does not start with the frame magic
 * is HTTP: what other members, proxies and operators ask a peer URL. The
 * socket side (peer_inbound.c) reads the head, at most CC_PEER_HTTP_HEAD_MAX
 * bytes up to its blank line, writes what this returns and closes (one
 * request per connection, `Connection: close`), so no HTTP server library
 * has to share the port with the raft frames.
 *
 *   GET /version         CC_VERSION_JSON, application/json
 *   GET /members         X-Etcd-Cluster-Id: <hex> and etcd's member array
 *   /members/<anything>  400 "bad path" (after the method check, as etcd)
 *   other methods        405 with Allow: GET
 *   anything else        404 "404 page not found"
 *   a malformed head     400 "400 Bad Request"
 * Bodies of errors are Go's http.Error text (text/plain, a trailing "\n"). */
#ifndef CC_CORE_PEER_PEER_HTTP_H
#define CC_CORE_PEER_PEER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cluster_ids.h"
#include "core/urls.h"
#include "proto/wire.h"

#define CC_PEER_HTTP_HEAD_MAX (16 * 1024)

struct cc_peer_http_ctx {
    const struct cc_cluster_def *cluster;       /* members sorted by id, as etcd lists them */
    const struct cc_url_list *self_client_urls; /* this member's --advertise-client-urls */
};

/* Appends the whole response (status line, headers, body) to the request
 * head[0..n), which ends with its blank line ("\r\n\r\n"), to out. Returns
 * the status code. For a malformed head (400) why gets a short reason for
 * the log, else "". out->failed tells of an allocation failure. */
int cc_peer_http_respond(const struct cc_peer_http_ctx *ctx, const char *head, size_t n,
                         struct cc_buf *out, char *why, size_t whylen);

/* False (with a reason in why) as soon as the first n bytes read cannot
 * begin a request head: a method that is not a token, a control byte. So
 * garbage is answered (400) at once rather than after the read deadline. */
bool cc_peer_http_plausible(const char *p, size_t n, char *why, size_t whylen);

/* The 400 for a malformed head. */
void cc_peer_http_bad_request(struct cc_buf *out);

/* The answer to a head without its blank line in CC_PEER_HTTP_HEAD_MAX
 * bytes: 431, as Go's server gives. */
void cc_peer_http_too_large(struct cc_buf *out);

#endif
