/* The simulator's readable trace: a header line per step that decided
 * something, the core's decision lines under it, and the test's own notes.
 *
 *   [  110] 2 < vote from 1
 *           term 1 -> 2
 *           grant vote to 1 for term 2
 *
 * A step whose core said nothing leaves no header: ticks and heartbeats
 * that change nothing do not bury the story. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/sim_internal.h"

static void append(struct cc_sim *c, const char *s, size_t n)
{
    if (c->n_trace + n + 1 > c->cap_trace) {
        size_t cap = c->cap_trace ? c->cap_trace : 4096;
        while (cap < c->n_trace + n + 1)
            cap *= 2;
        char *t = realloc(c->trace, cap);
        if (t == NULL)
            abort();
        c->trace = t;
        c->cap_trace = cap;
    }
    memcpy(c->trace + c->n_trace, s, n);
    c->n_trace += n;
    c->trace[c->n_trace] = '\0';
    if (c->o.trace_to_stderr)
        fwrite(s, 1, n, stderr);
}

static void append_line(struct cc_sim *c, const char *line)
{
    append(c, line, strlen(line));
    append(c, "\n", 1);
}

void sim_trace_header(struct cc_sim *c, unsigned node, const char *fmt, ...)
{
    if (!c->o.trace)
        return;
    int k =
        snprintf(c->header, sizeof(c->header), "[%5llu] %u ", (unsigned long long)c->now, node + 1);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->header + k, sizeof(c->header) - (size_t)k, fmt, ap);
    va_end(ap);
    c->header_done = false;
}

void sim_trace_core(void *ctx, cc_raft_id self, const char *line)
{
    struct cc_sim *c = ctx;
    if (!c->header_done) {
        append_line(c, c->header);
        c->header_done = true;
    }
    append(c, "        ", 8);
    append_line(c, line);
}

void sim_trace_line(struct cc_sim *c, const char *fmt, ...)
{
    if (!c->o.trace)
        return;
    char line[512];
    int k = snprintf(line, sizeof(line), "[%5llu] ", (unsigned long long)c->now);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof(line) - (size_t)k, fmt, ap);
    va_end(ap);
    append_line(c, line);
    /* A later core line of the current step gets its header again. */
    c->header_done = false;
}

void cc_sim_note(struct cc_sim *c, const char *fmt, ...)
{
    if (!c->o.trace)
        return;
    char line[512];
    int k = snprintf(line, sizeof(line), "[%5llu] -- ", (unsigned long long)c->now);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof(line) - (size_t)k, fmt, ap);
    va_end(ap);
    append_line(c, line);
    c->header_done = false;
}

void cc_sim_trace_skip(struct cc_sim *c)
{
    c->expect_from = c->n_trace;
}

void cc_sim_dump_trace(const struct cc_sim *c, unsigned last_lines)
{
    if (c->trace == NULL)
        return;
    const char *from = c->trace;
    if (last_lines > 0) {
        unsigned seen = 0;
        for (const char *p = c->trace + c->n_trace; p > c->trace; p--) {
            if (p[-1] == '\n' && p != c->trace + c->n_trace && ++seen == last_lines) {
                from = p;
                break;
            }
        }
    }
    fputs(from, stderr);
}

/* Prints got and want side by side from the first differing line. */
static void report_mismatch(const char *got, const char *want)
{
    size_t line = 1;
    const char *g = got, *w = want;
    while (*g && *g == *w) {
        if (*g == '\n')
            line++;
        g++;
        w++;
    }
    fprintf(stderr, "trace differs at line %zu of the block\n--- want:\n%s--- got:\n%s---\n", line,
            want, got);
}

bool cc_sim_expect(struct cc_sim *c, const char *want)
{
    const char *got = c->trace ? c->trace + c->expect_from : "";
    c->expect_from = c->n_trace;
    const char *env = getenv("CC_SIM_PRINT_TRACE");
    if (env != NULL && strcmp(env, "1") == 0) {
        fprintf(stderr, "==== trace block\n%s", got);
        return true;
    }
    if (strcmp(got, want) == 0)
        return true;
    report_mismatch(got, want);
    return false;
}
