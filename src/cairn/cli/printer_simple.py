"""``-w simple``: etcdctl's default, plain lines."""

from __future__ import annotations

from cairn.client import messages as m

from .printer import Printer, endpoint_status_rows, member_list_rows


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
