/* core/config.c and core/urls.c: etcd 2 flag syntax, ETCD_* variables,
 * defaults and the validation messages of V2-CONTRACT §3. */
#include "core/config.h"
#include "core/urls.h"

#include <stdlib.h>

#include "tests/unit/unit.h"

/* One parse with everything it produced captured. */
struct run {
    struct cc_config cfg;
    enum cc_config_result rc;
    char err[1024];
    char *out;
    size_t outlen;
    int nwarn;
    char warns[16][512];
};

#define ARGS(...) ((char *[]){"concord", __VA_ARGS__, NULL})
#define NOARGS    ((char *[]){"concord", NULL})
#define ENV(...)  ((char *[]){__VA_ARGS__, NULL})

static void on_warn(void *ctx, const char *msg)
{
    struct run *r = ctx;
    if (r->nwarn < 16)
        snprintf(r->warns[r->nwarn++], sizeof r->warns[0], "%s", msg);
}

static void run_parse(struct run *r, char **argv, char **envp)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    memset(r, 0, sizeof *r);
    FILE *out = open_memstream(&r->out, &r->outlen);
    r->rc = cc_config_parse(&r->cfg, argc, argv, envp, on_warn, r, out, r->err, sizeof r->err);
    fclose(out);
}

static void run_done(struct run *r)
{
    cc_config_free(&r->cfg);
    free(r->out);
}

static bool warned(const struct run *r, const char *msg)
{
    for (int i = 0; i < r->nwarn; i++)
        if (strcmp(r->warns[i], msg) == 0)
            return true;
    return false;
}

/* Parses argv, expects a validation failure with exactly msg. */
static void expect_invalid(char **argv, char **envp, const char *msg)
{
    struct run r;
    run_parse(&r, argv, envp);
    CHECK(r.rc == CC_CONFIG_INVALID);
    CHECK_STR(r.err, msg);
    CHECK(r.cfg.name == NULL && r.cfg.listen_client_urls.v == NULL); /* freed by the parser */
    run_done(&r);
}

static void expect_usage(char **argv, const char *msg)
{
    struct run r;
    run_parse(&r, argv, NULL);
    CHECK(r.rc == CC_CONFIG_USAGE);
    CHECK_STR(r.err, msg);
    CHECK(r.cfg.name == NULL && r.cfg.listen_client_urls.v == NULL);
    CHECK(r.out != NULL && strstr(r.out, "usage: concord [flags]") != NULL);
    run_done(&r);
}

/* ---- urls ---- */

static void expect_url_error(const char *in, const char *msg)
{
    struct cc_url u;
    char err[512] = "";
    CHECK(cc_url_parse(in, &u, err, sizeof err) == -1);
    CHECK_STR(err, msg);
}

static void test_url_valid(void)
{
    struct cc_url u;
    char err[256];
    CHECK(cc_url_parse("http://127.0.0.1:2379", &u, err, sizeof err) == 0);
    CHECK_STR(u.scheme, "http");
    CHECK_STR(u.host, "127.0.0.1");
    CHECK(u.port == 2379);
    CHECK_STR(u.text, "http://127.0.0.1:2379");

    CHECK(cc_url_parse("  https://[::1]:2380 \t", &u, err, sizeof err) == 0);
    CHECK_STR(u.scheme, "https");
    CHECK_STR(u.host, "::1");
    CHECK(u.port == 2380);
    CHECK_STR(u.text, "https://[::1]:2380");

    CHECK(cc_url_parse("HTTP://localhost:0", &u, err, sizeof err) == 0);
    CHECK_STR(u.scheme, "http");
    CHECK_STR(u.host, "localhost");
    CHECK(u.port == 0);
    CHECK_STR(u.text, "http://localhost:0");

    CHECK(cc_url_parse("http://:65535", &u, err, sizeof err) == 0);
    CHECK_STR(u.host, "");
    CHECK(u.port == 65535);
    CHECK_STR(u.text, "http://:65535");
}

static void test_url_errors(void)
{
    expect_url_error("ftp://a:1", "URL scheme must be http or https: ftp://a:1");
    expect_url_error("localhost:2379", "URL scheme must be http or https: localhost:2379");
    expect_url_error("127.0.0.1:2379", "URL scheme must be http or https: 127.0.0.1:2379");
    expect_url_error(" ", "URL scheme must be http or https: ");
    expect_url_error("http://a", "URL address does not have the form \"host:port\": http://a");
    expect_url_error("http:a:1", "URL address does not have the form \"host:port\": http:a:1");
    expect_url_error("http://::1:2379",
                     "URL address does not have the form \"host:port\": http://::1:2379");
    expect_url_error("http://[::1]",
                     "URL address does not have the form \"host:port\": http://[::1]");
    expect_url_error("http://a:1/", "URL must not contain a path: http://a:1/");
    expect_url_error("http://a:1/v2/keys", "URL must not contain a path: http://a:1/v2/keys");
    expect_url_error("http://a:99999", "URL port must be a number from 0 to 65535: http://a:99999");
    expect_url_error("http://a:65536", "URL port must be a number from 0 to 65535: http://a:65536");
    expect_url_error("http://a:", "URL port must be a number from 0 to 65535: http://a:");
    expect_url_error("http://a:b", "URL port must be a number from 0 to 65535: http://a:b");
    expect_url_error("http://[zz]:1", "URL host is not valid: http://[zz]:1");
    expect_url_error("http://a b:1", "URL host is not valid: http://a b:1");
    expect_url_error("http://u@a:1",
                     "URL must not contain user information, a query or a fragment: http://u@a:1");
    expect_url_error("http://a:1?x",
                     "URL must not contain user information, a query or a fragment: http://a:1?x");
}

static void test_url_list(void)
{
    struct cc_url_list l = {0, NULL}, m = {0, NULL};
    char err[256] = "";

    /* Trimmed and sorted by text, as etcd's types.NewURLs does. */
    CHECK(cc_url_list_parse("http://b:2 , http://a:1", &l, err, sizeof err) == 0);
    CHECK(l.n == 2);
    if (l.n == 2) {
        CHECK_STR(l.v[0].text, "http://a:1");
        CHECK_STR(l.v[1].text, "http://b:2");
    }
    char *joined = cc_url_list_join(&l);
    CHECK_STR(joined, "http://a:1,http://b:2");
    free(joined);

    CHECK(cc_url_list_parse("http://a:1,http://b:2,http://a:1", &m, err, sizeof err) == 0);
    CHECK(m.n == 3);
    CHECK(cc_url_list_equal_as_sets(&l, &m));
    cc_url_list_free(&m);
    CHECK(m.n == 0 && m.v == NULL);

    CHECK(cc_url_list_parse("http://a:1", &m, err, sizeof err) == 0);
    CHECK(!cc_url_list_equal_as_sets(&l, &m));
    CHECK(!cc_url_list_equal_as_sets(&m, &l));
    cc_url_list_free(&m);

    CHECK(cc_url_list_parse("", &m, err, sizeof err) == -1);
    CHECK_STR(err, "no valid URLs given");
    CHECK(m.n == 0 && m.v == NULL);
    CHECK(cc_url_list_parse("  ", &m, err, sizeof err) == -1);
    CHECK_STR(err, "no valid URLs given");
    CHECK(cc_url_list_parse("http://a:1,,http://b:2", &m, err, sizeof err) == -1);
    CHECK_STR(err, "URL scheme must be http or https: ");
    /* No silent truncation: trailing junk far away still counts. */
    char longurl[2100];
    snprintf(longurl, sizeof longurl, "http://a:1%2000sx", "");
    CHECK(cc_url_list_parse(longurl, &m, err, sizeof err) == -1);
    CHECK(strncmp(err, "URL port must be a number from 0 to 65535: http://a:1 ", 54) == 0);
    struct cc_url one;
    CHECK(cc_url_parse_n("http://a:1/x", 10, &one, err, sizeof err) == 0);
    CHECK_STR(one.text, "http://a:1");
    CHECK(cc_url_list_parse("http://a:1,http://b:2/x", &m, err, sizeof err) == -1);
    CHECK_STR(err, "URL must not contain a path: http://b:2/x");
    CHECK(m.n == 0 && m.v == NULL);

    /* Resolution only where texts differ; IP literals need no DNS. */
    CHECK(cc_url_list_parse("http://127.0.0.1:2380", &m, err, sizeof err) == 0);
    struct cc_url_list loc = {0, NULL};
    CHECK(cc_url_list_parse("http://localhost:2380", &loc, err, sizeof err) == 0);
    CHECK(!cc_url_list_equal_as_sets(&m, &loc));
    CHECK(cc_url_list_equal_resolved(&m, &loc));
    cc_url_list_free(&loc);
    CHECK(cc_url_list_parse("http://127.0.0.2:2380", &loc, err, sizeof err) == 0);
    CHECK(!cc_url_list_equal_resolved(&m, &loc));
    cc_url_list_free(&loc);
    cc_url_list_free(&m);
    cc_url_list_free(&l);
    cc_url_list_free(NULL);
}

/* ---- command-line syntax ---- */

static void expect_name(char **argv, const char *name)
{
    struct run r;
    run_parse(&r, argv, NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.err, "");
    CHECK_STR(r.cfg.name, name);
    CHECK(cc_config_was_set(&r.cfg, "name"));
    CHECK(cc_config_origin_of(&r.cfg, "name") == CC_ORIGIN_FLAG);
    run_done(&r);
}

static void test_syntax_forms(void)
{
    expect_name(ARGS("-name", "a"), "a");
    expect_name(ARGS("--name", "b"), "b");
    expect_name(ARGS("-name=c"), "c");
    expect_name(ARGS("--name=d"), "d");
    expect_name(ARGS("-name", "-debug"), "-debug"); /* a value may start with '-', as in Go */
    expect_name(ARGS("-name", "a", "-name", "last"), "last");
    expect_name(ARGS("-name", "x", "--"), "x");

    /* Only the first '=' separates the value. */
    struct run r;
    run_parse(&r, ARGS("--initial-cluster-token=a=b"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.initial_cluster_token, "a=b");
    run_done(&r);
}

static void test_bool_forms(void)
{
    struct run r;
    run_parse(&r, ARGS("-debug", "-strict-reconfig-check"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.debug);
    CHECK(r.cfg.strict_reconfig_check);
    run_done(&r);

    static const char *const truths[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const lies[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "--debug=%s", truths[i]);
        snprintf(b, sizeof b, "--force-new-cluster=%s", lies[i]);
        run_parse(&r, ARGS(a, "-force-new-cluster", b), NULL);
        CHECK(r.rc == CC_CONFIG_OK);
        CHECK(r.cfg.debug);
        CHECK(!r.cfg.force_new_cluster); /* last wins */
        run_done(&r);
    }

    expect_usage(ARGS("-debug=maybe"),
                 "invalid boolean value \"maybe\" for -debug: strconv.ParseBool: parsing "
                 "\"maybe\": invalid syntax");
    expect_usage(ARGS("-debug="),
                 "invalid boolean value \"\" for -debug: strconv.ParseBool: parsing \"\": "
                 "invalid syntax");
    /* "false" after a bool flag is not its value but a positional argument. */
    expect_invalid(ARGS("-debug", "false"), NULL,
                   "error verifying flags, 'false' is not a valid flag. See 'concord --help'.");
}

static void test_unknown_flag(void)
{
    expect_usage(ARGS("-bogus"), "flag provided but not defined: -bogus");
    expect_usage(ARGS("--bogus=1", "-name", "x"), "flag provided but not defined: -bogus");
    expect_usage(ARGS("-Name", "x"), "flag provided but not defined: -Name");
    /* An unknown flag before --help wins, as Go parses in order. */
    expect_usage(ARGS("-bogus", "--help"), "flag provided but not defined: -bogus");
}

static void test_syntax_errors(void)
{
    expect_usage(ARGS("---name", "x"), "bad flag syntax: ---name");
    expect_usage(ARGS("-=x"), "bad flag syntax: -=x");
    expect_usage(ARGS("-name"), "flag needs an argument: -name");
    expect_usage(ARGS("-proxy", "on", "--initial-cluster"),
                 "flag needs an argument: -initial-cluster");
}

static void test_positional(void)
{
    const char *msg =
        "error verifying flags, 'positional' is not a valid flag. See 'concord --help'.";
    expect_invalid(ARGS("positional"), NULL, msg);
    expect_invalid(ARGS("-name", "a", "positional", "-debug"), NULL, msg);
    /* "--" ends the flags: what follows is positional even if it looks like a flag. */
    expect_invalid(ARGS("--", "-name"), NULL,
                   "error verifying flags, '-name' is not a valid flag. See 'concord --help'.");
    /* A lone "-" is an argument, not a flag. */
    expect_invalid(ARGS("-"), NULL,
                   "error verifying flags, '-' is not a valid flag. See 'concord --help'.");
}

static void test_numbers(void)
{
    struct run r;
    run_parse(&r,
              ARGS("-snapshot-count", "18446744073709551615", "-heartbeat-interval", "0x10",
                   "-max-wals", "010", "-max-snapshots", "0", "-proxy-read-timeout", "7"),
              NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.snapshot_count == UINT64_MAX);
    CHECK(r.cfg.heartbeat_interval_ms == 16);
    CHECK(r.cfg.max_wals == 8);
    CHECK(r.cfg.max_snapshots == 0);
    CHECK(r.cfg.proxy_read_timeout_ms == 7);
    run_done(&r);

    expect_usage(ARGS("--snapshot-count", "abc"),
                 "invalid value \"abc\" for flag -snapshot-count: strconv.ParseUint: parsing "
                 "\"abc\": invalid syntax");
    expect_usage(ARGS("--snapshot-count", "-1"),
                 "invalid value \"-1\" for flag -snapshot-count: strconv.ParseUint: parsing "
                 "\"-1\": invalid syntax");
    expect_usage(ARGS("--snapshot-count=18446744073709551616"),
                 "invalid value \"18446744073709551616\" for flag -snapshot-count: "
                 "strconv.ParseUint: parsing \"18446744073709551616\": value out of range");
    expect_usage(ARGS("-heartbeat-interval", "4294967296"),
                 "invalid value \"4294967296\" for flag -heartbeat-interval: strconv.ParseUint: "
                 "parsing \"4294967296\": value out of range");
    expect_usage(ARGS("-max-wals", "08"),
                 "invalid value \"08\" for flag -max-wals: strconv.ParseUint: parsing \"08\": "
                 "invalid syntax");
    expect_usage(ARGS("-election-timeout", ""),
                 "invalid value \"\" for flag -election-timeout: strconv.ParseUint: parsing "
                 "\"\": invalid syntax");
}

static void test_enums(void)
{
    struct run r;
    run_parse(&r,
              ARGS("-proxy", "readonly", "-discovery-fallback", "exit", "-initial-cluster-state",
                   "existing"),
              NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.proxy == CC_PROXY_READONLY);
    CHECK(r.cfg.discovery_fallback_exit);
    CHECK(r.cfg.initial_cluster_state == CC_CLUSTER_EXISTING);
    run_done(&r);

    run_parse(&r, ARGS("-proxy=on"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.proxy == CC_PROXY_ON);
    run_done(&r);

    expect_usage(ARGS("--proxy", "maybe"),
                 "invalid value \"maybe\" for flag -proxy: valid values are \"off\", "
                 "\"readonly\", \"on\"");
    expect_usage(ARGS("--initial-cluster-state", "old"),
                 "invalid value \"old\" for flag -initial-cluster-state: valid values are "
                 "\"new\", \"existing\"");
    expect_usage(ARGS("--discovery-fallback=Proxy"),
                 "invalid value \"Proxy\" for flag -discovery-fallback: valid values are "
                 "\"exit\", \"proxy\"");
}

static void test_url_flags(void)
{
    struct run r;
    run_parse(&r,
              ARGS("-listen-client-urls", "http://127.0.0.1:2379, https://[::1]:4001",
                   "-advertise-client-urls", "http://10.0.0.1:2379"),
              NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.listen_client_urls.n == 2);
    if (r.cfg.listen_client_urls.n == 2) {
        CHECK_STR(r.cfg.listen_client_urls.v[0].text, "http://127.0.0.1:2379");
        CHECK_STR(r.cfg.listen_client_urls.v[1].text, "https://[::1]:4001");
    }
    CHECK(r.cfg.advertise_client_urls.n == 1);
    run_done(&r);

    expect_usage(ARGS("-listen-peer-urls", "http://a:1/path"),
                 "invalid value \"http://a:1/path\" for flag -listen-peer-urls: URL must not "
                 "contain a path: http://a:1/path");
    expect_usage(ARGS("-initial-advertise-peer-urls", "ftp://a:1"),
                 "invalid value \"ftp://a:1\" for flag -initial-advertise-peer-urls: URL scheme "
                 "must be http or https: ftp://a:1");
    expect_usage(ARGS("-advertise-client-urls", "http://a"),
                 "invalid value \"http://a\" for flag -advertise-client-urls: URL address does "
                 "not have the form \"host:port\": http://a");
    expect_usage(ARGS("-listen-client-urls", ""),
                 "invalid value \"\" for flag -listen-client-urls: no valid URLs given");
    expect_invalid(NOARGS, ENV("ETCD_LISTEN_PEER_URLS=http://a:1/x"),
                   "invalid value \"http://a:1/x\" for ETCD_LISTEN_PEER_URLS: URL must not "
                   "contain a path: http://a:1/x");
}

/* ---- environment ---- */

static void test_env_used(void)
{
    struct run r;
    run_parse(&r, NOARGS,
              ENV("PATH=/bin", "ETCD_NAME=envname", "ETCD_SNAPSHOT_COUNT=5", "ETCD_DEBUG=true",
                  "ETCD_PROXY=readonly", "ETCD_LISTEN_PEER_URLS=http://127.0.0.1:7777",
                  "ETCD_EXPERIMENTAL_GRPC_ADDR=127.0.0.1:1"));
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.name, "envname");
    CHECK(r.cfg.snapshot_count == 5);
    CHECK(r.cfg.debug);
    CHECK(r.cfg.proxy == CC_PROXY_READONLY);
    CHECK(r.cfg.listen_peer_urls.n == 1);
    CHECK(cc_config_was_set(&r.cfg, "name"));
    CHECK(cc_config_origin_of(&r.cfg, "name") == CC_ORIGIN_ENV);
    CHECK(cc_config_was_set(&r.cfg, "experimental-gRPC-addr"));
    CHECK(!cc_config_was_set(&r.cfg, "data-dir"));
    CHECK_STR(r.cfg.data_dir, "envname.etcd");
    run_done(&r);

    /* The seed's environment form of a static cluster. */
    run_parse(&r, ARGS("-name", "etcd1", "-initial-advertise-peer-urls", "http://10.0.1.11:2380"),
              ENV("ETCD_INITIAL_CLUSTER=etcd0=http://10.0.1.10:2380,etcd1=http://10.0.1.11:2380,"
                  "etcd2=http://10.0.1.12:2380",
                  "ETCD_INITIAL_CLUSTER_STATE=new"));
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.n_initial == 3);
    CHECK(cc_config_origin_of(&r.cfg, "initial-cluster") == CC_ORIGIN_ENV);
    CHECK(cc_config_verify_bootstrap(&r.cfg, r.err, sizeof r.err) == 0);
    run_done(&r);
}

static void test_flag_beats_env(void)
{
    struct run r;
    run_parse(&r, ARGS("-name", "flagname", "-snapshot-count=7"),
              ENV("ETCD_NAME=envname", "ETCD_SNAPSHOT_COUNT=abc", "ETCD_MAX_WALS=9"));
    CHECK(r.rc == CC_CONFIG_OK); /* the bad env value is never looked at */
    CHECK_STR(r.cfg.name, "flagname");
    CHECK(r.cfg.snapshot_count == 7);
    CHECK(r.cfg.max_wals == 9);
    CHECK(r.nwarn == 2);
    CHECK(warned(&r, "recognized environment variable ETCD_NAME, but unused: shadowed by "
                     "corresponding flag"));
    CHECK(warned(&r, "recognized environment variable ETCD_SNAPSHOT_COUNT, but unused: shadowed "
                     "by corresponding flag"));
    CHECK(cc_config_origin_of(&r.cfg, "name") == CC_ORIGIN_FLAG);
    run_done(&r);
}

static void test_env_empty_and_unknown(void)
{
    struct run r;
    run_parse(&r, NOARGS,
              ENV("ETCD_NAME=", "ETCD_FOO=bar", "ETCDCTL_API=2", "ETCDCTL_ENDPOINT=http://x:1",
                  "HOME=/root", "ETCD_SNAPSHOT_COUNT=", "ETCD_VERSION=true"));
    CHECK(r.rc == CC_CONFIG_OK); /* ETCD_VERSION is recognised but does nothing */
    CHECK_STR(r.cfg.name, "default");
    CHECK(!cc_config_was_set(&r.cfg, "name"));
    CHECK(r.cfg.snapshot_count == 10000);
    CHECK(r.nwarn == 1);
    CHECK_STR(r.warns[0], "unrecognized environment variable ETCD_FOO");
    run_done(&r);

    /* The first of two definitions wins, as getenv does. */
    run_parse(&r, NOARGS, ENV("ETCD_NAME=first", "ETCD_NAME=second"));
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.name, "first");
    run_done(&r);
}

static void test_env_invalid(void)
{
    expect_invalid(NOARGS, ENV("ETCD_SNAPSHOT_COUNT=abc"),
                   "invalid value \"abc\" for ETCD_SNAPSHOT_COUNT: strconv.ParseUint: parsing "
                   "\"abc\": invalid syntax");
    expect_invalid(NOARGS, ENV("ETCD_DEBUG=yes"),
                   "invalid value \"yes\" for ETCD_DEBUG: strconv.ParseBool: parsing \"yes\": "
                   "invalid syntax");
    expect_invalid(NOARGS, ENV("ETCD_PROXY=maybe"),
                   "invalid value \"maybe\" for ETCD_PROXY: valid values are \"off\", "
                   "\"readonly\", \"on\"");
}

/* ---- defaults ---- */

static void test_defaults(void)
{
    struct run r;
    run_parse(&r, NOARGS, NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.nwarn == 0);
    CHECK_STR(r.cfg.name, "default");
    CHECK_STR(r.cfg.data_dir, "default.etcd");
    CHECK_STR(r.cfg.wal_dir, "");
    CHECK(r.cfg.snapshot_count == 10000);
    CHECK(r.cfg.heartbeat_interval_ms == 100);
    CHECK(r.cfg.election_timeout_ms == 1000);
    char *s = cc_url_list_join(&r.cfg.listen_client_urls);
    CHECK_STR(s, "http://localhost:2379,http://localhost:4001");
    free(s);
    s = cc_url_list_join(&r.cfg.advertise_client_urls);
    CHECK_STR(s, "http://localhost:2379,http://localhost:4001");
    free(s);
    s = cc_url_list_join(&r.cfg.listen_peer_urls);
    CHECK_STR(s, "http://localhost:2380,http://localhost:7001");
    free(s);
    s = cc_url_list_join(&r.cfg.initial_advertise_peer_urls);
    CHECK_STR(s, "http://localhost:2380,http://localhost:7001");
    free(s);
    CHECK(r.cfg.max_snapshots == 5);
    CHECK(r.cfg.max_wals == 5);
    CHECK_STR(r.cfg.cors, "");
    CHECK_STR(r.cfg.initial_cluster, "default=http://localhost:2380,default=http://localhost:7001");
    CHECK(r.cfg.n_initial == 2);
    if (r.cfg.n_initial == 2) {
        CHECK_STR(r.cfg.initial[0].name, "default");
        CHECK_STR(r.cfg.initial[0].url.text, "http://localhost:2380");
        CHECK_STR(r.cfg.initial[1].url.text, "http://localhost:7001");
    }
    CHECK(r.cfg.initial_cluster_state == CC_CLUSTER_NEW);
    CHECK_STR(r.cfg.initial_cluster_token, "etcd-cluster");
    CHECK_STR(r.cfg.discovery, "");
    CHECK_STR(r.cfg.discovery_srv, "");
    CHECK_STR(r.cfg.discovery_proxy, "");
    CHECK(!r.cfg.discovery_fallback_exit);
    CHECK(!r.cfg.strict_reconfig_check);
    CHECK(r.cfg.proxy == CC_PROXY_OFF);
    CHECK(r.cfg.proxy_failure_wait_ms == 5000);
    CHECK(r.cfg.proxy_refresh_interval_ms == 30000);
    CHECK(r.cfg.proxy_dial_timeout_ms == 1000);
    CHECK(r.cfg.proxy_write_timeout_ms == 5000);
    CHECK(r.cfg.proxy_read_timeout_ms == 0);
    CHECK_STR(r.cfg.cert_file, "");
    CHECK(!r.cfg.client_cert_auth && !r.cfg.peer_client_cert_auth);
    CHECK(!r.cfg.debug && !r.cfg.force_new_cluster && !r.cfg.enable_pprof);
    CHECK_STR(r.cfg.log_package_levels, "");
    CHECK_STR(r.cfg.admin_socket, "default.etcd/admin.sock");
    CHECK_STR(r.cfg.log_file, "");
    CHECK(r.cfg.max_request_bytes == 1572864);
    CHECK(!cc_config_was_set(&r.cfg, "name"));
    CHECK(!cc_config_was_set(&r.cfg, "no-such-flag"));
    CHECK(cc_config_first_unsupported(&r.cfg) == NULL);
    /* The defaults bootstrap a one-member cluster, as etcd's do. */
    CHECK(cc_config_verify_bootstrap(&r.cfg, r.err, sizeof r.err) == 0);
    run_done(&r);
}

static void test_name_drives_defaults(void)
{
    struct run r;
    run_parse(&r, ARGS("-name", "foo"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.data_dir, "foo.etcd");
    CHECK_STR(r.cfg.initial_cluster, "foo=http://localhost:2380,foo=http://localhost:7001");
    CHECK(r.cfg.n_initial == 2 && strcmp(r.cfg.initial[1].name, "foo") == 0);
    CHECK_STR(r.cfg.admin_socket, "foo.etcd/admin.sock");
    CHECK(cc_config_verify_bootstrap(&r.cfg, r.err, sizeof r.err) == 0);
    run_done(&r);

    run_parse(&r, ARGS("-name", "foo", "-data-dir", "/var/lib/x/", "-admin-socket", ""), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.data_dir, "/var/lib/x/");
    CHECK_STR(r.cfg.admin_socket, "/var/lib/x/admin.sock");
    run_done(&r);

    run_parse(&r,
              ARGS("-name", "foo", "-data-dir", "/d", "-admin-socket", "/run/c.sock", "-log-file",
                   "/tmp/c.log", "-max-request-bytes", "10"),
              NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.admin_socket, "/run/c.sock");
    CHECK_STR(r.cfg.log_file, "/tmp/c.log");
    CHECK(r.cfg.max_request_bytes == 10);
    run_done(&r);

    /* An explicit initial cluster does not follow the name. */
    run_parse(&r, ARGS("-name", "foo", "-initial-cluster", "bar=http://10.0.0.1:2380"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.initial_cluster, "bar=http://10.0.0.1:2380");
    run_done(&r);

    run_parse(&r, NOARGS,
              ENV("ETCD_ADMIN_SOCKET=/a.sock", "ETCD_LOG_FILE=/l", "ETCD_MAX_REQUEST_BYTES=99"));
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.admin_socket, "/a.sock");
    CHECK_STR(r.cfg.log_file, "/l");
    CHECK(r.cfg.max_request_bytes == 99);
    run_done(&r);
}

/* ---- validation ---- */

#define SEE " See 'concord --help'."

static void test_bootstrap_conflict(void)
{
    const char *msg =
        "error verifying flags, multiple discovery or bootstrap flags are set. Choose "
        "one of \"initial-cluster\", \"discovery\" or \"discovery-srv\"." SEE;
    expect_invalid(ARGS("-initial-cluster", "a=http://a:1", "-discovery", "https://d/x"), NULL,
                   msg);
    expect_invalid(ARGS("-discovery-srv", "example.com"), ENV("ETCD_DISCOVERY=https://d/x"), msg);
    expect_invalid(ARGS("-discovery", "", "-discovery-srv", ""), NULL, msg);

    /* The default initial cluster is not "set": discovery alone is fine. */
    struct run r;
    run_parse(&r, ARGS("-discovery", "https://d/x"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.n_initial == 0); /* etcd does not read --initial-cluster then */
    run_done(&r);
}

static void test_advertise_required(void)
{
    const char *msg = "error verifying flags, -advertise-client-urls is required when "
                      "-listen-client-urls is set explicitly." SEE;
    expect_invalid(ARGS("-listen-client-urls", "http://127.0.0.1:2379"), NULL, msg);
    expect_invalid(NOARGS, ENV("ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:2379"), msg);
    expect_invalid(ARGS("-listen-client-urls", "http://127.0.0.1:2379", "-discovery", "https://d/x",
                        "-discovery-fallback", "exit"),
                   NULL, msg);

    struct run r;
    run_parse(&r, ARGS("-listen-client-urls", "http://127.0.0.1:2379", "-proxy", "on"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    run_done(&r);
    run_parse(&r, ARGS("-listen-client-urls", "http://127.0.0.1:2379", "-discovery", "https://d/x"),
              NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    run_done(&r);
}

static void test_timeouts(void)
{
    expect_invalid(ARGS("-heartbeat-interval", "300"), NULL,
                   "error verifying flags, -election-timeout[1000ms] should be at least as 5 times "
                   "as -heartbeat-interval[300ms]." SEE);
    expect_invalid(ARGS("-heartbeat-interval", "201"), NULL,
                   "error verifying flags, -election-timeout[1000ms] should be at least as 5 times "
                   "as -heartbeat-interval[201ms]." SEE);
    expect_invalid(ARGS("-election-timeout", "60000"), NULL,
                   "error verifying flags, -election-timeout[60000ms] is too long, and should be "
                   "set less than 50000ms." SEE);
    expect_invalid(ARGS("-heartbeat-interval", "0"), NULL,
                   "error verifying flags, -heartbeat-interval must be greater than 0." SEE);
    expect_invalid(ARGS("-max-request-bytes", "0"), NULL,
                   "error verifying flags, -max-request-bytes must be greater than 0." SEE);

    struct run r;
    run_parse(&r, ARGS("-heartbeat-interval", "200", "-election-timeout", "1000"), NULL);
    CHECK(r.rc == CC_CONFIG_OK); /* exactly 5x is enough */
    run_done(&r);
    run_parse(&r, ARGS("-election-timeout", "50000"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    run_done(&r);
}

static void test_proxy_force_new_cluster(void)
{
    expect_invalid(ARGS("-proxy", "on", "-force-new-cluster"), NULL,
                   "error verifying flags, -force-new-cluster cannot be used with -proxy=on." SEE);
    expect_invalid(ARGS("-force-new-cluster"), ENV("ETCD_PROXY=readonly"),
                   "error verifying flags, -force-new-cluster cannot be used with "
                   "-proxy=readonly." SEE);
}

static void test_initial_cluster_syntax(void)
{
    expect_invalid(ARGS("-initial-cluster", "a=ftp://x:1"), NULL,
                   "error verifying flags, error setting up initial cluster: URL scheme must be "
                   "http or https: ftp://x:1." SEE);
    expect_invalid(ARGS("-initial-cluster", "a=http://x:1,b"), NULL,
                   "error verifying flags, error setting up initial cluster: \"b\" is not of the "
                   "form name=url." SEE);
    expect_invalid(ARGS("-initial-cluster", "a=http://x:1/p"), NULL,
                   "error verifying flags, error setting up initial cluster: URL must not contain "
                   "a path: http://x:1/p." SEE);

    struct run r;
    run_parse(&r, ARGS("-initial-cluster", "a=http://x:1, a=http://y:2,,b=https://[::1]:3,"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.n_initial == 3);
    if (r.cfg.n_initial == 3) {
        CHECK_STR(r.cfg.initial[0].name, "a");
        CHECK_STR(r.cfg.initial[1].name, "a");
        CHECK_STR(r.cfg.initial[1].url.text, "http://y:2");
        CHECK_STR(r.cfg.initial[2].name, "b");
        CHECK_STR(r.cfg.initial[2].url.host, "::1");
    }
    run_done(&r);

    /* An explicitly empty initial cluster parses; bootstrap then refuses. */
    run_parse(&r, ARGS("-initial-cluster", ""), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.n_initial == 0);
    CHECK(cc_config_verify_bootstrap(&r.cfg, r.err, sizeof r.err) == -1);
    CHECK_STR(r.err, "couldn't find local name \"default\" in the initial cluster configuration");
    run_done(&r);
}

#define SEED_CLUSTER                                                                               \
    "etcd0=http://127.0.1.10:2380,etcd1=http://127.0.1.11:2380,etcd2=http://127.0.1.12:2380"

static void test_seed_command_line(void)
{
    struct run r;
    run_parse(&r,
              ARGS("-name", "etcd0", "-initial-advertise-peer-urls", "http://127.0.1.10:2380",
                   "-listen-peer-urls", "http://127.0.1.10:2380", "-listen-client-urls",
                   "http://127.0.1.10:2379,http://127.0.0.1:2379", "-advertise-client-urls",
                   "http://127.0.1.10:2379", "-initial-cluster-token", "etcd-cluster-1",
                   "-initial-cluster", SEED_CLUSTER, "-initial-cluster-state", "new"),
              ENV("PATH=/usr/bin", "ETCDCTL_API=2"));
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.err, "");
    CHECK(r.nwarn == 0);
    CHECK_STR(r.cfg.name, "etcd0");
    CHECK_STR(r.cfg.data_dir, "etcd0.etcd");
    CHECK_STR(r.cfg.initial_cluster_token, "etcd-cluster-1");
    CHECK_STR(r.cfg.initial_cluster, SEED_CLUSTER);
    CHECK(r.cfg.n_initial == 3);
    if (r.cfg.n_initial == 3) {
        CHECK_STR(r.cfg.initial[0].name, "etcd0");
        CHECK_STR(r.cfg.initial[0].url.host, "127.0.1.10");
        CHECK(r.cfg.initial[0].url.port == 2380);
        CHECK_STR(r.cfg.initial[1].name, "etcd1");
        CHECK_STR(r.cfg.initial[1].url.text, "http://127.0.1.11:2380");
        CHECK_STR(r.cfg.initial[2].name, "etcd2");
        CHECK_STR(r.cfg.initial[2].url.text, "http://127.0.1.12:2380");
    }
    CHECK(r.cfg.listen_client_urls.n == 2);
    if (r.cfg.listen_client_urls.n == 2) { /* sorted */
        CHECK_STR(r.cfg.listen_client_urls.v[0].text, "http://127.0.0.1:2379");
        CHECK_STR(r.cfg.listen_client_urls.v[1].text, "http://127.0.1.10:2379");
    }
    CHECK(r.cfg.initial_cluster_state == CC_CLUSTER_NEW);
    CHECK(cc_config_first_unsupported(&r.cfg) == NULL);
    CHECK(cc_config_verify_bootstrap(&r.cfg, r.err, sizeof r.err) == 0);
    run_done(&r);
}

static void expect_bootstrap_error(char **argv, const char *msg)
{
    struct run r;
    run_parse(&r, argv, NULL);
    CHECK(r.rc == CC_CONFIG_OK); /* parse accepts: the data dir may already be initialised */
    CHECK(cc_config_verify_bootstrap(&r.cfg, r.err, sizeof r.err) == -1);
    CHECK_STR(r.err, msg);
    run_done(&r);
}

static void test_bootstrap_checks(void)
{
    expect_bootstrap_error(ARGS("-name", "etcd3", "-initial-advertise-peer-urls",
                                "http://127.0.1.13:2380", "-initial-cluster", SEED_CLUSTER),
                           "couldn't find local name \"etcd3\" in the initial cluster "
                           "configuration");
    expect_bootstrap_error(ARGS("-name", "etcd1", "-initial-advertise-peer-urls",
                                "http://127.0.1.10:2380,http://127.0.1.11:2381", "-initial-cluster",
                                SEED_CLUSTER),
                           "--initial-cluster must include "
                           "etcd1=http://127.0.1.10:2380,etcd1=http://127.0.1.11:2381 given "
                           "--initial-advertise-peer-urls=http://127.0.1.10:2380,"
                           "http://127.0.1.11:2381");
    /* Forgot --initial-advertise-peer-urls: the default localhost URLs. */
    expect_bootstrap_error(ARGS("-name", "etcd1", "-initial-cluster", SEED_CLUSTER),
                           "--initial-cluster must include "
                           "etcd1=http://localhost:2380,etcd1=http://localhost:7001 given "
                           "--initial-advertise-peer-urls=http://localhost:2380,"
                           "http://localhost:7001");
    expect_bootstrap_error(ARGS("-name", "b", "-initial-advertise-peer-urls",
                                "http://127.0.0.1:2380", "-initial-cluster",
                                "b=http://127.0.0.1:2380,a=http://127.0.0.1:2380"),
                           "initial cluster a=http://127.0.0.1:2380,b=http://127.0.0.1:2380 has "
                           "duplicate url");
    expect_bootstrap_error(ARGS("-name", "a", "-initial-advertise-peer-urls",
                                "http://127.0.0.1:2380", "-discovery", "https://d/x",
                                "-initial-cluster-state", "existing"),
                           "discovery URL should not be set when joining existing initial cluster");

    /* A member with several peer URLs, written in another order. */
    struct run r;
    run_parse(&r,
              ARGS("-name", "m", "-initial-advertise-peer-urls",
                   "http://127.0.0.2:2380,http://127.0.0.1:2380", "-initial-cluster",
                   "m=http://127.0.0.1:2380,n=http://127.0.0.3:2380,m=http://127.0.0.2:2380"),
              NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(cc_config_verify_bootstrap(&r.cfg, r.err, sizeof r.err) == 0);
    run_done(&r);

    /* Joining: the local name must be there, the URLs need not match. */
    run_parse(&r,
              ARGS("-name", "etcd2", "-initial-cluster", SEED_CLUSTER, "-initial-cluster-state",
                   "existing"),
              NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(cc_config_verify_bootstrap(&r.cfg, r.err, sizeof r.err) == 0);
    run_done(&r);

    /* Discovery: the temporary map is {name: advertised peer URLs}. */
    run_parse(&r,
              ARGS("-name", "etcd0", "-initial-advertise-peer-urls", "http://127.0.1.10:2380",
                   "-discovery", "https://d/x"),
              NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(cc_config_verify_bootstrap(&r.cfg, r.err, sizeof r.err) == 0);
    run_done(&r);
}

/* ---- help, version ---- */

static void test_help_and_version(void)
{
    static const char *const helps[] = {"-h", "--h", "-help", "--help", "--help=x"};
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        struct run r;
        char h[16];
        snprintf(h, sizeof h, "%s", helps[i]);
        run_parse(&r, ARGS("-name", "x", h, "-bogus"), NULL);
        CHECK(r.rc == CC_CONFIG_EXIT_OK);
        CHECK(r.out != NULL &&
              strstr(r.out,
                     "\t--listen-client-urls 'http://localhost:2379,http://localhost:4001'\n") !=
                  NULL);
        CHECK(r.out != NULL && strstr(r.out, "\t--data-dir '${name}.etcd'\n") != NULL);
        CHECK(r.out != NULL &&
              strstr(r.out, "\t--admin-socket '${data-dir}/admin.sock'\n") != NULL);
        CHECK(r.out != NULL && strstr(r.out, "--peers") == NULL); /* legacy rows stay hidden */
        CHECK(r.out != NULL && strstr(r.out, "\t--cert-file '' [not supported yet]\n") != NULL);
        run_done(&r);
    }

    struct run r;
    run_parse(&r, ARGS("--version"), ENV("ETCD_SNAPSHOT_COUNT=abc"));
    CHECK(r.rc == CC_CONFIG_EXIT_OK); /* printed before the environment is read */
    CHECK(r.out != NULL && strncmp(r.out, "concord Version: ", 17) == 0);
    CHECK(r.out != NULL && strstr(r.out, "\nGit SHA: ") != NULL);
    CHECK(r.out != NULL && strstr(r.out, "\nGo Version: n/a (C11)\nGo OS/Arch: ") != NULL);
    run_done(&r);

    run_parse(&r, ARGS("-version=false"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.outlen == 0);
    run_done(&r);

    /* A positional argument is reported even with --version. */
    expect_invalid(ARGS("-version", "x"), NULL,
                   "error verifying flags, 'x' is not a valid flag." SEE);
}

/* ---- legacy, deprecated, no-effect and unsupported flags ---- */

static void test_legacy_flags(void)
{
    expect_usage(ARGS("-peers", "a:1,b:2"),
                 "invalid value \"a:1,b:2\" for flag -peers: flag \"-peers\" is no longer "
                 "supported.");
    expect_invalid(NOARGS, ENV("ETCD_PEERS_FILE=/x"),
                   "invalid value \"/x\" for ETCD_PEERS_FILE: flag \"-peers-file\" is no longer "
                   "supported.");
    expect_usage(ARGS("-addr", "foo:4001"),
                 "invalid value \"foo:4001\" for flag -addr: bad IP in address specification");
    expect_usage(ARGS("-addr", "1.2.3.4:70000"),
                 "invalid value \"1.2.3.4:70000\" for flag -addr: bad port in address "
                 "specification");
    expect_usage(ARGS("-addr", "1.2.3.4"),
                 "invalid value \"1.2.3.4\" for flag -addr: missing port in address 1.2.3.4");
    expect_invalid(ARGS("-addr", "1.2.3.4:4001", "-advertise-client-urls", "http://1.2.3.4:2379"),
                   NULL,
                   "error verifying flags, Set only one of flags -advertise-client-urls and "
                   "-addr." SEE);

    struct run r;
    run_parse(&r, ARGS("-snapshot", "-v", "-peer-election-timeout=9"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.nwarn == 3);
    CHECK(warned(&r, "flag \"-snapshot\" is no longer supported - ignoring."));
    CHECK(warned(&r, "flag \"-v\" is no longer supported - ignoring."));
    CHECK(warned(&r, "flag \"-peer-election-timeout\" is no longer supported - ignoring."));
    run_done(&r);

    /* -addr alone: advertise that, and listen on [::] at its port. */
    run_parse(&r, ARGS("-addr", "10.0.0.1:4001", "-peer-addr", "10.0.0.1:7001"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.advertise_client_urls.n == 1 &&
          strcmp(r.cfg.advertise_client_urls.v[0].text, "http://10.0.0.1:4001") == 0);
    CHECK(r.cfg.listen_client_urls.n == 1 &&
          strcmp(r.cfg.listen_client_urls.v[0].text, "http://[::]:4001") == 0);
    CHECK(r.cfg.initial_advertise_peer_urls.n == 1 &&
          strcmp(r.cfg.initial_advertise_peer_urls.v[0].text, "http://10.0.0.1:7001") == 0);
    CHECK(r.cfg.listen_peer_urls.n == 1 &&
          strcmp(r.cfg.listen_peer_urls.v[0].text, "http://[::]:7001") == 0);
    CHECK(cc_config_origin_of(&r.cfg, "bind-addr") == CC_ORIGIN_DERIVED);
    CHECK(warned(&r, "flag -addr is deprecated: use -advertise-client-urls instead"));
    run_done(&r);

    /* With a client cert the legacy address becomes https. */
    run_parse(&r, ARGS("-bind-addr", "127.0.0.1:4001", "-cert-file", "c.pem"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(r.cfg.listen_client_urls.n == 1 &&
          strcmp(r.cfg.listen_client_urls.v[0].text, "https://127.0.0.1:4001") == 0);
    run_done(&r);
}

static void test_ca_file(void)
{
    struct run r;
    run_parse(&r, ARGS("-ca-file", "ca.pem"), ENV("ETCD_PEER_CA_FILE=pca.pem"));
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.ca_file, "ca.pem");
    CHECK_STR(r.cfg.trusted_ca_file, "ca.pem");
    CHECK(r.cfg.client_cert_auth);
    CHECK_STR(r.cfg.peer_trusted_ca_file, "pca.pem");
    CHECK(r.cfg.peer_client_cert_auth);
    CHECK(warned(&r, "flag -ca-file is deprecated: use -trusted-ca-file FILE -client-cert-auth"));
    run_done(&r);

    run_parse(&r, ARGS("-ca-file", "old.pem", "-trusted-ca-file", "new.pem"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(r.cfg.trusted_ca_file, "new.pem");
    CHECK_STR(r.cfg.ca_file, "old.pem");
    run_done(&r);
}

static void test_unsupported_and_noop(void)
{
    struct run r;
    run_parse(&r, ARGS("-client-cert-auth=false", "-cert-file", "", "-enable-v2"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(cc_config_first_unsupported(&r.cfg) == NULL); /* set, but to the default */
    CHECK(r.nwarn == 0);                                /* --enable-v2 is what we do anyway */
    run_done(&r);

    run_parse(&r, ARGS("-debug", "-cert-file", "c.pem", "-key-file", "k.pem"), NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(cc_config_first_unsupported(&r.cfg), "cert-file");
    CHECK_STR(r.cfg.cert_file, "c.pem");
    run_done(&r);

    run_parse(&r, NOARGS, ENV("ETCD_DISCOVERY_SRV=example.com"));
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK_STR(cc_config_first_unsupported(&r.cfg), "discovery-srv");
    CHECK(r.cfg.n_initial == 0);
    run_done(&r);

    run_parse(&r, ARGS("-auto-tls"), NULL);
    CHECK_STR(cc_config_first_unsupported(&r.cfg), "auto-tls");
    run_done(&r);

    run_parse(&r,
              ARGS("-quota-backend-bytes", "8589934592", "-enable-v2=false",
                   "-grpc-keepalive-min-time", "1h30m", "-logger", "capnslog",
                   "-backend-batch-limit", "-5"),
              NULL);
    CHECK(r.rc == CC_CONFIG_OK);
    CHECK(cc_config_first_unsupported(&r.cfg) == NULL);
    CHECK(r.nwarn == 4); /* not -logger: it was given its default */
    CHECK(warned(&r, "flag -quota-backend-bytes is accepted for compatibility but has no effect "
                     "in concord"));
    CHECK(warned(&r, "flag -enable-v2 is accepted for compatibility but has no effect in concord"));
    run_done(&r);

    expect_usage(
        ARGS("-grpc-keepalive-min-time", "5x"),
        "invalid value \"5x\" for flag -grpc-keepalive-min-time: time: invalid duration 5x");
    expect_usage(ARGS("-quota-backend-bytes", "1e9"),
                 "invalid value \"1e9\" for flag -quota-backend-bytes: strconv.ParseInt: parsing "
                 "\"1e9\": invalid syntax");
}

int main(void)
{
    RUN(test_url_valid);
    RUN(test_url_errors);
    RUN(test_url_list);
    RUN(test_syntax_forms);
    RUN(test_bool_forms);
    RUN(test_unknown_flag);
    RUN(test_syntax_errors);
    RUN(test_positional);
    RUN(test_numbers);
    RUN(test_enums);
    RUN(test_url_flags);
    RUN(test_env_used);
    RUN(test_flag_beats_env);
    RUN(test_env_empty_and_unknown);
    RUN(test_env_invalid);
    RUN(test_defaults);
    RUN(test_name_drives_defaults);
    RUN(test_bootstrap_conflict);
    RUN(test_advertise_required);
    RUN(test_timeouts);
    RUN(test_proxy_force_new_cluster);
    RUN(test_initial_cluster_syntax);
    RUN(test_seed_command_line);
    RUN(test_bootstrap_checks);
    RUN(test_help_and_version);
    RUN(test_legacy_flags);
    RUN(test_ca_file);
    RUN(test_unsupported_and_noop);
    return unit_report();
}
