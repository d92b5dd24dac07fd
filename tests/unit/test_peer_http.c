/* core/peer/peer_http: the peer port's HTTP answers, byte for byte
 * (V2-CONTRACT §2.6), and what counts as a malformed request. */
#include "core/peer/peer_http.h"
#include "core/version.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static struct cc_cluster_def cluster;
static struct cc_url_list client_urls;

static void setup(void)
{
    char err[256];
    memset(&cluster, 0, sizeof cluster);
    cluster.cluster_id = 0xcdf818194e3a8c32ull;
    cluster.self_id = 0x8e9e05c52164694dull;
    cluster.n = 2;
    /* sorted by id; one id beyond 2^63 to see the unsigned decimal */
    cluster.members[0].id = 0x8e9e05c52164694dull;
    cluster.members[0].name = "n1";
    cluster.members[1].id = 0xfe00000000000001ull;
    cluster.members[1].name = "n\"2";
    CHECK(cc_url_list_parse("http://127.0.0.1:2380,http://10.0.0.1:7001",
                            &cluster.members[0].peer_urls, err, sizeof err) == 0);
    CHECK(cc_url_list_parse("http://127.0.0.2:2380", &cluster.members[1].peer_urls, err,
                            sizeof err) == 0);
    CHECK(cc_url_list_parse("http://127.0.0.1:2379", &client_urls, err, sizeof err) == 0);
}

static void teardown(void)
{
    cc_cluster_def_free(&cluster);
    cc_url_list_free(&client_urls);
}

/* The response to head, NUL-terminated in a static buffer. */
static const char *ask(const char *head, int *code, char *why, size_t whylen)
{
    static char text[4096];
    struct cc_peer_http_ctx ctx = {&cluster, &client_urls};
    struct cc_buf out;
    cc_buf_init(&out);
    *code = cc_peer_http_respond(&ctx, head, strlen(head), &out, why, whylen);
    CHECK(!out.failed && out.len < sizeof text);
    memcpy(text, out.data, out.len);
    text[out.len] = '\0';
    cc_buf_free(&out);
    return text;
}

static void test_version(void)
{
    int code;
    char why[128];
    const char *r = ask("GET /version HTTP/1.1\r\nHost: x\r\n\r\n", &code, why, sizeof why);
    CHECK(code == 200);
    CHECK_STR(r, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 44\r\n"
                 "Connection: close\r\n\r\n" CC_VERSION_JSON);
    r = ask("GET /version?x=1 HTTP/1.0\r\n\r\n", &code, why, sizeof why);
    CHECK(code == 200);
    r = ask("POST /version HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &code, why, sizeof why);
    CHECK(code == 405);
    CHECK_STR(r, "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Allow: GET\r\nContent-Length: 19\r\nConnection: close\r\n\r\n"
                 "Method Not Allowed\n");
}

static void test_members(void)
{
    int code;
    char why[128];
    const char *r = ask("GET /members HTTP/1.1\r\n\r\n", &code, why, sizeof why);
    const char *body =
        "[{\"id\":10276657743932975437,\"peerURLs\":[\"http://10.0.0.1:7001\","
        "\"http://127.0.0.1:2380\"],\"name\":\"n1\",\"clientURLs\":[\"http://127.0.0.1:2379\"]},"
        "{\"id\":18302628885633695745,\"peerURLs\":[\"http://127.0.0.2:2380\"],"
        "\"name\":\"n\\\"2\",\"clientURLs\":[]}]\n";
    char want[2048];
    snprintf(want, sizeof want,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "X-Etcd-Cluster-Id: cdf818194e3a8c32\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             strlen(body), body);
    CHECK(code == 200);
    CHECK_STR(r, want);

    r = ask("GET /members/abc HTTP/1.1\r\n\r\n", &code, why, sizeof why);
    CHECK(code == 400);
    CHECK_STR(r, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "X-Etcd-Cluster-Id: cdf818194e3a8c32\r\nContent-Length: 9\r\n"
                 "Connection: close\r\n\r\nbad path\n");
    CHECK(why[0] == '\0'); /* not malformed: nothing to log */
    r = ask("GET /members/ HTTP/1.1\r\n\r\n", &code, why, sizeof why);
    CHECK(code == 400);
    r = ask("DELETE /members HTTP/1.1\r\n\r\n", &code, why, sizeof why);
    CHECK(code == 405 && strstr(r, "X-Etcd-Cluster-Id") == NULL);
    r = ask("PUT /members/1 HTTP/1.1\r\n\r\n", &code, why, sizeof why);
    CHECK(code == 405);
}

static void test_not_found(void)
{
    int code;
    char why[128];
    const char *paths[] = {"/", "/membersx", "/version/", "/raft", "/v2/keys"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char head[128];
        snprintf(head, sizeof head, "GET %s HTTP/1.1\r\n\r\n", paths[i]);
        const char *r = ask(head, &code, why, sizeof why);
        CHECK(code == 404);
        CHECK_STR(r, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: 19\r\nConnection: close\r\n\r\n404 page not found\n");
    }
    ask("POST /nowhere HTTP/1.1\r\n\r\n", &code, why, sizeof why);
    CHECK(code == 404);
}

static void test_malformed(void)
{
    int code;
    char why[128];
    const char *bad[] = {
        "\r\n\r\n",
        "GET\r\n\r\n",
        "GET /version\r\n\r\n",
        "GET  /version HTTP/1.1\r\n\r\n",
        "GET /version HTTP/2.0\r\n\r\n",
        "GET /version HTTP/1.1 x\r\n\r\n",
        "G(T /version HTTP/1.1\r\n\r\n",
        "GET version HTTP/1.1\r\n\r\n",
        "GET /version HTTP/1.1\r\nno colon\r\n\r\n",
        "GET /version HTTP/1.1\r\n: empty name\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *r = ask(bad[i], &code, why, sizeof why);
        if (code != 400)
            fprintf(stderr, "not refused: %s", bad[i]);
        CHECK(code == 400);
        CHECK(why[0] != '\0');
        CHECK(strstr(r, "\r\n\r\n400 Bad Request") != NULL);
    }
}

static void test_plausible(void)
{
    char why[128];
    CHECK(cc_peer_http_plausible("G", 1, why, sizeof why));
    const char *ok = "GET /members HTTP/1.1\r\nHost: a\r\n";
    CHECK(cc_peer_http_plausible(ok, strlen(ok), why, sizeof why));
    CHECK(!cc_peer_http_plausible("\x00\x01garbage", 9, why, sizeof why));
    CHECK(!cc_peer_http_plausible(" GET", 4, why, sizeof why));
    CHECK(!cc_peer_http_plausible("GET /\x01", 6, why, sizeof why));
    CHECK(strstr(why, "control byte 0x01") != NULL);
    CHECK(
        !cc_peer_http_plausible("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 42, why, sizeof why));

    struct cc_buf out;
    cc_buf_init(&out);
    cc_peer_http_too_large(&out);
    CHECK(out.len > 12 && memcmp(out.data, "HTTP/1.1 431 ", 13) == 0);
    cc_buf_free(&out);
}

int main(void)
{
    setup();
    RUN(test_version);
    RUN(test_members);
    RUN(test_not_found);
    RUN(test_malformed);
    RUN(test_plausible);
    teardown();
    return unit_report();
}
