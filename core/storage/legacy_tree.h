/* Data dirs written by Concord builds before the snapshot file
 * (core/storage/snap_file.h) kept the key tree written through to
 * nodes.db and history.db, with the applied index and voters in meta.db.
 * Such a dir is converted once, at start: the tree is loaded from those
 * tables and becomes the snapshot file at the applied index, then the
 * tables are removed. */
#ifndef CC_CORE_STORAGE_LEGACY_TREE_H
#define CC_CORE_STORAGE_LEGACY_TREE_H

#include <stddef.h>

#include "core/storage/db.h"
#include "core/storage/snap_file.h"

/* Nothing to do (0) unless DB_HOME/nodes.db exists. With no snapshot yet
 * (snap->index 0), writes one from the old tables and updates *snap; then
 * removes the old tables. 0, or -1 with a message in err. */
int cc_legacy_tree_convert(struct cc_db *db, struct cc_snap_meta *snap, char *err, size_t errlen);

#endif
