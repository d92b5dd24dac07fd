/* The core's in-memory view of the log: the (index, term, type) of every
 * entry above the compaction point, and the payloads it may still have to
 * send. Payloads are reference counted so an update can keep pointing at an
 * entry's bytes after the log dropped it (truncation, eviction).
 *
 * A slot whose payload is not in memory (after a restart, or evicted once
 * applied) is "unloaded": its type and bytes must be fetched back from the
 * stored log before it can be sent. */
#ifndef CC_CORE_RAFT_RAFT_MEMLOG_H
#define CC_CORE_RAFT_RAFT_MEMLOG_H

#include "core/raft/raft_msg.h"

struct cc_raft_buf {
    unsigned refs;
    size_t len;
    unsigned char data[];
};

/* NULL on allocation failure. */
struct cc_raft_buf *cc_raft_buf_new(const void *data, size_t len);
void cc_raft_buf_ref(struct cc_raft_buf *b);
void cc_raft_buf_unref(struct cc_raft_buf *b);

struct cc_raft_slot {
    cc_raft_term term;
    uint8_t type; /* enum cc_raft_entry_type, valid when loaded */
    bool loaded;
    struct cc_raft_buf *buf; /* NULL for an empty payload */
};

struct cc_raft_memlog {
    cc_raft_index offset;     /* last index not held: the compaction point */
    cc_raft_term offset_term; /* its term (0 at the very start) */
    struct cc_raft_slot *s;   /* s[k] holds index offset + 1 + k */
    size_t n, cap;
    size_t cached_bytes;      /* payload bytes of loaded slots */
    cc_raft_index low_loaded; /* no slot below holds payload bytes: eviction starts here */
};

void cc_raft_memlog_init(struct cc_raft_memlog *l, cc_raft_index offset, cc_raft_term offset_term);
void cc_raft_memlog_free(struct cc_raft_memlog *l);

static inline cc_raft_index cc_raft_memlog_last(const struct cc_raft_memlog *l)
{
    return l->offset + l->n;
}

/* The term at index, for offset <= index <= last. */
bool cc_raft_memlog_term(const struct cc_raft_memlog *l, cc_raft_index index, cc_raft_term *term);
cc_raft_term cc_raft_memlog_last_term(const struct cc_raft_memlog *l);
/* The slot of offset < index <= last, else NULL. */
const struct cc_raft_slot *cc_raft_memlog_slot(const struct cc_raft_memlog *l, cc_raft_index index);

/* Appends at last + 1 with a copy of data. 0 or CC_RAFT_ENOMEM. */
int cc_raft_memlog_append(struct cc_raft_memlog *l, cc_raft_term term, uint8_t type,
                          const void *data, size_t len);
/* Appends a slot known only by its term (restart). */
int cc_raft_memlog_append_unloaded(struct cc_raft_memlog *l, cc_raft_term term);
/* Drops every slot with index >= from. */
void cc_raft_memlog_truncate(struct cc_raft_memlog *l, cc_raft_index from);
/* Drops every slot with index <= upto (offset < upto <= last), which
 * becomes the new offset. */
void cc_raft_memlog_compact(struct cc_raft_memlog *l, cc_raft_index upto);
/* Forgets everything: the log restarts after (index, term), as after
 * installing a snapshot. */
void cc_raft_memlog_reset(struct cc_raft_memlog *l, cc_raft_index index, cc_raft_term term);
/* Gives an unloaded slot its payload back if e matches its index and term.
 * 0, or CC_RAFT_ENOMEM. */
int cc_raft_memlog_load(struct cc_raft_memlog *l, const struct cc_raft_entry *e);
/* Drops payloads of slots <= upto, lowest first, until cached_bytes fits
 * in budget. */
void cc_raft_memlog_evict(struct cc_raft_memlog *l, cc_raft_index upto, size_t budget);

#endif
