/* The pieces of Go's net/url, net/http, mime, path and strconv that decide
 * how etcd reads a /v2/keys request, reproduced byte for byte (etcd 3.4.23
 * is built with Go 1.19; 2.3.8 with Go 1.6: where they differ, 1.19 wins so
 * that the differential tests against the installed etcd hold, see
 * params.h). Pure functions over caller bytes; output goes into a cc_buf,
 * whose sticky failed flag reports allocation failure.
 *
 *   unescape      url.unescape: "%XX" decoded (either hex case), a '%' not
 *                 followed by two hex digits is an error naming up to three
 *                 bytes from the '%'; in a query, '+' is a space; in a path,
 *                 '+' stays.
 *   escape_path   url.escape(s, encodePath), as URL.String() writes a Path:
 *                 everything but A-Z a-z 0-9 - _ . ~ $ & + , / : ; = @ is
 *                 written %XX in upper case.
 *   form          url.ParseQuery: "&"-separated pairs, a pair without "=" is a
 *                 key with an empty value, empty pairs skipped, a pair holding
 *                 a raw ';' is dropped with the error "invalid semicolon
 *                 separator in query" (that error replaces any earlier one; an
 *                 escape error is kept only if it is the first error), a pair
 *                 whose key or value fails to unescape is dropped. Values keep
 *                 their order, so "the first value wins" is a front-to-back
 *                 search.
 *   media type    mime.ParseMediaType as http.Request.ParseForm uses it, only
 *                 to learn "is this a form" and its error text.
 *   clean         path.Clean, and http's cleanPath (which keeps one trailing
 *                 slash).
 *   quote         strconv.Quote, for the text of escape errors. */
#ifndef CC_CORE_V2_URLCODEC_H
#define CC_CORE_V2_URLCODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/v2/types.h"
#include "proto/wire.h"

/* Appends the decoding of s[0..n) to out. plus_is_space: query mode. 0 on
 * success; -1 on a bad escape, with *bad and *bad_len (when non-NULL) naming the
 * offending bytes (the '%' and at most two after it); out is then left with
 * a partial decoding the caller should discard. */
int cc_v2_unescape(struct cc_buf *out, const char *s, size_t n, bool plus_is_space,
                   const char **bad, size_t *bad_len);

/* Appends s[0..n) escaped as Go escapes a URL path. */
void cc_v2_escape_path(struct cc_buf *out, const char *s, size_t n);

/* Appends strconv.Quote(s): double quotes, \" and \\, \a \b \f \n \r \t \v,
 * \xNN for other ASCII controls, for 0x7f and for each byte of invalid UTF-8,
 * \uNNNN for runes Go does not count as printable. The printability table
 * covers U+0000..U+07FF exactly as Go 1.19 (Unicode 13) has it; runes from
 * U+0800 up are written as they are. Its one use, the text of an escape error,
 * quotes at most three bytes, so never more than a two-byte rune. */
void cc_v2_go_quote(struct cc_buf *out, const char *s, size_t n);

/* Decoded key/value pairs in the order they were read. Offsets into arena
 * (the pairs' bytes, each NUL-terminated for convenience). */
struct cc_v2_form_field {
    size_t key_off, key_len, val_off, val_len;
};

struct cc_v2_form {
    struct cc_v2_form_field *f;
    size_t n, cap;
    struct cc_buf arena;
};

void cc_v2_form_init(struct cc_v2_form *form);
void cc_v2_form_free(struct cc_v2_form *form);

/* Appends the pairs of s[0..n) (url.ParseQuery). 0: all read; 1: a pair was
 * bad, err (errlen > 0) holds Go's message, the good pairs are kept and an
 * earlier message in err is replaced as Go replaces it (pass err empty
 * before the first call); -1: out of memory (errno ENOMEM). */
int cc_v2_form_parse(struct cc_v2_form *form, const char *s, size_t n, char *err, size_t errlen);

/* Sets *value to the first value of key and returns true; false when key
 * is absent. The view is valid until the form changes. */
bool cc_v2_form_get(const struct cc_v2_form *form, const char *key, struct cc_v2_str *value);

/* mime.ParseMediaType(ct) for a Content-Type header value, as
 * http.Request.ParseForm uses it: returns 1 if Go goes on to read the body
 * as a form (the media type is application/x-www-form-urlencoded, any case,
 * any parameters), else 0. *err is NULL, or Go's error text when the value
 * does not parse; Go 1.19 still reads the form when that error is "mime:
 * invalid media parameter" (which only matters for "http: POST too large"). */
int cc_v2_media_type_is_form(const char *ct, size_t n, const char **err);

/* path.Clean(s[0..n)) appended to out (a rooted path stays rooted, "" is
 * "."). */
void cc_v2_path_clean(struct cc_buf *out, const char *s, size_t n);

/* net/http's cleanPath: "" is "/", a leading '/' is added, then path.Clean,
 * then a trailing '/' the input had is put back (except on "/"). */
void cc_v2_clean_path(struct cc_buf *out, const char *s, size_t n);

/* utf8.DecodeRune: the rune at s[0..n) (n > 0) and its width; invalid
 * UTF-8 (overlong, surrogate, above U+10FFFF, truncated, stray byte) gives
 * U+FFFD with width 1, as Go does. */
size_t cc_v2_utf8_decode(const unsigned char *s, size_t n, uint32_t *rune);

/* strconv.ParseBool: 0 with *v set, or -1. */
int cc_v2_parse_bool(const char *s, size_t n, bool *v);

/* strconv.ParseUint(s, 10, 64): decimal digits only, no sign, no spaces,
 * no underscores, at most 2^64-1. 0 with *v set, or -1. */
int cc_v2_parse_uint(const char *s, size_t n, uint64_t *v);

#endif
