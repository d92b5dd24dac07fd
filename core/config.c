/* etcd 2.3 flags and ETCD_* variables → struct cc_config (see config.h).
 *
 * Reference: etcd v2.3.8 etcdmain/config.go (flag set, Parse, validation),
 * pkg/flags (env twins, legacy flags), pkg/types (URLs, URLsMap) and
 * etcdserver/config.go (bootstrap checks). Where etcd has a message it is
 * used word for word ("etcd" becomes "concord" where it names the program). */
#include "core/config.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef CC_VERSION
#define CC_VERSION "0.0.0"
#endif
#ifndef CC_GIT_SHA
#define CC_GIT_SHA "Not provided"
#endif

#if defined(__x86_64__)
#define CC_ARCH "amd64"
#elif defined(__aarch64__)
#define CC_ARCH "arm64"
#elif defined(__i386__)
#define CC_ARCH "386"
#elif defined(__arm__)
#define CC_ARCH "arm"
#elif defined(__riscv) && __riscv_xlen == 64
#define CC_ARCH "riscv64"
#else
#define CC_ARCH "unknown"
#endif
#if defined(__linux__)
#define CC_OS "linux"
#else
#define CC_OS "unknown"
#endif

#define CFG_DEFAULT_NAME    "default"
#define CFG_MAX_ELECTION_MS 50000u
#define CFG_SEE_HELP        " See 'concord --help'."

/* How a row's text value is parsed and stored. */
enum flag_type {
    FT_STRING,   /* char * field */
    FT_BOOL,     /* bool field; may stand alone on the command line */
    FT_UINT,     /* unsigned field, Go ParseUint base 0, must fit 32 bits */
    FT_MS,       /* like FT_UINT; a duration in milliseconds (etcd's *-ms uints) */
    FT_UINT64,   /* uint64_t field */
    FT_INT,      /* Go ParseInt base 0; validated only (3.4 / experimental flags) */
    FT_DURATION, /* Go time.ParseDuration; validated only (3.4 flags) */
    FT_ENUM,     /* one of values[], stored by store_enum */
    FT_URLS,     /* struct cc_url_list field, etcd types.NewURLs rules */
    FT_ADDR,     /* legacy 0.4 "IP:port" into a struct cc_url field */
    FT_IGNORED,  /* legacy 0.4 flag that etcd 2 warns about and ignores; bool-like */
    FT_REMOVED,  /* legacy 0.4 flag that etcd 2 refuses (-peers, -peers-file) */
    FT_VERSION,  /* --version: bool-like, its env twin is recognised but unused */
};

/* Whether Concord does what the flag asks (see config.h for the list). */
enum flag_status {
    ST_OK,          /* implemented, or nothing to implement */
    ST_UNSUPPORTED, /* not built yet: reported by cc_config_first_unsupported */
    ST_NOOP,        /* etcd 3 machinery: accepted, warned about when not default */
};

/* --help sections, in output order. */
enum flag_group {
    G_MEMBER,
    G_CLUSTER,
    G_PROXY,
    G_SECURITY,
    G_LOGGING,
    G_UNSAFE,
    G_EXPERIMENTAL,
    G_PROFILING,
    G_CONCORD,
    G_ETCD34,
    G_HIDDEN, /* legacy 0.4 flags and --version: parsed, not listed */
};

static const char *const group_titles[] = {
    [G_MEMBER] = "member flags:",
    [G_CLUSTER] = "clustering flags:",
    [G_PROXY] = "proxy flags:",
    [G_SECURITY] = "security flags:",
    [G_LOGGING] = "logging flags:",
    [G_UNSAFE] = ("unsafe flags:\n\nPlease be CAUTIOUS when using unsafe flags because it will "
                  "break the guarantees\ngiven by the consensus protocol."),
    [G_EXPERIMENTAL] = "experimental flags:",
    [G_PROFILING] = "profiling flags:",
    [G_CONCORD] = "concord flags:",
    [G_ETCD34] = "etcd 3.4 flags (accepted for compatibility):",
};

struct cc_flag {
    const char *name; /* without dashes; the env twin is derived from it */
    unsigned char type, group, status;
    const char *def;   /* default as text, parsed by the same code as a value;
                          NULL: no default to apply (computed after parsing) */
    const char *shown; /* default as --help shows it when def does not say it */
    const char *help;
    size_t off; /* offsetof the field in struct cc_config, or NOFIELD */
    void (*store_enum)(struct cc_config *cfg, unsigned idx);
    const char *const *values; /* FT_ENUM: the valid words, NULL-terminated */
};

#define NOFIELD ((size_t)-1)
#define OFF(m)  offsetof(struct cc_config, m)

static void store_proxy(struct cc_config *cfg, unsigned idx)
{
    static const enum cc_proxy_mode modes[] = {CC_PROXY_OFF, CC_PROXY_READONLY, CC_PROXY_ON};
    cfg->proxy = modes[idx];
}

static void store_cluster_state(struct cc_config *cfg, unsigned idx)
{
    cfg->initial_cluster_state = idx == 0 ? CC_CLUSTER_NEW : CC_CLUSTER_EXISTING;
}

static void store_fallback(struct cc_config *cfg, unsigned idx)
{
    cfg->discovery_fallback_exit = idx == 0;
}

static const char *const proxy_values[] = {"off", "readonly", "on", NULL};
static const char *const cluster_state_values[] = {"new", "existing", NULL};
static const char *const fallback_values[] = {"exit", "proxy", NULL};

#define DEF_LPURLS "http://localhost:2380,http://localhost:7001"
#define DEF_LCURLS "http://localhost:2379,http://localhost:4001"
#define DEF_ICLUST "default=http://localhost:2380,default=http://localhost:7001"

static const struct cc_flag flag_table[] = {
    /* member */
    {"name", FT_STRING, G_MEMBER, ST_OK, CFG_DEFAULT_NAME, NULL,
     "human-readable name for this member.", OFF(name), NULL, NULL},
    {"data-dir", FT_STRING, G_MEMBER, ST_OK, "", "${name}.etcd", "path to the data directory.",
     OFF(data_dir), NULL, NULL},
    {"wal-dir", FT_STRING, G_MEMBER, ST_UNSUPPORTED, "", NULL,
     "path to the dedicated wal directory.", OFF(wal_dir), NULL, NULL},
    {"snapshot-count", FT_UINT64, G_MEMBER, ST_OK, "10000", NULL,
     "number of committed transactions to trigger a snapshot to disk.", OFF(snapshot_count), NULL,
     NULL},
    {"heartbeat-interval", FT_MS, G_MEMBER, ST_OK, "100", NULL,
     "time (in milliseconds) of a heartbeat interval.", OFF(heartbeat_interval_ms), NULL, NULL},
    {"election-timeout", FT_MS, G_MEMBER, ST_OK, "1000", NULL,
     "time (in milliseconds) for an election to timeout.", OFF(election_timeout_ms), NULL, NULL},
    {"listen-peer-urls", FT_URLS, G_MEMBER, ST_OK, DEF_LPURLS, NULL,
     "list of URLs to listen on for peer traffic.", OFF(listen_peer_urls), NULL, NULL},
    {"listen-client-urls", FT_URLS, G_MEMBER, ST_OK, DEF_LCURLS, NULL,
     "list of URLs to listen on for client traffic.", OFF(listen_client_urls), NULL, NULL},
    {"max-snapshots", FT_UINT, G_MEMBER, ST_OK, "5", NULL,
     "maximum number of snapshot files to retain (0 is unlimited).", OFF(max_snapshots), NULL,
     NULL},
    {"max-wals", FT_UINT, G_MEMBER, ST_OK, "5", NULL,
     "maximum number of wal files to retain (0 is unlimited).", OFF(max_wals), NULL, NULL},
    {"cors", FT_STRING, G_MEMBER, ST_UNSUPPORTED, "", NULL,
     "comma-separated whitelist of origins for CORS (cross-origin resource sharing).", OFF(cors),
     NULL, NULL},

    /* clustering */
    {"initial-advertise-peer-urls", FT_URLS, G_CLUSTER, ST_OK, DEF_LPURLS, NULL,
     "list of this member's peer URLs to advertise to the rest of the cluster.",
     OFF(initial_advertise_peer_urls), NULL, NULL},
    {"initial-cluster", FT_STRING, G_CLUSTER, ST_OK, DEF_ICLUST, NULL,
     "initial cluster configuration for bootstrapping.", OFF(initial_cluster), NULL, NULL},
    {"initial-cluster-state", FT_ENUM, G_CLUSTER, ST_UNSUPPORTED, "new", NULL,
     "initial cluster state ('new' or 'existing').", NOFIELD, store_cluster_state,
     cluster_state_values},
    {"initial-cluster-token", FT_STRING, G_CLUSTER, ST_OK, "etcd-cluster", NULL,
     "initial cluster token for the etcd cluster during bootstrap.", OFF(initial_cluster_token),
     NULL, NULL},
    {"advertise-client-urls", FT_URLS, G_CLUSTER, ST_OK, DEF_LCURLS, NULL,
     "list of this member's client URLs to advertise to the public.", OFF(advertise_client_urls),
     NULL, NULL},
    {"discovery", FT_STRING, G_CLUSTER, ST_UNSUPPORTED, "", NULL,
     "discovery URL used to bootstrap the cluster.", OFF(discovery), NULL, NULL},
    {"discovery-fallback", FT_ENUM, G_CLUSTER, ST_OK, "proxy", NULL,
     "expected behavior ('exit' or 'proxy') when discovery services fails.", NOFIELD,
     store_fallback, fallback_values},
    {"discovery-proxy", FT_STRING, G_CLUSTER, ST_UNSUPPORTED, "", NULL,
     "HTTP proxy to use for traffic to discovery service.", OFF(discovery_proxy), NULL, NULL},
    {"discovery-srv", FT_STRING, G_CLUSTER, ST_UNSUPPORTED, "", NULL,
     "dns srv domain used to bootstrap the cluster.", OFF(discovery_srv), NULL, NULL},
    {"discovery-srv-name", FT_STRING, G_CLUSTER, ST_UNSUPPORTED, "", NULL,
     "service name suffix for the DNS SRV records (etcd 3).", OFF(discovery_srv_name), NULL, NULL},
    {"strict-reconfig-check", FT_BOOL, G_CLUSTER, ST_UNSUPPORTED, "false", NULL,
     "reject reconfiguration requests that would cause quorum loss.", OFF(strict_reconfig_check),
     NULL, NULL},

    /* proxy */
    {"proxy", FT_ENUM, G_PROXY, ST_UNSUPPORTED, "off", NULL,
     "proxy mode setting ('off', 'readonly' or 'on').", NOFIELD, store_proxy, proxy_values},
    {"proxy-failure-wait", FT_MS, G_PROXY, ST_UNSUPPORTED, "5000", NULL,
     "time (in milliseconds) an endpoint will be held in a failed state.",
     OFF(proxy_failure_wait_ms), NULL, NULL},
    {"proxy-refresh-interval", FT_MS, G_PROXY, ST_UNSUPPORTED, "30000", NULL,
     "time (in milliseconds) of the endpoints refresh interval.", OFF(proxy_refresh_interval_ms),
     NULL, NULL},
    {"proxy-dial-timeout", FT_MS, G_PROXY, ST_UNSUPPORTED, "1000", NULL,
     "time (in milliseconds) for a dial to timeout.", OFF(proxy_dial_timeout_ms), NULL, NULL},
    {"proxy-write-timeout", FT_MS, G_PROXY, ST_UNSUPPORTED, "5000", NULL,
     "time (in milliseconds) for a write to timeout.", OFF(proxy_write_timeout_ms), NULL, NULL},
    {"proxy-read-timeout", FT_MS, G_PROXY, ST_UNSUPPORTED, "0", NULL,
     "time (in milliseconds) for a read to timeout.", OFF(proxy_read_timeout_ms), NULL, NULL},

    /* security */
    {"ca-file", FT_STRING, G_SECURITY, ST_UNSUPPORTED, "", NULL,
     "[DEPRECATED] path to the client server TLS CA file; same as '-trusted-ca-file F "
     "-client-cert-auth'.",
     OFF(ca_file), NULL, NULL},
    {"cert-file", FT_STRING, G_SECURITY, ST_UNSUPPORTED, "", NULL,
     "path to the client server TLS cert file.", OFF(cert_file), NULL, NULL},
    {"key-file", FT_STRING, G_SECURITY, ST_UNSUPPORTED, "", NULL,
     "path to the client server TLS key file.", OFF(key_file), NULL, NULL},
    {"client-cert-auth", FT_BOOL, G_SECURITY, ST_UNSUPPORTED, "false", NULL,
     "enable client cert authentication.", OFF(client_cert_auth), NULL, NULL},
    {"trusted-ca-file", FT_STRING, G_SECURITY, ST_UNSUPPORTED, "", NULL,
     "path to the client server TLS trusted CA key file.", OFF(trusted_ca_file), NULL, NULL},
    {"peer-ca-file", FT_STRING, G_SECURITY, ST_UNSUPPORTED, "", NULL,
     "[DEPRECATED] path to the peer server TLS CA file; same as '-peer-trusted-ca-file F "
     "-peer-client-cert-auth'.",
     OFF(peer_ca_file), NULL, NULL},
    {"peer-cert-file", FT_STRING, G_SECURITY, ST_UNSUPPORTED, "", NULL,
     "path to the peer server TLS cert file.", OFF(peer_cert_file), NULL, NULL},
    {"peer-key-file", FT_STRING, G_SECURITY, ST_UNSUPPORTED, "", NULL,
     "path to the peer server TLS key file.", OFF(peer_key_file), NULL, NULL},
    {"peer-client-cert-auth", FT_BOOL, G_SECURITY, ST_UNSUPPORTED, "false", NULL,
     "enable peer client cert authentication.", OFF(peer_client_cert_auth), NULL, NULL},
    {"peer-trusted-ca-file", FT_STRING, G_SECURITY, ST_UNSUPPORTED, "", NULL,
     "path to the peer server TLS trusted CA file.", OFF(peer_trusted_ca_file), NULL, NULL},

    /* logging */
    {"debug", FT_BOOL, G_LOGGING, ST_OK, "false", NULL, "enable debug-level logging.", OFF(debug),
     NULL, NULL},
    {"log-package-levels", FT_STRING, G_LOGGING, ST_OK, "", NULL,
     "specify a particular log level for each package (eg: 'etcdmain=CRITICAL,etcdserver=DEBUG').",
     OFF(log_package_levels), NULL, NULL},

    /* unsafe */
    {"force-new-cluster", FT_BOOL, G_UNSAFE, ST_UNSUPPORTED, "false", NULL,
     "force to create a new one-member cluster.", OFF(force_new_cluster), NULL, NULL},

    /* experimental (etcd 2.3's v3 preview) */
    {"experimental-v3demo", FT_BOOL, G_EXPERIMENTAL, ST_UNSUPPORTED, "false", NULL,
     "enable experimental v3 demo API.", NOFIELD, NULL, NULL},
    {"experimental-auto-compaction-retention", FT_INT, G_EXPERIMENTAL, ST_NOOP, "0", NULL,
     "auto compaction retention in hour (no effect in concord).", NOFIELD, NULL, NULL},
    {"experimental-gRPC-addr", FT_STRING, G_EXPERIMENTAL, ST_NOOP, "127.0.0.1:2378", NULL,
     "gRPC address for experimental v3 demo API (no effect in concord).", NOFIELD, NULL, NULL},

    /* profiling */
    {"enable-pprof", FT_BOOL, G_PROFILING, ST_UNSUPPORTED, "false", NULL,
     "enable runtime profiling data via HTTP server at client URL + \"/debug/pprof\".",
     OFF(enable_pprof), NULL, NULL},

    /* concord */
    {"admin-socket", FT_STRING, G_CONCORD, ST_OK, "", "${data-dir}/admin.sock",
     "path of the admin socket (concordctl talks to it).", OFF(admin_socket), NULL, NULL},
    {"log-file", FT_STRING, G_CONCORD, ST_OK, "", NULL,
     "file to append log lines to; empty means standard error.", OFF(log_file), NULL, NULL},
    {"max-request-bytes", FT_UINT64, G_CONCORD, ST_OK, "1572864", NULL,
     "maximum client request size in bytes the server will accept.", OFF(max_request_bytes), NULL,
     NULL},

    /* etcd 3.4: accepted so that 3.4 command lines start; see config.h */
    {"enable-v2", FT_BOOL, G_ETCD34, ST_NOOP, "true", NULL,
     "accept etcd V2 client requests (always on in concord).", NOFIELD, NULL, NULL},
    {"config-file", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "", NULL,
     "path to a YAML configuration file.", NOFIELD, NULL, NULL},
    {"listen-metrics-urls", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "", NULL,
     "list of URLs to listen on for metrics.", NOFIELD, NULL, NULL},
    {"initial-election-tick-advance", FT_BOOL, G_ETCD34, ST_NOOP, "true", NULL,
     "fast-forward initial election ticks (no effect).", NOFIELD, NULL, NULL},
    {"pre-vote", FT_BOOL, G_ETCD34, ST_NOOP, "false", NULL,
     "run an additional raft election phase (no effect).", NOFIELD, NULL, NULL},
    {"quota-backend-bytes", FT_INT, G_ETCD34, ST_NOOP, "0", NULL, "backend size quota (no effect).",
     NOFIELD, NULL, NULL},
    {"backend-batch-interval", FT_DURATION, G_ETCD34, ST_NOOP, "0s", NULL,
     "backend commit interval (no effect).", NOFIELD, NULL, NULL},
    {"backend-batch-limit", FT_INT, G_ETCD34, ST_NOOP, "0", NULL,
     "backend commit batch size (no effect).", NOFIELD, NULL, NULL},
    {"max-txn-ops", FT_UINT, G_ETCD34, ST_NOOP, "128", NULL,
     "maximum operations per v3 transaction (no effect).", NOFIELD, NULL, NULL},
    {"max-concurrent-streams", FT_UINT, G_ETCD34, ST_NOOP, "4294967295", NULL,
     "maximum gRPC streams per client (no effect).", NOFIELD, NULL, NULL},
    {"grpc-keepalive-min-time", FT_DURATION, G_ETCD34, ST_NOOP, "5s", NULL,
     "gRPC keepalive minimum time (no effect).", NOFIELD, NULL, NULL},
    {"grpc-keepalive-interval", FT_DURATION, G_ETCD34, ST_NOOP, "2h0m0s", NULL,
     "gRPC keepalive interval (no effect).", NOFIELD, NULL, NULL},
    {"grpc-keepalive-timeout", FT_DURATION, G_ETCD34, ST_NOOP, "20s", NULL,
     "gRPC keepalive timeout (no effect).", NOFIELD, NULL, NULL},
    {"client-crl-file", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "", NULL,
     "client certificate revocation list file.", NOFIELD, NULL, NULL},
    {"client-cert-allowed-hostname", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "", NULL,
     "allowed TLS hostname for client cert authentication.", NOFIELD, NULL, NULL},
    {"auto-tls", FT_BOOL, G_ETCD34, ST_UNSUPPORTED, "false", NULL,
     "client TLS using generated certificates.", NOFIELD, NULL, NULL},
    {"peer-auto-tls", FT_BOOL, G_ETCD34, ST_UNSUPPORTED, "false", NULL,
     "peer TLS using generated certificates.", NOFIELD, NULL, NULL},
    {"peer-crl-file", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "", NULL,
     "peer certificate revocation list file.", NOFIELD, NULL, NULL},
    {"peer-cert-allowed-cn", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "", NULL,
     "allowed CN for inter peer authentication.", NOFIELD, NULL, NULL},
    {"peer-cert-allowed-hostname", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "", NULL,
     "allowed TLS hostname for inter peer authentication.", NOFIELD, NULL, NULL},
    {"cipher-suites", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "", NULL,
     "comma-separated list of TLS cipher suites.", NOFIELD, NULL, NULL},
    {"experimental-peer-skip-client-san-verification", FT_BOOL, G_ETCD34, ST_UNSUPPORTED, "false",
     NULL, "skip verification of SAN field in peer client certificates.", NOFIELD, NULL, NULL},
    {"host-whitelist", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "*", NULL,
     "comma-separated acceptable hostnames from HTTP client requests.", NOFIELD, NULL, NULL},
    {"logger", FT_STRING, G_ETCD34, ST_NOOP, "capnslog", NULL, "etcd 3 logger choice (no effect).",
     NOFIELD, NULL, NULL},
    {"log-output", FT_STRING, G_ETCD34, ST_NOOP, "default", NULL,
     "etcd 3 log outputs (no effect; see --log-file).", NOFIELD, NULL, NULL},
    {"log-outputs", FT_STRING, G_ETCD34, ST_NOOP, "default", NULL,
     "etcd 3 log outputs (no effect; see --log-file).", NOFIELD, NULL, NULL},
    {"log-level", FT_STRING, G_ETCD34, ST_NOOP, "info", NULL,
     "etcd 3 log level (no effect; see --debug).", NOFIELD, NULL, NULL},
    {"auto-compaction-retention", FT_STRING, G_ETCD34, ST_NOOP, "0", NULL,
     "v3 auto compaction retention (no effect).", NOFIELD, NULL, NULL},
    {"auto-compaction-mode", FT_STRING, G_ETCD34, ST_NOOP, "periodic", NULL,
     "v3 auto compaction mode (no effect).", NOFIELD, NULL, NULL},
    {"metrics", FT_STRING, G_ETCD34, ST_NOOP, "basic", NULL,
     "level of detail of exported metrics (no effect).", NOFIELD, NULL, NULL},
    {"auth-token", FT_STRING, G_ETCD34, ST_NOOP, "simple", NULL,
     "v3 auth token options (no effect).", NOFIELD, NULL, NULL},
    {"bcrypt-cost", FT_UINT, G_ETCD34, ST_NOOP, "10", NULL, "v3 bcrypt cost (no effect).", NOFIELD,
     NULL, NULL},
    {"auth-token-ttl", FT_UINT, G_ETCD34, ST_NOOP, "300", NULL,
     "v3 auth token lifetime in seconds (no effect).", NOFIELD, NULL, NULL},
    {"enable-grpc-gateway", FT_BOOL, G_ETCD34, ST_NOOP, "true", NULL,
     "enable the gRPC gateway (no effect).", NOFIELD, NULL, NULL},
    {"experimental-initial-corrupt-check", FT_BOOL, G_ETCD34, ST_NOOP, "false", NULL, "(no effect)",
     NOFIELD, NULL, NULL},
    {"experimental-corrupt-check-time", FT_DURATION, G_ETCD34, ST_NOOP, "0s", NULL, "(no effect)",
     NOFIELD, NULL, NULL},
    {"experimental-enable-v2v3", FT_STRING, G_ETCD34, ST_UNSUPPORTED, "", NULL,
     "v3 prefix for serving emulated v2 state.", NOFIELD, NULL, NULL},
    {"experimental-backend-bbolt-freelist-type", FT_STRING, G_ETCD34, ST_NOOP, "map", NULL,
     "(no effect)", NOFIELD, NULL, NULL},
    {"experimental-enable-lease-checkpoint", FT_BOOL, G_ETCD34, ST_NOOP, "false", NULL,
     "(no effect)", NOFIELD, NULL, NULL},
    {"experimental-enable-lease-checkpoint-persist", FT_BOOL, G_ETCD34, ST_NOOP, "false", NULL,
     "(no effect)", NOFIELD, NULL, NULL},
    {"experimental-compaction-batch-limit", FT_INT, G_ETCD34, ST_NOOP, "1000", NULL, "(no effect)",
     NOFIELD, NULL, NULL},
    {"experimental-watch-progress-notify-interval", FT_DURATION, G_ETCD34, ST_NOOP, "10m0s", NULL,
     "(no effect)", NOFIELD, NULL, NULL},
    {"experimental-warning-apply-duration", FT_DURATION, G_ETCD34, ST_NOOP, "100ms", NULL,
     "(no effect)", NOFIELD, NULL, NULL},
    {"unsafe-no-fsync", FT_BOOL, G_ETCD34, ST_NOOP, "false", NULL,
     "disable fsync (no effect: concord always syncs).", NOFIELD, NULL, NULL},

    /* --version, and etcd 0.4.6 compatibility (etcd 2.3.8 still parses these) */
    {"version", FT_VERSION, G_HIDDEN, ST_OK, NULL, NULL, "print the version and exit.", NOFIELD,
     NULL, NULL},
    {"addr", FT_ADDR, G_HIDDEN, ST_OK, NULL, NULL, "-advertise-client-urls", OFF(legacy_addr), NULL,
     NULL},
    {"bind-addr", FT_ADDR, G_HIDDEN, ST_OK, NULL, NULL, "-listen-client-urls",
     OFF(legacy_bind_addr), NULL, NULL},
    {"peer-addr", FT_ADDR, G_HIDDEN, ST_OK, NULL, NULL, "-initial-advertise-peer-urls",
     OFF(legacy_peer_addr), NULL, NULL},
    {"peer-bind-addr", FT_ADDR, G_HIDDEN, ST_OK, NULL, NULL, "-listen-peer-urls",
     OFF(legacy_peer_bind_addr), NULL, NULL},
    {"peers", FT_REMOVED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"peers-file", FT_REMOVED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"cluster-active-size", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"cluster-remove-delay", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"cluster-sync-interval", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"config", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"force", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"max-result-buffer", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"max-retry-attempts", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"peer-heartbeat-interval", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"peer-election-timeout", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"retry-interval", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"snapshot", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"v", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
    {"vv", FT_IGNORED, G_HIDDEN, ST_OK, NULL, NULL, "", NOFIELD, NULL, NULL},
};

#define N_FLAGS (sizeof flag_table / sizeof flag_table[0])
_Static_assert(N_FLAGS <= CC_CONFIG_MAX_FLAGS, "raise CC_CONFIG_MAX_FLAGS");
_Static_assert(sizeof group_titles / sizeof group_titles[0] == G_HIDDEN, "a title per group");

/* ---- small helpers ---- */

static void cfg_printf(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cfg_printf(char *buf, size_t n, const char *fmt, ...)
{
    if (buf == NULL || n == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

struct cfg_warner {
    void (*fn)(void *ctx, const char *msg);
    void *ctx;
};

static void cfg_warn(const struct cfg_warner *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cfg_warn(const struct cfg_warner *w, const char *fmt, ...)
{
    if (w->fn == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->fn(w->ctx, msg);
}

static const struct cc_flag *flag_find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_FLAGS; i++)
        if (strlen(flag_table[i].name) == len && memcmp(flag_table[i].name, name, len) == 0)
            return &flag_table[i];
    return NULL;
}

static size_t flag_index(const struct cc_flag *f)
{
    return (size_t)(f - flag_table);
}

/* pkg/flags flagToEnv: "ETCD_" + upper case, '-' → '_'. */
static void flag_env_name(const struct cc_flag *f, char *buf, size_t n)
{
    size_t o = (size_t)snprintf(buf, n, "ETCD_");
    for (const char *p = f->name; *p && o + 1 < n; p++) {
        char c = *p == '-' ? '_' : *p;
        buf[o++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    buf[o] = '\0';
}

static void *field(struct cc_config *cfg, const struct cc_flag *f)
{
    return (char *)cfg + f->off;
}

/* ---- Go value parsers (strconv.ParseBool/ParseUint/ParseInt, time.ParseDuration) ---- */

static int parse_go_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Go 1.6 ParseUint(s, 0, 64) digits: 0x/0X hex, leading 0 octal, else
 * decimal; no sign. Returns 0, -1 syntax, -2 above max. */
static int parse_go_digits(const char *s, uint64_t max, uint64_t *out)
{
    unsigned base = 10;
    if (s[0] == '\0')
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (*s == '\0')
            return -1;
    } else if (s[0] == '0' && s[1] != '\0') {
        base = 8;
        s++;
    }
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (d >= base)
            return -1;
        if (v > (max - d) / base)
            return -2;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

static int parse_go_uint(const char *s, uint64_t max, uint64_t *out, char *why, size_t n)
{
    int rc = parse_go_digits(s, max, out);
    if (rc == 0)
        return 0;
    cfg_printf(why, n, "strconv.ParseUint: parsing \"%s\": %s", s,
               rc == -1 ? "invalid syntax" : "value out of range");
    return -1;
}

static int parse_go_int(const char *s, char *why, size_t n)
{
    const char *p = s + (s[0] == '+' || s[0] == '-');
    uint64_t v;
    uint64_t max = s[0] == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int rc = parse_go_digits(p, max, &v);
    if (rc == 0)
        return 0;
    cfg_printf(why, n, "strconv.ParseInt: parsing \"%s\": %s", s,
               rc == -1 ? "invalid syntax" : "value out of range");
    return -1;
}

/* time.ParseDuration's grammar: [-+]? then one or more
 * <decimal number><unit>, or the bare "0". */
static int parse_go_duration(const char *s, char *why, size_t n)
{
    static const char *const units[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms", "s", "m", "h"};
    const char *p = s + (s[0] == '+' || s[0] == '-');
    if (strcmp(p, "0") == 0)
        return 0;
    if (*p == '\0')
        goto bad;
    while (*p) {
        size_t digits = 0;
        while (*p >= '0' && *p <= '9')
            p++, digits++;
        if (*p == '.') {
            p++;
            while (*p >= '0' && *p <= '9')
                p++, digits++;
        }
        if (digits == 0)
            goto bad;
        const char *u = p;
        while (*p && !(*p >= '0' && *p <= '9') && *p != '.')
            p++;
        size_t ulen = (size_t)(p - u);
        bool known = false;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i]) == ulen && memcmp(units[i], u, ulen) == 0)
                known = true;
        if (!known)
            goto bad;
    }
    return 0;
bad:
    cfg_printf(why, n, "time: invalid duration %s", s);
    return -1;
}

/* legacy pkg/flags IPAddressPort: net.SplitHostPort, the host must be an IP
 * literal, the port a number. The URL parser does the split. */
static int parse_ip_port(const char *in, struct cc_url *out, char *why, size_t n)
{
    char uerr[64], *tmp = NULL;
    struct cc_url u;
    const char *s = in;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (asprintf(&tmp, "http://%s", s) < 0) {
        cfg_printf(why, n, "out of memory");
        return -1;
    }
    int rc = cc_url_parse(tmp, &u, uerr, sizeof uerr);
    free(tmp);
    if (rc != 0) {
        if (strncmp(uerr, "URL port must be", 16) == 0)
            cfg_printf(why, n, "bad port in address specification");
        else
            cfg_printf(why, n, "missing port in address %s", in);
        return -1;
    }
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, u.host, buf) != 1 && inet_pton(AF_INET6, u.host, buf) != 1) {
        cfg_printf(why, n, "bad IP in address specification");
        return -1;
    }
    memset(u.scheme, 0, sizeof u.scheme);
    cc_url_format(&u);
    *out = u;
    return 0;
}

/* ---- setting one flag from text ---- */

static int set_string(char **slot, const char *val, char *why, size_t n)
{
    char *dup = strdup(val);
    if (dup == NULL) {
        cfg_printf(why, n, "out of memory");
        return -1;
    }
    free(*slot);
    *slot = dup;
    return 0;
}

static void enum_valid_values(const struct cc_flag *f, char *why, size_t n)
{
    size_t o = (size_t)snprintf(why, n, "valid values are");
    for (size_t i = 0; f->values[i] != NULL && o < n; i++)
        o += (size_t)snprintf(why + o, n - o, "%s \"%s\"", i ? "," : "", f->values[i]);
}

/* Parses val as f's type and stores it. Returns 0, or -1 with the reason in
 * why (the part after "invalid value ... for flag -x: "). */
static int flag_set(struct cc_config *cfg, const struct cc_flag *f, const char *val, char *why,
                    size_t n)
{
    bool b;
    uint64_t u;
    switch ((enum flag_type)f->type) {
    case FT_STRING:
        return f->off == NOFIELD ? 0 : set_string(field(cfg, f), val, why, n);
    case FT_BOOL:
    case FT_VERSION:
        if (parse_go_bool(val, &b) != 0) {
            cfg_printf(why, n, "strconv.ParseBool: parsing \"%s\": invalid syntax", val);
            return -1;
        }
        if (f->type == FT_VERSION)
            cfg->print_version = b;
        else if (f->off != NOFIELD)
            *(bool *)field(cfg, f) = b;
        return 0;
    case FT_UINT:
    case FT_MS:
        if (parse_go_uint(val, UINT_MAX, &u, why, n) != 0)
            return -1;
        if (f->off != NOFIELD)
            *(unsigned *)field(cfg, f) = (unsigned)u;
        return 0;
    case FT_UINT64:
        if (parse_go_uint(val, UINT64_MAX, &u, why, n) != 0)
            return -1;
        if (f->off != NOFIELD)
            *(uint64_t *)field(cfg, f) = u;
        return 0;
    case FT_INT:
        return parse_go_int(val, why, n);
    case FT_DURATION:
        return parse_go_duration(val, why, n);
    case FT_ENUM:
        for (unsigned i = 0; f->values[i] != NULL; i++)
            if (strcmp(val, f->values[i]) == 0) {
                f->store_enum(cfg, i);
                return 0;
            }
        enum_valid_values(f, why, n);
        return -1;
    case FT_URLS: {
        struct cc_url_list l;
        if (cc_url_list_parse(val, &l, why, n) != 0)
            return -1;
        struct cc_url_list *slot = field(cfg, f);
        cc_url_list_free(slot);
        *slot = l;
        return 0;
    }
    case FT_ADDR:
        return parse_ip_port(val, field(cfg, f), why, n);
    case FT_IGNORED:
        return 0;
    case FT_REMOVED:
        cfg_printf(why, n, "flag \"-%s\" is no longer supported.", f->name);
        return -1;
    }
    return -1;
}

/* Whether val (already accepted by flag_set) means the same as the default;
 * what cc_config_first_unsupported and the no-effect warning look at. */
static bool flag_value_is_default(const struct cc_flag *f, const char *val)
{
    const char *def = f->def ? f->def : "";
    switch ((enum flag_type)f->type) {
    case FT_BOOL:
    case FT_VERSION: {
        bool a = false, b = false;
        parse_go_bool(val, &a);
        parse_go_bool(def[0] ? def : "false", &b);
        return a == b;
    }
    case FT_UINT:
    case FT_MS:
    case FT_UINT64: {
        uint64_t a = 0, b = 0;
        parse_go_digits(val, UINT64_MAX, &a);
        parse_go_digits(def, UINT64_MAX, &b);
        return a == b;
    }
    case FT_URLS: {
        struct cc_url_list a, b;
        if (cc_url_list_parse(val, &a, NULL, 0) != 0)
            return false;
        if (cc_url_list_parse(def, &b, NULL, 0) != 0) {
            cc_url_list_free(&a);
            return false;
        }
        bool eq = cc_url_list_equal_as_sets(&a, &b);
        cc_url_list_free(&a);
        cc_url_list_free(&b);
        return eq;
    }
    case FT_IGNORED:
    case FT_REMOVED:
    case FT_ADDR:
        return false;
    case FT_STRING:
    case FT_INT:
    case FT_DURATION:
    case FT_ENUM:
        break;
    }
    return strcmp(val, def) == 0;
}

static void flag_mark(struct cc_config *cfg, const struct cc_flag *f, enum cc_config_origin o,
                      const char *val)
{
    size_t i = flag_index(f);
    cfg->origin[i] = (unsigned char)o;
    cfg->nondefault[i] = !flag_value_is_default(f, val);
}

/* ---- help and version ---- */

static const char usage_text[] = "usage: concord [flags]\n"
                                 "       start a concord server (etcd 2 compatible)\n"
                                 "\n"
                                 "       concord --version\n"
                                 "       show the version of concord\n"
                                 "\n"
                                 "       concord -h | --help\n"
                                 "       show the help information about concord\n";

static void print_usage(FILE *out)
{
    if (out != NULL)
        fputs(usage_text, out);
}

void cc_config_print_help(FILE *out)
{
    if (out == NULL)
        return;
    fputs(usage_text, out);
    for (unsigned g = 0; g < G_HIDDEN; g++) {
        fprintf(out, "\n%s\n\n", group_titles[g]);
        for (size_t i = 0; i < N_FLAGS; i++) {
            const struct cc_flag *f = &flag_table[i];
            if (f->group != g)
                continue;
            const char *shown = f->shown ? f->shown : f->def ? f->def : "";
            fprintf(out, "\t--%s '%s'%s\n\t\t%s\n", f->name, shown,
                    f->status == ST_UNSUPPORTED ? " [not supported yet]" : "", f->help);
        }
    }
}

void cc_config_print_version(FILE *out)
{
    if (out == NULL)
        return;
    fprintf(out, "concord Version: %s\nGit SHA: %s\nGo Version: n/a (C11)\nGo OS/Arch: %s/%s\n",
            CC_VERSION, CC_GIT_SHA, CC_OS, CC_ARCH);
}

/* ---- after parsing: etcd's Parse() checks and main()'s derived defaults ---- */

static const struct cc_flag *flag_named(const char *name)
{
    return flag_find(name, strlen(name));
}

static enum cc_config_result verify_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum cc_config_result verify_fail(char *err, size_t errlen, const char *fmt, ...)
{
    char reason[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    cfg_printf(err, errlen, "error verifying flags, %s." CFG_SEE_HELP, reason);
    return CC_CONFIG_INVALID;
}

/* pkg/flags SetBindAddrFromAddr: -addr alone also means listening on
 * [::]:port, as etcd 0.4 did; the bind flag then counts as set. */
static void bind_from_addr(struct cc_config *cfg, const char *bind_name, const char *addr_name)
{
    const struct cc_flag *bf = flag_named(bind_name), *af = flag_named(addr_name);
    if (cc_config_was_set(cfg, bind_name) || !cc_config_was_set(cfg, addr_name))
        return;
    struct cc_url *bind = field(cfg, bf);
    const struct cc_url *addr = field(cfg, af);
    *bind = *addr;
    snprintf(bind->host, sizeof bind->host, "::");
    cc_url_format(bind);
    cfg->origin[flag_index(bf)] = CC_ORIGIN_DERIVED;
    cfg->nondefault[flag_index(bf)] = 1;
}

/* pkg/flags URLsFromFlags: a legacy IP:port flag replaces the URL list
 * (https when the matching TLS cert or key is given); both is an error. */
static int urls_from_flags(struct cc_config *cfg, const char *urls_name, const char *addr_name,
                           bool tls, char *err, size_t errlen)
{
    if (!cc_config_was_set(cfg, addr_name))
        return 0;
    if (cc_config_was_set(cfg, urls_name)) {
        verify_fail(err, errlen, "Set only one of flags -%s and -%s", urls_name, addr_name);
        return -1;
    }
    const struct cc_url *addr = field(cfg, flag_named(addr_name));
    struct cc_url_list *list = field(cfg, flag_named(urls_name));
    struct cc_url *v = calloc(1, sizeof *v);
    if (v == NULL) {
        cfg_printf(err, errlen, "out of memory");
        return -1;
    }
    *v = *addr;
    snprintf(v->scheme, sizeof v->scheme, "%s", tls ? "https" : "http");
    cc_url_format(v);
    cc_url_list_free(list);
    list->v = v;
    list->n = 1;
    return 0;
}

static void trim_span(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\n' || (*e)[-1] == '\r'))
        (*e)--;
}

/* types.NewURLsMap: "name=url,name=url,..."; empty entries are skipped and
 * a name may repeat (a member with several peer URLs). */
static int parse_initial_cluster(struct cc_config *cfg, char *why, size_t n)
{
    const char *s = cfg->initial_cluster;
    size_t cap = 1;
    for (const char *c = s; *c; c++)
        cap += *c == ',';
    cfg->initial = calloc(cap, sizeof *cfg->initial);
    if (cfg->initial == NULL) {
        cfg_printf(why, n, "out of memory");
        return -1;
    }
    while (*s) {
        const char *end = strchr(s, ',');
        if (end == NULL)
            end = s + strlen(s);
        const char *next = *end ? end + 1 : end;
        const char *a = s, *b = end;
        trim_span(&a, &b);
        s = next;
        if (a == b)
            continue;
        const char *eq = memchr(a, '=', (size_t)(b - a));
        if (eq == NULL) {
            cfg_printf(why, n, "\"%.*s\" is not of the form name=url", (int)(b - a), a);
            return -1;
        }
        struct cc_initial_member *m = &cfg->initial[cfg->n_initial];
        if (cc_url_parse_n(eq + 1, (size_t)(b - eq - 1), &m->url, why, n) != 0)
            return -1;
        const char *na = a, *nb = eq;
        trim_span(&na, &nb);
        m->name = strndup(na, (size_t)(nb - na));
        if (m->name == NULL) {
            cfg_printf(why, n, "out of memory");
            return -1;
        }
        cfg->n_initial++;
    }
    return 0;
}

static int set_derived(char **slot, const char *fmt, const char *a, const char *b)
{
    char *s = NULL;
    if (asprintf(&s, fmt, a, b) < 0)
        return -1;
    free(*slot);
    *slot = s;
    return 0;
}

static enum cc_config_result finish(struct cc_config *cfg, const struct cfg_warner *w, char *err,
                                    size_t errlen)
{
    /* Deprecated and no-effect flags: say so once each, before anything
     * can fail, so the operator sees them with the error. */
    for (size_t i = 0; i < N_FLAGS; i++) {
        const struct cc_flag *f = &flag_table[i];
        if (cfg->origin[i] == CC_ORIGIN_DEFAULT || cfg->origin[i] == CC_ORIGIN_DERIVED)
            continue;
        if (f->type == FT_IGNORED)
            cfg_warn(w, "flag \"-%s\" is no longer supported - ignoring.", f->name);
        else if (f->type == FT_ADDR)
            cfg_warn(w, "flag -%s is deprecated: use %s instead", f->name, f->help);
        else if (f->status == ST_NOOP && cfg->nondefault[i])
            cfg_warn(w, "flag -%s is accepted for compatibility but has no effect in concord",
                     f->name);
    }
    if (cfg->ca_file[0] != '\0')
        cfg_warn(w, "flag -ca-file is deprecated: use -trusted-ca-file FILE -client-cert-auth");
    if (cfg->peer_ca_file[0] != '\0')
        cfg_warn(w, "flag -peer-ca-file is deprecated: use -peer-trusted-ca-file FILE "
                    "-peer-client-cert-auth");

    int nboot = cc_config_was_set(cfg, "discovery") + cc_config_was_set(cfg, "initial-cluster") +
                cc_config_was_set(cfg, "discovery-srv");
    if (nboot > 1)
        return verify_fail(err, errlen,
                           "multiple discovery or bootstrap flags are set. Choose one of "
                           "\"initial-cluster\", \"discovery\" or \"discovery-srv\"");

    bind_from_addr(cfg, "peer-bind-addr", "peer-addr");
    bind_from_addr(cfg, "bind-addr", "addr");
    bool peer_tls = cfg->peer_cert_file[0] != '\0' || cfg->peer_key_file[0] != '\0';
    bool client_tls = cfg->cert_file[0] != '\0' || cfg->key_file[0] != '\0';
    if (urls_from_flags(cfg, "listen-peer-urls", "peer-bind-addr", peer_tls, err, errlen) != 0 ||
        urls_from_flags(cfg, "initial-advertise-peer-urls", "peer-addr", peer_tls, err, errlen) !=
            0 ||
        urls_from_flags(cfg, "listen-client-urls", "bind-addr", client_tls, err, errlen) != 0 ||
        urls_from_flags(cfg, "advertise-client-urls", "addr", client_tls, err, errlen) != 0)
        return CC_CONFIG_INVALID;

    /* A member must tell clients where to reach it once it listens somewhere
     * specific; a proxy (or a member that may fall back to being one) does
     * not publish client URLs. */
    bool may_fallback = cc_config_was_set(cfg, "discovery") && !cfg->discovery_fallback_exit;
    bool may_be_proxy = cfg->proxy != CC_PROXY_OFF || may_fallback;
    if (!may_be_proxy && cc_config_was_set(cfg, "listen-client-urls") &&
        !cc_config_was_set(cfg, "advertise-client-urls"))
        return verify_fail(err, errlen,
                           "-advertise-client-urls is required when "
                           "-listen-client-urls is set explicitly");

    /* etcd divides by the heartbeat to get election ticks; 0 would crash. */
    if (cfg->heartbeat_interval_ms == 0)
        return verify_fail(err, errlen, "-heartbeat-interval must be greater than 0");
    if (5ull * cfg->heartbeat_interval_ms > cfg->election_timeout_ms)
        return verify_fail(err, errlen,
                           "-election-timeout[%ums] should be at least as 5 times as "
                           "-heartbeat-interval[%ums]",
                           cfg->election_timeout_ms, cfg->heartbeat_interval_ms);
    if (cfg->election_timeout_ms > CFG_MAX_ELECTION_MS)
        return verify_fail(err, errlen,
                           "-election-timeout[%ums] is too long, and should be set less than %ums",
                           cfg->election_timeout_ms, CFG_MAX_ELECTION_MS);
    if (cfg->max_request_bytes == 0)
        return verify_fail(err, errlen, "-max-request-bytes must be greater than 0");
    /* Forcing a new cluster rewrites a member's raft state; a proxy has none,
     * so the combination can only be a mistake. */
    if (cfg->proxy != CC_PROXY_OFF && cfg->force_new_cluster)
        return verify_fail(err, errlen, "-force-new-cluster cannot be used with -proxy=%s",
                           proxy_values[cfg->proxy]);

    /* --ca-file F means "trust F and require client certs" (transport.TLSInfo). */
    if (cfg->ca_file[0] != '\0') {
        cfg->client_cert_auth = true;
        if (cfg->trusted_ca_file[0] == '\0' &&
            set_derived(&cfg->trusted_ca_file, "%s%s", cfg->ca_file, "") != 0)
            goto oom;
    }
    if (cfg->peer_ca_file[0] != '\0') {
        cfg->peer_client_cert_auth = true;
        if (cfg->peer_trusted_ca_file[0] == '\0' &&
            set_derived(&cfg->peer_trusted_ca_file, "%s%s", cfg->peer_ca_file, "") != 0)
            goto oom;
    }

    /* etcdmain.Main: the initial cluster follows a non-default --name while
     * it still has the default value; the data dir defaults to <name>.etcd. */
    if (strcmp(cfg->name, CFG_DEFAULT_NAME) != 0 && strcmp(cfg->initial_cluster, DEF_ICLUST) == 0) {
        const char *nm = cfg->name[0] ? cfg->name : CFG_DEFAULT_NAME;
        if (set_derived(&cfg->initial_cluster, "%s=http://localhost:2380,%s=http://localhost:7001",
                        nm, nm) != 0)
            goto oom;
    }
    if (cfg->data_dir[0] == '\0' && set_derived(&cfg->data_dir, "%s%s", cfg->name, ".etcd") != 0)
        goto oom;
    if (cfg->admin_socket[0] == '\0') {
        size_t dl = strlen(cfg->data_dir);
        const char *sep = dl > 0 && cfg->data_dir[dl - 1] == '/' ? "" : "/";
        if (set_derived(&cfg->admin_socket, "%s%sadmin.sock", cfg->data_dir, sep) != 0)
            goto oom;
    }

    /* Static configuration only: with discovery the map comes from the
     * discovery service or DNS and etcd never reads --initial-cluster. */
    if (cfg->discovery[0] == '\0' && cfg->discovery_srv[0] == '\0') {
        char why[512];
        if (parse_initial_cluster(cfg, why, sizeof why) != 0)
            return verify_fail(err, errlen, "error setting up initial cluster: %s", why);
    }
    return CC_CONFIG_OK;
oom:
    cfg_printf(err, errlen, "out of memory");
    return CC_CONFIG_INVALID;
}

/* ---- the entry point ---- */

static enum cc_config_result parse(struct cc_config *cfg, int argc, char **argv, char **envp,
                                   void (*warn)(void *ctx, const char *msg), void *ctx, FILE *out,
                                   char *err, size_t errlen)
{
    struct cfg_warner w = {warn, ctx};
    char why[512];
    memset(cfg, 0, sizeof *cfg);
    cfg_printf(err, errlen, "%s", "");

    for (size_t i = 0; i < N_FLAGS; i++) {
        const struct cc_flag *f = &flag_table[i];
        if (f->def != NULL && flag_set(cfg, f, f->def, why, sizeof why) != 0) {
            cfg_printf(err, errlen, "default of -%s: %s", f->name, why);
            return CC_CONFIG_INVALID;
        }
    }

    /* The command line, as Go's flag.FlagSet.Parse reads it. */
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0')
            break;
        const char *nm = a + 1;
        if (nm[0] == '-') {
            nm++;
            if (nm[0] == '\0') {
                i++;
                break;
            }
        }
        if (nm[0] == '\0' || nm[0] == '-' || nm[0] == '=') {
            cfg_printf(err, errlen, "bad flag syntax: %s", a);
            print_usage(out);
            return CC_CONFIG_USAGE;
        }
        const char *eq = strchr(nm, '=');
        size_t nlen = eq ? (size_t)(eq - nm) : strlen(nm);
        const char *val = eq ? eq + 1 : NULL;
        const struct cc_flag *f = flag_find(nm, nlen);
        if (f == NULL) {
            if ((nlen == 4 && memcmp(nm, "help", 4) == 0) || (nlen == 1 && nm[0] == 'h')) {
                cc_config_print_help(out);
                return CC_CONFIG_EXIT_OK;
            }
            cfg_printf(err, errlen, "flag provided but not defined: -%.*s", (int)nlen, nm);
            print_usage(out);
            return CC_CONFIG_USAGE;
        }
        if (f->type == FT_BOOL || f->type == FT_IGNORED || f->type == FT_VERSION) {
            if (val == NULL)
                val = "true";
            if (flag_set(cfg, f, val, why, sizeof why) != 0) {
                cfg_printf(err, errlen, "invalid boolean value \"%s\" for -%s: %s", val, f->name,
                           why);
                print_usage(out);
                return CC_CONFIG_USAGE;
            }
        } else {
            if (val == NULL) {
                if (i + 1 >= argc) {
                    cfg_printf(err, errlen, "flag needs an argument: -%s", f->name);
                    print_usage(out);
                    return CC_CONFIG_USAGE;
                }
                val = argv[++i];
            }
            if (flag_set(cfg, f, val, why, sizeof why) != 0) {
                cfg_printf(err, errlen, "invalid value \"%s\" for flag -%s: %s", val, f->name, why);
                print_usage(out);
                return CC_CONFIG_USAGE;
            }
        }
        flag_mark(cfg, f, CC_ORIGIN_FLAG, val);
    }
    if (i < argc) {
        verify_fail(err, errlen, "'%s' is not a valid flag", argv[i]);
        return CC_CONFIG_INVALID;
    }
    if (cfg->print_version) {
        cc_config_print_version(out);
        return CC_CONFIG_EXIT_OK;
    }

    /* The environment, as pkg/flags.SetFlagsFromEnv reads it. */
    for (char **e = envp; e != NULL && *e != NULL; e++) {
        const char *kv = *e, *eq = strchr(kv, '=');
        if (eq == NULL || eq - kv < 5 || memcmp(kv, "ETCD_", 5) != 0)
            continue;
        size_t klen = (size_t)(eq - kv);
        const char *val = eq + 1;
        const struct cc_flag *f = NULL;
        char env[128];
        for (size_t k = 0; k < N_FLAGS && f == NULL; k++) {
            flag_env_name(&flag_table[k], env, sizeof env);
            if (strlen(env) == klen && memcmp(env, kv, klen) == 0)
                f = &flag_table[k];
        }
        if (f == NULL) {
            cfg_warn(&w, "unrecognized environment variable %.*s", (int)klen, kv);
            continue;
        }
        size_t idx = flag_index(f);
        if (cfg->origin[idx] == CC_ORIGIN_FLAG) {
            cfg_warn(&w,
                     "recognized environment variable %.*s, but unused: shadowed by "
                     "corresponding flag",
                     (int)klen, kv);
            continue;
        }
        /* First occurrence wins, as getenv(3) and Go's os.Getenv do; empty
         * means unset; ETCD_VERSION is read after the version check, so it
         * never does anything in etcd either. */
        if (cfg->origin[idx] == CC_ORIGIN_ENV || val[0] == '\0' || f->type == FT_VERSION)
            continue;
        if (flag_set(cfg, f, val, why, sizeof why) != 0) {
            cfg_printf(err, errlen, "invalid value \"%s\" for %.*s: %s", val, (int)klen, kv, why);
            return CC_CONFIG_INVALID;
        }
        flag_mark(cfg, f, CC_ORIGIN_ENV, val);
    }

    return finish(cfg, &w, err, errlen);
}

enum cc_config_result cc_config_parse(struct cc_config *cfg, int argc, char **argv, char **envp,
                                      void (*warn)(void *ctx, const char *msg), void *ctx,
                                      FILE *out, char *err, size_t errlen)
{
    enum cc_config_result r = parse(cfg, argc, argv, envp, warn, ctx, out, err, errlen);
    /* Callers exit on anything but OK; leave nothing for them to free. */
    if (r != CC_CONFIG_OK)
        cc_config_free(cfg);
    return r;
}

void cc_config_free(struct cc_config *cfg)
{
    if (cfg == NULL)
        return;
    for (size_t i = 0; i < N_FLAGS; i++) {
        const struct cc_flag *f = &flag_table[i];
        if (f->off == NOFIELD)
            continue;
        if (f->type == FT_STRING)
            free(*(char **)field(cfg, f));
        else if (f->type == FT_URLS)
            cc_url_list_free(field(cfg, f));
    }
    for (size_t i = 0; i < cfg->n_initial; i++)
        free(cfg->initial[i].name);
    free(cfg->initial);
    memset(cfg, 0, sizeof *cfg);
}

enum cc_config_origin cc_config_origin_of(const struct cc_config *cfg, const char *flag_name)
{
    const struct cc_flag *f = flag_named(flag_name);
    return f ? (enum cc_config_origin)cfg->origin[flag_index(f)] : CC_ORIGIN_DEFAULT;
}

bool cc_config_was_set(const struct cc_config *cfg, const char *flag_name)
{
    return cc_config_origin_of(cfg, flag_name) != CC_ORIGIN_DEFAULT;
}

const char *cc_config_first_unsupported(const struct cc_config *cfg)
{
    for (size_t i = 0; i < N_FLAGS; i++)
        if (flag_table[i].status == ST_UNSUPPORTED && cfg->origin[i] != CC_ORIGIN_DEFAULT &&
            cfg->nondefault[i])
            return flag_table[i].name;
    return NULL;
}

/* ---- bootstrap checks (etcdserver.ServerConfig.VerifyBootstrap/VerifyJoinExisting) ---- */

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* types.URLsMap.String: "name=url" pairs sorted as strings, joined by ','. */
static char *pairs_string(const char *const *names, const struct cc_url *const *urls, size_t n)
{
    char **pairs = calloc(n ? n : 1, sizeof *pairs);
    char *s = NULL;
    size_t need = 1;
    if (pairs == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (asprintf(&pairs[i], "%s=%s", names[i], urls[i]->text) < 0) {
            pairs[i] = NULL;
            goto out;
        }
        need += strlen(pairs[i]) + 1;
    }
    qsort(pairs, n, sizeof *pairs, cmp_strp);
    s = malloc(need);
    if (s != NULL) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(pairs[i]);
            if (i)
                s[o++] = ',';
            memcpy(s + o, pairs[i], l);
            o += l;
        }
        s[o] = '\0';
    }
out:
    for (size_t i = 0; i < n; i++)
        free(pairs[i]);
    free(pairs);
    return s;
}

int cc_config_verify_bootstrap(const struct cc_config *cfg, char *err, size_t errlen)
{
    if (cfg->discovery[0] == '\0' && cfg->discovery_srv[0] != '\0')
        return 0;

    /* The map to check: the static one, or with discovery {name: apurls}. */
    size_t n = cfg->discovery[0] ? cfg->initial_advertise_peer_urls.n : cfg->n_initial;
    const char **names = calloc(n ? n : 1, sizeof *names);
    const struct cc_url **urls = calloc(n ? n : 1, sizeof *urls);
    struct cc_url_list local = {0, NULL};
    char *a = NULL, *b = NULL;
    int rc = -1;
    if (names == NULL || urls == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        names[i] = cfg->discovery[0] ? cfg->name : cfg->initial[i].name;
        urls[i] = cfg->discovery[0] ? &cfg->initial_advertise_peer_urls.v[i] : &cfg->initial[i].url;
    }

    local.v = calloc(n ? n : 1, sizeof *local.v);
    if (local.v == NULL)
        goto oom;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], cfg->name) == 0)
            local.v[local.n++] = *urls[i];
    if (local.n == 0) {
        cfg_printf(err, errlen,
                   "couldn't find local name \"%s\" in the initial cluster configuration",
                   cfg->name);
        goto out;
    }

    if (cfg->initial_cluster_state == CC_CLUSTER_NEW &&
        !cc_url_list_equal_resolved(&cfg->initial_advertise_peer_urls, &local)) {
        const struct cc_url_list *ap = &cfg->initial_advertise_peer_urls;
        const char **self = calloc(ap->n ? ap->n : 1, sizeof *self);
        const struct cc_url **apv = calloc(ap->n ? ap->n : 1, sizeof *apv);
        if (self != NULL && apv != NULL) {
            for (size_t i = 0; i < ap->n; i++) {
                self[i] = cfg->name;
                apv[i] = &ap->v[i];
            }
            a = pairs_string(self, apv, ap->n);
        }
        free(self);
        free(apv);
        b = cc_url_list_join(ap);
        if (a == NULL || b == NULL)
            goto oom;
        cfg_printf(err, errlen,
                   "--initial-cluster must include %s given --initial-advertise-peer-urls=%s", a,
                   b);
        goto out;
    }

    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(urls[i]->text, urls[j]->text) == 0) {
                a = pairs_string(names, urls, n);
                if (a == NULL)
                    goto oom;
                cfg_printf(err, errlen, "initial cluster %s has duplicate url", a);
                goto out;
            }

    if (cfg->initial_cluster_state == CC_CLUSTER_EXISTING && cfg->discovery[0] != '\0') {
        cfg_printf(err, errlen,
                   "discovery URL should not be set when joining existing initial cluster");
        goto out;
    }
    rc = 0;
    goto out;
oom:
    cfg_printf(err, errlen, "out of memory");
out:
    free(a);
    free(b);
    free(local.v);
    free(names);
    free(urls);
    return rc;
}
