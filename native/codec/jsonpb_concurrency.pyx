# The gateway JSON of the Lock and Election messages, as etcd 3.4.23's gateway
# prints and reads them (general rules in jsonpb.pyx): bytes `name`, `key`,
# `value` in base64, int64 `rev` and `lease` as strings, zero values left out.


cdef dict _leader_key_json(LeaderKey leader):
    cdef dict d = {}
    if leader.name:
        d["name"] = b64(leader.name)
    if leader.key:
        d["key"] = b64(leader.key)
    if leader.rev:
        d["rev"] = str(leader.rev)
    if leader.lease:
        d["lease"] = str(leader.lease)
    return d


def _lock_json(LockResponse m, dict d):
    if m.key:
        d["key"] = b64(m.key)


def _campaign_json(CampaignResponse m, dict d):
    if m.leader is not None:
        d["leader"] = _leader_key_json(m.leader)


def _leader_json(LeaderResponse m, dict d):
    if m.kv is not None:
        d["kv"] = kv_json(m.kv)


_RESPONSE_JSON_FILLERS.update({
    LockResponse: _lock_json,
    UnlockResponse: _header_only_json,
    CampaignResponse: _campaign_json,
    ProclaimResponse: _header_only_json,
    LeaderResponse: _leader_json,
    ResignResponse: _header_only_json,
})


register_json_spec(LockRequest, [_f("name", K_BYTES), _f("lease", K_INT64)])
register_json_spec(UnlockRequest, [_f("key", K_BYTES)])
register_json_spec(LeaderKey, [_f("name", K_BYTES), _f("key", K_BYTES), _f("rev", K_INT64), _f("lease", K_INT64)])
register_json_spec(CampaignRequest, [_f("name", K_BYTES), _f("lease", K_INT64), _f("value", K_BYTES)])
register_json_spec(ProclaimRequest, [_f("leader", K_MSG, LeaderKey), _f("value", K_BYTES)])
register_json_spec(LeaderRequest, [_f("name", K_BYTES)])
register_json_spec(ResignRequest, [_f("leader", K_MSG, LeaderKey)])
