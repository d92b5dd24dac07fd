/* core/v2/params: /v2/keys requests into struct cc_v2_request or etcd's
 * answer. Every expected error body, status and Location below was recorded
 * from the real etcd 3.4.23 (--enable-v2) on loopback with raw requests
 * (V2-CONTRACT §1.1, §1.2, §1.12); 2.3.8's parseKeyRequest is the same code.
 * A differential run of the same parser against that etcd (20,000 random
 * requests: methods, odd paths, escapes, parameters, Content-Types, bodies)
 * agreed on every one except the NUL-key refusal documented in params.h. */
#include "core/v2/params.h"
#include "core/v2/json.h"
#include "core/v2/urlcodec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define NOW  INT64_C(1795606979320693683) /* 2026-11-25T11:42:59.320693683Z */
#define FORM "application/x-www-form-urlencoded"

struct res {
    int rc;
    struct cc_v2_request r;
    struct cc_v2_error e;
    char json[1024]; /* the rendered error, when rc is ETCD_ERROR */
};

/* Parses one request; body NULL means none, ct NULL no Content-Type. */
static void parse_n(struct res *x, const char *method, const char *target, size_t tlen,
                    const char *ct, const char *body, size_t blen)
{
    struct cc_v2_http_in in;

    memset(&in, 0, sizeof in);
    memset(x, 0, sizeof *x);
    in.method = method;
    cc_v2_split_target(target, tlen, &in);
    in.content_type = ct;
    in.content_type_len = ct ? strlen(ct) : 0;
    in.body = (const uint8_t *)body;
    in.body_len = body ? blen : 0;
    x->rc = cc_v2_parse_key_request(&in, NOW, &x->r, &x->e);
    if (x->rc == CC_V2_PARSE_ETCD_ERROR) {
        struct cc_buf b;

        cc_buf_init(&b);
        CHECK(cc_v2_render_error(&b, &x->e) == 0);
        CHECK(b.len < sizeof x->json);
        if (b.len < sizeof x->json) {
            memcpy(x->json, b.data, b.len);
            x->json[b.len] = '\0';
        }
        cc_buf_free(&b);
    }
}

static void parse(struct res *x, const char *method, const char *target, const char *ct,
                  const char *body)
{
    parse_n(x, method, target, strlen(target), ct, body, body ? strlen(body) : 0);
}

static void done(struct res *x)
{
    cc_v2_request_free(&x->r);
}

/* The request parses; its store path is want_path. */
static void expect_ok(struct res *x, const char *method, const char *target, const char *ct,
                      const char *body, const char *want_path)
{
    parse(x, method, target, ct, body);
    CHECK(x->rc == CC_V2_PARSE_OK);
    if (x->rc == CC_V2_PARSE_OK)
        CHECK_STR(x->r.path, want_path);
    CHECK(x->e.code == 0);
}

/* The request fails with etcd's error body want (and its HTTP status). */
static void expect_err(const char *method, const char *target, const char *ct, const char *body,
                       int want_status, const char *want)
{
    struct res x;

    parse(&x, method, target, ct, body);
    CHECK(x.rc == CC_V2_PARSE_ETCD_ERROR);
    CHECK_STR(x.json, want);
    CHECK(cc_v2_error_status(x.e.code, NULL) == want_status);
    CHECK(x.e.index == 0);
    CHECK(x.r.path == NULL); /* nothing to free on an error */
    done(&x);
}

static void expect_rc(const char *method, const char *target, int want)
{
    struct res x;

    parse(&x, method, target, NULL, NULL);
    CHECK(x.rc == want);
    if (x.rc != want)
        fprintf(stderr, "  %s %s: rc %d, want %d\n", method, target, x.rc, want);
    done(&x);
}

/* ---- routing and the key ---- */

static void test_root_and_key_paths(void)
{
    static const struct {
        const char *target, *path;
    } cases[] = {
        {"/v2/keys", "/1"},
        {"/v2/keys/", "/1"},
        {"/v2/keys/foo", "/1/foo"},
        {"/v2/keys/foo/", "/1/foo"}, /* the store drops the trailing slash */
        {"/v2/keys/a/b/c", "/1/a/b/c"},
        {"/v2/keys/a%2Fb", "/1/a/b"}, /* decoded: the nested key /a/b */
        {"/v2/keys/a%20b", "/1/a b"},
        {"/v2/keys/a+b", "/1/a+b"}, /* '+' is only a space in queries */
        {"/v2/keys/a#b", "/1/a#b"}, /* Go keeps '#' in a request path */
        {"/v2/keys/%C3%A9", "/1/\xc3\xa9"},
        {"/v2/keys/\xc3\xa9", "/1/\xc3\xa9"},
        {"/v2/keys/%ff", "/1/\xff"},
        {"/v2/keys/%01", "/1/\x01"}, /* decoded control bytes are fine */
        {"/v2/keys/_hidden", "/1/_hidden"},
        {"/v2/keys/a?b?c", "/1/a"}, /* the first '?' starts the query */
    };
    struct res x;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_ok(&x, "GET", cases[i].target, NULL, NULL, cases[i].path);
        CHECK(x.r.method == CC_V2_GET);
        done(&x);
    }
}

static void test_bad_request(void)
{
    expect_rc("GET", "/v2/keys/%zz", CC_V2_PARSE_BAD_REQUEST);
    expect_rc("GET", "/v2/keys/%", CC_V2_PARSE_BAD_REQUEST);
    expect_rc("GET", "/v2/keys/%a", CC_V2_PARSE_BAD_REQUEST);
    expect_rc("GET", "/v2/keys/a%2", CC_V2_PARSE_BAD_REQUEST);
    expect_rc("GET", "/v2/keys/a\x01", CC_V2_PARSE_BAD_REQUEST);    /* control byte */
    expect_rc("GET", "/v2/keys/a?x=\x7f", CC_V2_PARSE_BAD_REQUEST); /* also in the query */
    expect_rc("GET", "/v2/keys/x?a=%\x7f", CC_V2_PARSE_BAD_REQUEST);
    expect_rc("GET", "v2/keys/a", CC_V2_PARSE_BAD_REQUEST); /* not origin form */
    expect_rc("GET", "*", CC_V2_PARSE_BAD_REQUEST);
    expect_rc("GET", "?a", CC_V2_PARSE_BAD_REQUEST);
    /* A bad escape is refused before routing or the method. */
    expect_rc("PATCH", "/nowhere/%zz", CC_V2_PARSE_BAD_REQUEST);
}

/* Concord's one refusal etcd does not make (params.h step 5). */
static void test_nul_key_refused(void)
{
    expect_rc("GET", "/v2/keys/a%00b", CC_V2_PARSE_BAD_REQUEST);
    expect_rc("PUT", "/v2/keys/%00", CC_V2_PARSE_BAD_REQUEST);
    /* Routing and the method come first. */
    expect_rc("GET", "/v2/keysx/%00", CC_V2_PARSE_NOT_FOUND);
    expect_rc("PATCH", "/v2/keys/%00", CC_V2_PARSE_METHOD_NOT_ALLOWED);
    /* A NUL in a value is fine: values are counted strings. */
    {
        struct res x;

        expect_ok(&x, "PUT", "/v2/keys/k?value=a%00b", NULL, NULL, "/1/k");
        CHECK(x.r.value.n == 3 && memcmp(x.r.value.p, "a\0b", 3) == 0);
        done(&x);
    }
}

static void test_not_found(void)
{
    expect_rc("GET", "/v2/keysx", CC_V2_PARSE_NOT_FOUND);
    expect_rc("GET", "/v2/key", CC_V2_PARSE_NOT_FOUND);
    expect_rc("GET", "/v2", CC_V2_PARSE_NOT_FOUND);
    expect_rc("GET", "/", CC_V2_PARSE_NOT_FOUND);
    expect_rc("PUT", "/v2/members", CC_V2_PARSE_NOT_FOUND);
    expect_rc("FOO", "/v2/keysx", CC_V2_PARSE_NOT_FOUND); /* before the method */
    expect_rc("CONNECT", "/v2/keysx", CC_V2_PARSE_NOT_FOUND);
}

static void test_method_not_allowed(void)
{
    expect_rc("PATCH", "/v2/keys/a", CC_V2_PARSE_METHOD_NOT_ALLOWED);
    expect_rc("get", "/v2/keys/a", CC_V2_PARSE_METHOD_NOT_ALLOWED); /* case-sensitive */
    expect_rc("TRACE", "/v2/keys/a", CC_V2_PARSE_METHOD_NOT_ALLOWED);
    expect_rc("FOO", "/v2/keys", CC_V2_PARSE_METHOD_NOT_ALLOWED);
    expect_rc("", "/v2/keys", CC_V2_PARSE_METHOD_NOT_ALLOWED);
    /* CONNECT is not cleaned by ServeMux, so no redirect: straight to 405. */
    expect_rc("CONNECT", "/v2/keys/a//b", CC_V2_PARSE_METHOD_NOT_ALLOWED);
    /* A 405 comes before parameter errors. */
    expect_rc("PATCH", "/v2/keys/a?recursive=maybe", CC_V2_PARSE_METHOD_NOT_ALLOWED);
    CHECK_STR(CC_V2_KEYS_ALLOW, "HEAD,GET,PUT,POST,DELETE");
    CHECK_STR(CC_V2_METHOD_NOT_ALLOWED_BODY, "Method Not Allowed\n");
    CHECK_STR(CC_V2_NOT_FOUND_BODY, "404 page not found\n");
}

static void test_redirects(void)
{
    /* target, Location, GET body: all as etcd 3.4.23 answered */
    static const struct {
        const char *target, *location, *body;
    } cases[] = {
        {"/v2/keys/a//b?x=1", "/v2/keys/a/b?x=1",
         "<a href=\"/v2/keys/a/b?x=1\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/a/./b/", "/v2/keys/a/b/",
         "<a href=\"/v2/keys/a/b/\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/a/..", "/v2/keys", "<a href=\"/v2/keys\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/..", "/v2", "<a href=\"/v2\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/../../x?y=1", "/x?y=1", "<a href=\"/x?y=1\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/a%2F%2Fb", "/v2/keys/a/b",
         "<a href=\"/v2/keys/a/b\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/a%2f..%2fb", "/v2/keys/b", "<a href=\"/v2/keys/b\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/%3F//x?q", "/v2/keys/%3F/x?q",
         "<a href=\"/v2/keys/%3F/x?q\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/\xc3\xa9//x?\xff", "/v2/keys/%C3%A9/x?%ff",
         "<a href=\"/v2/keys/%C3%A9/x?\xff\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/a/.", "/v2/keys/a", "<a href=\"/v2/keys/a\">Moved Permanently</a>.\n\n"},
        {"/v2/keys//?", "/v2/keys/", "<a href=\"/v2/keys/\">Moved Permanently</a>.\n\n"},
        {"/v2//keys", "/v2/keys", "<a href=\"/v2/keys\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/a//b#c", "/v2/keys/a/b%23c",
         "<a href=\"/v2/keys/a/b%23c\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/a//%25%20!*'()\"<>[]{}|^`~$&+,;=:@",
         "/v2/keys/a/%25%20%21%2A%27%28%29%22%3C%3E%5B%5D%7B%7D%7C%5E%60~$&+,;=:@",
         "<a href=\"/v2/keys/a/%25%20%21%2A%27%28%29%22%3C%3E%5B%5D%7B%7D%7C%5E%60~$&amp;+,;=:@\">"
         "Moved Permanently</a>.\n\n"},
        {"/v2/keys/a//b?x<y\"z&w", "/v2/keys/a/b?x<y\"z&w",
         "<a href=\"/v2/keys/a/b?x&lt;y&#34;z&amp;w\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/./a", "/v2/keys/a", "<a href=\"/v2/keys/a\">Moved Permanently</a>.\n\n"},
        {"//v2/keys/a", "/v2/keys/a", "<a href=\"/v2/keys/a\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/a/..%2f", "/v2/keys/", "<a href=\"/v2/keys/\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/%2e%2e/x", "/v2/x", "<a href=\"/v2/x\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/.", "/v2/keys", "<a href=\"/v2/keys\">Moved Permanently</a>.\n\n"},
        {"/v2/keys/a/b/../", "/v2/keys/a/", "<a href=\"/v2/keys/a/\">Moved Permanently</a>.\n\n"},
    };
    struct res x;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parse(&x, "GET", cases[i].target, NULL, NULL);
        CHECK(x.rc == CC_V2_PARSE_REDIRECT);
        CHECK_STR(x.r.path, cases[i].location);
        CHECK_STR(x.r.value.p, cases[i].body);
        CHECK(x.r.value.p == NULL || strlen(x.r.value.p) == x.r.value.n);
        done(&x);
    }
    /* Any method is redirected, PATCH and unknown ones too (ServeMux runs
     * before the keys handler), and nothing is executed. */
    parse(&x, "PATCH", "/v2/keys/a//b", NULL, NULL);
    CHECK(x.rc == CC_V2_PARSE_REDIRECT);
    CHECK_STR(x.r.path, "/v2/keys/a/b");
    done(&x);
    parse(&x, "PUT", "/v2/keys/a//b?value=1", FORM, "value=2");
    CHECK(x.rc == CC_V2_PARSE_REDIRECT);
    CHECK_STR(x.r.path, "/v2/keys/a/b?value=1");
    done(&x);
    /* The redirect comes before parameter checks. */
    parse(&x, "GET", "/v2/keys//a?recursive=maybe", NULL, NULL);
    CHECK(x.rc == CC_V2_PARSE_REDIRECT);
    done(&x);
}

/* ---- parameters ---- */

static void test_param_errors(void)
{
    static const char *const get_cases[][2] = {
        {"/v2/keys/x?prevIndex=abc",
         "{\"errorCode\":203,\"message\":\"The given index in POST form is not a "
         "number\",\"cause\":\"invalid value for \\\"prevIndex\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?prevIndex=",
         "{\"errorCode\":203,\"message\":\"The given index in POST form is not a "
         "number\",\"cause\":\"invalid value for \\\"prevIndex\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?waitIndex=-1",
         "{\"errorCode\":203,\"message\":\"The given index in POST form is not a "
         "number\",\"cause\":\"invalid value for \\\"waitIndex\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?recursive=maybe", "{\"errorCode\":209,\"message\":\"Invalid "
                                       "field\",\"cause\":\"invalid value for "
                                       "\\\"recursive\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?recursive=", "{\"errorCode\":209,\"message\":\"Invalid "
                                  "field\",\"cause\":\"invalid value for "
                                  "\\\"recursive\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?sorted=2", "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":"
                                "\"invalid value for \\\"sorted\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?wait=yes", "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":"
                                "\"invalid value for \\\"wait\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?dir=on", "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":"
                              "\"invalid value for \\\"dir\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?quorum=x", "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":"
                                "\"invalid value for \\\"quorum\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?stream=x", "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":"
                                "\"invalid value for \\\"stream\\\"\",\"index\":0}\n"},
    };
    static const char *const put_cases[][2] = {
        {"/v2/keys/x?wait=true", "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":"
                                 "\"\\\"wait\\\" can only be used with GET "
                                 "requests\",\"index\":0}\n"},
        {"/v2/keys/x?wait=false&prevValue=",
         "{\"errorCode\":201,\"message\":\"PrevValue is Required in POST "
         "form\",\"cause\":\"\\\"prevValue\\\" cannot be empty\",\"index\":0}\n"},
        {"/v2/keys/x?noValueOnSuccess=x", "{\"errorCode\":209,\"message\":\"Invalid "
                                          "field\",\"cause\":\"invalid value for "
                                          "\\\"noValueOnSuccess\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?ttl=abc", "{\"errorCode\":202,\"message\":\"The given TTL in POST form is "
                               "not a number\",\"cause\":\"invalid value for "
                               "\\\"ttl\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?ttl=-1", "{\"errorCode\":202,\"message\":\"The given TTL in POST form is "
                              "not a number\",\"cause\":\"invalid value for "
                              "\\\"ttl\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?ttl=18446744073709551616",
         "{\"errorCode\":202,\"message\":\"The given TTL in POST form is not a "
         "number\",\"cause\":\"invalid value for \\\"ttl\\\"\",\"index\":0}\n"},
        {"/v2/keys/x?prevExist=maybe", "{\"errorCode\":209,\"message\":\"Invalid "
                                       "field\",\"cause\":\"invalid value for "
                                       "prevExist\",\"index\":0}\n"},
        {"/v2/keys/x?refresh=maybe", "{\"errorCode\":209,\"message\":\"Invalid "
                                     "field\",\"cause\":\"invalid value for "
                                     "refresh\",\"index\":0}\n"},
        {"/v2/keys/x?refresh=true&value=a",
         "{\"errorCode\":211,\"message\":\"Value provided on refresh\",\"cause\":\"A value was "
         "provided on a refresh\",\"index\":0}\n"},
        {"/v2/keys/x?refresh=true", "{\"errorCode\":212,\"message\":\"A TTL must be provided on "
                                    "refresh\",\"cause\":\"No TTL value set\",\"index\":0}\n"},
        {"/v2/keys/x?refresh=true&ttl=", "{\"errorCode\":212,\"message\":\"A TTL must be "
                                         "provided on refresh\",\"cause\":\"No TTL value "
                                         "set\",\"index\":0}\n"},
    };

    for (size_t i = 0; i < sizeof get_cases / sizeof get_cases[0]; i++)
        expect_err("GET", get_cases[i][0], NULL, NULL, 400, get_cases[i][1]);
    for (size_t i = 0; i < sizeof put_cases / sizeof put_cases[0]; i++)
        expect_err("PUT", put_cases[i][0], NULL, NULL, 400, put_cases[i][1]);
    /* wait is GET-only: HEAD, POST and DELETE too */
    expect_err("HEAD", "/v2/keys/x?wait=true", NULL, NULL, 400,
               "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"\\\"wait\\\" can only "
               "be used with GET requests\",\"index\":0}\n");
    expect_err("DELETE", "/v2/keys/x?wait=1", NULL, NULL, 400,
               "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"\\\"wait\\\" can only "
               "be used with GET requests\",\"index\":0}\n");
}

/* parseKeyRequest's order: the first failing check names the error. */
static void test_check_order(void)
{
    expect_err("GET", "/v2/keys/x?recursive=maybe&prevIndex=abc", NULL, NULL, 400,
               "{\"errorCode\":203,\"message\":\"The given index in POST form is not a "
               "number\",\"cause\":\"invalid value for \\\"prevIndex\\\"\",\"index\":0}\n");
    expect_err("GET", "/v2/keys/x?waitIndex=x&prevIndex=1&sorted=x", NULL, NULL, 400,
               "{\"errorCode\":203,\"message\":\"The given index in POST form is not a "
               "number\",\"cause\":\"invalid value for \\\"waitIndex\\\"\",\"index\":0}\n");
    expect_err("GET", "/v2/keys/x?stream=x&dir=x&sorted=x", NULL, NULL, 400,
               "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"invalid value for "
               "\\\"sorted\\\"\",\"index\":0}\n");
    expect_err("PUT", "/v2/keys/x?prevValue=&wait=true", NULL, NULL, 400,
               "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"\\\"wait\\\" can only "
               "be used with GET requests\",\"index\":0}\n");
    expect_err("PUT", "/v2/keys/x?ttl=x&prevValue=", NULL, NULL, 400,
               "{\"errorCode\":201,\"message\":\"PrevValue is Required in POST "
               "form\",\"cause\":\"\\\"prevValue\\\" cannot be empty\",\"index\":0}\n");
    expect_err("PUT", "/v2/keys/x?ttl=x&noValueOnSuccess=x", NULL, NULL, 400,
               "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"invalid value for "
               "\\\"noValueOnSuccess\\\"\",\"index\":0}\n");
    expect_err("PUT", "/v2/keys/x?prevExist=x&ttl=x", NULL, NULL, 400,
               "{\"errorCode\":202,\"message\":\"The given TTL in POST form is not a "
               "number\",\"cause\":\"invalid value for \\\"ttl\\\"\",\"index\":0}\n");
    expect_err("PUT", "/v2/keys/x?refresh=x&prevExist=x", NULL, NULL, 400,
               "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"invalid value for "
               "prevExist\",\"index\":0}\n");
    /* refresh with both a value and no ttl: the value is checked first */
    expect_err("PUT", "/v2/keys/x?refresh=true&value=v", NULL, NULL, 400,
               "{\"errorCode\":211,\"message\":\"Value provided on refresh\",\"cause\":\"A value "
               "was provided on a refresh\",\"index\":0}\n");
    /* a form error beats every parameter error */
    expect_err("PUT", "/v2/keys/x?prevIndex=x&a=%zz", NULL, NULL, 400,
               "{\"errorCode\":210,\"message\":\"Invalid POST form\",\"cause\":\"invalid URL "
               "escape \\\"%zz\\\"\",\"index\":0}\n");
}

static void test_repeated_first_wins(void)
{
    struct res x;

    expect_ok(&x, "PUT", "/v2/keys/x?value=a&value=b", NULL, NULL, "/1/x");
    CHECK_STR(x.r.value.p, "a");
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?%76alue=a&value=b", NULL, NULL, "/1/x"); /* keys decode */
    CHECK_STR(x.r.value.p, "a");
    done(&x);
    /* The first value decides, also when a later one would pass or fail. */
    expect_err("PUT", "/v2/keys/x?prevValue=&prevValue=a", NULL, NULL, 400,
               "{\"errorCode\":201,\"message\":\"PrevValue is Required in POST "
               "form\",\"cause\":\"\\\"prevValue\\\" cannot be empty\",\"index\":0}\n");
    expect_ok(&x, "PUT", "/v2/keys/x?prevValue=a&prevValue=", NULL, NULL, "/1/x");
    CHECK_STR(x.r.prev_value.p, "a");
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?ttl=&ttl=abc", NULL, NULL, "/1/x");
    CHECK(x.r.expiration_ns == 0);
    done(&x);
    expect_err("PUT", "/v2/keys/x?ttl=abc&ttl=", NULL, NULL, 400,
               "{\"errorCode\":202,\"message\":\"The given TTL in POST form is not a "
               "number\",\"cause\":\"invalid value for \\\"ttl\\\"\",\"index\":0}\n");
    expect_ok(&x, "GET", "/v2/keys/x?recursive=true&recursive=maybe", NULL, NULL, "/1/x");
    CHECK(x.r.recursive);
    done(&x);
}

static void test_body_beats_query(void)
{
    struct res x;

    expect_ok(&x, "PUT", "/v2/keys/p1?value=fromquery", FORM, "value=frombody", "/1/p1");
    CHECK_STR(x.r.value.p, "frombody");
    done(&x);
    expect_ok(&x, "POST", "/v2/keys/q?value=fromquery", FORM, "value=frombody", "/1/q");
    CHECK(x.r.method == CC_V2_POST);
    CHECK_STR(x.r.value.p, "frombody");
    done(&x);
    /* query alone works, and a body without the name leaves the query's */
    expect_ok(&x, "PUT", "/v2/keys/p?value=q&ttl=5", FORM, "dir=false", "/1/p");
    CHECK_STR(x.r.value.p, "q");
    CHECK(x.r.expiration_ns == NOW + 5 * INT64_C(1000000000));
    done(&x);
    /* the body's empty prevValue wins over the query's */
    expect_err("PUT", "/v2/keys/p?prevValue=x", FORM, "prevValue=", 400,
               "{\"errorCode\":201,\"message\":\"PrevValue is Required in POST "
               "form\",\"cause\":\"\\\"prevValue\\\" cannot be empty\",\"index\":0}\n");
    /* form decoding: '+' is a space, keys are decoded too */
    expect_ok(&x, "PUT", "/v2/keys/p25?value=q", FORM, "%76alue=a+b%20c", "/1/p25");
    CHECK_STR(x.r.value.p, "a b c");
    done(&x);
    expect_ok(&x, "POST", "/v2/keys/q", FORM, "value=a&value=b", "/1/q");
    CHECK_STR(x.r.value.p, "a");
    done(&x);
}

/* Content types other than a form leave the body unread; DELETE, GET and
 * HEAD never read it. */
static void test_body_ignored(void)
{
    static const char *const not_form[] = {
        "application/json",
        "text/plain",
        "foo/bar",
        "",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencodedx",
    };
    static const char *const methods[] = {"DELETE", "GET", "HEAD"};
    struct res x;

    for (size_t i = 0; i < sizeof not_form / sizeof not_form[0]; i++) {
        expect_ok(&x, "PUT", "/v2/keys/p2", not_form[i], "value=x", "/1/p2");
        CHECK(x.r.value.n == 0 && x.r.value.p != NULL && x.r.value.p[0] == '\0');
        done(&x);
    }
    expect_ok(&x, "PUT", "/v2/keys/p14", NULL, "value=x", "/1/p14"); /* no Content-Type */
    CHECK(x.r.value.n == 0);
    done(&x);
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        /* a body the query would fail on is not read at all */
        expect_ok(&x, methods[i], "/v2/keys/p1", FORM, "prevValue=&recursive=maybe&a=%zz", "/1/p1");
        CHECK(x.r.prev_value.n == 0 && !x.r.recursive);
        done(&x);
    }
}

static void test_form_content_types(void)
{
    static const char *const forms[] = {
        FORM "; charset=utf-8",
        FORM ";",
        "Application/X-WWW-Form-URLEncoded",
        "  " FORM "  ",
        FORM "; charset=\"utf-8\"",
        FORM " ; a=1",
        FORM "; a=1;",
        FORM "; a=1; ",
        FORM "; a=1 ;  ",
        FORM "; a= 1",
        FORM "; a =1",
        FORM "; a=\"x\\\"y\"",
        FORM ";a=1",
        FORM "; a=\"\"",
        FORM "; a*=1; a=2",
        FORM "\xc2\xa0", /* U+00A0 is trimmed */
        "\xc2\xa0" FORM, /* leading too */
        "appl\xc4\xb0"
        "cation/x-www-form-urlencoded", /* U+0130 lowers to 'i' */
        FORM "\xe2\x80\x83; a=1",       /* U+2003 */
        FORM "\t;\ta=1",
        FORM "; \xe2\x80\x83"
             "a=1",
        FORM "; a=1\xe2\x80\x83;",
    };
    struct res x;

    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        expect_ok(&x, "PUT", "/v2/keys/p", forms[i], "value=x", "/1/p");
        CHECK_STR(x.r.value.p, "x");
        if (x.r.value.p == NULL || strcmp(x.r.value.p, "x") != 0)
            fprintf(stderr, "  content type [%s]\n", forms[i]);
        done(&x);
    }
}

static void test_form_content_type_errors(void)
{
    static const char *const cases[][2] = {
        {FORM "; ;", "mime: invalid media parameter"},
        {FORM "; foo", "mime: invalid media parameter"},
        {FORM "; a=1; a=2", "mime: duplicate parameter name"},
        {FORM "; a=1; a=1", "mime: duplicate parameter name"},
        {FORM "; a*=1; a*=2", "mime: duplicate parameter name"},
        {FORM "; A=1; a=2", "mime: duplicate parameter name"},
        {"text/plain; foo", "mime: invalid media parameter"},
        {"/plain", "mime: no media type"},
        {"foo", NULL}, /* a lone token is a media type: just not a form */
        {"text/", "mime: expected token after slash"},
        {"text/plain x", "mime: unexpected content after media subtype"},
        {FORM ",x", "mime: unexpected content after media subtype"},
        {"a b", "mime: expected slash after first token"},
        {FORM "; charset=\"utf-8", "mime: invalid media parameter"},
        {FORM "; =1", "mime: invalid media parameter"},
        {FORM "; a=\xc3\xa9", "mime: invalid media parameter"},
        {FORM "; a=1;;", "mime: invalid media parameter"},
        {FORM "; a=\"b", "mime: invalid media parameter"},
        {FORM "; a=\"\\", "mime: invalid media parameter"},
        {FORM "; a=b c", "mime: invalid media parameter"},
        {FORM "; a=1; \xc2\x85;", "mime: invalid media parameter"},
        {"\xff/x", "mime: no media type"},
        {"text\xc4\xb0/plain", NULL}, /* U+0130 lowers to 'i': "texti/plain" */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[256];
        struct res x;

        parse(&x, "PUT", "/v2/keys/p", cases[i][0], "value=x");
        if (cases[i][1] == NULL) {
            CHECK(x.rc == CC_V2_PARSE_OK);
            CHECK(x.r.value.n == 0); /* body ignored */
            done(&x);
            continue;
        }
        snprintf(want, sizeof want,
                 "{\"errorCode\":210,\"message\":\"Invalid POST form\",\"cause\":\"%s\","
                 "\"index\":0}\n",
                 cases[i][1]);
        CHECK(x.rc == CC_V2_PARSE_ETCD_ERROR);
        CHECK_STR(x.json, want);
        done(&x);
    }
    /* DELETE does not look at the Content-Type at all */
    expect_rc("DELETE", "/v2/keys/p", CC_V2_PARSE_OK);
    {
        struct res x;

        parse(&x, "DELETE", "/v2/keys/p", "text/", "value=x");
        CHECK(x.rc == CC_V2_PARSE_OK);
        done(&x);
    }
}

/* Go's form errors, with strconv.Quote's text for the bad escape. */
static void test_form_errors(void)
{
    static const char *const query_cases[][2] = {
        {"/v2/keys/x?a=%zz", "invalid URL escape \\\"%zz\\\""},
        {"/v2/keys/x?a=%", "invalid URL escape \\\"%\\\""},
        {"/v2/keys/x?a=%4", "invalid URL escape \\\"%4\\\""},
        {"/v2/keys/x?%zz=1", "invalid URL escape \\\"%zz\\\""},
        {"/v2/keys/x?a=b;c", "invalid semicolon separator in query"},
        {"/v2/keys/x?a=%zz&b;c", "invalid semicolon separator in query"}, /* ';' replaces */
        {"/v2/keys/x?a;b&c=%zz", "invalid semicolon separator in query"}, /* escape does not */
        {"/v2/keys/x?a=%zz&b=%yy", "invalid URL escape \\\"%zz\\\""},
        {"/v2/keys/x?a=%\xc3\xa9", "invalid URL escape \\\"%\xc3\xa9\\\""},
        {"/v2/keys/x?a=%\xe4\xb8\xad", "invalid URL escape \\\"%\\\\xe4\\\\xb8\\\""},
        {"/v2/keys/x?a=%\"x", "invalid URL escape \\\"%\\\\\\\"x\\\""},
        {"/v2/keys/x?a=%\\x", "invalid URL escape \\\"%\\\\\\\\x\\\""},
        {"/v2/keys/x?a=%\xc2\x80", "invalid URL escape \\\"%\\\\u0080\\\""},
        {"/v2/keys/x?a=%\xc2\xa0", "invalid URL escape \\\"%\\\\u00a0\\\""},
        {"/v2/keys/x?a=%\xcd\xb8", "invalid URL escape \\\"%\\\\u0378\\\""},
        {"/v2/keys/x?a=%\xd8\x9d", "invalid URL escape \\\"%\\\\u061d\\\""}, /* Unicode 13 */
        {"/v2/keys/x?a=%\xc3(", "invalid URL escape \\\"%\\\\xc3(\\\""},
        {"/v2/keys/x?a=%<&", "invalid URL escape \\\"%\\u003c\\\""},
    };
    static const char *const body_cases[][3] = {
        /* query, body, cause */
        {"", "value=%zz", "invalid URL escape \\\"%zz\\\""},
        {"?value=%zz", "value=%yy", "invalid URL escape \\\"%yy\\\""}, /* the body's wins */
        {"?value=%zz", "value=b;c", "invalid semicolon separator in query"},
        {"?value=b;c", "value=%yy", "invalid URL escape \\\"%yy\\\""},
        {"", "value=a%\n", "invalid URL escape \\\"%\\\\n\\\""},
        {"", "value=a%\x01", "invalid URL escape \\\"%\\\\x01\\\""},
        {"", "value=a%\x7f", "invalid URL escape \\\"%\\\\x7f\\\""},
        {"", "value=a%\a\b", "invalid URL escape \\\"%\\\\a\\\\b\\\""},
        {"", "value=a%\t\v", "invalid URL escape \\\"%\\\\t\\\\v\\\""},
        {"", "value=a%\f\r", "invalid URL escape \\\"%\\\\f\\\\r\\\""},
    };

    for (size_t i = 0; i < sizeof query_cases / sizeof query_cases[0]; i++) {
        char want[256];

        snprintf(want, sizeof want,
                 "{\"errorCode\":210,\"message\":\"Invalid POST form\",\"cause\":\"%s\","
                 "\"index\":0}\n",
                 query_cases[i][1]);
        expect_err("GET", query_cases[i][0], NULL, NULL, 400, want);
    }
    for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0]; i++) {
        char want[256], target[64];

        snprintf(target, sizeof target, "/v2/keys/p%s", body_cases[i][0]);
        snprintf(want, sizeof want,
                 "{\"errorCode\":210,\"message\":\"Invalid POST form\",\"cause\":\"%s\","
                 "\"index\":0}\n",
                 body_cases[i][2]);
        expect_err("PUT", target, FORM, body_cases[i][1], 400, want);
    }
    /* ';' in a value arrives escaped, and an empty pair or a name alone is fine */
    {
        struct res x;

        expect_ok(&x, "PUT", "/v2/keys/x?&&value=a%3Bb&&other", NULL, NULL, "/1/x");
        CHECK_STR(x.r.value.p, "a;b");
        done(&x);
        /* a name alone is present with the value "", which is not a bool */
        expect_err("GET", "/v2/keys/x?dir", NULL, NULL, 400,
                   "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"invalid value "
                   "for \\\"dir\\\"\",\"index\":0}\n");
    }
}

static void test_form_too_large(void)
{
    size_t n = CC_V2_MAX_FORM_BODY + 1;
    char *body = malloc(n);
    struct res x;

    CHECK(body != NULL);
    if (body == NULL)
        return;
    memset(body, 'a', n);
    memcpy(body, "value=", 6);
    parse_n(&x, "PUT", "/v2/keys/big", 12, FORM, body, n);
    CHECK(x.rc == CC_V2_PARSE_ETCD_ERROR);
    CHECK_STR(x.json, "{\"errorCode\":210,\"message\":\"Invalid POST form\",\"cause\":\"http: POST "
                      "too large\",\"index\":0}\n");
    done(&x);
    /* exactly the limit is read */
    parse_n(&x, "PUT", "/v2/keys/big", 12, FORM, body, n - 1);
    CHECK(x.rc == CC_V2_PARSE_OK);
    CHECK(x.r.value.n == n - 1 - 6);
    done(&x);
    /* a big body of another type is not read, so not too large */
    parse_n(&x, "PUT", "/v2/keys/big", 12, "text/plain", body, n);
    CHECK(x.rc == CC_V2_PARSE_OK);
    done(&x);
    free(body);
}

static void test_bools(void)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    static const char *const bad[] = {"tRue", "yes", "on", "", " true", "2", "truee", "%20t"};
    char target[64];
    struct res x;

    for (size_t i = 0; i < 6; i++) {
        snprintf(target, sizeof target, "/v2/keys/x?recursive=%s&sorted=%s", yes[i], no[i]);
        expect_ok(&x, "GET", target, NULL, NULL, "/1/x");
        CHECK(x.r.recursive && !x.r.sorted);
        done(&x);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(target, sizeof target, "/v2/keys/x?stream=%s", bad[i]);
        expect_err("GET", target, NULL, NULL, 400,
                   "{\"errorCode\":209,\"message\":\"Invalid field\",\"cause\":\"invalid value "
                   "for \\\"stream\\\"\",\"index\":0}\n");
    }
    /* %74rue is "true" once decoded */
    expect_ok(&x, "GET", "/v2/keys/x?dir=%74rue", NULL, NULL, "/1/x");
    CHECK(x.r.dir);
    done(&x);
}

static void test_uints(void)
{
    static const char *const bad[] = {
        "-1", "+5", " 5", "%205", "1_0", "abc", "", "18446744073709551616", "0x10", "5 "};
    char target[64];
    struct res x;

    expect_ok(&x, "GET", "/v2/keys/x?prevIndex=18446744073709551615&waitIndex=007", NULL, NULL,
              "/1/x");
    CHECK(x.r.prev_index == UINT64_MAX);
    CHECK(x.r.wait_index == 7);
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?prevIndex=0", NULL, NULL, "/1/x"); /* 0 = no condition */
    CHECK(x.r.prev_index == 0);
    done(&x);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(target, sizeof target, "/v2/keys/x?prevIndex=%s", bad[i]);
        expect_err("PUT", target, NULL, NULL, 400,
                   "{\"errorCode\":203,\"message\":\"The given index in POST form is not a "
                   "number\",\"cause\":\"invalid value for \\\"prevIndex\\\"\",\"index\":0}\n");
    }
}

static void test_ttl(void)
{
    struct res x;

    expect_ok(&x, "PUT", "/v2/keys/x?ttl=", NULL, NULL, "/1/x"); /* empty: no TTL */
    CHECK(x.r.expiration_ns == 0);
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x", NULL, NULL, "/1/x");
    CHECK(x.r.expiration_ns == 0);
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?ttl=0", NULL, NULL, "/1/x"); /* expires at the next sync */
    CHECK(x.r.expiration_ns == NOW);
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?ttl=100", NULL, NULL, "/1/x");
    CHECK(x.r.expiration_ns == NOW + 100 * INT64_C(1000000000));
    done(&x);
    expect_ok(&x, "POST", "/v2/keys/q?ttl=05", NULL, NULL, "/1/q");
    CHECK(x.r.expiration_ns == NOW + 5 * INT64_C(1000000000));
    done(&x);
    /* Overflow wraps as Go's Duration and UnixNano arithmetic does (etcd
     * answered these with expirations one second and 0.71 s in the past). */
    expect_ok(&x, "PUT", "/v2/keys/x?ttl=18446744073709551615", NULL, NULL, "/1/x");
    CHECK(x.r.expiration_ns == NOW - INT64_C(1000000000));
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?ttl=18446744073", NULL, NULL, "/1/x");
    CHECK(x.r.expiration_ns == NOW - 709551616);
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?ttl=9223372037", NULL, NULL, "/1/x");
    CHECK(x.r.expiration_ns ==
          (int64_t)((uint64_t)NOW + UINT64_C(9223372037) * UINT64_C(1000000000)));
    CHECK(x.r.expiration_ns < 0); /* before 1970: etcd's store makes it permanent */
    done(&x);
    /* refresh with a ttl and an empty value is fine */
    expect_ok(&x, "PUT", "/v2/keys/x?refresh=true&value=&ttl=5", NULL, NULL, "/1/x");
    CHECK(x.r.refresh);
    CHECK(x.r.expiration_ns == NOW + 5 * INT64_C(1000000000));
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?refresh=false&value=a", NULL, NULL, "/1/x");
    CHECK(!x.r.refresh);
    done(&x);
}

static void test_fields_and_methods(void)
{
    struct res x;

    expect_ok(&x, "PUT", "/v2/keys/x", NULL, NULL, "/1/x"); /* no value: "" */
    CHECK(x.r.method == CC_V2_PUT);
    CHECK(x.r.value.n == 0 && x.r.value.p != NULL);
    CHECK(x.r.prev_exist == -1);
    CHECK(!x.r.dir && !x.r.recursive && !x.r.sorted && !x.r.quorum && !x.r.wait);
    CHECK(!x.r.stream && !x.r.refresh && !x.r.no_value_on_success);
    CHECK(x.r.prev_index == 0 && x.r.wait_index == 0 && x.r.expiration_ns == 0);
    CHECK(x.r.time_ns == 0);
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?dir=true&value=x", NULL, NULL, "/1/x"); /* value kept */
    CHECK(x.r.dir);
    CHECK_STR(x.r.value.p, "x");
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?prevExist=false", NULL, NULL, "/1/x");
    CHECK(x.r.prev_exist == 0);
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?prevExist=True&prevValue=a%26b&prevIndex=9", NULL, NULL,
              "/1/x");
    CHECK(x.r.prev_exist == 1);
    CHECK_STR(x.r.prev_value.p, "a&b");
    CHECK(x.r.prev_index == 9);
    done(&x);
    expect_ok(&x, "DELETE", "/v2/keys/d?recursive=true&dir=1", NULL, NULL, "/1/d");
    CHECK(x.r.method == CC_V2_DELETE && x.r.recursive && x.r.dir);
    done(&x);
    expect_ok(&x, "HEAD", "/v2/keys/h", NULL, NULL, "/1/h");
    CHECK(x.r.method == CC_V2_HEAD);
    done(&x);
    expect_ok(&x, "GET", "/v2/keys/w?wait=true&waitIndex=33&recursive=true&stream=true", NULL, NULL,
              "/1/w");
    CHECK(x.r.method == CC_V2_GET && x.r.wait && x.r.stream && x.r.recursive);
    CHECK(x.r.wait_index == 33);
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?noValueOnSuccess=true", NULL, NULL, "/1/x");
    CHECK(x.r.no_value_on_success);
    done(&x);
}

/* GET ?quorum=true is a QGET, even with wait=true (§1.3: quorum wins). */
static void test_quorum(void)
{
    struct res x;

    expect_ok(&x, "GET", "/v2/keys/x?quorum=true", NULL, NULL, "/1/x");
    CHECK(x.r.method == CC_V2_QGET && x.r.quorum);
    done(&x);
    expect_ok(&x, "GET", "/v2/keys/x?quorum=true&wait=true", NULL, NULL, "/1/x");
    CHECK(x.r.method == CC_V2_QGET && x.r.wait);
    done(&x);
    expect_ok(&x, "GET", "/v2/keys/x?quorum=false", NULL, NULL, "/1/x");
    CHECK(x.r.method == CC_V2_GET);
    done(&x);
    expect_ok(&x, "HEAD", "/v2/keys/x?quorum=true", NULL, NULL, "/1/x"); /* etcd: local */
    CHECK(x.r.method == CC_V2_HEAD);
    done(&x);
    expect_ok(&x, "PUT", "/v2/keys/x?quorum=true", NULL, NULL, "/1/x");
    CHECK(x.r.method == CC_V2_PUT && x.r.quorum);
    done(&x);
}

static void test_split_target(void)
{
    struct cc_v2_http_in in;

    cc_v2_split_target("/a?b?c", 6, &in);
    CHECK(in.path_len == 2 && memcmp(in.path, "/a", 2) == 0);
    CHECK(in.query != NULL && in.query_len == 3 && memcmp(in.query, "b?c", 3) == 0);
    cc_v2_split_target("/a", 2, &in);
    CHECK(in.path_len == 2 && in.query == NULL && in.query_len == 0);
    cc_v2_split_target("/a?", 3, &in);
    CHECK(in.path_len == 2 && in.query != NULL && in.query_len == 0);
}

/* The building blocks against Go's own answers. */
static void test_urlcodec(void)
{
    static const char *const clean[][2] = {
        {"", "."},           {"/", "/"},
        {"//", "/"},         {"/a/../..", "/"},
        {"a/../..", ".."},   {"a/./b", "a/b"},
        {"/a/b/", "/a/b"},   {"../a", "../a"},
        {"/../a", "/a"},     {"a/..", "."},
        {"./", "."},         {"/a//b/./c/..", "/a/b"},
        {"..//..", "../.."}, {"/.a/..b", "/.a/..b"},
    };
    static const char *const clean_path[][2] = {
        {"", "/"},    {"a", "/a"}, {"/a/", "/a/"},      {"/a/.", "/a"},
        {"/..", "/"}, {"//", "/"}, {"/a/b/../", "/a/"},
    };
    struct cc_buf b;
    bool v;
    uint64_t u;

    cc_buf_init(&b);
    for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
        cc_buf_reset(&b);
        cc_v2_path_clean(&b, clean[i][0], strlen(clean[i][0]));
        cc_put_u8(&b, 0);
        CHECK_STR((char *)b.data, clean[i][1]);
    }
    for (size_t i = 0; i < sizeof clean_path / sizeof clean_path[0]; i++) {
        cc_buf_reset(&b);
        cc_v2_clean_path(&b, clean_path[i][0], strlen(clean_path[i][0]));
        cc_put_u8(&b, 0);
        CHECK_STR((char *)b.data, clean_path[i][1]);
    }
    cc_buf_reset(&b);
    {
        static const char raw[] = "/a b?#%\xff~-_.$&+,:;=@!*'()";

        cc_v2_escape_path(&b, raw, sizeof raw - 1);
    }
    cc_put_u8(&b, 0);
    CHECK_STR((char *)b.data, "/a%20b%3F%23%25%FF~-_.$&+,:;=@%21%2A%27%28%29");
    cc_buf_free(&b);
    CHECK(cc_v2_parse_bool("True", 4, &v) == 0 && v);
    CHECK(cc_v2_parse_bool("tRUE", 4, &v) < 0);
    CHECK(cc_v2_parse_uint("18446744073709551615", 20, &u) == 0 && u == UINT64_MAX);
    CHECK(cc_v2_parse_uint("18446744073709551616", 20, &u) < 0);
    CHECK(cc_v2_parse_uint("99999999999999999999", 20, &u) < 0);
}

int main(void)
{
    RUN(test_root_and_key_paths);
    RUN(test_bad_request);
    RUN(test_nul_key_refused);
    RUN(test_not_found);
    RUN(test_method_not_allowed);
    RUN(test_redirects);
    RUN(test_param_errors);
    RUN(test_check_order);
    RUN(test_repeated_first_wins);
    RUN(test_body_beats_query);
    RUN(test_body_ignored);
    RUN(test_form_content_types);
    RUN(test_form_content_type_errors);
    RUN(test_form_errors);
    RUN(test_form_too_large);
    RUN(test_bools);
    RUN(test_uints);
    RUN(test_ttl);
    RUN(test_fields_and_methods);
    RUN(test_quorum);
    RUN(test_split_target);
    RUN(test_urlcodec);
    return unit_report();
}
