/* struct cc_v2_request as bytes, for raft log entries: what the consensus
 * worker replicates and the storage worker applies. Every member must read
 * an entry the same way for ever, so the layout is fixed, little-endian and
 * versioned, and the encoding is canonical: decode accepts exactly the bytes
 * encode produces, nothing else (encode(decode(x)) == x for every x decode
 * accepts).
 *
 * Layout, version 1 (integers little-endian, BYTES = u32 length + bytes):
 *
 *   u8    version        CC_V2_REQUEST_VERSION (anything else is refused)
 *   u8    method         enum cc_v2_method, 1..7
 *   u8    flags          bit 0 dir, 1 recursive, 2 sorted, 3 quorum, 4 wait,
 *                        5 stream, 6 refresh, 7 no_value_on_success
 *   u8    prev_exist     0 absent, 1 false, 2 true (others refused)
 *   u64   prev_index
 *   u64   expiration_ns  two's complement
 *   u64   wait_index
 *   u64   time_ns        two's complement
 *   BYTES path           no NUL byte (it is a C string once decoded)
 *   BYTES value          any bytes
 *   BYTES prev_value     any bytes
 *
 * and nothing after: trailing bytes are refused. A new field means a new
 * version number; a decoder keeps reading the old ones. */
#ifndef CC_CORE_V2_REQUEST_CODEC_H
#define CC_CORE_V2_REQUEST_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/v2/types.h"
#include "proto/wire.h"

#define CC_V2_REQUEST_VERSION 1
/* The fixed part: the four bytes, the four u64 and the three lengths. */
#define CC_V2_REQUEST_FIXED (4 + 4 * 8 + 3 * 4)

/* Appends r to out. 0, or -1 with errno EINVAL (a field the layout cannot
 * carry: unknown method, prev_exist outside -1..1, NULL path, a NUL in the
 * path, a string of 4 GiB or more; nothing is appended) or ENOMEM (out
 * failed). */
int cc_v2_request_encode(struct cc_buf *out, const struct cc_v2_request *r);

/* Reads p[0..n) into *out, whose strings are fresh allocations (each
 * NUL-terminated and non-NULL, also when empty): release them with
 * cc_v2_request_free. 0, or -1 with errno EINVAL (malformed: short, long,
 * bad version, method, flags or prev_exist, NUL in the path) or ENOMEM;
 * on failure *out holds nothing to free. Never reads outside p[0..n). */
int cc_v2_request_decode(const uint8_t *p, size_t n, struct cc_v2_request *out);

/* An empty request: every field zero, prev_exist -1, strings NULL. */
void cc_v2_request_init(struct cc_v2_request *r);

/* Frees r's strings (any may be NULL) and leaves r as cc_v2_request_init
 * does. */
void cc_v2_request_free(struct cc_v2_request *r);

#endif
