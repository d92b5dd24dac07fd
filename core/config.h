/* The server's configuration: etcd 2.3 command-line flags and their ETCD_*
 * environment twins (V2-CONTRACT §3), turned into one struct cc_config.
 *
 * One table in config.c drives parsing, environment lookup, defaults, --help
 * and the "is this feature built yet" question; adding a flag is adding a row.
 *
 * Parsing follows Go's flag package as etcd 2.3.8 uses it:
 *   -x v, --x v, -x=v, --x=v; a bool flag alone means true, false needs
 *   -x=false (Go ParseBool: 1 t T TRUE true True 0 f F FALSE false False);
 *   "--" ends the flags; the first argument that is not a flag ends them too
 *   and is an error ("'arg' is not a valid flag"); a repeated flag: last wins;
 *   numbers are Go ParseUint base 0 (10, 0x10, 010).
 * Then each ETCD_<FLAG> variable sets a flag the command line did not set
 * (empty values ignored). A flag given on the command line beats its
 * variable, with a warning (etcd 2.x; 3.4 would abort instead).
 *
 * Exit codes are the caller's job; the result says which one etcd uses.
 *
 * Flags whose feature Concord does not have yet are accepted and marked
 * "unsupported" in the table (a static bit: a feature lands together with its
 * row edit, reviewed in one diff, and no process-wide mutable state is
 * needed). The caller asks cc_config_first_unsupported() and refuses to start
 * rather than silently ignore, e.g., --cert-file and serve plain HTTP.
 * Currently unsupported: every TLS flag (client and peer, incl. the 3.4 ones),
 * --proxy and the --proxy-* timeouts (no forwarding worker yet), --discovery,
 * --initial-cluster-state existing (joining needs the members API),
 * --discovery-srv, --discovery-srv-name, --discovery-proxy, --wal-dir,
 * --cors, --strict-reconfig-check, --force-new-cluster, --enable-pprof,
 * --experimental-v3demo, and the 3.4 flags --config-file,
 * --listen-metrics-urls, --host-whitelist, --experimental-enable-v2v3.
 * 3.4 flags that only tune etcd 3 machinery (quota, gRPC, auth token, bbolt,
 * compaction, logger, ...) are accepted with a warning that they have no
 * effect; --enable-v2 is accepted silently (Concord always serves v2).
 */
#ifndef CC_CORE_CONFIG_H
#define CC_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/urls.h"

enum cc_proxy_mode { CC_PROXY_OFF, CC_PROXY_READONLY, CC_PROXY_ON };
enum cc_cluster_state { CC_CLUSTER_NEW, CC_CLUSTER_EXISTING };

/* Where a flag's value came from. DERIVED: set by another flag (the legacy
 * -bind-addr taken from -addr), which etcd counts as set. */
enum cc_config_origin { CC_ORIGIN_DEFAULT, CC_ORIGIN_ENV, CC_ORIGIN_FLAG, CC_ORIGIN_DERIVED };

/* One name=url pair of --initial-cluster, in the order written. */
struct cc_initial_member {
    char *name;
    struct cc_url url;
};

/* Upper bound on the flag table's rows (checked at compile time in config.c). */
#define CC_CONFIG_MAX_FLAGS 128

/* Every string is a heap copy owned by the struct (never NULL after a parse
 * that got past the defaults); cc_config_free releases everything. */
struct cc_config {
    /* member */
    char *name;     /* default "default" */
    char *data_dir; /* default "<name>.etcd" */
    char *wal_dir;  /* default "" */
    uint64_t snapshot_count;
    unsigned heartbeat_interval_ms, election_timeout_ms;
    /* The four URL lists as etcd uses them, legacy -addr style flags
     * already folded in; each sorted by text. */
    struct cc_url_list listen_peer_urls, listen_client_urls, initial_advertise_peer_urls,
        advertise_client_urls;
    unsigned max_snapshots, max_wals;
    char *cors; /* raw, "" = none */

    /* clustering */
    char *initial_cluster;             /* raw text, after the default followed --name */
    size_t n_initial;                  /* parsed pairs; 0 when --discovery or */
    struct cc_initial_member *initial; /* --discovery-srv is non-empty (etcd ignores it then) */
    enum cc_cluster_state initial_cluster_state;
    char *initial_cluster_token;
    char *discovery, *discovery_srv, *discovery_srv_name, *discovery_proxy;
    bool discovery_fallback_exit; /* --discovery-fallback exit (default proxy) */
    bool strict_reconfig_check;

    /* proxy */
    enum cc_proxy_mode proxy;
    unsigned proxy_failure_wait_ms, proxy_refresh_interval_ms, proxy_dial_timeout_ms,
        proxy_write_timeout_ms, proxy_read_timeout_ms;

    /* security. The deprecated --ca-file F is folded in as etcd treats it:
     * client_cert_auth becomes true and, if --trusted-ca-file is empty, it
     * becomes F; ca_file keeps F because etcd trusts both files when both
     * are given. Same for the peer pair. */
    char *cert_file, *key_file, *trusted_ca_file, *ca_file;
    char *peer_cert_file, *peer_key_file, *peer_trusted_ca_file, *peer_ca_file;
    bool client_cert_auth, peer_client_cert_auth;

    /* logging, unsafe, misc */
    bool debug, force_new_cluster, enable_pprof;
    char *log_package_levels;

    /* Concord's own */
    char *admin_socket; /* default "<data-dir>/admin.sock" */
    char *log_file;     /* default "" = stderr */
    uint64_t max_request_bytes;

    /* Legacy 0.4 "IP:port" flags as given (scheme ""), only for the fold
     * into the URL lists above; nothing else should read them. */
    struct cc_url legacy_addr, legacy_bind_addr, legacy_peer_addr, legacy_peer_bind_addr;

    /* Bookkeeping, by table row: where each value came from, and whether it
     * differs from the default (what "unsupported flag used" looks at). */
    unsigned char origin[CC_CONFIG_MAX_FLAGS];
    unsigned char nondefault[CC_CONFIG_MAX_FLAGS];
    bool print_version;
};

enum cc_config_result {
    CC_CONFIG_OK = 0,
    CC_CONFIG_EXIT_OK, /* --help or --version printed: exit 0 */
    CC_CONFIG_USAGE,   /* bad command line (unknown flag, bad value): exit 2 */
    CC_CONFIG_INVALID, /* bad environment value or failed validation: exit 1 */
};

/* Parses argv (argv[0] is the program) and envp (NULL-terminated "K=V";
 * NULL means none) into *cfg, which is overwritten without being freed.
 * On CC_CONFIG_OK the caller owns *cfg and releases it with cc_config_free;
 * on any other result *cfg is already freed and zeroed (freeing it again is
 * harmless).
 *
 * Warnings (a variable shadowed by its flag, an unknown ETCD_* variable, a
 * deprecated or no-effect flag) go to warn(ctx, msg), one line each without
 * a newline, unless warn is NULL. Errors: one line in err (no newline), as
 * etcd words them:
 *   USAGE    flag provided but not defined: -bogus
 *            invalid value "x" for flag -snapshot-count: strconv.ParseUint: ...
 *            invalid boolean value "x" for -debug: strconv.ParseBool: ...
 *            flag needs an argument: -name
 *            bad flag syntax: ---x
 *            (the usage text is printed to out as well)
 *   INVALID  invalid value "abc" for ETCD_SNAPSHOT_COUNT: strconv.ParseUint: ...
 *            error verifying flags, <reason>. See 'concord --help'.
 * with <reason> one of: 'arg' is not a valid flag; multiple discovery or
 * bootstrap flags are set...; -advertise-client-urls is required when
 * -listen-client-urls is set explicitly; Set only one of flags -X and -Y;
 * -election-timeout[Nms] should be at least as 5 times as
 * -heartbeat-interval[Mms]; -election-timeout[Nms] is too long, and should be
 * set less than 50000ms; -heartbeat-interval must be greater than 0;
 * -max-request-bytes must be greater than 0; -force-new-cluster cannot be
 * used with -proxy=on|readonly; error setting up initial cluster: <why>.
 *
 * Checks that depend on the data dir are not made here: see
 * cc_config_verify_bootstrap. --help and --version print to out (may be
 * NULL: nothing printed). */
enum cc_config_result cc_config_parse(struct cc_config *cfg, int argc, char **argv, char **envp,
                                      void (*warn)(void *ctx, const char *msg), void *ctx,
                                      FILE *out, char *err, size_t errlen);

/* Frees what cfg owns and zeroes it; safe on a zeroed struct and twice. */
void cc_config_free(struct cc_config *cfg);

/* True if the flag (name without dashes) was set by the command line, by
 * its environment variable, or derived from a legacy flag. Unknown names:
 * false. */
bool cc_config_was_set(const struct cc_config *cfg, const char *flag_name);

/* Where the flag's value came from; CC_ORIGIN_DEFAULT for unknown names. */
enum cc_config_origin cc_config_origin_of(const struct cc_config *cfg, const char *flag_name);

/* The first flag (table order) marked unsupported that was set to a value
 * other than its default, by flag or environment; NULL if none. So
 * "--client-cert-auth=false" or "--cert-file ''" do not count. */
const char *cc_config_first_unsupported(const struct cc_config *cfg);

/* The bootstrap checks etcd makes only when the data dir is empty
 * (V2-CONTRACT §3.3 step 4/5): a restart with an initialised data dir
 * ignores --initial-* and --discovery*, so cc_config_parse cannot refuse a
 * bogus --initial-cluster. Call this for a member (not a proxy) about to
 * bootstrap. Returns 0, or -1 with one of etcd's lines in err:
 *   couldn't find local name "x" in the initial cluster configuration
 *   --initial-cluster must include x=<urls> given --initial-advertise-peer-urls=<urls>
 *   initial cluster <name=url,...> has duplicate url
 *   discovery URL should not be set when joining existing initial cluster
 * The advertise comparison (state new only) resolves host names when the
 * texts differ, as etcd does, so it may block on DNS. With --discovery the
 * map checked is {name: --initial-advertise-peer-urls}, as in etcd; with
 * --discovery-srv the map comes from DNS and the SRV code must check it. */
int cc_config_verify_bootstrap(const struct cc_config *cfg, char *err, size_t errlen);

/* The --help and --version texts. */
void cc_config_print_help(FILE *out);
void cc_config_print_version(FILE *out);

#endif
