"""Reads etcd's gateway JSON of the Cluster and Maintenance responses back
into cairn._codec messages, for tests.

Strict on purpose: a member the reader does not know, or a value of the
wrong JSON type (an int64 that is not a string, a uint32 that is not a
number), raises.  A test that decodes etcd's answer with it and prints the
message again with cairn's response_json gets etcd's JSON back only if both
agree with etcd on every name, type and omitted zero.
"""
import base64

from cairn._codec import (
    HashKVResponse, HashResponse, Member, MemberAddResponse, MemberListResponse,
    MemberPromoteResponse, MemberRemoveResponse, MemberUpdateResponse, MoveLeaderResponse,
    ResponseHeader, SnapshotResponse,
)


def _int64(value):
    if not isinstance(value, str):
        raise TypeError("64-bit integer not quoted: %r" % (value,))
    return int(value)


def _uint32(value):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("uint32 is not a JSON number: %r" % (value,))
    return value


def _true(value):
    if value is not True:
        raise TypeError("a bool is printed only when true: %r" % (value,))
    return True


def _strings(value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("not a string list: %r" % (value,))
    return list(value)


def _bytes(value):
    return base64.b64decode(value, validate=True)


def _fill(message, d, readers):
    for name, value in d.items():
        if name not in readers:
            raise KeyError("%s has no JSON member %r" % (type(message).__name__, name))
        setattr(message, name, readers[name](value))
    return message


def header_from_json(d):
    return _fill(ResponseHeader(), d, {"cluster_id": _int64, "member_id": _int64,
                                       "revision": _int64, "raft_term": _int64})


def member_from_json(d):
    return _fill(Member(), d, {"ID": _int64, "name": str, "peerURLs": _strings,
                               "clientURLs": _strings, "isLearner": _true})


def _members(value):
    return [member_from_json(m) for m in value]


_READERS = {
    MemberListResponse: {"members": _members},
    MemberAddResponse: {"member": member_from_json, "members": _members},
    MemberRemoveResponse: {"members": _members},
    MemberUpdateResponse: {"members": _members},
    MemberPromoteResponse: {"members": _members},
    HashResponse: {"hash": _uint32},
    HashKVResponse: {"hash": _uint32, "compact_revision": _int64},
    MoveLeaderResponse: {},
    SnapshotResponse: {"remaining_bytes": _int64, "blob": _bytes},
}


def response_from_json(cls, d):
    """The message of class `cls` that etcd's JSON object `d` spells."""
    readers = dict(_READERS[cls], header=header_from_json)
    return _fill(cls(), d, readers)
