/* Run-directory and socket path choice: a deep data dir must never give
 * nanomsg a path it aborts on (STACK.md: 108..121 bytes abort the process). */
#include <stdio.h>
#include <string.h>

#include "ipc/paths.h"
#include "ipc/wiring.h"
#include "tests/unit/unit.h"

static void every_endpoint_fits(const char *run_dir)
{
    size_t n;
    const struct cc_link_def *links = cc_wiring(&n);
    for (size_t i = 0; i < n; i++) {
        char addr[512];
        CHECK(cc_ipc_address(run_dir, links[i].name, addr, sizeof(addr)) == 0);
        CHECK(strlen(addr) - strlen("ipc://") <= CC_UNIX_PATH_MAX);
    }
}

static void test_short_data_dir_uses_its_run_dir(void)
{
    char run[256];
    bool fallback = true;
    CHECK(cc_run_dir("default.etcd", run, sizeof(run), &fallback) == 0);
    CHECK(!fallback);
    CHECK_STR(run, "default.etcd/run");
    every_endpoint_fits(run);
}

static void test_deep_data_dir_falls_back(void)
{
    char deep[600];
    memset(deep, 0, sizeof(deep));
    strcpy(deep, "/tmp");
    while (strlen(deep) < 300)
        strcat(deep, "/a-rather-long-directory-name");
    for (size_t len = 80; len < 300; len += 7) {
        char dd[600];
        snprintf(dd, sizeof(dd), "%.*s", (int)len, deep);
        char run[256], again[256];
        bool fallback;
        CHECK(cc_run_dir(dd, run, sizeof(run), &fallback) == 0);
        every_endpoint_fits(run);
        /* Deterministic: concordctl must find what the server chose. */
        CHECK(cc_run_dir(dd, again, sizeof(again), &fallback) == 0);
        CHECK_STR(run, again);
        char admin[256];
        CHECK(cc_admin_socket_default(dd, admin, sizeof(admin)) == 0);
        CHECK(strlen(admin) <= CC_UNIX_PATH_MAX);
    }
}

static void test_different_data_dirs_get_different_fallbacks(void)
{
    char a[256], b[256];
    bool fa, fb;
    char da[300], db[300];
    memset(da, 'x', 200);
    da[0] = '/';
    da[200] = '\0';
    memcpy(db, da, sizeof(da));
    db[199] = 'y';
    CHECK(cc_run_dir(da, a, sizeof(a), &fa) == 0);
    CHECK(cc_run_dir(db, b, sizeof(b), &fb) == 0);
    CHECK(fa && fb);
    CHECK(strcmp(a, b) != 0);
}

static void test_too_long_ipc_address_is_refused(void)
{
    char run[200], addr[512];
    memset(run, 'r', 150);
    run[150] = '\0';
    CHECK(cc_ipc_address(run, "storage-consensus", addr, sizeof(addr)) == -1);
}

int main(void)
{
    RUN(test_short_data_dir_uses_its_run_dir);
    RUN(test_deep_data_dir_falls_back);
    RUN(test_different_data_dirs_get_different_fallbacks);
    RUN(test_too_long_ipc_address_is_refused);
    return unit_report();
}
