/* concord: one per host. Parses etcd's command line and environment, then
 * runs the master, which forks the workers of the node's role. The same
 * binary is re-executed as each worker (argv[1] == "--cc-worker"). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/config.h"
#include "core/identity.h"
#include "core/log.h"
#include "core/master.h"
#include "core/worker.h"

extern char **environ;

static int check_bootstrap(const struct cc_config *cfg)
{
    char err[1024];
    /* An initialised data dir carries its identity; the -initial-* flags
     * are ignored then (V2-CONTRACT §3.3). */
    if (cfg->proxy != CC_PROXY_OFF || cc_identity_exists(cfg))
        return 0;
    if (cc_config_verify_bootstrap(cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "concord: %s\n", err);
        return -1;
    }
    return 0;
}

/* Warnings arrive before the log is open (its path is part of the config);
 * they are kept and logged once it is. */
struct warnings {
    char *msgs[64];
    size_t n;
};

static void keep_warning(void *ctx, const char *msg)
{
    struct warnings *w = ctx;
    if (w->n < sizeof(w->msgs) / sizeof(w->msgs[0]))
        w->msgs[w->n++] = strdup(msg);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--cc-worker") == 0)
        return cc_worker_process_main(argc, argv, environ);
    /* Until the master's loop handles them, the operator's signals wait
     * instead of killing a half-started node (any log line may block on a
     * full stderr before that). cc_master_run unblocks them. */
    sigset_t ops;
    sigemptyset(&ops);
    sigaddset(&ops, SIGTERM);
    sigaddset(&ops, SIGINT);
    sigaddset(&ops, SIGHUP);
    sigaddset(&ops, SIGUSR1);
    sigprocmask(SIG_BLOCK, &ops, NULL);

    struct cc_config cfg;
    struct warnings warns = {.n = 0};
    char err[1024] = "";
    /* Help and version go to stdout; on a bad command line, Go's order:
     * the error, then the usage, on stderr. */
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    enum cc_config_result r =
        cc_config_parse(&cfg, argc, argv, environ, keep_warning, &warns, out, err, sizeof(err));
    if (out)
        fclose(out);
    int status = 0;
    switch (r) {
    case CC_CONFIG_OK:
        break;
    case CC_CONFIG_EXIT_OK:
        fputs(text ? text : "", stdout);
        status = 0;
        goto out;
    case CC_CONFIG_USAGE:
        if (err[0])
            fprintf(stderr, "concord: %s\n", err);
        fputs(text ? text : "", stderr);
        status = 2;
        goto out;
    case CC_CONFIG_INVALID:
        fprintf(stderr, "concord: %s\n", err);
        status = 1;
        goto out;
    }
    if (cc_log_init("master", cfg.log_file, cfg.debug) != 0) {
        fprintf(stderr, "concord: cannot open log file %s\n", cfg.log_file);
        status = 1;
        goto out;
    }
    for (size_t i = 0; i < warns.n; i++)
        cc_warn("%s", warns.msgs[i]);
    const char *unsupported = cc_config_first_unsupported(&cfg);
    if (unsupported) {
        fprintf(stderr, "concord: not supported yet: --%s\n", unsupported);
        status = 1;
        goto out;
    }
    if (check_bootstrap(&cfg) != 0) {
        status = 1;
        goto out;
    }
    status = cc_master_run(&cfg, argc, argv);
out:
    free(text);
    for (size_t i = 0; i < warns.n; i++)
        free(warns.msgs[i]);
    if (r == CC_CONFIG_OK)
        cc_config_free(&cfg);
    return status;
}
