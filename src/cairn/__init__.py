"""cairn: a highly available key-value store that speaks etcd's protocols."""

__version__ = "0.1.0"

# The etcd API level cairn implements; /version reports it as etcdserver so
# clients that pick their API path from it (etcd3gw) choose /v3/.
ETCD_API_VERSION = "3.4.23"
ETCD_CLUSTER_VERSION = "3.4.0"
