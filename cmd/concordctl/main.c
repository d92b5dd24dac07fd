/* concordctl: the operator's tool.
 *
 * Today it speaks to a node's admin socket (ADMIN COMMANDS below); the etcdctl
 * v2 key and member commands join it with the keys API. */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "ipc/paths.h"

static const char usage[] =
    "usage: concordctl [--data-dir DIR | --admin-socket PATH] COMMAND [ARGS]\n"
    "\n"
    "Admin commands (through the node's local admin socket):\n"
    "  workers          one line per worker: KIND PID STATE UPTIME RESTARTS LAST-EXIT\n"
    "  status           the node's status as JSON\n"
    "  restart KIND     gracefully restart one worker (storage, consensus, peer, http)\n"
    "  reload           restart every worker, one at a time (sends SIGHUP to the master)\n"
    "  hash             {\"index\":N,\"hash\":HEX}: the key tree's hash at the applied raft\n"
    "                   index, equal on members that applied the same entries\n"
    "\n"
    "The admin socket is DATA_DIR/admin.sock unless --admin-socket (or\n"
    "ETCD_ADMIN_SOCKET) names it; DATA_DIR comes from --data-dir, ETCD_DATA_DIR,\n"
    "or <ETCD_NAME or \"default\">.etcd as for concord itself.\n";

static int admin_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "concordctl: admin socket path too long: %s\n", path);
        return -1;
    }
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "concordctl: cannot reach the node's admin socket %s: %s\n", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Sends one request line and returns the answer line (malloc'd), or NULL. */
static char *admin_call(const char *path, const char *request)
{
    int fd = admin_connect(path);
    if (fd < 0)
        return NULL;
    size_t len = strlen(request);
    if (write(fd, request, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
        fprintf(stderr, "concordctl: cannot send to %s: %s\n", path, strerror(errno));
        close(fd);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(buf + n - (size_t)r, '\n', (size_t)r))
            break;
    }
    close(fd);
    if (buf == NULL || n == 0) {
        fprintf(stderr, "concordctl: no answer from %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    return buf;
}

static const char *str_at(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val s = yajl_tree_get(v, path, yajl_t_string);
    return s ? YAJL_GET_STRING(s) : NULL;
}

static int report_error(yajl_val v)
{
    const char *e = str_at(v, "error");
    if (e) {
        fprintf(stderr, "concordctl: %s\n", e);
        return 1;
    }
    return 0;
}

static void format_uptime(double s, char *buf, size_t len)
{
    long t = (long)s;
    if (t < 60)
        snprintf(buf, len, "%lds", t);
    else if (t < 3600)
        snprintf(buf, len, "%ldm%lds", t / 60, t % 60);
    else if (t < 86400)
        snprintf(buf, len, "%ldh%ldm", t / 3600, t % 3600 / 60);
    else
        snprintf(buf, len, "%ldd%ldh", t / 86400, t % 86400 / 3600);
}

static int print_workers(yajl_val st)
{
    const char *path[] = {"workers", NULL};
    yajl_val ws = yajl_tree_get(st, path, yajl_t_array);
    if (ws == NULL) {
        fprintf(stderr, "concordctl: the answer has no worker list\n");
        return 1;
    }
    printf("%-10s %-8s %-9s %-8s %-8s %s\n", "KIND", "PID", "STATE", "UPTIME", "RESTARTS",
           "LAST-EXIT");
    for (size_t i = 0; i < ws->u.array.len; i++) {
        yajl_val w = ws->u.array.values[i];
        const char *kp[] = {"pid", NULL}, *up[] = {"uptime_s", NULL}, *rp[] = {"restarts", NULL},
                   *lp[] = {"last_exit", NULL}, *sp[] = {"last_exit", "signal", NULL},
                   *cp[] = {"last_exit", "code", NULL};
        yajl_val pid = yajl_tree_get(w, kp, yajl_t_number);
        yajl_val uptime = yajl_tree_get(w, up, yajl_t_number);
        yajl_val restarts = yajl_tree_get(w, rp, yajl_t_number);
        yajl_val last = yajl_tree_get(w, lp, yajl_t_any);
        char pidbuf[24] = "-", upbuf[32] = "-", lastbuf[40] = "-";
        if (pid && YAJL_GET_INTEGER(pid) > 0)
            snprintf(pidbuf, sizeof(pidbuf), "%lld", YAJL_GET_INTEGER(pid));
        if (uptime && YAJL_GET_DOUBLE(uptime) > 0)
            format_uptime(YAJL_GET_DOUBLE(uptime), upbuf, sizeof(upbuf));
        if (last && YAJL_IS_OBJECT(last)) {
            yajl_val sig = yajl_tree_get(w, sp, yajl_t_number);
            yajl_val code = yajl_tree_get(w, cp, yajl_t_number);
            if (sig)
                snprintf(lastbuf, sizeof(lastbuf), "signal %lld", YAJL_GET_INTEGER(sig));
            else if (code)
                snprintf(lastbuf, sizeof(lastbuf), "exit %lld", YAJL_GET_INTEGER(code));
        }
        const char *kind = str_at(w, "kind"), *state = str_at(w, "state");
        printf("%-10s %-8s %-9s %-8s %-8lld %s\n", kind ? kind : "?", pidbuf, state ? state : "?",
               upbuf, restarts ? YAJL_GET_INTEGER(restarts) : 0LL, lastbuf);
    }
    return 0;
}

/* Runs one admin command; answer handling by the caller's mode. */
static int run_admin(const char *sock, const char *request, int mode)
{
    char *line = admin_call(sock, request);
    if (line == NULL)
        return 2;
    char perr[256];
    yajl_val v = yajl_tree_parse(line, perr, sizeof(perr));
    int rc = 0;
    if (v == NULL) {
        fprintf(stderr, "concordctl: bad answer from the node: %s\n", perr);
        rc = 1;
    } else if ((rc = report_error(v)) != 0) {
    } else if (mode == 'w') {
        rc = print_workers(v);
    } else if (mode == 'r') {
        const char *path[] = {"pid", NULL};
        yajl_val pid = yajl_tree_get(v, path, yajl_t_number);
        if (pid == NULL || YAJL_GET_INTEGER(pid) <= 0 ||
            kill((pid_t)YAJL_GET_INTEGER(pid), SIGHUP) != 0) {
            fprintf(stderr, "concordctl: cannot signal the master: %s\n", strerror(errno));
            rc = 1;
        } else {
            printf("reload requested (SIGHUP to pid %lld)\n", YAJL_GET_INTEGER(pid));
        }
    } else {
        printf("%s\n", line);
    }
    if (v)
        yajl_tree_free(v);
    free(line);
    return rc;
}

int main(int argc, char **argv)
{
    const char *data_dir = getenv("ETCD_DATA_DIR");
    const char *admin = getenv("ETCD_ADMIN_SOCKET");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        while (*a == '-')
            a++;
        const char *eq = strchr(a, '=');
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        if (strncmp(a, "help", nl) == 0 || strncmp(a, "h", nl) == 0) {
            fputs(usage, stdout);
            return 0;
        }
        bool is_dd = nl == 8 && strncmp(a, "data-dir", nl) == 0;
        bool is_as = nl == 12 && strncmp(a, "admin-socket", nl) == 0;
        if (!is_dd && !is_as) {
            fprintf(stderr, "concordctl: unknown option %s\n%s", argv[i], usage);
            return 2;
        }
        if (val == NULL) {
            fprintf(stderr, "concordctl: %s needs a value\n", argv[i]);
            return 2;
        }
        if (!eq)
            i++;
        if (is_dd)
            data_dir = val;
        else
            admin = val;
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    char dd[4096], sock[512];
    if (data_dir == NULL || data_dir[0] == '\0') {
        const char *name = getenv("ETCD_NAME");
        snprintf(dd, sizeof(dd), "%s.etcd", name && name[0] ? name : "default");
        data_dir = dd;
    }
    if (admin && admin[0])
        snprintf(sock, sizeof(sock), "%s", admin);
    else if (cc_admin_socket_default(data_dir, sock, sizeof(sock)) != 0) {
        fprintf(stderr, "concordctl: no admin socket path for data dir %s\n", data_dir);
        return 2;
    }
    const char *cmd = argv[i];
    if (strcmp(cmd, "workers") == 0 && argc == i + 1)
        return run_admin(sock, "{\"cmd\":\"status\"}", 'w');
    if (strcmp(cmd, "status") == 0 && argc == i + 1)
        return run_admin(sock, "{\"cmd\":\"status\"}", 's');
    if (strcmp(cmd, "reload") == 0 && argc == i + 1)
        return run_admin(sock, "{\"cmd\":\"status\"}", 'r');
    if (strcmp(cmd, "hash") == 0 && argc == i + 1)
        return run_admin(sock, "{\"cmd\":\"hash\"}", 's');
    if (strcmp(cmd, "restart") == 0 && argc == i + 2) {
        char req[256];
        if (strspn(argv[i + 1], "abcdefghijklmnopqrstuvwxyz") != strlen(argv[i + 1])) {
            fprintf(stderr, "concordctl: bad worker kind %s\n", argv[i + 1]);
            return 2;
        }
        snprintf(req, sizeof(req), "{\"cmd\":\"restart\",\"worker\":\"%s\"}", argv[i + 1]);
        return run_admin(sock, req, 's');
    }
    fprintf(stderr, "concordctl: unknown command or wrong arguments: %s\n%s", cmd, usage);
    return 2;
}
