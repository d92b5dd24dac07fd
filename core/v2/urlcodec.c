/* Go's URL, form, media-type and path rules as etcd's HTTP layer applies
 * them; see urlcodec.h. Each function names the Go function it mirrors. */
#include "core/v2/urlcodec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char upper_hex[] = "0123456789ABCDEF";
static const char lower_hex[] = "0123456789abcdef";

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

size_t cc_v2_utf8_decode(const unsigned char *s, size_t n, uint32_t *rune)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    uint32_t r;

    if (c < 0x80) {
        *rune = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
        r = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        r = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        r = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        goto invalid;
    }
    if (n < need || s[1] < lo || s[1] > hi)
        goto invalid;
    r = (r << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i < need; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            goto invalid;
        r = (r << 6) | (s[i] & 0x3F);
    }
    *rune = r;
    return need;
invalid:
    *rune = 0xFFFD;
    return 1;
}

int cc_v2_unescape(struct cc_buf *out, const char *s, size_t n, bool plus_is_space,
                   const char **bad, size_t *bad_len)
{
    const unsigned char *u = (const unsigned char *)s;

    /* Go checks the whole string before writing anything. */
    for (size_t i = 0; i < n;) {
        if (u[i] != '%') {
            i++;
            continue;
        }
        if (i + 2 >= n || !is_hex(u[i + 1]) || !is_hex(u[i + 2])) {
            if (bad != NULL)
                *bad = s + i;
            if (bad_len != NULL)
                *bad_len = n - i > 3 ? 3 : n - i;
            return -1;
        }
        i += 3;
    }
    if (cc_buf_reserve(out, n) < 0)
        return 0; /* out->failed tells */
    for (size_t i = 0; i < n; i++) {
        uint8_t c = u[i];

        if (c == '%') {
            c = (uint8_t)(hex_val(u[i + 1]) << 4 | hex_val(u[i + 2]));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out->data[out->len++] = c;
    }
    return 0;
}

/* url.shouldEscape(c, encodePath). */
static bool path_should_escape(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return false;
    switch (c) {
    case '-':
    case '_':
    case '.':
    case '~':
    case '$':
    case '&':
    case '+':
    case ',':
    case '/':
    case ':':
    case ';':
    case '=':
    case '@':
        return false;
    default:
        return true; /* '?' and everything else */
    }
}

void cc_v2_escape_path(struct cc_buf *out, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < n; i++) {
        if (path_should_escape(u[i])) {
            char e[3] = {'%', upper_hex[u[i] >> 4], upper_hex[u[i] & 15]};

            cc_put_raw(out, e, 3);
        } else {
            cc_put_u8(out, u[i]);
        }
    }
}

/* Runes of U+0080..U+07FF that Go 1.19's strconv.IsPrint rejects (Unicode 13:
 * C1 controls, NBSP, soft hyphen, format characters and unassigned points).
 * Read off etcd 3.4.23 itself, one escape error per rune. */
static const uint16_t not_print_2byte[][2] = {
    {0x0080, 0x00a0}, {0x00ad, 0x00ad}, {0x0378, 0x0379}, {0x0380, 0x0383}, {0x038b, 0x038b},
    {0x038d, 0x038d}, {0x03a2, 0x03a2}, {0x0530, 0x0530}, {0x0557, 0x0558}, {0x058b, 0x058c},
    {0x0590, 0x0590}, {0x05c8, 0x05cf}, {0x05eb, 0x05ee}, {0x05f5, 0x0605}, {0x061c, 0x061d},
    {0x06dd, 0x06dd}, {0x070e, 0x070f}, {0x074b, 0x074c}, {0x07b2, 0x07bf}, {0x07fb, 0x07fc},
};

static bool go_is_print(uint32_t r)
{
    if (r < 0x80)
        return r >= 0x20 && r < 0x7f;
    if (r < 0x800) {
        for (size_t i = 0; i < sizeof not_print_2byte / sizeof not_print_2byte[0]; i++)
            if (r >= not_print_2byte[i][0] && r <= not_print_2byte[i][1])
                return false;
        return true;
    }
    return true; /* see urlcodec.h */
}

void cc_v2_go_quote(struct cc_buf *out, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    cc_put_u8(out, '"');
    for (size_t i = 0, w; i < n; i += w) {
        uint32_t r;
        char e[6];

        w = cc_v2_utf8_decode(u + i, n - i, &r);
        if (w == 1 && r == 0xFFFD) {
            e[0] = '\\', e[1] = 'x', e[2] = lower_hex[u[i] >> 4], e[3] = lower_hex[u[i] & 15];
            cc_put_raw(out, e, 4);
            continue;
        }
        if (r == '"' || r == '\\') {
            e[0] = '\\', e[1] = (char)r;
            cc_put_raw(out, e, 2);
            continue;
        }
        if (go_is_print(r)) {
            cc_put_raw(out, u + i, w);
            continue;
        }
        e[0] = '\\';
        switch (r) {
        case '\a':
            e[1] = 'a';
            break;
        case '\b':
            e[1] = 'b';
            break;
        case '\f':
            e[1] = 'f';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        case '\v':
            e[1] = 'v';
            break;
        default:
            if (r < ' ' || r == 0x7f) {
                e[1] = 'x', e[2] = lower_hex[r >> 4], e[3] = lower_hex[r & 15];
                cc_put_raw(out, e, 4);
            } else { /* below U+0800 here: four hex digits */
                e[1] = 'u';
                for (int k = 0; k < 4; k++)
                    e[2 + k] = lower_hex[(r >> (12 - 4 * k)) & 15];
                cc_put_raw(out, e, 6);
            }
            continue;
        }
        cc_put_raw(out, e, 2);
    }
    cc_put_u8(out, '"');
}

void cc_v2_form_init(struct cc_v2_form *form)
{
    form->f = NULL;
    form->n = form->cap = 0;
    cc_buf_init(&form->arena);
}

void cc_v2_form_free(struct cc_v2_form *form)
{
    free(form->f);
    cc_buf_free(&form->arena);
    cc_v2_form_init(form);
}

static void set_err(char *err, size_t errlen, const char *msg, size_t msglen)
{
    size_t k;

    if (errlen == 0)
        return;
    k = msglen < errlen - 1 ? msglen : errlen - 1;
    memcpy(err, msg, k);
    err[k] = '\0';
}

/* Records Go's EscapeError text unless an error is already there. */
static void escape_err(char *err, size_t errlen, const char *bad, size_t bad_len)
{
    struct cc_buf b;

    if (errlen == 0 || err[0] != '\0')
        return;
    cc_buf_init(&b);
    cc_put_raw(&b, "invalid URL escape ", 19);
    cc_v2_go_quote(&b, bad, bad_len);
    if (b.failed) /* a shorter text still says what went wrong */
        set_err(err, errlen, "invalid URL escape", 18);
    else
        set_err(err, errlen, (const char *)b.data, b.len);
    cc_buf_free(&b);
}

/* Unescapes one key or value into the arena, NUL-terminated. */
static int arena_add(struct cc_v2_form *form, const char *s, size_t n, size_t *off,
                     const char **bad, size_t *bad_len)
{
    *off = form->arena.len;
    if (cc_v2_unescape(&form->arena, s, n, true, bad, bad_len) < 0)
        return -1;
    cc_put_u8(&form->arena, 0);
    return 0;
}

int cc_v2_form_parse(struct cc_v2_form *form, const char *s, size_t n, char *err, size_t errlen)
{
    static const char semicolon[] = "invalid semicolon separator in query";
    int rc = 0;

    for (size_t i = 0; i < n;) {
        const char *pair = s + i, *amp = memchr(pair, '&', n - i), *eq, *bad = NULL;
        size_t plen = amp ? (size_t)(amp - pair) : n - i, klen, koff, voff, bad_len = 0;
        size_t mark = form->arena.len;

        i += plen + (amp != NULL);
        if (memchr(pair, ';', plen) != NULL) {
            set_err(err, errlen, semicolon, sizeof semicolon - 1);
            rc = 1;
            continue;
        }
        if (plen == 0)
            continue;
        eq = memchr(pair, '=', plen);
        klen = eq ? (size_t)(eq - pair) : plen;
        if (arena_add(form, pair, klen, &koff, &bad, &bad_len) < 0 ||
            arena_add(form, eq ? eq + 1 : "", eq ? plen - klen - 1 : 0, &voff, &bad, &bad_len) <
                0) {
            form->arena.len = mark;
            escape_err(err, errlen, bad, bad_len);
            rc = 1;
            continue;
        }
        if (form->arena.failed) {
            errno = ENOMEM;
            return -1;
        }
        if (form->n == form->cap) {
            size_t cap = form->cap ? form->cap * 2 : 8;
            struct cc_v2_form_field *f = realloc(form->f, cap * sizeof *f);

            if (f == NULL) {
                errno = ENOMEM;
                return -1;
            }
            form->f = f;
            form->cap = cap;
        }
        form->f[form->n].key_off = koff;
        form->f[form->n].key_len = voff - koff - 1;
        form->f[form->n].val_off = voff;
        form->f[form->n].val_len = form->arena.len - voff - 1;
        form->n++;
    }
    return rc;
}

bool cc_v2_form_get(const struct cc_v2_form *form, const char *key, struct cc_v2_str *value)
{
    size_t klen = strlen(key);

    for (size_t i = 0; i < form->n; i++) {
        const struct cc_v2_form_field *f = &form->f[i];

        if (f->key_len == klen && memcmp(form->arena.data + f->key_off, key, klen) == 0) {
            value->p = (char *)form->arena.data + f->val_off;
            value->n = f->val_len;
            return true;
        }
    }
    return false;
}

/* unicode.IsSpace, which is also what strings.TrimSpace trims. */
static bool go_is_space(uint32_t r)
{
    switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return r >= 0x2000 && r <= 0x200A;
    }
}

/* Bytes of leading Unicode white space in s[0..n). */
static size_t space_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0, w;
    uint32_t r;

    while (i < n && (w = cc_v2_utf8_decode(s + i, n - i, &r)) > 0 && go_is_space(r))
        i += w;
    return i;
}

/* strings.TrimSpace: sets *start and returns the trimmed length. Decoding
 * forwards finds the same rune boundaries Go's backward scan does, because a
 * valid space rune starts with a lead byte no earlier rune can swallow. */
static size_t trim_space(const unsigned char *s, size_t n, size_t *start)
{
    size_t i = space_prefix(s, n), end = i, w;
    uint32_t r;

    *start = i;
    for (; i < n; i += w) {
        w = cc_v2_utf8_decode(s + i, n - i, &r);
        if (!go_is_space(r))
            end = i + w;
    }
    return end - *start;
}

/* mime's isTokenChar, byte-wise: a rune of two or more bytes is never a
 * token character, so neither is any byte from 0x80 up. */
static bool is_tspecial(unsigned char c)
{
    return c != 0 && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static bool is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !is_tspecial(c);
}

static size_t token_len(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n && is_token_char(s[i]))
        i++;
    return i;
}

/* strings.ToLower of the media type part, as far as checking it needs: ASCII
 * letters are lowered; U+0130 and U+212A are the two non-ASCII runes whose
 * lower case is ASCII ('i', 'k'); every other non-ASCII rune (and invalid
 * byte) stays non-ASCII, which is all the checks care about. Writes into
 * dst (room for n bytes) and returns the length. */
static size_t go_lower(unsigned char *dst, const unsigned char *s, size_t n)
{
    size_t j = 0, w;
    uint32_t r;

    for (size_t i = 0; i < n; i += w) {
        w = cc_v2_utf8_decode(s + i, n - i, &r);
        if (r == 0x130)
            dst[j++] = 'i';
        else if (r == 0x212A)
            dst[j++] = 'k';
        else if (w == 1 && s[i] >= 'A' && s[i] <= 'Z')
            dst[j++] = (unsigned char)(s[i] + 32);
        else
            for (size_t k = 0; k < w; k++)
                dst[j++] = s[i + k];
    }
    return j;
}

/* checkMediaTypeDisposition. */
static const char *check_media_type(const unsigned char *s, size_t n)
{
    size_t t = token_len(s, n), sub;

    if (t == 0)
        return "mime: no media type";
    if (t == n)
        return NULL;
    if (s[t] != '/')
        return "mime: expected slash after first token";
    sub = token_len(s + t + 1, n - t - 1);
    if (sub == 0)
        return "mime: expected token after slash";
    if (t + 1 + sub != n)
        return "mime: unexpected content after media subtype";
    return NULL;
}

/* consumeValue as consumeMediaParam uses it: the bytes a token or a quoted
 * string takes, or 0 when there is none. A quoted string may be empty ("")
 * and must be closed; a backslash before a tspecial escapes it (Go's MSIE
 * rule; any other backslash is literal); CR or LF inside ends in failure. */
static size_t consume_value(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (s[0] != '"')
        return token_len(s, n);
    for (size_t i = 1; i < n; i++) {
        if (s[i] == '"')
            return i + 1;
        if (s[i] == '\\' && i + 1 < n && is_tspecial(s[i + 1])) {
            i++;
            continue;
        }
        if (s[i] == '\r' || s[i] == '\n')
            return 0;
    }
    return 0;
}

struct seen_param {
    const unsigned char *p;
    size_t n;
};

static bool ascii_case_eq(const unsigned char *a, const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = a[i], y = b[i];

        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* The parameter loop of ParseMediaType over v (starting at the first ';'):
 * NULL when it parses, else Go's message. Parameter names are lowered and
 * a name seen twice is an error; "name*" names live in their own maps in
 * Go, but as the '*' is part of the name, one list gives the same answer. */
static const char *check_params(const unsigned char *v, size_t n)
{
    struct seen_param seen[64], *more = NULL, *list = seen;
    size_t nseen = 0, cap = sizeof seen / sizeof seen[0];
    const char *msg = NULL;

    for (;;) {
        size_t i = space_prefix(v, n), ts, key, vlen;
        const unsigned char *keyp;

        v += i, n -= i;
        if (n == 0)
            break;
        /* consumeMediaParam */
        i = 0;
        if (v[0] != ';')
            goto bad_param;
        i = 1;
        i += space_prefix(v + i, n - i);
        key = token_len(v + i, n - i);
        if (key == 0)
            goto bad_param;
        keyp = v + i;
        i += key;
        i += space_prefix(v + i, n - i);
        if (i == n || v[i] != '=')
            goto bad_param;
        i++;
        i += space_prefix(v + i, n - i);
        vlen = consume_value(v + i, n - i);
        if (vlen == 0)
            goto bad_param;
        for (size_t k = 0; k < nseen; k++) {
            if (list[k].n == key && ascii_case_eq(list[k].p, keyp, key)) {
                msg = "mime: duplicate parameter name";
                goto out;
            }
        }
        if (nseen == cap) {
            struct seen_param *grown = realloc(more, 2 * cap * sizeof *grown);

            if (grown == NULL) { /* cannot tell: let the body be read */
                msg = NULL;
                goto out;
            }
            if (more == NULL)
                memcpy(grown, seen, sizeof seen);
            more = list = grown;
            cap *= 2;
        }
        list[nseen].p = keyp;
        list[nseen].n = key;
        nseen++;
        v += i + vlen, n -= i + vlen;
        continue;
    bad_param:
        /* "Ignore trailing semicolons": the rest, trimmed, is exactly ";". */
        if (trim_space(v, n, &ts) == 1 && v[ts] == ';')
            break;
        msg = "mime: invalid media parameter";
        goto out;
    }
out:
    free(more);
    return msg;
}

int cc_v2_media_type_is_form(const char *ct, size_t n, const char **err)
{
    static const char form[] = "application/x-www-form-urlencoded";
    const unsigned char *u = (const unsigned char *)ct;
    const unsigned char *semi = memchr(u, ';', n);
    size_t base = semi ? (size_t)(semi - u) : n, start, len;
    unsigned char small[128] = {0}, *low = small;
    int is_form;

    *err = NULL;
    if (base > sizeof small && (low = malloc(base)) == NULL) {
        *err = "mime: no media type"; /* out of memory: treat as unparsable */
        return 0;
    }
    len = go_lower(low, u, base);
    len = trim_space(low, len, &start);
    *err = check_media_type(low + start, len);
    is_form = *err == NULL && len == sizeof form - 1 && memcmp(low + start, form, len) == 0;
    if (low != small)
        free(low);
    if (*err != NULL)
        return 0;
    *err = check_params(u + base, n - base);
    /* Go 1.19 returns the media type along with ErrInvalidMediaParameter
     * (so ParseForm still reads the form), but not with the duplicate
     * error. */
    if (*err != NULL && strcmp(*err, "mime: invalid media parameter") != 0)
        return 0;
    return is_form;
}

/* path.Clean into dst (room for n + 1 bytes); returns the length. */
static size_t clean_into(char *dst, const char *p, size_t n)
{
    bool rooted = n > 0 && p[0] == '/';
    size_t r = 0, w = 0, dotdot = 0;

    if (n == 0) {
        dst[0] = '.';
        return 1;
    }
    if (rooted) {
        dst[w++] = '/';
        r = dotdot = 1;
    }
    while (r < n) {
        if (p[r] == '/') {
            r++;
        } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
            r++;
        } else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) {
                w--;
                while (w > dotdot && dst[w] != '/')
                    w--;
            } else if (!rooted) {
                if (w > 0)
                    dst[w++] = '/';
                dst[w++] = '.';
                dst[w++] = '.';
                dotdot = w;
            }
        } else {
            if ((rooted && w != 1) || (!rooted && w != 0))
                dst[w++] = '/';
            for (; r < n && p[r] != '/'; r++)
                dst[w++] = p[r];
        }
    }
    if (w == 0)
        dst[w++] = '.';
    return w;
}

void cc_v2_path_clean(struct cc_buf *out, const char *s, size_t n)
{
    if (n == SIZE_MAX || cc_buf_reserve(out, n + 1) < 0)
        return;
    out->len += clean_into((char *)out->data + out->len, s, n);
}

void cc_v2_clean_path(struct cc_buf *out, const char *s, size_t n)
{
    size_t start = out->len, len;
    bool slash = n > 0 && s[n - 1] == '/';

    if (n > SIZE_MAX - 3 || cc_buf_reserve(out, n + 3) < 0)
        return;
    if (n == 0 || s[0] != '/') {
        /* Clean("/" + s): the same as cleaning s rooted. */
        char *tmp = malloc(n + 1);

        if (tmp == NULL) {
            out->failed = true;
            return;
        }
        tmp[0] = '/';
        memcpy(tmp + 1, s, n);
        len = clean_into((char *)out->data + start, tmp, n + 1);
        free(tmp);
    } else {
        len = clean_into((char *)out->data + start, s, n);
    }
    out->len = start + len;
    if (slash && !(len == 1 && out->data[start] == '/'))
        out->data[out->len++] = '/';
}

int cc_v2_parse_bool(const char *s, size_t n, bool *v)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strlen(yes[i]) == n && memcmp(yes[i], s, n) == 0) {
            *v = true;
            return 0;
        }
        if (strlen(no[i]) == n && memcmp(no[i], s, n) == 0) {
            *v = false;
            return 0;
        }
    }
    return -1;
}

int cc_v2_parse_uint(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}
