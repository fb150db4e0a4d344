"""``-w simple``: etcdctl's default, plain lines."""

from __future__ import annotations

from cairn.client import messages as m

from .printer import Printer, alarm_text, endpoint_status_rows, member_list_rows


def hex_escaped(data: bytes) -> bytes:
    """--hex: every byte as \\xNN."""
    return "".join(f"\\x{b:02x}" for b in data).encode("ascii")


class SimplePrinter(Printer):
    format_name = "simple"

    def __init__(self, out, err, is_hex=False):
        super().__init__(out, err, is_hex)
        # --print-value-only
        self.value_only = False

    def kv(self, kv: m.KeyValue) -> None:
        key, value = kv.key, kv.value
        if self.is_hex:
            key, value = hex_escaped(key), hex_escaped(value)
        if not self.value_only:
            self.line(key)
        self.line(value)

    def get(self, resp: m.RangeResponse) -> None:
        for kv in resp.kvs:
            self.kv(kv)

    def put(self, resp: m.PutResponse) -> None:
        self.line("OK")
        if resp.prev_kv is not None:
            self.kv(resp.prev_kv)

    def delete(self, resp: m.DeleteRangeResponse) -> None:
        self.line(str(resp.deleted))
        for kv in resp.prev_kvs:
            self.kv(kv)

    def txn(self, resp: m.TxnResponse) -> None:
        self.line("SUCCESS" if resp.succeeded else "FAILURE")
        for op in resp.responses:
            self.line()
            if op.response_delete_range is not None:
                self.delete(op.response_delete_range)
            elif op.response_put is not None:
                self.put(op.response_put)
            elif op.response_range is not None:
                self.get(op.response_range)
            else:
                self.line(f"unexpected response {op!r}")

    def member_list(self, resp: m.MemberListResponse) -> None:
        for row in member_list_rows(resp)[1]:
            self.line(", ".join(row))

    # Go's %16x: IDs padded to 16 columns with spaces, not zeros.

    def member_add(self, resp: m.MemberAddResponse) -> None:
        self.line(f"Member {resp.member.id:16x} added to cluster {resp.header.cluster_id:16x}")

    def member_remove(self, member_id: int, resp: m.MemberRemoveResponse) -> None:
        self.line(f"Member {member_id:16x} removed from cluster {resp.header.cluster_id:16x}")

    def member_update(self, member_id: int, resp: m.MemberUpdateResponse) -> None:
        self.line(f"Member {member_id:16x} updated in cluster {resp.header.cluster_id:16x}")

    def member_promote(self, member_id: int, resp: m.MemberPromoteResponse) -> None:
        self.line(f"Member {member_id:16x} promoted in cluster {resp.header.cluster_id:16x}")

    def move_leader(self, leader_id: int, target_id: int, resp: m.MoveLeaderResponse) -> None:
        self.line(f"Leadership transferred from {leader_id:x} to {target_id:x}")

    def endpoint_health(self, healths) -> None:
        # etcdctl reports health on stderr in this format.
        for h in healths:
            if not h.error:
                text = (f"{h.endpoint} is healthy: successfully committed "
                        f"proposal: took = {h.took}\n")
            else:
                text = f"{h.endpoint} is unhealthy: failed to commit proposal: {h.error}\n"
            self.err.write(text.encode("utf-8", "surrogateescape"))

    def endpoint_status(self, statuses) -> None:
        for row in endpoint_status_rows(statuses)[1]:
            self.line(", ".join(row))

    def watch(self, resp) -> None:
        for event in resp.events or ():
            self.line(m.EventType(event.type).name)
            if event.prev_kv is not None:
                self.kv(event.prev_kv)
            self.kv(event.kv)

    def grant(self, resp: m.LeaseGrantResponse) -> None:
        self.line(f"lease {resp.id:016x} granted with TTL({resp.ttl}s)")

    def revoke(self, lease_id: int, resp: m.LeaseRevokeResponse) -> None:
        self.line(f"lease {lease_id:016x} revoked")

    def keep_alive(self, resp: m.LeaseKeepAliveResponse) -> None:
        self.line(f"lease {resp.id:016x} keepalived with TTL({resp.ttl})")

    def time_to_live(self, resp: m.LeaseTimeToLiveResponse, keys: bool) -> None:
        if resp.granted_ttl == 0 and resp.ttl == -1:
            self.line(f"lease {resp.id:016x} already expired")
            return
        text = (f"lease {resp.id:016x} granted with TTL({resp.granted_ttl}s), "
                f"remaining({resp.ttl}s)").encode()
        if keys:
            # Go's %v of a []string: the raw keys, space separated.
            text += b", attached keys([" + b" ".join(resp.keys) + b"])"
        self.line(text)

    def leases(self, resp: m.LeaseLeasesResponse) -> None:
        self.line(f"found {len(resp.leases)} leases")
        for lease in resp.leases:
            self.line(f"{lease.id:016x}")

    def alarm(self, resp: m.AlarmResponse) -> None:
        for alarm in resp.alarms:
            self.line(alarm_text(alarm))
