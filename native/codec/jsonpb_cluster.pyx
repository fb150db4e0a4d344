# The gateway JSON of the Cluster messages and of Hash, HashKV, MoveLeader and
# Snapshot, as etcd 3.4.23's gateway prints and reads them (see jsonpb.pyx
# for the general rules).  Observed on the real thing: uint32 `hash` is a JSON
# number (only 64-bit integers are quoted); the proto names `compact_revision`
# and `remaining_bytes` are printed as written; a member's `isLearner` only
# when true; MoveLeader answers `{}` (its header is never filled).


cdef void _members_json(list members, dict d):
    if members:
        d["members"] = [_member_json(member) for member in members]


def _member_add_json(MemberAddResponse m, dict d):
    if m.member is not None:
        d["member"] = _member_json(m.member)
    _members_json(m.members, d)


def _members_response_json(MembersResponse m, dict d):
    _members_json(m.members, d)


def _hash_json(HashResponse m, dict d):
    if m.hash:
        d["hash"] = m.hash


def _hash_kv_json(HashKVResponse m, dict d):
    if m.hash:
        d["hash"] = m.hash
    if m.compact_revision:
        d["compact_revision"] = str(m.compact_revision)


def _header_only_json(ProtoMessage m, dict d):
    pass


def _snapshot_json(SnapshotResponse m, dict d):
    if m.remaining_bytes:
        d["remaining_bytes"] = str(m.remaining_bytes)
    if m.blob:
        d["blob"] = b64(m.blob)


_RESPONSE_JSON_FILLERS.update({
    MemberAddResponse: _member_add_json,
    MemberRemoveResponse: _members_response_json,
    MemberUpdateResponse: _members_response_json,
    MemberPromoteResponse: _members_response_json,
    HashResponse: _hash_json,
    HashKVResponse: _hash_kv_json,
    MoveLeaderResponse: _header_only_json,
    SnapshotResponse: _snapshot_json,
})


# 3.4's MemberListRequest has no fields, so its gateway ignores a
# `linearizable` member whatever it holds ({"linearizable":"x"} is answered
# normally); cairn's gateway does the same.
register_json_spec(MemberListRequest, [])
register_json_spec(MemberAddRequest, [_f("peerURLs", K_REPEATED_STRING), _f("isLearner", K_BOOL)])
register_json_spec(MemberRemoveRequest, [_f("ID", K_UINT64)])
register_json_spec(MemberUpdateRequest, [_f("ID", K_UINT64), _f("peerURLs", K_REPEATED_STRING)])
register_json_spec(MemberPromoteRequest, [_f("ID", K_UINT64)])
register_json_spec(HashRequest, [])
# unreachable through 3.4's gateway (its path collides with Hash's); 3.5
# serves it at /v3/maintenance/hashkv
register_json_spec(HashKVRequest, [_f("revision", K_INT64)])
register_json_spec(MoveLeaderRequest, [_f("targetID", K_UINT64)])
register_json_spec(SnapshotRequest, [])
