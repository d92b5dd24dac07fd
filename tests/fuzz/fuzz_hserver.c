/* libFuzzer target for the client port's HTTP server (core/http/hserver.c):
 * the connection state machine fed arbitrary bytes, cut at arbitrary
 * points, with handlers that answer at once, later, or as a stream, and a
 * client that may go away at any moment.
 *
 * Input: split at the byte 0xfe into pieces; each piece is written to one
 * end of a socketpair whose other end the server serves, then the loop
 * runs until it is idle. A piece starting with 0xfd first answers every
 * request the handlers hold; a piece starting with 0xfc closes the client
 * (what is left is not sent). Handlers choose by the request target: one
 * containing "later" is held until the next 0xfd piece or the end, one
 * containing "stream" starts a streamed answer (a chunk per later piece),
 * anything else is answered at once with the target as the body.
 *
 * Properties (a violation calls abort()):
 *  - no crash, no sanitizer report, no leak;
 *  - every request handed to a handler completes exactly once (on_done),
 *    also when its client went away first;
 *  - whatever the client receives starts with "HTTP/1.";
 *  - the server never holds more than one request per connection.
 *
 * Run: ./fuzz_hserver -max_total_time=60 [corpus-dir]. */
#include "core/http/hserver.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HELD 64

static struct {
    struct cc_hreq *held[MAX_HELD];
    bool streaming[MAX_HELD];
    size_t n_held;
    size_t dispatched, done;
} st;

static void require(bool ok)
{
    if (!ok)
        abort();
}

static void on_request(struct cc_hreq *r, void *arg)
{
    (void)arg;
    st.dispatched++;
    require(st.dispatched - st.done == 1); /* one request at a time on the connection */
    const char *t = cc_hreq_target(r);
    size_t n;
    (void)cc_hreq_body(r, &n);
    (void)cc_hreq_header(r, "Content-Type");
    (void)cc_hreq_method_name(r);
    bool stream = strstr(t, "stream") != NULL;
    if ((stream || strstr(t, "later") != NULL) && st.n_held < MAX_HELD) {
        if (stream) {
            cc_hreq_add_header(r, "Content-Type", "application/json");
            cc_hreq_start(r, 200, "OK");
        }
        st.streaming[st.n_held] = stream;
        st.held[st.n_held++] = r;
        return;
    }
    cc_hreq_add_header(r, "X-Test", "1");
    cc_hreq_reply(r, 200, "OK", t, strlen(t));
}

static void on_done(struct cc_hreq *r, void *arg)
{
    (void)r;
    (void)arg;
    st.done++;
    require(st.done <= st.dispatched);
}

static void answer_held(void)
{
    /* Answering may dispatch the next pipelined request, which may be held
     * again: take the list first. */
    struct cc_hreq *held[MAX_HELD];
    bool streaming[MAX_HELD];
    size_t n = st.n_held;
    memcpy(held, st.held, n * sizeof(held[0]));
    memcpy(streaming, st.streaming, n * sizeof(streaming[0]));
    st.n_held = 0;
    for (size_t i = 0; i < n; i++) {
        if (streaming[i]) {
            cc_hreq_chunk(held[i], "{\"e\":1}\n", 8);
            cc_hreq_end(held[i]);
        } else {
            cc_hreq_reply(held[i], 201, "Created", "x", 1);
        }
    }
}

static void chunk_streams(void)
{
    for (size_t i = 0; i < st.n_held; i++)
        if (st.streaming[i])
            cc_hreq_chunk(st.held[i], "{\"e\":0}\n", 8);
}

static void run_loop(struct event_base *base)
{
    for (int i = 0; i < 8; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Reads what the server sent so far; checks the first bytes once. */
static void drain(int fd, bool *checked)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            return;
        if (!*checked) {
            require(n < 7 || memcmp(buf, "HTTP/1.", 7) == 0);
            *checked = n >= 7;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event_base *base = event_base_new();
    struct cc_hserver_cfg cfg = {
        .max_head = 2048,
        .max_body = 4096,
        .idle_timeout_s = 3600,
        .first_request_s = 3600,
        .on_request = on_request,
        .on_done = on_done,
    };
    struct cc_hserver *s = base ? cc_hserver_new(base, &cfg) : NULL;
    int sv[2];
    require(s != NULL && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    require(cc_hserver_serve_fd(s, sv[0]) == 0);
    memset(&st, 0, sizeof(st));
    bool checked = false, closed = false;
    size_t i = 0;
    while (i <= size && !closed) {
        const uint8_t *sep = memchr(data + i, 0xfe, size - i);
        size_t end = sep ? (size_t)(sep - data) : size;
        const uint8_t *p = data + i;
        size_t n = end - i;
        if (n > 0 && p[0] == 0xfd) {
            answer_held();
            p++, n--;
        } else if (n > 0 && p[0] == 0xfc) {
            close(sv[1]);
            closed = true;
            run_loop(base);
            break;
        }
        while (n > 0) {
            ssize_t w = send(sv[1], p, n, MSG_NOSIGNAL);
            if (w <= 0)
                break; /* the server stopped reading: its bound */
            p += w, n -= (size_t)w;
        }
        run_loop(base);
        chunk_streams();
        run_loop(base);
        drain(sv[1], &checked);
        i = end + 1;
    }
    answer_held();
    run_loop(base);
    if (!closed) {
        drain(sv[1], &checked);
        close(sv[1]);
        run_loop(base);
    }
    answer_held(); /* what the last loops dispatched */
    require(st.n_held == 0 && st.done == st.dispatched);
    cc_hserver_free(s);
    event_base_free(base);
    return 0;
}
