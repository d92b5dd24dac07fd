/* The master's process-table rules that need no processes: back-off and
 * the last-exit text concordctl shows. */
#include <string.h>

#include "core/proc.h"
#include "tests/unit/unit.h"

static void test_backoff_doubles_to_the_cap(void)
{
    unsigned d = cc_proc_next_backoff(0, 0);
    CHECK(d == 100);
    unsigned want[] = {200, 400, 800, 1600, 3200, 5000, 5000};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        d = cc_proc_next_backoff(d, 1.0);
        CHECK(d == want[i]);
    }
}

static void test_backoff_resets_after_30s_healthy(void)
{
    CHECK(cc_proc_next_backoff(5000, 29.9) == 5000);
    CHECK(cc_proc_next_backoff(5000, 30.0) == 100);
    CHECK(cc_proc_next_backoff(800, 3600) == 100);
}

static void test_last_exit_text(void)
{
    struct cc_proc p;
    memset(&p, 0, sizeof(p));
    char buf[32];
    cc_proc_last_exit_text(&p, buf, sizeof(buf));
    CHECK_STR(buf, "-");
    p.exited_before = true;
    p.last_exit_signal = 9;
    cc_proc_last_exit_text(&p, buf, sizeof(buf));
    CHECK_STR(buf, "signal 9");
    p.last_exit_signal = 0;
    p.last_exit_code = 3;
    cc_proc_last_exit_text(&p, buf, sizeof(buf));
    CHECK_STR(buf, "exit 3");
}

static void test_state_names(void)
{
    CHECK_STR(cc_proc_state_name(CC_PROC_STARTING), "starting");
    CHECK_STR(cc_proc_state_name(CC_PROC_READY), "ready");
    CHECK_STR(cc_proc_state_name(CC_PROC_STOPPING), "stopping");
    CHECK_STR(cc_proc_state_name(CC_PROC_BACKOFF), "backoff");
}

int main(void)
{
    RUN(test_backoff_doubles_to_the_cap);
    RUN(test_backoff_resets_after_30s_healthy);
    RUN(test_last_exit_text);
    RUN(test_state_names);
    return unit_report();
}
