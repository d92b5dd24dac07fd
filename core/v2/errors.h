/* etcd's v2 error table (V2-CONTRACT §1.6; etcd 2.3.8 error/error.go): one
 * row per code with its exact message and the HTTP status it travels with.
 *
 * Every code etcd defines has a row, the ones 2.3.8 never emits too (103,
 * 106, 109, 200, 204-208, 301, 400, 402-404, 500), so a client that maps
 * codes to exceptions sees etcd's numbering. The status column is etcd's
 * errorStatus map: codes it does not list travel as 400, notably 401 (the
 * history-cleared error, whose number only looks like an HTTP status) and
 * 110, which etcd does list as 401. A code outside the table has the empty
 * message and status 400, as etcd would give it. */
#ifndef CC_CORE_V2_ERRORS_H
#define CC_CORE_V2_ERRORS_H

#include <stdint.h>

#include "core/v2/types.h"

/* X(code, message, http status) */
#define CC_V2_ERRORS(X)                                                                            \
    X(100, "Key not found", 404)                                                                   \
    X(101, "Compare failed", 412)                                                                  \
    X(102, "Not a file", 403)                                                                      \
    X(103, "Reached the max number of peers in the cluster", 400)                                  \
    X(104, "Not a directory", 400)                                                                 \
    X(105, "Key already exists", 412)                                                              \
    X(106, "The prefix of given key is a keyword in etcd", 400)                                    \
    X(107, "Root is read only", 400)                                                               \
    X(108, "Directory not empty", 403)                                                             \
    X(109, "Peer address has existed", 400)                                                        \
    X(110, "The request requires user authentication", 401)                                        \
    X(200, "Value is Required in POST form", 400)                                                  \
    X(201, "PrevValue is Required in POST form", 400)                                              \
    X(202, "The given TTL in POST form is not a number", 400)                                      \
    X(203, "The given index in POST form is not a number", 400)                                    \
    X(204, "Value or TTL is required in POST form", 400)                                           \
    X(205, "The given timeout in POST form is not a number", 400)                                  \
    X(206, "Name is required in POST form", 400)                                                   \
    X(207, "Index or value is required", 400)                                                      \
    X(208, "Index and value cannot both be specified", 400)                                        \
    X(209, "Invalid field", 400)                                                                   \
    X(210, "Invalid POST form", 400)                                                               \
    X(211, "Value provided on refresh", 400)                                                       \
    X(212, "A TTL must be provided on refresh", 400)                                               \
    X(300, "Raft Internal Error", 500)                                                             \
    X(301, "During Leader Election", 500)                                                          \
    X(400, "watcher is cleared due to etcd recovery", 400)                                         \
    X(401, "The event in requested index is outdated and cleared", 400)                            \
    X(402, "Standby Internal Error", 400)                                                          \
    X(403, "Invalid active size", 400)                                                             \
    X(404, "Standby remove delay", 400)                                                            \
    X(500, "Client Internal Error", 400)

/* The message of code ("" when etcd has none). */
const char *cc_v2_error_message(int code);

/* The HTTP status code travels with, and its reason phrase (Go's
 * http.StatusText) in *reason when reason is non-NULL. */
int cc_v2_error_status(int code, const char **reason);

/* Fills e: code, cause (a store path keeps its "/1": the renderer trims it;
 * NULL is no cause; a cause longer than e->cause holds is cut, see
 * types.h), index. */
void cc_v2_error_set(struct cc_v2_error *e, int code, const char *cause, uint64_t index);

/* As cc_v2_error_set with a printf-formatted cause. */
__attribute__((format(printf, 4, 5))) void cc_v2_error_setf(struct cc_v2_error *e, int code,
                                                            uint64_t index, const char *fmt, ...);

#endif
