#include "ipc/paths.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The longest endpoint file name in the wiring table plus margin. */
#define CC_LONGEST_ENDPOINT "/storage-consensus.ipc.xxxxxxxx"

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* The absolute form of data_dir without requiring it to exist yet. */
static void absolute_path(const char *data_dir, char *out, size_t outlen)
{
    char cwd[PATH_MAX];
    if (data_dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        snprintf(out, outlen, "%s", data_dir);
    else
        snprintf(out, outlen, "%s/%s", cwd, data_dir);
}

int cc_run_dir(const char *data_dir, char *out, size_t outlen, bool *fallback)
{
    int n = snprintf(out, outlen, "%s/run", data_dir);
    *fallback = false;
    if (n > 0 && (size_t)n < outlen && (size_t)n + strlen(CC_LONGEST_ENDPOINT) <= CC_UNIX_PATH_MAX)
        return 0;
    char abs[PATH_MAX + 256];
    absolute_path(data_dir, abs, sizeof(abs));
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 40)
        tmp = "/tmp";
    n = snprintf(out, outlen, "%s/concord-%u-%016llx", tmp, (unsigned)getuid(),
                 (unsigned long long)fnv1a64(abs));
    *fallback = true;
    if (n < 0 || (size_t)n >= outlen || (size_t)n + strlen(CC_LONGEST_ENDPOINT) > CC_UNIX_PATH_MAX)
        return -1;
    return 0;
}

int cc_admin_socket_default(const char *data_dir, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s/admin.sock", data_dir);
    if (n > 0 && (size_t)n < outlen && (size_t)n <= CC_UNIX_PATH_MAX)
        return 0;
    char run[512];
    bool fallback;
    if (cc_run_dir(data_dir, run, sizeof(run), &fallback) != 0)
        return -1;
    n = snprintf(out, outlen, "%s/admin.sock", run);
    return (n > 0 && (size_t)n < outlen && (size_t)n <= CC_UNIX_PATH_MAX) ? 0 : -1;
}

int cc_ipc_address(const char *run_dir, const char *name, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "ipc://%s/%s.ipc", run_dir, name);
    if (n < 0 || (size_t)n >= outlen || (size_t)n - strlen("ipc://") > CC_UNIX_PATH_MAX)
        return -1;
    return 0;
}
