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
 * A new snapshot is written to a temporary file while its bytes arrive, then
 * the header, fsync, rename over snapshot, fsync of the directory: the
 * file at the name is always whole. Only one is kept; a new one replaces it
 * only after it is durable. */
#ifndef CC_CORE_STORAGE_SNAP_FILE_H
#define CC_CORE_STORAGE_SNAP_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CC_SNAP_MAX_VOTERS   16
#define CC_SNAP_HEADER_BYTES (8 + 16 + 4 + 8 * CC_SNAP_MAX_VOTERS + 24)

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
    char tmp[4200], final[4200], dir[4096];
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
void cc_snap_writer_abandon(struct cc_snap_writer *w);
bool cc_snap_writer_active(const struct cc_snap_writer *w);

#endif
