#include "core/storage/snap_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static const char magic[8] = {'C', 'C', 'S', 'N', 'A', 'P', '0', '1'};

#define FNV_OFFSET 14695981039346656037ull
#define FNV_PRIME  1099511628211ull

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void snap_path(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Everything but the data hash and the header hash, which the caller
 * fills in. */
static void encode_header(uint8_t h[CC_SNAP_HEADER_BYTES], const struct cc_snap_meta *m,
                          uint64_t data_hash)
{
    memset(h, 0, CC_SNAP_HEADER_BYTES);
    memcpy(h, magic, 8);
    put64(h + 8, m->index);
    put64(h + 16, m->term);
    uint8_t *p = h + 24;
    p[0] = (uint8_t)(m->n_voters >> 24);
    p[1] = (uint8_t)(m->n_voters >> 16);
    p[2] = (uint8_t)(m->n_voters >> 8);
    p[3] = (uint8_t)m->n_voters;
    p += 4;
    for (unsigned i = 0; i < CC_SNAP_MAX_VOTERS; i++, p += 8)
        put64(p, i < m->n_voters ? m->voters[i] : 0);
    put64(p, m->data_len);
    put64(p + 8, data_hash);
    put64(p + 16, fnv1a(FNV_OFFSET, h, (size_t)(p + 16 - h)));
}

static int read_full(int fd, void *buf, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n, off_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, (const uint8_t *)buf + done, n - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

static int read_header(int fd, struct cc_snap_meta *m, uint64_t *data_hash, char *err,
                       size_t errlen, const char *path)
{
    uint8_t h[CC_SNAP_HEADER_BYTES];
    if (read_full(fd, h, sizeof(h), 0) != 0) {
        snprintf(err, errlen, "%s: truncated header", path);
        return -1;
    }
    const uint8_t *p = h + 24 + 4 + 8 * CC_SNAP_MAX_VOTERS;
    if (memcmp(h, magic, 8) != 0 || get64(p + 16) != fnv1a(FNV_OFFSET, h, (size_t)(p + 16 - h))) {
        snprintf(err, errlen, "%s: not a Concord snapshot, or its header is damaged", path);
        return -1;
    }
    memset(m, 0, sizeof(*m));
    m->index = get64(h + 8);
    m->term = get64(h + 16);
    m->n_voters = (unsigned)h[24] << 24 | (unsigned)h[25] << 16 | (unsigned)h[26] << 8 | h[27];
    if (m->n_voters > CC_SNAP_MAX_VOTERS) {
        snprintf(err, errlen, "%s: %u voters in the header", path, m->n_voters);
        return -1;
    }
    for (unsigned i = 0; i < m->n_voters; i++)
        m->voters[i] = get64(h + 28 + 8 * i);
    m->data_len = get64(p);
    *data_hash = get64(p + 8);
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0 || (uint64_t)size != CC_SNAP_HEADER_BYTES + m->data_len) {
        snprintf(err, errlen, "%s: %lld bytes, the header says %llu", path, (long long)size,
                 (unsigned long long)(CC_SNAP_HEADER_BYTES + m->data_len));
        return -1;
    }
    return 0;
}

int cc_snap_read_meta(const char *dir, struct cc_snap_meta *meta, char *err, size_t errlen)
{
    char path[4200];
    snap_path(path, sizeof(path), dir, "snapshot");
    memset(meta, 0, sizeof(*meta));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    uint64_t hash;
    int r = read_header(fd, meta, &hash, err, errlen, path);
    close(fd);
    return r;
}

int cc_snap_verify(const char *dir, const struct cc_snap_meta *meta, char *err, size_t errlen)
{
    char path[4200];
    snap_path(path, sizeof(path), dir, "snapshot");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct cc_snap_meta m;
    uint64_t want;
    int r = read_header(fd, &m, &want, err, errlen, path);
    size_t cap = 1u << 20;
    uint8_t *buf = r == 0 ? malloc(cap) : NULL;
    if (r == 0 && buf == NULL) {
        snprintf(err, errlen, "out of memory reading %s", path);
        r = -1;
    }
    uint64_t h = FNV_OFFSET;
    for (uint64_t off = 0; r == 0 && off < m.data_len;) {
        size_t n = m.data_len - off < cap ? (size_t)(m.data_len - off) : cap;
        if (read_full(fd, buf, n, (off_t)(CC_SNAP_HEADER_BYTES + off)) != 0) {
            snprintf(err, errlen, "%s: read error", path);
            r = -1;
        }
        h = fnv1a(h, buf, n);
        off += n;
    }
    if (r == 0 && (h != want || m.index != meta->index)) {
        snprintf(err, errlen, "%s: the data does not match its checksum", path);
        r = -1;
    }
    free(buf);
    close(fd);
    return r;
}

long cc_snap_read_data(const char *dir, uint64_t offset, void *buf, size_t cap)
{
    char path[4200];
    snap_path(path, sizeof(path), dir, "snapshot");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < cap) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, cap - got,
                          (off_t)(CC_SNAP_HEADER_BYTES + offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return (long)got;
}

void cc_snap_writer_init(struct cc_snap_writer *w)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
}

bool cc_snap_writer_active(const struct cc_snap_writer *w)
{
    return w->fd >= 0;
}

void cc_snap_writer_abandon(struct cc_snap_writer *w)
{
    if (w->fd < 0)
        return;
    close(w->fd);
    w->fd = -1;
    unlink(w->tmp);
}

int cc_snap_writer_begin(struct cc_snap_writer *w, const char *dir, const char *tmp_name)
{
    cc_snap_writer_abandon(w);
    snprintf(w->dir, sizeof(w->dir), "%s", dir);
    snap_path(w->tmp, sizeof(w->tmp), dir, tmp_name);
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        cc_error("cannot create %s: %s", w->tmp, strerror(errno));
        return -1;
    }
    w->written = 0;
    w->hash = FNV_OFFSET;
    return 0;
}

int cc_snap_writer_append(struct cc_snap_writer *w, const void *p, size_t n)
{
    if (w->fd < 0)
        return -1;
    if (write_full(w->fd, p, n, (off_t)(CC_SNAP_HEADER_BYTES + w->written)) != 0) {
        cc_error("cannot write %s: %s", w->tmp, strerror(errno));
        cc_snap_writer_abandon(w);
        return -1;
    }
    /* Start writing it out now, so that the fdatasync at the end, which
     * holds up the storage worker's loop, finds little left to do. */
    unsigned flags = SYNC_FILE_RANGE_WRITE;
    if (w->paced)
        flags |= SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER;
    sync_file_range(w->fd, (off_t)(CC_SNAP_HEADER_BYTES + w->written), (off_t)n, flags);
    w->hash = fnv1a(w->hash, p, n);
    w->written += n;
    return 0;
}

/* Header, fdatasync, rename, fsync of the directory, on an open file whose
 * data is written. Closes fd. */
static int seal_fd(int fd, const char *dir, const char *tmp, const struct cc_snap_meta *meta,
                   uint64_t hash)
{
    char final[4200];
    snap_path(final, sizeof(final), dir, "snapshot");
    uint8_t h[CC_SNAP_HEADER_BYTES];
    encode_header(h, meta, hash);
    if (write_full(fd, h, sizeof(h), 0) != 0 || fdatasync(fd) != 0) {
        cc_error("cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, final) != 0) {
        cc_error("cannot rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0 || fsync(d) != 0) {
        cc_error("cannot sync %s: %s", dir, strerror(errno));
        if (d >= 0)
            close(d);
        return -1;
    }
    close(d);
    return 0;
}

int cc_snap_writer_finish(struct cc_snap_writer *w, struct cc_snap_meta *meta)
{
    if (w->fd < 0)
        return -1;
    meta->data_len = w->written;
    int fd = w->fd;
    w->fd = -1;
    return seal_fd(fd, w->dir, w->tmp, meta, w->hash);
}

int cc_snap_writer_sync(struct cc_snap_writer *w, uint64_t *len, uint64_t *hash)
{
    if (w->fd < 0)
        return -1;
    if (fdatasync(w->fd) != 0) {
        cc_error("cannot sync %s: %s", w->tmp, strerror(errno));
        cc_snap_writer_abandon(w);
        return -1;
    }
    close(w->fd);
    w->fd = -1;
    *len = w->written;
    *hash = w->hash;
    return 0;
}

int cc_snap_seal(const char *dir, const char *tmp_name, const struct cc_snap_meta *meta,
                 uint64_t hash)
{
    char tmp[4200];
    snap_path(tmp, sizeof(tmp), dir, tmp_name);
    int fd = open(tmp, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        cc_error("cannot open %s: %s", tmp, strerror(errno));
        return -1;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0 || (uint64_t)size != CC_SNAP_HEADER_BYTES + meta->data_len) {
        cc_error("%s: %lld bytes, expected %llu", tmp, (long long)size,
                 (unsigned long long)(CC_SNAP_HEADER_BYTES + meta->data_len));
        close(fd);
        unlink(tmp);
        return -1;
    }
    return seal_fd(fd, dir, tmp, meta, hash);
}
