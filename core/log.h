/* Logging: one line per event, "time level who[pid]: message".
 *
 * Every process (master and workers) logs to the same destination: stderr, or
 * the --log-file opened with O_APPEND. Each line is written with a single
 * write(2), so lines from different processes never interleave. */
#ifndef CC_CORE_LOG_H
#define CC_CORE_LOG_H

#include <stdbool.h>

enum cc_log_level {
    CC_LOG_DEBUG,
    CC_LOG_INFO,
    CC_LOG_WARN,
    CC_LOG_ERROR,
    CC_LOG_FATAL,
};

/* who: "master", "http", ...; path: NULL or "" for stderr. Returns 0, or -1
 * with errno when the file cannot be opened (logging then stays on stderr). */
int cc_log_init(const char *who, const char *path, bool debug);

/* Reopens the log file (SIGUSR1, after logrotate moved it). 0 or -1. */
int cc_log_reopen(void);

/* Changes the "who" tag (a worker learns its kind after the common start-up). */
void cc_log_set_who(const char *who);

void cc_log(enum cc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* As cc_log, with ": <strerror(err)>" appended. */
void cc_log_errno(enum cc_log_level level, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define cc_debug(...) cc_log(CC_LOG_DEBUG, __VA_ARGS__)
#define cc_info(...)  cc_log(CC_LOG_INFO, __VA_ARGS__)
#define cc_warn(...)  cc_log(CC_LOG_WARN, __VA_ARGS__)
#define cc_error(...) cc_log(CC_LOG_ERROR, __VA_ARGS__)

#endif
