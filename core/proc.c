#include "core/proc.h"

#include <stdio.h>

const char *cc_proc_state_name(enum cc_proc_state s)
{
    switch (s) {
    case CC_PROC_STOPPED:
        return "stopped";
    case CC_PROC_STARTING:
        return "starting";
    case CC_PROC_READY:
        return "ready";
    case CC_PROC_STOPPING:
        return "stopping";
    case CC_PROC_BACKOFF:
        return "backoff";
    }
    return "?";
}

unsigned cc_proc_next_backoff(unsigned prev_ms, double up_for_s)
{
    if (prev_ms == 0 || up_for_s >= CC_BACKOFF_RESET_S)
        return CC_BACKOFF_MIN_MS;
    unsigned next = prev_ms * 2;
    return next > CC_BACKOFF_MAX_MS ? CC_BACKOFF_MAX_MS : next;
}

void cc_proc_last_exit_text(const struct cc_proc *p, char *buf, size_t len)
{
    if (!p->exited_before)
        snprintf(buf, len, "-");
    else if (p->last_exit_signal)
        snprintf(buf, len, "signal %d", p->last_exit_signal);
    else
        snprintf(buf, len, "exit %d", p->last_exit_code);
}
