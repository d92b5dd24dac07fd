/* Where a node's Unix-domain endpoints live.
 *
 * nanomsg aborts the process inside nn_bind/nn_connect when an ipc:// path is
 * 108 to ~121 bytes long (STACK.md), and sun_path holds at most 107 bytes. So
 * every path is checked here, before use: when DATA_DIR/run would give too
 * long a path, a short private directory /tmp/concord-<uid>-<hash of the
 * absolute data dir> is used instead. The choice is a pure function of the
 * data dir, so concordctl finds the same admin socket as the server. */
#ifndef CC_IPC_PATHS_H
#define CC_IPC_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* Longest Unix socket path (excluding the NUL) that works everywhere. */
#define CC_UNIX_PATH_MAX 107

/* Fills out with the run directory for data_dir. Returns 0, or -1 if even the
 * fallback does not fit (cannot happen with a sane TMPDIR). *fallback tells
 * whether the short directory was chosen. */
int cc_run_dir(const char *data_dir, char *out, size_t outlen, bool *fallback);

/* The default admin socket path: DATA_DIR/admin.sock, or run_dir/admin.sock
 * when that is too long. */
int cc_admin_socket_default(const char *data_dir, char *out, size_t outlen);

/* "ipc://<run_dir>/<name>.ipc" into out; -1 if the path would be too long. */
int cc_ipc_address(const char *run_dir, const char *name, char *out, size_t outlen);

#endif
