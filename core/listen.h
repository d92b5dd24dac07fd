/* The node's listening TCP sockets, opened once by the master.
 *
 * Workers inherit them, so restarting a worker never closes a port: a
 * connection that arrives while no worker accepts waits in the backlog. */
#ifndef CC_CORE_LISTEN_H
#define CC_CORE_LISTEN_H

#include <stddef.h>

#include "core/urls.h"

#define CC_LISTEN_BACKLOG 1024

/* Opens one listening socket per URL (close-on-exec, non-blocking). On error
 * writes one line to err ("listen tcp 127.0.0.1:2379: bind: Address already
 * in use"), closes what it opened and returns -1. */
int cc_listen_urls(const struct cc_url_list *urls, int *fds, size_t max, size_t *n, char *err,
                   size_t errlen);

void cc_listen_close(int *fds, size_t n);

#endif
