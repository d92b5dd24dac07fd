#include "core/consensus/follower_stats.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static struct cc_follower_stat *find(struct cc_follower_stats *s, cc_raft_id id)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->f[i].id == id)
            return &s->f[i];
    if (s->n == CC_RAFT_MAX_MEMBERS)
        return NULL;
    struct cc_follower_stat *f = &s->f[s->n++];
    memset(f, 0, sizeof(*f));
    f->id = id;
    return f;
}

void cc_follower_sent(struct cc_follower_stats *s, cc_raft_id id, double now)
{
    struct cc_follower_stat *f = find(s, id);
    if (f && f->sent_at == 0)
        f->sent_at = now;
}

void cc_follower_answered(struct cc_follower_stats *s, cc_raft_id id, bool ok)
{
    struct cc_follower_stat *f = find(s, id);
    if (f != NULL && ok)
        f->success++;
    else if (f != NULL)
        f->fail++;
}

void cc_follower_latency(struct cc_follower_stats *s, cc_raft_id id, double now)
{
    struct cc_follower_stat *f = find(s, id);
    if (f == NULL || f->sent_at == 0)
        return;
    double ms = (now - f->sent_at) * 1000.0;
    f->sent_at = 0;
    f->current = ms;
    if (f->n == 0 || ms < f->min)
        f->min = ms;
    if (ms > f->max)
        f->max = ms;
    f->sum += ms;
    f->sumsq += ms * ms;
    f->n++;
}

void cc_follower_stats_json(const struct cc_follower_stats *s, struct cc_buf *out)
{
    char tmp[512];
    cc_put_raw(out, "{", 1);
    for (unsigned i = 0; i < s->n; i++) {
        const struct cc_follower_stat *f = &s->f[i];
        double avg = f->n ? f->sum / (double)f->n : 0;
        double var = f->n ? f->sumsq / (double)f->n - avg * avg : 0;
        int n = snprintf(tmp, sizeof(tmp),
                         "%s\"%" PRIx64 "\":{\"latency\":{\"current\":%.6f,\"average\":%.6f,"
                         "\"standardDeviation\":%.6f,\"minimum\":%.6f,\"maximum\":%.6f},"
                         "\"counts\":{\"fail\":%" PRIu64 ",\"success\":%" PRIu64 "}}",
                         i ? "," : "", f->id, f->current, avg, var > 0 ? sqrt(var) : 0.0, f->min,
                         f->max, f->fail, f->success);
        cc_put_raw(out, tmp, (size_t)n);
    }
    cc_put_raw(out, "}", 1);
}
