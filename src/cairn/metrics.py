"""Every Prometheus metric of a member, declared once.

The request path counts into plain Python numbers owned by the event loop
(one thread), so counting costs no lock; the writer thread has metrics of its
own that only it updates.  prometheus_client reads them all at scrape time
through a collector.  Names are etcd's where the meaning is the same.
"""

from prometheus_client import CollectorRegistry, ProcessCollector, PlatformCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from cairn._codec import CounterCore, HistogramCore


def exponential_buckets(start, factor, count):
    return tuple(start * factor**i for i in range(count))


class Counter(CounterCore):
    """A counter by label values (a tuple), without locks: one thread writes.
    inc(labels=(), amount=1) is compiled (CounterCore)."""

    __slots__ = ("name", "help", "labels")

    def __init__(self, name, help, labels=()):
        super().__init__(labels)
        self.name, self.help, self.labels = name, help, tuple(labels)

    def family(self):
        fam = CounterMetricFamily(self.name, self.help, labels=self.labels)
        for labels, value in list(self.values.items()):
            fam.add_metric(list(labels), value)
        return fam


class Gauge:
    """A gauge read from a callable at scrape time, or set directly."""

    __slots__ = ("name", "help", "labels", "values", "read")

    def __init__(self, name, help, labels=(), read=None):
        self.name, self.help, self.labels = name, help, tuple(labels)
        self.values = {} if labels else {(): 0}
        self.read = read  # read() -> number, or -> {labels: number}

    def set(self, value, labels=()):
        self.values[labels] = value

    def add(self, delta, labels=()):
        self.values[labels] = self.values.get(labels, 0) + delta

    def family(self):
        fam = GaugeMetricFamily(self.name, self.help, labels=self.labels)
        values = self.values
        if self.read is not None:
            got = self.read()
            values = got if isinstance(got, dict) else {(): got}
        for labels, value in list(values.items()):
            fam.add_metric(list(labels), value)
        return fam


class CumulativeHistogram:
    """A histogram whose cumulative bucket counts and sum are read from a
    callable at scrape time (kept by a Cython object)."""

    __slots__ = ("name", "help", "bounds", "read")

    def __init__(self, name, help, bounds, read=None):
        self.name, self.help, self.bounds, self.read = name, help, tuple(bounds), read

    def family(self):
        fam = HistogramMetricFamily(self.name, self.help)
        if self.read is not None:
            cumulative, total = self.read()
            buckets = [(floatToGoString(b), c) for b, c in zip(self.bounds + (float("inf"),), cumulative)]
            fam.add_metric([], buckets, total)
        return fam


class Histogram(HistogramCore):
    """A histogram by label values; observe(value, labels=()) is compiled
    (HistogramCore): series[labels] = [bucket counts..., +Inf count, sum]."""

    __slots__ = ("name", "help", "labels", "bounds")

    def __init__(self, name, help, bounds, labels=()):
        super().__init__(bounds)
        self.name, self.help, self.labels = name, help, tuple(labels)
        self.bounds = tuple(bounds)

    def family(self):
        fam = HistogramMetricFamily(self.name, self.help, labels=self.labels)
        for labels, series in list(self.series.items()):
            series = list(series)
            cumulative, buckets = 0, []
            for bound, count in zip(self.bounds + (float("inf"),), series[:-1]):
                cumulative += count
                buckets.append((floatToGoString(bound), cumulative))
            fam.add_metric(list(labels), buckets, series[-1])
        return fam


DISK_BUCKETS = tuple(round(b, 6) for b in exponential_buckets(0.001, 2, 14))  # 1 ms .. 8 s, as etcd's disk histograms
REQUEST_BUCKETS = tuple(round(b, 7) for b in exponential_buckets(0.0001, 2, 18))  # 100 µs .. 13 s


class Metrics:
    """The metrics of one member."""

    def __init__(self):
        # --- requests: by API (gRPC service) and method -----------------
        self.requests_started = Counter(
            "grpc_server_started_total", "Total number of RPCs started on the server.",
            ("grpc_type", "grpc_service", "grpc_method"))
        self.requests_handled = Counter(
            "grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.",
            ("grpc_type", "grpc_service", "grpc_method", "grpc_code"))
        self.request_seconds = Histogram(
            "grpc_server_handling_seconds", "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
            REQUEST_BUCKETS, ("grpc_type", "grpc_service", "grpc_method"))
        # --- raft proposals ------------------------------------------------
        self.proposals_committed = Gauge(
            "etcd_server_proposals_committed_total", "The total number of consensus proposals committed.")
        self.proposals_applied = Gauge(
            "etcd_server_proposals_applied_total", "The total number of consensus proposals applied.")
        self.proposals_pending = Gauge(
            "etcd_server_proposals_pending", "The current number of pending proposals to commit.")
        self.proposals_failed = Counter(
            "etcd_server_proposals_failed_total", "The total number of failed proposals seen.")
        self.has_leader = Gauge(
            "etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.")
        self.is_leader = Gauge(
            "etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.")
        self.leader_changes = Counter(
            "etcd_server_leader_changes_seen_total", "The number of leader changes seen.")
        # --- peers ------------------------------------------------------------
        self.peer_sent_bytes = Counter("etcd_network_peer_sent_bytes_total", "The total number of bytes sent to peers.", ("To",))
        self.peer_received_bytes = Counter("etcd_network_peer_received_bytes_total", "The total number of bytes received from peers.", ("From",))
        self.peer_sent_failures = Counter("etcd_network_peer_sent_failures_total", "The total number of send failures from peers.", ("To",))
        self.peer_rtt = Histogram("etcd_network_peer_round_trip_time_seconds", "Round-Trip-Time histogram between peers",
                                  exponential_buckets(0.0001, 2, 16), ("To",))
        self.snapshot_send_success = Counter("etcd_network_snapshot_send_success", "Total number of successful snapshot sends", ("To",))
        self.snapshot_send_failures = Counter("etcd_network_snapshot_send_failures", "Total number of snapshot send failures", ("To",))
        self.snapshot_receive_success = Counter("etcd_network_snapshot_receive_success", "Total number of successful snapshot receives", ("From",))
        self.snapshot_apply_in_progress = Gauge(
            "etcd_server_snapshot_apply_in_progress_total", "1 if the server is applying the incoming snapshot. 0 if none.")
        # --- disk (updated by the writer thread only) ---------------------
        self.wal_fsync_seconds = Histogram(
            "etcd_disk_wal_fsync_duration_seconds",
            "The latency distributions of fsync called by the Raft log append (one LMDB commit).", DISK_BUCKETS)
        self.backend_commit_seconds = Histogram(
            "etcd_disk_backend_commit_duration_seconds",
            "The latency distributions of commit called by backend (one LMDB write transaction).", DISK_BUCKETS)
        # --- store -----------------------------------------------------
        self.db_size = Gauge("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.")
        self.db_size_in_use = Gauge("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.")
        self.quota_bytes = Gauge("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.")
        self.keys_total = Gauge("etcd_debugging_mvcc_keys_total", "Total number of keys.")
        self.current_revision = Gauge("etcd_debugging_mvcc_current_revision", "The current revision of store.")
        self.compact_revision = Gauge("etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.")

        # --- watches and leases --------------------------------------------
        self.watch_streams = Gauge("etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.")
        self.watchers = Gauge("etcd_debugging_mvcc_watcher_total", "Total number of watchers.")
        self.slow_watchers = Gauge("etcd_debugging_mvcc_slow_watcher_total", "Total number of unsynced slow watchers.")
        self.events_sent = Counter("etcd_debugging_mvcc_events_total", "Total number of events sent by this member.")
        self.leases_granted = Counter("etcd_debugging_lease_granted_total", "The total number of granted leases.")
        self.leases_revoked = Counter("etcd_debugging_lease_revoked_total", "The total number of revoked leases.")
        self.leases_renewed = Counter("etcd_debugging_lease_renewed_total",
                                      "The number of renewed leases seen by the leader.")
        self.leases_expired = Counter("etcd_debugging_server_lease_expired_total",
                                      "The total number of expired leases.")
        self.lease_ttl = CumulativeHistogram("etcd_debugging_lease_ttl_total",
                                             "Bucketed histogram of lease TTLs.", tuple(2 ** i for i in range(24)))

        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)

    def all(self):
        return [m for m in vars(self).values() if isinstance(m, (Counter, Gauge, Histogram, CumulativeHistogram))]

    def observe_commit(self, seconds):
        """Writer thread: one LMDB commit (which includes its flush)."""
        self.backend_commit_seconds.observe(seconds)

    def observe_wal_fsync(self, seconds):
        """Event loop: one WAL write + fdatasync."""
        self.wal_fsync_seconds.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Collector:
    def __init__(self, metrics):
        self._metrics = metrics

    def collect(self):
        for metric in self._metrics.all():
            yield metric.family()


CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
