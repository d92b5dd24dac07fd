#include "core/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "core/log.h"

/* Big enough for 16 members with several long URLs each. */
#define IDENTITY_MAX_BYTES (256 * 1024)

static void identity_path(const struct cc_config *cfg, char *out, size_t len, const char *suffix)
{
    snprintf(out, len, "%s/member/identity.json%s", cfg->data_dir, suffix);
}

bool cc_identity_exists(const struct cc_config *cfg)
{
    char path[4200];
    struct stat st;
    identity_path(cfg, path, sizeof(path), "");
    return stat(path, &st) == 0;
}

static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_hex(yajl_gen g, const char *key, uint64_t v)
{
    char hex[17];
    snprintf(hex, sizeof(hex), "%" PRIx64, v);
    gen_str(g, key);
    gen_str(g, hex);
}

/* {"cluster_id":"<hex>","member_id":"<hex>","members":[{"id":"<hex>",
 * "name":"...","peerURLs":["..."]}]}: ids in hex as etcd prints them. */
static int render(const struct cc_cluster_def *c, char **out, size_t *len)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (g == NULL)
        return -1;
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_map_open(g);
    gen_hex(g, "cluster_id", c->cluster_id);
    gen_hex(g, "member_id", c->self_id);
    gen_str(g, "members");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < c->n; i++) {
        const struct cc_member_def *m = &c->members[i];
        yajl_gen_map_open(g);
        gen_hex(g, "id", m->id);
        gen_str(g, "name");
        gen_str(g, m->name);
        gen_str(g, "peerURLs");
        yajl_gen_array_open(g);
        for (size_t k = 0; k < m->peer_urls.n; k++)
            gen_str(g, m->peer_urls.v[k].text);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t n;
    int rc = -1;
    if (yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok && (*out = malloc(n)) != NULL) {
        memcpy(*out, buf, n);
        *len = n;
        rc = 0;
    }
    yajl_gen_free(g);
    return rc;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* Write to a temporary file, fsync, rename over, fsync the directory: a
 * crash leaves either no identity or the whole one, never half. */
static int write_identity(const struct cc_config *cfg, const struct cc_cluster_def *c, char *err,
                          size_t errlen)
{
    char dir[4200], tmp[4200], path[4200];
    snprintf(dir, sizeof(dir), "%s/member", cfg->data_dir);
    identity_path(cfg, tmp, sizeof(tmp), ".tmp");
    identity_path(cfg, path, sizeof(path), "");
    if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data dir %s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    if (render(c, &text, &len) != 0) {
        snprintf(err, errlen, "out of memory writing the member identity");
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += w > 0 ? (size_t)w : 0;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    ok = ok && rename(tmp, path) == 0 && fsync_dir(dir) == 0;
    free(text);
    if (!ok) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static bool parse_hex(yajl_val v, uint64_t *out)
{
    const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
    char *end;
    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 16);
    if (errno != 0 || *end != '\0')
        return false;
    *out = x;
    return true;
}

static int parse_member(yajl_val m, struct cc_member_def *out, char *err, size_t errlen)
{
    const char *id_path[] = {"id", NULL}, *name_path[] = {"name", NULL},
               *urls_path[] = {"peerURLs", NULL};
    yajl_val name = yajl_tree_get(m, name_path, yajl_t_string);
    yajl_val urls = yajl_tree_get(m, urls_path, yajl_t_array);
    if (!parse_hex(yajl_tree_get(m, id_path, yajl_t_string), &out->id) || name == NULL ||
        urls == NULL || YAJL_GET_ARRAY(urls)->len == 0) {
        snprintf(err, errlen, "a member entry lacks id, name or peerURLs");
        return -1;
    }
    const char *name_text = YAJL_GET_STRING(name);
    out->name_owned = strdup(name_text ? name_text : "");
    out->name = out->name_owned;
    size_t n = YAJL_GET_ARRAY(urls)->len;
    out->peer_urls.v = calloc(n, sizeof(*out->peer_urls.v));
    if (out->name_owned == NULL || out->peer_urls.v == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        yajl_val u = YAJL_GET_ARRAY(urls)->values[k];
        if (!YAJL_IS_STRING(u) ||
            cc_url_parse(YAJL_GET_STRING(u), &out->peer_urls.v[k], err, errlen) != 0) {
            if (!YAJL_IS_STRING(u))
                snprintf(err, errlen, "a peer URL is not a string");
            return -1;
        }
        out->peer_urls.n++;
    }
    return 0;
}

static int parse_identity(const char *text, struct cc_cluster_def *out, char *err, size_t errlen)
{
    const char *cid[] = {"cluster_id", NULL}, *mid[] = {"member_id", NULL},
               *members[] = {"members", NULL};
    char perr[256];
    yajl_val root = yajl_tree_parse(text, perr, sizeof(perr));
    if (root == NULL) {
        snprintf(err, errlen, "not JSON: %s", perr);
        return -1;
    }
    int rc = -1;
    yajl_val list = yajl_tree_get(root, members, yajl_t_array);
    if (!parse_hex(yajl_tree_get(root, cid, yajl_t_string), &out->cluster_id) ||
        !parse_hex(yajl_tree_get(root, mid, yajl_t_string), &out->self_id) || list == NULL ||
        YAJL_GET_ARRAY(list)->len == 0 || YAJL_GET_ARRAY(list)->len > CC_MAX_MEMBERS) {
        snprintf(err, errlen, "cluster_id, member_id or members missing or malformed");
        goto out;
    }
    bool self_found = false;
    for (size_t i = 0; i < YAJL_GET_ARRAY(list)->len; i++) {
        struct cc_member_def *m = &out->members[out->n++];
        if (parse_member(YAJL_GET_ARRAY(list)->values[i], m, err, errlen) != 0)
            goto out;
        self_found = self_found || m->id == out->self_id;
    }
    if (!self_found) {
        snprintf(err, errlen, "member_id %" PRIx64 " is not among the members", out->self_id);
        goto out;
    }
    rc = 0;
out:
    yajl_tree_free(root);
    return rc;
}

int cc_identity_load(const struct cc_config *cfg, struct cc_cluster_def *out, char *err,
                     size_t errlen)
{
    char path[4200], why[512] = "";
    identity_path(cfg, path, sizeof(path), "");
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(IDENTITY_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, IDENTITY_MAX_BYTES + 1, f) : 0;
    fclose(f);
    int rc = -1;
    if (text == NULL)
        snprintf(why, sizeof(why), "out of memory");
    else if (n > IDENTITY_MAX_BYTES)
        snprintf(why, sizeof(why), "larger than %d bytes", IDENTITY_MAX_BYTES);
    else {
        text[n] = '\0';
        rc = parse_identity(text, out, why, sizeof(why));
    }
    free(text);
    if (rc != 0) {
        snprintf(err, errlen, "%s is damaged (%s); restore the data dir from a backup", path, why);
        cc_cluster_def_free(out);
    }
    return rc;
}

int cc_identity_open(const struct cc_config *cfg, struct cc_cluster_def *out, bool *created,
                     char *err, size_t errlen)
{
    if (cc_identity_exists(cfg)) {
        *created = false;
        if (cc_identity_load(cfg, out, err, errlen) != 0)
            return -1;
        if (cfg->n_initial > 0)
            cc_info("data dir %s already initialised: member %" PRIx64 " of cluster %" PRIx64
                    "; ignoring --initial-cluster, --initial-cluster-state and "
                    "--initial-cluster-token",
                    cfg->data_dir, out->self_id, out->cluster_id);
        return 0;
    }
    *created = true;
    if (cc_cluster_from_config(cfg, out, err, errlen) != 0)
        return -1;
    if (out->self_id == 0) {
        snprintf(err, errlen,
                 "couldn't find local name \"%s\" in the initial cluster configuration", cfg->name);
        cc_cluster_def_free(out);
        return -1;
    }
    if (write_identity(cfg, out, err, errlen) != 0) {
        cc_cluster_def_free(out);
        return -1;
    }
    return 0;
}
