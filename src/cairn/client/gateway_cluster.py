"""Membership changes and leadership transfer in the gateway's JSON form.

Paths are etcd 3.4's: ``/v3/cluster/member/add|remove|update|promote`` and,
for Maintenance.MoveLeader, ``/v3/maintenance/transfer-leadership``.  Field
names are the proto's (``peerURLs``, ``isLearner``, ``ID``, ``targetID``);
uint64 IDs travel as decimal strings.  None of these requests may be sent
twice: each one changes the cluster.
"""

from __future__ import annotations

from typing import Any

from . import messages as m
from .gateway import Route, decode_header, decode_member


def encode_member_add(r: m.MemberAddRequest) -> dict:
    d: dict[str, Any] = {}
    if r.peer_urls:
        d["peerURLs"] = list(r.peer_urls)
    if r.is_learner:
        d["isLearner"] = True
    return d


def encode_member_id(r) -> dict:
    """MemberRemoveRequest and MemberPromoteRequest: only the ID."""
    return {"ID": str(r.id)} if r.id else {}


def encode_member_update(r: m.MemberUpdateRequest) -> dict:
    d = encode_member_id(r)
    if r.peer_urls:
        d["peerURLs"] = list(r.peer_urls)
    return d


def encode_move_leader(r: m.MoveLeaderRequest) -> dict:
    return {"targetID": str(r.target_id)} if r.target_id else {}


def _members(d: dict) -> list[m.Member]:
    return [decode_member(x) for x in d.get("members") or ()]


def decode_member_add(d: dict) -> m.MemberAddResponse:
    return m.MemberAddResponse(header=decode_header(d.get("header")),
                               member=decode_member(d.get("member") or {}),
                               members=_members(d))


def decode_member_remove(d: dict) -> m.MemberRemoveResponse:
    return m.MemberRemoveResponse(header=decode_header(d.get("header")), members=_members(d))


def decode_member_update(d: dict) -> m.MemberUpdateResponse:
    return m.MemberUpdateResponse(header=decode_header(d.get("header")), members=_members(d))


def decode_member_promote(d: dict) -> m.MemberPromoteResponse:
    return m.MemberPromoteResponse(header=decode_header(d.get("header")), members=_members(d))


def decode_move_leader(d: dict) -> m.MoveLeaderResponse:
    header = d.get("header")
    return m.MoveLeaderResponse(header=decode_header(header) if header is not None else None)


CLUSTER_ROUTES = {
    "Cluster.MemberAdd": Route("POST", "/v3/cluster/member/add", encode_member_add,
                               decode_member_add, False),
    "Cluster.MemberRemove": Route("POST", "/v3/cluster/member/remove", encode_member_id,
                                  decode_member_remove, False),
    "Cluster.MemberUpdate": Route("POST", "/v3/cluster/member/update", encode_member_update,
                                  decode_member_update, False),
    "Cluster.MemberPromote": Route("POST", "/v3/cluster/member/promote", encode_member_id,
                                   decode_member_promote, False),
    "Maintenance.MoveLeader": Route("POST", "/v3/maintenance/transfer-leadership",
                                    encode_move_leader, decode_move_leader, False),
}
