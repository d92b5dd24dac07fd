/* Decision lines. Formatting happens only when the embedder asked for them,
 * so a production core with tracing off pays one pointer test per line. */
#include <stdarg.h>
#include <stdio.h>

#include "core/raft/raft_state.h"

void cc_raft_tracef(const struct cc_raft *r, const char *fmt, ...)
{
    if (r->cfg.trace == NULL)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    r->cfg.trace(r->cfg.trace_ctx, r->id, line);
}
