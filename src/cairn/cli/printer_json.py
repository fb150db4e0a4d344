"""``-w json``: Go's encoding/json of etcd's response structs.

Field names and order are the Go structs' json tags, every field
``omitempty`` (zero values left out), int64s as JSON numbers, bytes as
base64 strings; a txn's responses keep Go's oneof wrapper
(``{"Response":{"ResponsePut":{...}}}``).
"""

from __future__ import annotations

import base64

from cairn.client import messages as m

from .gotext import json_dumps
from .printer import Printer


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _omit_empty(pairs) -> dict:
    return {k: v for k, v in pairs if v not in (0, "", False, None, [])}


def header_json(h: m.ResponseHeader) -> dict:
    return _omit_empty((("cluster_id", h.cluster_id), ("member_id", h.member_id),
                        ("revision", h.revision), ("raft_term", h.raft_term)))


def kv_json(kv: m.KeyValue) -> dict:
    return _omit_empty((
        ("key", _b64(kv.key) if kv.key else None),
        ("create_revision", kv.create_revision),
        ("mod_revision", kv.mod_revision),
        ("version", kv.version),
        ("value", _b64(kv.value) if kv.value else None),
        ("lease", kv.lease),
    ))


def range_json(r: m.RangeResponse) -> dict:
    return _omit_empty((("header", header_json(r.header)),
                        ("kvs", [kv_json(kv) for kv in r.kvs]),
                        ("more", r.more), ("count", r.count)))


def put_json(r: m.PutResponse) -> dict:
    return _omit_empty((("header", header_json(r.header)),
                        ("prev_kv", kv_json(r.prev_kv) if r.prev_kv else None)))


def delete_json(r: m.DeleteRangeResponse) -> dict:
    return _omit_empty((("header", header_json(r.header)), ("deleted", r.deleted),
                        ("prev_kvs", [kv_json(kv) for kv in r.prev_kvs])))


def response_op_json(op: m.ResponseOp) -> dict:
    if op.response_range is not None:
        inner = {"ResponseRange": range_json(op.response_range)}
    elif op.response_put is not None:
        inner = {"ResponsePut": put_json(op.response_put)}
    elif op.response_delete_range is not None:
        inner = {"ResponseDeleteRange": delete_json(op.response_delete_range)}
    elif op.response_txn is not None:
        inner = {"ResponseTxn": txn_json(op.response_txn)}
    else:
        inner = None
    return {"Response": inner}


def txn_json(r: m.TxnResponse) -> dict:
    return _omit_empty((("header", header_json(r.header)), ("succeeded", r.succeeded),
                        ("responses", [response_op_json(op) for op in r.responses])))


def status_json(r: m.StatusResponse) -> dict:
    return _omit_empty((
        ("header", header_json(r.header)), ("version", r.version),
        ("dbSize", r.db_size), ("leader", r.leader), ("raftIndex", r.raft_index),
        ("raftTerm", r.raft_term), ("raftAppliedIndex", r.raft_applied_index),
        ("errors", list(r.errors)), ("dbSizeInUse", r.db_size_in_use),
        ("isLearner", r.is_learner),
    ))


def member_json(mb: m.Member) -> dict:
    return _omit_empty((("ID", mb.id), ("name", mb.name),
                        ("peerURLs", list(mb.peer_urls)),
                        ("clientURLs", list(mb.client_urls)),
                        ("isLearner", mb.is_learner)))


def event_json(ev: m.Event) -> dict:
    d = _omit_empty((("type", int(ev.type)),))
    d["kv"] = kv_json(ev.kv)
    if ev.prev_kv is not None:
        d["prev_kv"] = kv_json(ev.prev_kv)
    return d


def watch_json(r) -> dict:
    """clientv3's WatchResponse: Go field names, no omitempty, Events null
    when the client made the response up."""
    return {"Header": header_json(r.header),
            "Events": None if r.events is None else [event_json(e) for e in r.events],
            "CompactRevision": r.compact_revision,
            "Canceled": r.canceled,
            "Created": r.created}


def alarm_json(r: m.AlarmResponse) -> dict:
    d = {}
    if r.header is not None:
        d["header"] = header_json(r.header)
    alarms = [_omit_empty((("memberID", a.member_id), ("alarm", int(a.alarm))))
              for a in r.alarms]
    if alarms:
        d["alarms"] = alarms
    return d


class JSONPrinter(Printer):
    format_name = "json"

    def dump(self, value) -> None:
        self.line(json_dumps(value))

    def get(self, resp):
        self.dump(range_json(resp))

    def put(self, resp):
        self.dump(put_json(resp))

    def delete(self, resp):
        self.dump(delete_json(resp))

    def txn(self, resp):
        self.dump(txn_json(resp))

    def _members(self, resp):
        self.dump(_omit_empty((("header", header_json(resp.header)),
                               ("members", [member_json(x) for x in resp.members]))))

    member_list = _members

    def member_add(self, resp):
        self.dump(_omit_empty((("header", header_json(resp.header)),
                               ("member", member_json(resp.member)),
                               ("members", [member_json(x) for x in resp.members]))))

    def member_remove(self, member_id, resp):
        self._members(resp)

    member_update = member_remove

    def move_leader(self, leader_id, target_id, resp):
        # etcd 3.4 sends no header: the response marshals as {}.
        self.dump({"header": header_json(resp.header)} if resp.header is not None else {})

    def endpoint_health(self, healths):
        rendered = []
        for h in healths:
            d = {"endpoint": h.endpoint, "health": h.health, "took": h.took}
            if h.error:
                d["error"] = h.error
            rendered.append(d)
        self.dump(rendered)

    def endpoint_status(self, statuses):
        self.dump([{"Endpoint": s.endpoint, "Status": status_json(s.status)}
                   for s in statuses])

    # clientv3's lease responses embed the header: its fields come first,
    # at the top level.

    def watch(self, resp):
        self.dump(watch_json(resp))

    def grant(self, resp):
        self.dump({**header_json(resp.header), "ID": resp.id, "TTL": resp.ttl,
                   "Error": resp.error})

    def revoke(self, lease_id, resp):
        self.dump({"header": header_json(resp.header)})

    def keep_alive(self, resp):
        self.dump({**header_json(resp.header), "ID": resp.id, "TTL": resp.ttl})

    def time_to_live(self, resp, keys):
        self.dump({**header_json(resp.header), "id": resp.id, "ttl": resp.ttl,
                   "granted-ttl": resp.granted_ttl,
                   "keys": [_b64(k) for k in resp.keys] if resp.keys else None})

    def leases(self, resp):
        self.dump({**header_json(resp.header),
                   "leases": [{"id": lease.id} for lease in resp.leases]})

    def alarm(self, resp):
        self.dump(alarm_json(resp))
