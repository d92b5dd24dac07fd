/* struct cc_raft_msg <-> RAFT frames. See raft_wire.h, and the RAFT row of
 * proto/msg.h for which flattened fields each type uses.
 *
 * Encoding and decoding share one sanity check on the struct (check_msg), so
 * whatever a member manages to encode its peers accept; decoding adds the
 * checks only the flat form needs (unused fields 0, bools 0 or 1). */
#include "proto/raft_wire.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* What the core may rely on in a message, whichever side it comes from. */
static int check_msg(const struct cc_raft_msg *m)
{
    if (m->type < CC_RAFT_MSG_PREVOTE || m->type > CC_RAFT_MSG_TYPE_MAX)
        return -1;
    if (m->from == 0 || m->to == 0)
        return -1;
    if (m->type == CC_RAFT_MSG_APPEND) {
        cc_raft_index prev = m->append.prev_index;
        cc_raft_term last_term = m->append.prev_term;

        if (m->append.n_entries > 0 && m->append.entries == NULL)
            return -1;
        if (m->append.n_entries > UINT32_MAX)
            return -1;
        for (size_t i = 0; i < m->append.n_entries; i++) {
            const struct cc_raft_entry *e = &m->append.entries[i];

            /* numbered prev + 1, prev + 2, ... without wrapping */
            if (e->index != prev + 1 + i || e->index <= prev)
                return -1;
            if (e->term < last_term || e->term > m->term)
                return -1;
            if ((unsigned)e->type > CC_RAFT_ENTRY_CONF)
                return -1;
            if (e->len > UINT32_MAX || (e->len > 0 && e->data == NULL))
                return -1;
            last_term = e->term;
        }
    }
    if (m->type == CC_RAFT_MSG_SNAPSHOT) {
        const struct cc_raft_membership *ms = &m->snapshot.meta.membership;

        if (ms->n > CC_RAFT_MAX_MEMBERS)
            return -1;
        for (unsigned i = 0; i < ms->n; i++)
            if (ms->ids[i] == 0 || (i > 0 && ms->ids[i] <= ms->ids[i - 1]))
                return -1;
    }
    return 0;
}

/* The bytes APPEND's entries take on the wire, or more than CC_FRAME_MAX
 * as soon as it is clear they do not fit. */
static size_t entries_size(const struct cc_raft_msg *m)
{
    size_t total = 0;

    for (size_t i = 0; i < m->append.n_entries && total <= CC_FRAME_MAX; i++)
        total += CC_REC_WIRE_MIN(peer_entry) + m->append.entries[i].len;
    return total;
}

int cc_raft_wire_encode(struct cc_buf *out, const struct cc_raft_msg *m)
{
    struct cc_msg f;
    struct cc_msg_raft *w = &f.u.raft;
    struct cc_buf ents, mems;
    int rc;

    if (check_msg(m) != 0) {
        errno = EINVAL;
        return -1;
    }
    memset(&f, 0, sizeof f);
    f.type = CC_MSG_RAFT;
    w->type = (uint8_t)m->type;
    w->from = m->from;
    w->to = m->to;
    w->term = m->term;
    cc_buf_init(&ents);
    cc_buf_init(&mems);

    switch (m->type) {
    case CC_RAFT_MSG_PREVOTE:
    case CC_RAFT_MSG_VOTE:
        w->last_index = m->vote.last_index;
        w->last_term = m->vote.last_term;
        w->transfer = m->vote.transfer ? 1 : 0;
        break;
    case CC_RAFT_MSG_PREVOTE_RESP:
    case CC_RAFT_MSG_VOTE_RESP:
        w->granted = m->vote_resp.granted ? 1 : 0;
        break;
    case CC_RAFT_MSG_APPEND:
        w->prev_index = m->append.prev_index;
        w->prev_term = m->append.prev_term;
        w->commit = m->append.commit;
        w->quiet = m->append.quiet ? 1 : 0;
        if (entries_size(m) > CC_FRAME_MAX) { /* before allocating for it */
            errno = EMSGSIZE;
            return -1;
        }
        for (size_t i = 0; i < m->append.n_entries; i++) {
            const struct cc_raft_entry *e = &m->append.entries[i];
            struct cc_peer_entry pe = {
                .index = e->index,
                .term = e->term,
                .type = (uint8_t)e->type,
                .data = {e->data, (uint32_t)e->len},
            };

            cc_msg_peer_entry_put(&ents, &pe);
        }
        w->entries = (struct cc_list){(uint32_t)m->append.n_entries, ents.data, (uint32_t)ents.len};
        break;
    case CC_RAFT_MSG_APPEND_RESP:
        w->reject = m->append_resp.reject ? 1 : 0;
        w->index = m->append_resp.index;
        w->hint_index = m->append_resp.hint_index;
        w->hint_term = m->append_resp.hint_term;
        break;
    case CC_RAFT_MSG_HEARTBEAT:
        w->commit = m->heartbeat.commit;
        w->read_seq = m->heartbeat.read_seq;
        break;
    case CC_RAFT_MSG_HEARTBEAT_RESP:
        w->read_seq = m->heartbeat_resp.read_seq;
        break;
    case CC_RAFT_MSG_SNAPSHOT: {
        const struct cc_raft_membership *ms = &m->snapshot.meta.membership;

        w->snap_index = m->snapshot.meta.index;
        w->snap_term = m->snapshot.meta.term;
        for (unsigned i = 0; i < ms->n; i++)
            cc_msg_peer_member_put(&mems, &(struct cc_peer_member){ms->ids[i]});
        w->members = (struct cc_list){ms->n, mems.data, (uint32_t)mems.len};
        break;
    }
    case CC_RAFT_MSG_SNAPSHOT_RESP:
        w->index = m->snapshot_resp.index;
        break;
    case CC_RAFT_MSG_TIMEOUT_NOW:
        break;
    }

    if (ents.failed || mems.failed) {
        errno = ENOMEM;
        rc = -1;
    } else {
        rc = cc_msg_encode(out, &f);
    }
    cc_buf_free(&ents);
    cc_buf_free(&mems);
    return rc;
}

static bool is_bool(uint8_t v)
{
    return v <= 1;
}

int cc_raft_wire_decode(const struct cc_msg *frame, struct cc_raft_msg *out,
                        struct cc_raft_entry *entries, size_t max_entries)
{
    const struct cc_msg_raft *w = &frame->u.raft;
    /* what the type uses; everything else must be 0 */
    bool vote = false, vote_resp = false, append = false, append_resp = false;
    bool commit = false, read_seq = false, snapshot = false, index = false;

    if (frame->type != CC_MSG_RAFT)
        return -1;
    memset(out, 0, sizeof *out);
    switch (w->type) {
    case CC_RAFT_MSG_PREVOTE:
    case CC_RAFT_MSG_VOTE:
        vote = true;
        break;
    case CC_RAFT_MSG_PREVOTE_RESP:
    case CC_RAFT_MSG_VOTE_RESP:
        vote_resp = true;
        break;
    case CC_RAFT_MSG_APPEND:
        append = commit = true;
        break;
    case CC_RAFT_MSG_APPEND_RESP:
        append_resp = index = true;
        break;
    case CC_RAFT_MSG_HEARTBEAT:
        commit = read_seq = true;
        break;
    case CC_RAFT_MSG_HEARTBEAT_RESP:
        read_seq = true;
        break;
    case CC_RAFT_MSG_SNAPSHOT:
        snapshot = true;
        break;
    case CC_RAFT_MSG_SNAPSHOT_RESP:
        index = true;
        break;
    case CC_RAFT_MSG_TIMEOUT_NOW:
        break;
    default:
        return -1;
    }
    if (!is_bool(w->transfer) || !is_bool(w->granted) || !is_bool(w->reject) || !is_bool(w->quiet))
        return -1;
    if ((!vote && (w->last_index || w->last_term || w->transfer)) || (!vote_resp && w->granted) ||
        (!append && (w->prev_index || w->prev_term || w->entries.count || w->quiet)) ||
        (!commit && w->commit) || (!append_resp && (w->reject || w->hint_index || w->hint_term)) ||
        (!index && w->index) || (!read_seq && w->read_seq) ||
        (!snapshot && (w->snap_index || w->snap_term || w->members.count)))
        return -1;

    out->type = (enum cc_raft_msg_type)w->type;
    out->from = w->from;
    out->to = w->to;
    out->term = w->term;
    switch (out->type) {
    case CC_RAFT_MSG_PREVOTE:
    case CC_RAFT_MSG_VOTE:
        out->vote.last_index = w->last_index;
        out->vote.last_term = w->last_term;
        out->vote.transfer = w->transfer;
        break;
    case CC_RAFT_MSG_PREVOTE_RESP:
    case CC_RAFT_MSG_VOTE_RESP:
        out->vote_resp.granted = w->granted;
        break;
    case CC_RAFT_MSG_APPEND: {
        struct cc_rd r = cc_msg_list_reader(&w->entries);
        struct cc_peer_entry pe;
        size_t n = 0;

        if (w->entries.count > max_entries)
            return -1;
        while (cc_msg_peer_entry_next(&r, &pe) == 1) {
            if (n >= max_entries)
                return -1;
            entries[n].index = pe.index;
            entries[n].term = pe.term;
            entries[n].type = (enum cc_raft_entry_type)pe.type;
            entries[n].data = pe.data.p;
            entries[n].len = pe.data.n;
            n++;
        }
        if (n != w->entries.count)
            return -1; /* a list that did not come out of cc_msg_next */
        out->append.prev_index = w->prev_index;
        out->append.prev_term = w->prev_term;
        out->append.commit = w->commit;
        out->append.quiet = w->quiet;
        out->append.entries = n > 0 ? entries : NULL;
        out->append.n_entries = n;
        break;
    }
    case CC_RAFT_MSG_APPEND_RESP:
        out->append_resp.reject = w->reject;
        out->append_resp.index = w->index;
        out->append_resp.hint_index = w->hint_index;
        out->append_resp.hint_term = w->hint_term;
        break;
    case CC_RAFT_MSG_HEARTBEAT:
        out->heartbeat.commit = w->commit;
        out->heartbeat.read_seq = w->read_seq;
        break;
    case CC_RAFT_MSG_HEARTBEAT_RESP:
        out->heartbeat_resp.read_seq = w->read_seq;
        break;
    case CC_RAFT_MSG_SNAPSHOT: {
        struct cc_raft_membership *ms = &out->snapshot.meta.membership;
        struct cc_rd r = cc_msg_list_reader(&w->members);
        struct cc_peer_member pm;

        if (w->members.count > CC_RAFT_MAX_MEMBERS)
            return -1;
        out->snapshot.meta.index = w->snap_index;
        out->snapshot.meta.term = w->snap_term;
        while (cc_msg_peer_member_next(&r, &pm) == 1) {
            if (ms->n >= CC_RAFT_MAX_MEMBERS)
                return -1;
            ms->ids[ms->n++] = pm.id;
        }
        if (ms->n != w->members.count)
            return -1;
        break;
    }
    case CC_RAFT_MSG_SNAPSHOT_RESP:
        out->snapshot_resp.index = w->index;
        break;
    case CC_RAFT_MSG_TIMEOUT_NOW:
        break;
    }
    return check_msg(out);
}
