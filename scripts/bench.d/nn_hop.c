/* scripts/bench: what one nanomsg hop between two processes costs on this
 * machine, the way Concord's workers talk (NN_PAIR over ipc://, 64-byte
 * messages), and the same over a plain Unix socketpair for comparison.
 * A write's answer waits on a chain of such hops (docs/PERFORMANCE.md),
 * so their one-way latency is a floor under the sequential PUT row.
 *
 * Built at run time: cc -O2 -o nn_hop nn_hop.c -lnanomsg
 * Usage: nn_hop IPC_PATH ROUND_TRIPS
 * Prints one line: nanomsg and socketpair one-way latency (half a round
 * trip), p50 and p99, in microseconds.
 *
 * The echoing side is this program re-executed ("echo"): a child that only
 * forked keeps nanomsg state that never delivers (STACK.md). */
#include <nanomsg/nn.h>
#include <nanomsg/pair.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_BYTES 64
#define WARMUP    200

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int nn_echo(const char *addr)
{
    int s = nn_socket(AF_SP, NN_PAIR);
    if (s < 0 || nn_connect(s, addr) < 0)
        return 1;
    char buf[MSG_BYTES];
    for (;;) {
        int n = nn_recv(s, buf, sizeof buf, 0);
        if (n <= 0 || buf[0] == 'q')
            break;
        if (nn_send(s, buf, (size_t)n, 0) != n)
            return 1;
    }
    nn_close(s);
    return 0;
}

/* Half of each round trip, sorted, in out[0..n). */
static int nn_ping(const char *self, const char *addr, int n, double *out)
{
    int s = nn_socket(AF_SP, NN_PAIR);
    if (s < 0 || nn_bind(s, addr) < 0) {
        fprintf(stderr, "nn_bind %s: %s\n", addr, nn_strerror(nn_errno()));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        execl(self, self, "echo", addr, (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        return -1;
    char buf[MSG_BYTES];
    memset(buf, 'x', sizeof buf);
    int rc = 0;
    for (int i = 0; i < WARMUP + n && rc == 0; i++) {
        double t0 = now_us();
        if (nn_send(s, buf, sizeof buf, 0) != (int)sizeof buf ||
            nn_recv(s, buf, sizeof buf, 0) != (int)sizeof buf)
            rc = -1;
        else if (i >= WARMUP)
            out[i - WARMUP] = (now_us() - t0) / 2;
    }
    buf[0] = 'q';
    nn_send(s, buf, 1, 0);
    int status;
    waitpid(pid, &status, 0);
    nn_close(s);
    qsort(out, (size_t)n, sizeof *out, cmp_double);
    return rc;
}

static int pair_ping(int n, double *out)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        char buf[MSG_BYTES];
        ssize_t k;
        while ((k = read(sv[1], buf, sizeof buf)) > 0 && buf[0] != 'q')
            if (write(sv[1], buf, (size_t)k) != k)
                break;
        _exit(0);
    }
    if (pid < 0)
        return -1;
    close(sv[1]);
    char buf[MSG_BYTES];
    memset(buf, 'x', sizeof buf);
    int rc = 0;
    for (int i = 0; i < WARMUP + n && rc == 0; i++) {
        double t0 = now_us();
        if (write(sv[0], buf, sizeof buf) != (ssize_t)sizeof buf ||
            read(sv[0], buf, sizeof buf) != (ssize_t)sizeof buf)
            rc = -1;
        else if (i >= WARMUP)
            out[i - WARMUP] = (now_us() - t0) / 2;
    }
    buf[0] = 'q';
    if (write(sv[0], buf, 1) != 1)
        rc = -1;
    int status;
    waitpid(pid, &status, 0);
    close(sv[0]);
    qsort(out, (size_t)n, sizeof *out, cmp_double);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "echo") == 0)
        return nn_echo(argv[2]);
    int n = argc == 3 ? atoi(argv[2]) : 0;
    if (n <= 0) {
        fprintf(stderr, "usage: %s IPC_PATH ROUND_TRIPS\n", argv[0]);
        return 2;
    }
    char addr[256];
    snprintf(addr, sizeof addr, "ipc://%s", argv[1]);
    double *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    if (a == NULL || b == NULL || nn_ping(argv[0], addr, n, a) != 0 || pair_ping(n, b) != 0) {
        fprintf(stderr, "nn_hop: a round trip failed\n");
        return 1;
    }
    printf("nanomsg p50 %.1f p99 %.1f socketpair p50 %.1f p99 %.1f\n", a[n / 2], a[n * 99 / 100],
           b[n / 2], b[n * 99 / 100]);
    free(a);
    free(b);
    unlink(argv[1]);
    return 0;
}
