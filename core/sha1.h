/* SHA-1, for etcd's member and cluster ids (they are SHA-1 based; matching
 * them lets ids agree with what etcd would compute). Not for security. */
#ifndef CC_CORE_SHA1_H
#define CC_CORE_SHA1_H

#include <stddef.h>
#include <stdint.h>

struct cc_sha1 {
    uint32_t h[5];
    uint64_t len;
    uint8_t buf[64];
    size_t nbuf;
};

void cc_sha1_init(struct cc_sha1 *s);
void cc_sha1_update(struct cc_sha1 *s, const void *data, size_t n);
void cc_sha1_final(struct cc_sha1 *s, uint8_t out[20]);

#endif
