/* A tiny unit-test runner: one executable per suite, one function per case.
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(test_something); return unit_report(); }
 *
 * A failed CHECK records file:line and carries on with the next case, so one
 * run reports every broken case. The exit status is non-zero if any failed. */
#ifndef CC_TESTS_UNIT_H
#define CC_TESTS_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_cases_failed;
static int unit_cases_run;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
            unit_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) {                           \
            fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got,        \
                    g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                       \
            unit_failed_checks++;                                                                  \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int before_ = unit_failed_checks;                                                          \
        fn();                                                                                      \
        unit_cases_run++;                                                                          \
        if (unit_failed_checks != before_) {                                                       \
            unit_cases_failed++;                                                                   \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        }                                                                                          \
    } while (0)

static inline int unit_report(void)
{
    fprintf(stderr, "%d cases, %d failed\n", unit_cases_run, unit_cases_failed);
    return unit_cases_failed ? 1 : 0;
}

#endif
