/* etcd URL lists: the values of --listen-peer-urls, --advertise-client-urls,
 * --initial-cluster entries and the peerURLs of /v2/members.
 *
 * The rules are etcd 2's types.NewURLs: a comma-separated list, each element
 * trimmed of white space, scheme http or https, an authority of the form
 * host:port, and no path. Concord is stricter than Go's url.Parse where Go
 * would accept something that cannot be listened on or advertised: the port
 * must be a number in 0..65535, a bracketed host must be an IPv6 literal, and
 * user information, a query or a fragment are refused instead of being
 * silently dropped.
 *
 * Host names (`localhost`, `node1.example`) are kept as written; resolving
 * them is the business of whoever binds or connects. */
#ifndef CC_CORE_URLS_H
#define CC_CORE_URLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cc_url {
    char scheme[8]; /* "http" or "https" (lower case, whatever the input's case) */
    char host[256]; /* without [] for IPv6; "" means every interface (`http://:2379`) */
    uint16_t port;  /* 0..65535 */
    char text[320]; /* normalised "scheme://host:port", IPv6 host in [] */
};

/* A heap array; an empty list has n == 0 and v == NULL. */
struct cc_url_list {
    size_t n;
    struct cc_url *v;
};

/* Parses one URL (surrounding white space ignored). Returns 0, or -1 with one
 * line in err naming the offending input, in etcd's words where etcd has
 * words:
 *   URL scheme must be http or https: X
 *   URL address does not have the form "host:port": X
 *   URL must not contain a path: X
 * and, where etcd would accept something unusable:
 *   URL port must be a number from 0 to 65535: X
 *   URL host is not valid: X
 *   URL must not contain user information, a query or a fragment: X
 * out is untouched on failure. err may be NULL. */
int cc_url_parse(const char *s, struct cc_url *out, char *err, size_t errlen);

/* The same for the len bytes at s (need not be NUL-terminated): one element
 * of a list, without copying it out. */
int cc_url_parse_n(const char *s, size_t len, struct cc_url *out, char *err, size_t errlen);

/* Recomputes u->text from scheme, host and port (after changing one of
 * them). With an empty scheme the text is just "host:port". */
void cc_url_format(struct cc_url *u);

/* Parses a comma-separated list. As etcd does, the result is sorted by text
 * (so /v2/members and the bootstrap comparisons do not depend on the order
 * the operator wrote), and duplicates are kept. An empty or blank list is an
 * error ("no valid URLs given"). On success *out owns a new array (free it
 * with cc_url_list_free); on failure *out is left empty (n 0, v NULL), so
 * freeing it is harmless either way. */
int cc_url_list_parse(const char *csv, struct cc_url_list *out, char *err, size_t errlen);

/* Frees the array and leaves the list empty; NULL and empty lists are fine. */
void cc_url_list_free(struct cc_url_list *l);

/* Deep copy; returns 0, or -1 when out of memory (dst then empty). */
int cc_url_list_copy(struct cc_url_list *dst, const struct cc_url_list *src);

/* True if every URL text of a is in b and every one of b is in a
 * (duplicates do not count). Texts are compared as written: `localhost` is
 * not 127.0.0.1 here. */
bool cc_url_list_equal_as_sets(const struct cc_url_list *a, const struct cc_url_list *b);

/* Like cc_url_list_equal_as_sets, but first maps every host to the address
 * it resolves to (the first IPv4 address if it has one, as Go's
 * net.ResolveTCPAddr does), the comparison etcd makes between
 * --initial-advertise-peer-urls and this member's --initial-cluster entry.
 * It may block on DNS; a host that does not resolve compares as written. */
bool cc_url_list_equal_resolved(const struct cc_url_list *a, const struct cc_url_list *b);

/* The texts joined by ",", in list order, as a new heap string (NULL when out
 * of memory). Used for messages and for the "name=url,..." forms. */
char *cc_url_list_join(const struct cc_url_list *l);

/* The list as a JSON array of strings into out ("[\"http://a:1\",...]"),
 * cut at len; for the /0/members records. */
void cc_url_list_json(char *out, size_t len, const struct cc_url_list *l);

#endif
