/* A data dir of the builds before the snapshot file (the key tree written
 * through to nodes.db and history.db, the applied index in meta.db) is
 * converted once into a snapshot holding the same store at that index,
 * and the old tables are removed: an upgrade loses nothing. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/storage/db.h"
#include "core/storage/legacy_tree.h"
#include "core/storage/snap_file.h"
#include "core/v2/store.h"
#include "unit.h"

static char dir[] = "/tmp/cc-test-legacy-XXXXXX";

/* nodes.db value as the old tree_store wrote it. */
static void put_node(DB *nodes, const char *path, bool is_dir, int64_t exp, uint64_t created,
                     uint64_t modified, const char *value)
{
    struct cc_buf b;
    cc_buf_init(&b);
    cc_put_u8(&b, is_dir);
    cc_put_u64(&b, (uint64_t)exp);
    cc_put_u64(&b, created);
    cc_put_u64(&b, modified);
    cc_put_bytes(&b, value, value ? (uint32_t)strlen(value) : 0);
    CHECK(cc_db_put(nodes, NULL, path, strlen(path), b.data, b.len) == 0);
    cc_buf_free(&b);
}

static DB *create_table(struct cc_db *db, const char *file)
{
    DB *t = NULL;
    CHECK(db_create(&t, db->env, 0) == 0);
    CHECK(t->set_flags(t, DB_CHKSUM) == 0);
    CHECK(t->open(t, NULL, file, NULL, DB_BTREE, DB_CREATE | DB_AUTO_COMMIT, 0600) == 0);
    return t;
}

static void write_old_dir(void)
{
    struct cc_db db;
    char err[256];
    CHECK(cc_db_open(&db, dir, err, sizeof(err)) == 0);
    DB *nodes = create_table(&db, "nodes.db");
    DB *history = create_table(&db, "history.db");
    put_node(nodes, "/1/b", false, INT64_C(4102444800000000000), 4, 4, "ttl'd");
    put_node(nodes, "/1/dir", true, 0, 2, 2, NULL);
    put_node(nodes, "/1/dir/a", false, 0, 3, 5, "x");
    uint8_t idx[8];
    cc_be64_put(idx, 5);
    CHECK(cc_db_put(db.meta, NULL, "etcd_index", 10, idx, 8) == 0);
    struct cc_buf a;
    cc_buf_init(&a);
    cc_put_u64(&a, 12); /* applied raft index, little-endian as raft_log.c wrote it */
    cc_put_u64(&a, 3);  /* its term */
    CHECK(cc_db_put(db.meta, NULL, "applied", 7, a.data, a.len) == 0);
    cc_buf_free(&a);
    nodes->close(nodes, 0);
    history->close(history, 0);
    cc_db_close(&db);
}

static void test_old_tables_become_a_snapshot(void)
{
    write_old_dir();
    struct cc_db db;
    char err[256] = "";
    CHECK(cc_db_open(&db, dir, err, sizeof(err)) == 0);
    struct cc_snap_meta snap = {.n_voters = 1, .voters = {42}};
    CHECK(cc_legacy_tree_convert(&db, &snap, err, sizeof(err)) == 0);
    CHECK(snap.index == 12 && snap.term == 3 && snap.n_voters == 1 && snap.voters[0] == 42);
    char nodes_path[4200];
    snprintf(nodes_path, sizeof(nodes_path), "%s/nodes.db", db.home);
    CHECK(access(nodes_path, F_OK) != 0);

    struct cc_snap_meta m;
    CHECK(cc_snap_read_meta(db.home, &m, err, sizeof(err)) == 0);
    CHECK(m.index == 12 && m.data_len == snap.data_len);
    CHECK(cc_snap_verify(db.home, &m, err, sizeof(err)) == 0);
    uint8_t *data = malloc(m.data_len);
    CHECK(cc_snap_read_data(db.home, 0, data, m.data_len) == (long)m.data_len);
    struct cc_v2_store *s = NULL;
    CHECK(cc_v2_store_snapshot_load(data, m.data_len, &s) == 0);
    if (s != NULL) {
        CHECK(cc_v2_store_index(s) == 5);
        struct cc_v2_result r = {0};
        CHECK(cc_v2_store_get(s, "/1/dir/a", false, false, 0, &r) == 0 && r.event != NULL);
        if (r.event)
            CHECK(r.event->node.value.n == 1 && r.event->node.value.p[0] == 'x' &&
                  r.event->node.modified_index == 5 && r.event->node.created_index == 3);
        cc_v2_result_clear(&r);
        int64_t exp = 0;
        CHECK(cc_v2_store_next_expiry(s, &exp) && exp == INT64_C(4102444800000000000));
        cc_v2_store_free(s);
    }
    free(data);

    /* A second start finds nothing to convert and keeps the snapshot. */
    struct cc_snap_meta again = m;
    CHECK(cc_legacy_tree_convert(&db, &again, err, sizeof(err)) == 0);
    CHECK(again.index == 12);
    cc_db_close(&db);
}

int main(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    RUN(test_old_tables_become_a_snapshot);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return unit_report();
}
