"""etcd messages in the grpc-gateway's JSON form (etcd 3.4, ``/v3/...``).

The gateway marshals protobuf with the proto field names, int64/uint64 as
decimal strings, bytes as standard base64, enums by name, and zero values
left out; it accepts the same on input.  Requests are written that way here
(only non-default fields), responses are read back into ``messages``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Callable

from . import messages as m

_b64encode = base64.b64encode
_b64decode = base64.b64decode


def _b64(data: bytes) -> str:
    return _b64encode(data).decode("ascii")


def _bytes(text: str | None) -> bytes:
    return _b64decode(text) if text else b""


def _int(value: Any) -> int:
    # int64 arrive as strings; numbers are accepted as well.
    return int(value) if value else 0


# -- requests -----------------------------------------------------------------

def encode_range(r: m.RangeRequest) -> dict:
    d: dict[str, Any] = {"key": _b64(r.key)}
    if r.range_end:
        d["range_end"] = _b64(r.range_end)
    if r.limit:
        d["limit"] = str(r.limit)
    if r.revision:
        d["revision"] = str(r.revision)
    if r.sort_order:
        d["sort_order"] = m.SortOrder(r.sort_order).name
    if r.sort_target:
        d["sort_target"] = m.SortTarget(r.sort_target).name
    if r.serializable:
        d["serializable"] = True
    if r.keys_only:
        d["keys_only"] = True
    if r.count_only:
        d["count_only"] = True
    for name in ("min_mod_revision", "max_mod_revision",
                 "min_create_revision", "max_create_revision"):
        value = getattr(r, name)
        if value:
            d[name] = str(value)
    return d


def encode_put(r: m.PutRequest) -> dict:
    d: dict[str, Any] = {"key": _b64(r.key)}
    if r.value:
        d["value"] = _b64(r.value)
    if r.lease:
        d["lease"] = str(r.lease)
    if r.prev_kv:
        d["prev_kv"] = True
    if r.ignore_value:
        d["ignore_value"] = True
    if r.ignore_lease:
        d["ignore_lease"] = True
    return d


def encode_delete_range(r: m.DeleteRangeRequest) -> dict:
    d: dict[str, Any] = {"key": _b64(r.key)}
    if r.range_end:
        d["range_end"] = _b64(r.range_end)
    if r.prev_kv:
        d["prev_kv"] = True
    return d


# Compare's operand is a proto oneof, so it is written even when zero.
_COMPARE_OPERAND_FIELD = {
    m.CompareTarget.VERSION: "version",
    m.CompareTarget.CREATE: "create_revision",
    m.CompareTarget.MOD: "mod_revision",
    m.CompareTarget.VALUE: "value",
    m.CompareTarget.LEASE: "lease",
}


def encode_compare(c: m.Compare) -> dict:
    target = m.CompareTarget(c.target)
    d: dict[str, Any] = {
        "result": m.CompareResult(c.result).name,
        "target": target.name,
        "key": _b64(c.key),
    }
    if target is m.CompareTarget.VALUE:
        d["value"] = _b64(c.operand)
    else:
        d[_COMPARE_OPERAND_FIELD[target]] = str(c.operand)
    if c.range_end:
        d["range_end"] = _b64(c.range_end)
    return d


def encode_request_op(op) -> dict:
    if isinstance(op, m.RangeRequest):
        return {"request_range": encode_range(op)}
    if isinstance(op, m.PutRequest):
        return {"request_put": encode_put(op)}
    if isinstance(op, m.DeleteRangeRequest):
        return {"request_delete_range": encode_delete_range(op)}
    if isinstance(op, m.TxnRequest):
        return {"request_txn": encode_txn(op)}
    raise TypeError(f"not a txn operation: {op!r}")


def encode_txn(r: m.TxnRequest) -> dict:
    d: dict[str, Any] = {}
    if r.compare:
        d["compare"] = [encode_compare(c) for c in r.compare]
    if r.success:
        d["success"] = [encode_request_op(op) for op in r.success]
    if r.failure:
        d["failure"] = [encode_request_op(op) for op in r.failure]
    return d


def encode_compaction(r: m.CompactionRequest) -> dict:
    d: dict[str, Any] = {}
    if r.revision:
        d["revision"] = str(r.revision)
    if r.physical:
        d["physical"] = True
    return d


def encode_empty(_r) -> dict:
    return {}


def encode_lease_grant(r: m.LeaseGrantRequest) -> dict:
    d: dict[str, Any] = {}
    if r.ttl:
        d["TTL"] = str(r.ttl)
    if r.id:
        d["ID"] = str(r.id)
    return d


def encode_lease_id(r) -> dict:
    """LeaseRevokeRequest and LeaseKeepAliveRequest: only the ID."""
    return {"ID": str(r.id)} if r.id else {}


def encode_lease_time_to_live(r: m.LeaseTimeToLiveRequest) -> dict:
    d = encode_lease_id(r)
    if r.keys:
        d["keys"] = True
    return d


def encode_alarm(r: m.AlarmRequest) -> dict:
    d: dict[str, Any] = {}
    if r.action:
        d["action"] = m.AlarmAction(r.action).name
    if r.member_id:
        d["memberID"] = str(r.member_id)
    if r.alarm:
        d["alarm"] = m.AlarmType(r.alarm).name
    return d


# -- responses ----------------------------------------------------------------

def decode_header(d: dict | None) -> m.ResponseHeader:
    if not d:
        return m.ResponseHeader()
    return m.ResponseHeader(
        cluster_id=_int(d.get("cluster_id")),
        member_id=_int(d.get("member_id")),
        revision=_int(d.get("revision")),
        raft_term=_int(d.get("raft_term")),
    )


def decode_kv(d: dict) -> m.KeyValue:
    return m.KeyValue(
        key=_bytes(d.get("key")),
        create_revision=_int(d.get("create_revision")),
        mod_revision=_int(d.get("mod_revision")),
        version=_int(d.get("version")),
        value=_bytes(d.get("value")),
        lease=_int(d.get("lease")),
    )


def decode_range(d: dict) -> m.RangeResponse:
    return m.RangeResponse(
        header=decode_header(d.get("header")),
        kvs=[decode_kv(kv) for kv in d.get("kvs") or ()],
        more=bool(d.get("more")),
        count=_int(d.get("count")),
    )


def decode_put(d: dict) -> m.PutResponse:
    prev = d.get("prev_kv")
    return m.PutResponse(
        header=decode_header(d.get("header")),
        prev_kv=decode_kv(prev) if prev is not None else None,
    )


def decode_delete_range(d: dict) -> m.DeleteRangeResponse:
    return m.DeleteRangeResponse(
        header=decode_header(d.get("header")),
        deleted=_int(d.get("deleted")),
        prev_kvs=[decode_kv(kv) for kv in d.get("prev_kvs") or ()],
    )


def decode_response_op(d: dict) -> m.ResponseOp:
    if "response_range" in d:
        return m.ResponseOp(response_range=decode_range(d["response_range"]))
    if "response_put" in d:
        return m.ResponseOp(response_put=decode_put(d["response_put"]))
    if "response_delete_range" in d:
        return m.ResponseOp(
            response_delete_range=decode_delete_range(d["response_delete_range"]))
    if "response_txn" in d:
        return m.ResponseOp(response_txn=decode_txn(d["response_txn"]))
    return m.ResponseOp()


def decode_txn(d: dict) -> m.TxnResponse:
    return m.TxnResponse(
        header=decode_header(d.get("header")),
        succeeded=bool(d.get("succeeded")),
        responses=[decode_response_op(r) for r in d.get("responses") or ()],
    )


def decode_compaction(d: dict) -> m.CompactionResponse:
    return m.CompactionResponse(header=decode_header(d.get("header")))


def decode_status(d: dict) -> m.StatusResponse:
    return m.StatusResponse(
        header=decode_header(d.get("header")),
        version=d.get("version") or "",
        db_size=_int(d.get("dbSize")),
        leader=_int(d.get("leader")),
        raft_index=_int(d.get("raftIndex")),
        raft_term=_int(d.get("raftTerm")),
        raft_applied_index=_int(d.get("raftAppliedIndex")),
        errors=list(d.get("errors") or ()),
        db_size_in_use=_int(d.get("dbSizeInUse")),
        is_learner=bool(d.get("isLearner")),
    )


def decode_member(d: dict) -> m.Member:
    return m.Member(
        id=_int(d.get("ID")),
        name=d.get("name") or "",
        peer_urls=list(d.get("peerURLs") or ()),
        client_urls=list(d.get("clientURLs") or ()),
        is_learner=bool(d.get("isLearner")),
    )


def decode_member_list(d: dict) -> m.MemberListResponse:
    return m.MemberListResponse(
        header=decode_header(d.get("header")),
        members=[decode_member(x) for x in d.get("members") or ()],
    )


def decode_lease_grant(d: dict) -> m.LeaseGrantResponse:
    return m.LeaseGrantResponse(header=decode_header(d.get("header")),
                                id=_int(d.get("ID")), ttl=_int(d.get("TTL")),
                                error=d.get("error") or "")


def decode_lease_revoke(d: dict) -> m.LeaseRevokeResponse:
    return m.LeaseRevokeResponse(header=decode_header(d.get("header")))


def decode_lease_time_to_live(d: dict) -> m.LeaseTimeToLiveResponse:
    return m.LeaseTimeToLiveResponse(
        header=decode_header(d.get("header")),
        id=_int(d.get("ID")),
        ttl=_int(d.get("TTL")),
        granted_ttl=_int(d.get("grantedTTL")),
        keys=[_bytes(k) for k in d.get("keys") or ()],
    )


def decode_lease_leases(d: dict) -> m.LeaseLeasesResponse:
    return m.LeaseLeasesResponse(
        header=decode_header(d.get("header")),
        leases=[m.LeaseStatus(id=_int(x.get("ID"))) for x in d.get("leases") or ()],
    )


def decode_lease_keep_alive(d: dict) -> m.LeaseKeepAliveResponse:
    return m.LeaseKeepAliveResponse(header=decode_header(d.get("header")),
                                    id=_int(d.get("ID")), ttl=_int(d.get("TTL")))


def _enum(cls, value):
    """An enum field: by name (as the gateway writes it) or by number."""
    if not value:
        return cls(0)
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        return cls[value]
    return cls(int(value))


def decode_alarm(d: dict) -> m.AlarmResponse:
    header = d.get("header")
    return m.AlarmResponse(
        header=decode_header(header) if header is not None else None,
        alarms=[m.AlarmMember(member_id=_int(a.get("memberID")),
                              alarm=_enum(m.AlarmType, a.get("alarm")))
                for a in d.get("alarms") or ()],
    )


def decode_defragment(d: dict) -> m.DefragmentResponse:
    header = d.get("header")
    return m.DefragmentResponse(header=decode_header(header) if header is not None else None)


def decode_health(d: dict) -> m.HealthResponse:
    # etcd writes the flag as the string "true"; accept a JSON bool too.
    health = d.get("health")
    return m.HealthResponse(health=health is True or health == "true",
                            reason=d.get("reason") or "")


def decode_version(d: dict) -> m.VersionResponse:
    return m.VersionResponse(etcdserver=d.get("etcdserver") or "",
                             etcdcluster=d.get("etcdcluster") or "")


# -- routes -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Route:
    """Where one RPC lives on the gateway and how its bodies are written.

    ``read_only`` RPCs may be sent again when a connection broke after the
    request went out; others never are (a Put must not apply twice).
    ``decode_error_status`` says whether a non-200 answer still carries a
    response (``/health`` answers 503 with ``{"health":"false"}``)."""
    http_method: str
    path: str
    encode: Callable[[Any], dict] | None
    decode: Callable[[dict], Any]
    read_only: bool
    decode_error_status: Callable[[dict], bool] | None = None


# Keyed by the RPC's gRPC service and method name.
ROUTES = {
    "KV.Range": Route("POST", "/v3/kv/range", encode_range, decode_range, True),
    "KV.Put": Route("POST", "/v3/kv/put", encode_put, decode_put, False),
    "KV.DeleteRange": Route("POST", "/v3/kv/deleterange", encode_delete_range,
                            decode_delete_range, False),
    "KV.Txn": Route("POST", "/v3/kv/txn", encode_txn, decode_txn, False),
    "KV.Compact": Route("POST", "/v3/kv/compaction", encode_compaction,
                        decode_compaction, False),
    "Maintenance.Status": Route("POST", "/v3/maintenance/status", encode_empty,
                                decode_status, True),
    "Cluster.MemberList": Route("POST", "/v3/cluster/member/list", encode_empty,
                                decode_member_list, True),
    "Lease.LeaseGrant": Route("POST", "/v3/lease/grant", encode_lease_grant,
                              decode_lease_grant, False),
    "Lease.LeaseRevoke": Route("POST", "/v3/lease/revoke", encode_lease_id,
                               decode_lease_revoke, False),
    "Lease.LeaseTimeToLive": Route("POST", "/v3/lease/timetolive",
                                   encode_lease_time_to_live,
                                   decode_lease_time_to_live, True),
    "Lease.LeaseLeases": Route("POST", "/v3/lease/leases", encode_empty,
                               decode_lease_leases, True),
    # An alarm request may deactivate alarms, so it is never sent twice.
    "Maintenance.Alarm": Route("POST", "/v3/maintenance/alarm", encode_alarm,
                               decode_alarm, False),
    "Maintenance.Defragment": Route("POST", "/v3/maintenance/defragment", encode_empty,
                                    decode_defragment, False),
    # Plain HTTP endpoints beside the gateway; they take no request body.
    "Health": Route("GET", "/health", None, decode_health, True,
                    lambda document: "health" in document),
    "Version": Route("GET", "/version", None, decode_version, True),
}
