/* The v2 error table; see errors.h. */
#include "core/v2/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct error_row {
    int code;
    const char *message;
    int status;
};

#define ROW(code, message, status) {code, message, status},
static const struct error_row error_rows[] = {CC_V2_ERRORS(ROW)};
#undef ROW

static const struct error_row *find(int code)
{
    for (size_t i = 0; i < sizeof error_rows / sizeof error_rows[0]; i++)
        if (error_rows[i].code == code)
            return &error_rows[i];
    return NULL;
}

const char *cc_v2_error_message(int code)
{
    const struct error_row *r = find(code);

    return r ? r->message : "";
}

int cc_v2_error_status(int code, const char **reason)
{
    const struct error_row *r = find(code);
    int status = r ? r->status : 400;

    if (reason != NULL) {
        switch (status) {
        case 401:
            *reason = "Unauthorized";
            break;
        case 403:
            *reason = "Forbidden";
            break;
        case 404:
            *reason = "Not Found";
            break;
        case 412:
            *reason = "Precondition Failed";
            break;
        case 500:
            *reason = "Internal Server Error";
            break;
        default:
            *reason = "Bad Request";
            break;
        }
    }
    return status;
}

void cc_v2_error_set(struct cc_v2_error *e, int code, const char *cause, uint64_t index)
{
    e->code = code;
    e->index = index;
    snprintf(e->cause, sizeof e->cause, "%s", cause ? cause : "");
}

void cc_v2_error_setf(struct cc_v2_error *e, int code, uint64_t index, const char *fmt, ...)
{
    va_list ap;

    e->code = code;
    e->index = index;
    va_start(ap, fmt);
    vsnprintf(e->cause, sizeof e->cause, fmt, ap);
    va_end(ap);
}
