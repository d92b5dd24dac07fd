#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
    int fd;          /* 2 (stderr) or the opened log file */
    char path[4096]; /* "" when logging to stderr */
    char who[32];
    bool debug;
} log_state = {.fd = 2, .who = "concord"};

static const char *const level_names[] = {
    [CC_LOG_DEBUG] = "DEBUG", [CC_LOG_INFO] = "INFO",   [CC_LOG_WARN] = "WARN",
    [CC_LOG_ERROR] = "ERROR", [CC_LOG_FATAL] = "FATAL",
};

static int open_log_file(const char *path)
{
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

int cc_log_init(const char *who, const char *path, bool debug)
{
    cc_log_set_who(who);
    log_state.debug = debug;
    if (path == NULL || path[0] == '\0') {
        log_state.path[0] = '\0';
        log_state.fd = 2;
        return 0;
    }
    snprintf(log_state.path, sizeof(log_state.path), "%s", path);
    int fd = open_log_file(path);
    if (fd < 0)
        return -1;
    log_state.fd = fd;
    return 0;
}

int cc_log_reopen(void)
{
    if (log_state.path[0] == '\0')
        return 0;
    int fd = open_log_file(log_state.path);
    if (fd < 0)
        return -1;
    int old = log_state.fd;
    log_state.fd = fd;
    if (old != 2)
        close(old);
    return 0;
}

void cc_log_set_who(const char *who)
{
    snprintf(log_state.who, sizeof(log_state.who), "%s", who);
}

static void log_line(enum cc_log_level level, int err, const char *fmt, va_list ap)
{
    if (level == CC_LOG_DEBUG && !log_state.debug)
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %-5s %s[%ld]: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec,
                     level_names[level], log_state.who, (long)getpid());
    if (n < 0)
        return;
    size_t len = (size_t)n;
    int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    if (m > 0)
        len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
    if (err != 0 && len < sizeof(line) - 1) {
        m = snprintf(line + len, sizeof(line) - len, ": %s", strerror(err));
        if (m > 0)
            len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
    }
    if (len >= sizeof(line) - 1)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    /* One write per line; a short write to a log is not worth retrying. */
    ssize_t w = write(log_state.fd, line, len);
    (void)w;
}

void cc_log(enum cc_log_level level, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    log_line(level, 0, fmt, ap);
    va_end(ap);
    errno = saved;
}

void cc_log_errno(enum cc_log_level level, int err, const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    log_line(level, err, fmt, ap);
    va_end(ap);
    errno = saved;
}
