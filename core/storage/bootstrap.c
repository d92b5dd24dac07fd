#include "core/storage/bootstrap.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/v2/request_codec.h"
#include "core/version.h"

static int put_entry(struct cc_buf *out, uint64_t index, const char *path, const char *value)
{
    struct cc_v2_request r = {.method = CC_V2_PUT,
                              .path = (char *)path,
                              .value = {(char *)value, strlen(value)},
                              .prev_exist = -1};
    struct cc_buf req;
    cc_buf_init(&req);
    int rc = cc_v2_request_encode(&req, &r);
    if (rc == 0 && !req.failed) {
        struct cc_entry e = {.index = index,
                             .term = CC_BOOTSTRAP_TERM,
                             .type = 0,
                             .data = {req.data, (uint32_t)req.len}};
        cc_msg_entry_put(out, &e);
    }
    rc = rc == 0 && !req.failed && !out->failed ? 0 : -1;
    cc_buf_free(&req);
    return rc;
}

int cc_bootstrap_entries(const struct cc_cluster_def *id, struct cc_buf *out, uint32_t *count)
{
    char path[128], value[4096], urls[3500];
    uint64_t index = 0;
    for (size_t i = 0; i < id->n; i++) {
        const struct cc_member_def *m = &id->members[i];
        snprintf(path, sizeof(path), "/0/members/%" PRIx64 "/raftAttributes", m->id);
        cc_url_list_json(urls, sizeof(urls), &m->peer_urls);
        snprintf(value, sizeof(value), "{\"peerURLs\":%s}", urls);
        if (put_entry(out, ++index, path, value) != 0)
            return -1;
    }
    if (put_entry(out, ++index, "/0/version", CC_ETCD_CLUSTER_VERSION) != 0)
        return -1;
    *count = (uint32_t)index;
    return 0;
}
