"""``-w fields``: one ``"Name" : value`` line per field, Go-quoted strings."""

from __future__ import annotations

from cairn.client import messages as m

from .exitcodes import CommandError
from .gotext import quote
from .printer import GO_PANIC_EXIT, NIL_POINTER_PANIC, Printer


def _go(value) -> str:
    """fmt.Println's rendering of a bool, int or []string."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return "[" + " ".join(value) + "]"
    return str(value)


class FieldsPrinter(Printer):
    format_name = "fields"

    def field(self, name: str, value) -> None:
        self.line(f'"{name}" : {_go(value)}')

    def quoted(self, name: str, value: bytes | str) -> None:
        self.line(f'"{name}" : {quote(value)}')

    def header(self, h: m.ResponseHeader) -> None:
        self.field("ClusterID", h.cluster_id)
        self.field("MemberID", h.member_id)
        self.field("Revision", h.revision)
        self.field("RaftTerm", h.raft_term)

    def kv(self, prefix: str, kv: m.KeyValue) -> None:
        self.quoted(prefix + "Key", kv.key)
        self.field(prefix + "CreateRevision", kv.create_revision)
        self.field(prefix + "ModRevision", kv.mod_revision)
        self.field(prefix + "Version", kv.version)
        self.quoted(prefix + "Value", kv.value)
        self.field(prefix + "Lease", kv.lease)

    def get(self, resp: m.RangeResponse) -> None:
        self.header(resp.header)
        for kv in resp.kvs:
            self.kv("", kv)
        self.field("More", resp.more)
        self.field("Count", resp.count)

    def put(self, resp: m.PutResponse) -> None:
        self.header(resp.header)
        if resp.prev_kv is not None:
            self.kv("Prev", resp.prev_kv)

    def delete(self, resp: m.DeleteRangeResponse) -> None:
        self.header(resp.header)
        self.field("Deleted", resp.deleted)
        for kv in resp.prev_kvs:
            self.kv("Prev", kv)

    def txn(self, resp: m.TxnResponse) -> None:
        self.header(resp.header)
        self.field("Succeeded", resp.succeeded)
        for op in resp.responses:
            if op.response_delete_range is not None:
                self.delete(op.response_delete_range)
            elif op.response_put is not None:
                self.put(op.response_put)
            elif op.response_range is not None:
                self.get(op.response_range)
            else:
                self.quoted("Unknown", repr(op))

    def member_list(self, resp: m.MemberListResponse) -> None:
        self.header(resp.header)
        for member in resp.members:
            self.field("ID", member.id)
            self.quoted("Name", member.name)
            for url in member.peer_urls:
                self.quoted("PeerURL", url)
            for url in member.client_urls:
                self.quoted("ClientURL", url)
            self.field("IsLearner", member.is_learner)
            self.line()

    def endpoint_health(self, healths) -> None:
        for h in healths:
            self.quoted("Endpoint", h.endpoint)
            self.field("Health", h.health)
            self.field("Took", h.took)
            self.field("Error", h.error)
            self.line()

    def endpoint_status(self, statuses) -> None:
        for s in statuses:
            r = s.status
            self.header(r.header)
            self.quoted("Version", r.version)
            self.field("DBSize", r.db_size)
            self.field("Leader", r.leader)
            self.field("IsLearner", r.is_learner)
            self.field("RaftIndex", r.raft_index)
            self.field("RaftTerm", r.raft_term)
            self.field("RaftAppliedIndex", r.raft_applied_index)
            self.field("Errors", r.errors)
            self.quoted("Endpoint", s.endpoint)
            self.line()

    def watch(self, resp) -> None:
        self.header(resp.header)
        for event in resp.events or ():
            self.field("Type", m.EventType(event.type).name)
            if event.prev_kv is not None:
                self.kv("Prev", event.prev_kv)
            self.kv("", event.kv)

    def grant(self, resp: m.LeaseGrantResponse) -> None:
        self.header(resp.header)
        self.field("ID", resp.id)
        self.field("TTL", resp.ttl)

    def revoke(self, lease_id: int, resp: m.LeaseRevokeResponse) -> None:
        self.header(resp.header)

    def keep_alive(self, resp: m.LeaseKeepAliveResponse) -> None:
        self.grant(resp)

    def time_to_live(self, resp: m.LeaseTimeToLiveResponse, keys: bool) -> None:
        self.header(resp.header)
        self.field("ID", resp.id)
        self.field("TTL", resp.ttl)
        self.field("GrantedTTL", resp.granted_ttl)
        for key in resp.keys:
            self.quoted("Key", key)

    def leases(self, resp: m.LeaseLeasesResponse) -> None:
        self.header(resp.header)
        for lease in resp.leases:
            self.field("ID", lease.id)

    def alarm(self, resp: m.AlarmResponse) -> None:
        if resp.header is None:
            # etcdctl 3.4 reads the header without checking it is there,
            # and etcd sends none.
            self.err.write(NIL_POINTER_PANIC.encode())
            raise CommandError(GO_PANIC_EXIT, None)
        self.header(resp.header)
        for alarm in resp.alarms:
            self.field("MemberID", alarm.member_id)
            self.field("AlarmType", m.AlarmType(alarm.alarm).name)
            self.line()
