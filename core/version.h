/* The versions Concord reports on /version (client and peer ports).
 *
 * Clients and tools decide what they may use from these (python-etcd and
 * etcdctl want the etcd 2.3 JSON form), so Concord reports the etcd release
 * whose v2 behaviour it reproduces; its own version is CC_VERSION. */
#ifndef CC_CORE_VERSION_H
#define CC_CORE_VERSION_H

#define CC_ETCD_SERVER_VERSION  "2.3.8"
#define CC_ETCD_CLUSTER_VERSION "2.3.0"
#define CC_VERSION_JSON                                                                            \
    "{\"etcdserver\":\"" CC_ETCD_SERVER_VERSION "\",\"etcdcluster\":\"" CC_ETCD_CLUSTER_VERSION    \
    "\"}"

#endif
