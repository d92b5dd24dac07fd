/* The durable snapshot of the state machine: DATA_DIR/member/snapshot.
 *
 * The key tree lives once per member, in the http worker's view; the
 * storage worker keeps the raft log and this file, which holds the view's
 * serialised store (core/v2/store_snapshot.c) at a raft index, with the
 * entry's term and the voters in effect there. Log entries up to that
 * index may be compacted away; the state machine after a restart is this
 * file plus the log entries after it, as in etcd's snap + WAL.
 *
 * Layout (big-endian):
 *   "CCSNAP01"
 *   u64 index, u64 term
 *   u32 voters, u64 ids[CC_SNAP_MAX_VOTERS] (unused ones zero)
 *   u64 data length, u64 FNV-1a 64 of the data
 *   u64 FNV-1a 64 of the header bytes before it
 *   data
 *
 * A new snapshot is written to a temporary file while its bytes arrive (or
 * by the http worker's snapshot child), then the header, fsync, rename over
 * snapshot, fsync of the directory: the file at the name is always whole. Only one is kept; a new
 * one replaces it only after it is durable. */
#ifndef CC_CORE_STORAGE_SNAP_FILE_H
#define CC_CORE_STORAGE_SNAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CC_SNAP_MAX_VOTERS   16
#define CC_SNAP_HEADER_BYTES (8 + 16 + 4 + 8 * CC_SNAP_MAX_VOTERS + 24)

/* Temporary files: the http worker's snapshot child writes the first,
 * storage the leader's snapshot into the second, and the conversion of an
 * old data dir the third. A crash may leave any of them behind. */
#define CC_SNAP_VIEW_TMP    "snapshot.view.tmp"
#define CC_SNAP_INSTALL_TMP "snapshot.install.tmp"
#define CC_SNAP_CONVERT_TMP "snapshot.convert.tmp"
#define CC_SNAP_TMP_NAMES                                                                          \
    {                                                                                              \
        CC_SNAP_VIEW_TMP, CC_SNAP_INSTALL_TMP, CC_SNAP_CONVERT_TMP                                 \
    }

struct cc_snap_meta {
    uint64_t index, term; /* index 0: no snapshot yet */
    unsigned n_voters;
    uint64_t voters[CC_SNAP_MAX_VOTERS];
    uint64_t data_len;
};

/* The file's header, without reading the data (it was checked when the
 * file was made, and by cc_snap_verify). 0, 1 when there is no snapshot
 * file, -1 with a message in err when it is unreadable or malformed. */
int cc_snap_read_meta(const char *dir, struct cc_snap_meta *meta, char *err, size_t errlen);

/* Reads the whole data part and checks its checksum. 0, or -1 with a
 * message in err. */
int cc_snap_verify(const char *dir, const struct cc_snap_meta *meta, char *err, size_t errlen);

/* Reads up to cap data bytes from offset into buf; the count read, or -1. */
long cc_snap_read_data(const char *dir, uint64_t offset, void *buf, size_t cap);

/* A snapshot being written: chunks in order, then finish or abandon. */
struct cc_snap_writer {
    int fd; /* -1: none in progress */
    uint64_t written, hash;
    /* Each append waits until its bytes are on the disk: the disk serves
     * the members' log syncs between the pieces instead of queueing them
     * behind one large flush at the end. For a writer in the background
     * (the http worker's snapshot child), in pieces of ~1 MiB. */
    bool paced;
    char tmp[4200], dir[4096];
};

void cc_snap_writer_init(struct cc_snap_writer *w);
/* Starts dir/tmp_name (dropping one in progress): each source of
 * snapshots has its own, so two transfers never share a file. 0 or -1
 * (logged). */
int cc_snap_writer_begin(struct cc_snap_writer *w, const char *dir, const char *tmp_name);
/* 0 or -1 (logged; the writer is abandoned). */
int cc_snap_writer_append(struct cc_snap_writer *w, const void *p, size_t n);
/* Writes the header for meta (its data_len is set from what was written),
 * makes the file durable and puts it in place. 0 or -1 (logged; the
 * previous snapshot stays). */
int cc_snap_writer_finish(struct cc_snap_writer *w, struct cc_snap_meta *meta);
/* Makes the data durable and closes the file, leaving it under its
 * temporary name without a header, for cc_snap_seal by another process:
 * the http worker's snapshot child writes the data, storage knows the
 * term and voters. *len and *hash describe the data. 0 or -1 (logged;
 * the file is removed). */
int cc_snap_writer_sync(struct cc_snap_writer *w, uint64_t *len, uint64_t *hash);
/* Puts dir/tmp_name, written by cc_snap_writer_sync with meta->data_len
 * bytes hashing to hash, in place as the snapshot for meta. 0 or -1
 * (logged; the temporary file is removed, the previous snapshot stays). */
int cc_snap_seal(const char *dir, const char *tmp_name, const struct cc_snap_meta *meta,
                 uint64_t hash);
void cc_snap_writer_abandon(struct cc_snap_writer *w);
bool cc_snap_writer_active(const struct cc_snap_writer *w);

#endif
