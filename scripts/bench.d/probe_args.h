/* scripts/bench: the command line of the trivial HTTP servers (evhttp_ok.c,
 * raw_ok.c): "IP PORT" into an IPv4 address. Also ignores SIGPIPE, which a
 * server writing to clients that leave must. Returns 0, or the exit status
 * after printing why. */
#ifndef BENCH_PROBE_ARGS_H
#define BENCH_PROBE_ARGS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int probe_args(int argc, char **argv, struct sockaddr_in *sin)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s IP PORT\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    sin->sin_port = htons((unsigned short)atoi(argv[2]));
    if (inet_pton(AF_INET, argv[1], &sin->sin_addr) != 1) {
        fprintf(stderr, "bad address %s\n", argv[1]);
        return 2;
    }
    return 0;
}

#endif
