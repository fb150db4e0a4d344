"""Clusters for the membership tests, and how their outputs are compared.

``start_cluster`` runs etcd (or cairn, which takes etcd's flags) as a
cluster of named members on free loopback ports.  The cluster token is
chosen so that the first member's ID and the cluster ID are both below
2**60: their hex forms then have fewer than 16 digits, and etcdctl's
``%16x`` pads them with spaces, which the comparisons must reproduce.
(IDs are derived as etcd derives them: SHA-1 of the sorted peer URLs and
the token for a member, of the sorted member IDs for the cluster.)

Both sides of a comparison run against the same cluster, one after the
other, so a member each side adds has its own ID and peer URL; ``IdSubs``
turns each side's values into placeholders before outputs are compared,
and ``decode_protobuf`` reads ``-w protobuf`` output into fields so IDs
can be replaced there too (their varint lengths may differ).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

from .etcdctl_twins import ETCD, ROOT, Etcd, free_port, wait_until

CAIRN_SERVE = [sys.executable, "-m", "cairn", "serve"]


def _sha_id(data: bytes) -> int:
    return int.from_bytes(hashlib.sha1(data).digest()[:8], "big")


def derived_ids(peer_urls: list[str], token: str) -> tuple[list[int], int]:
    members = [_sha_id((url + token).encode()) for url in peer_urls]
    cluster = _sha_id(b"".join(i.to_bytes(8, "big") for i in sorted(members)))
    return members, cluster


def padded_token(peer_urls: list[str]) -> str:
    """A cluster token under which the first member's ID and the cluster
    ID each have a leading zero hex digit."""
    n = 0
    while True:
        token = f"cairn-{n}"
        members, cluster = derived_ids(peer_urls, token)
        if members[0] < 1 << 60 and cluster < 1 << 60:
            return token
        n += 1


@dataclass
class Cluster:
    members: list[Etcd]
    names: list[str]
    peer_urls: list[str]
    token: str
    extra: list[Etcd] = field(default_factory=list)

    @property
    def endpoints(self) -> list[str]:
        return [m.endpoint for m in self.members]

    def stop(self) -> None:
        for member in self.members + self.extra:
            member.stop()


def _launch(command, root: str, name: str, client_port: int, peer_port: int,
            initial_cluster: str, token: str, state: str, extra: tuple = ()) -> Etcd:
    data_dir = os.path.join(root, f"{name}.data")
    log_path = os.path.join(root, f"{name}.log")
    client_url = f"http://127.0.0.1:{client_port}"
    peer_url = f"http://127.0.0.1:{peer_port}"
    argv = [*command, "--name", name, "--data-dir", data_dir,
            "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", initial_cluster, "--initial-cluster-token", token,
            "--initial-cluster-state", state, *extra]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(ROOT, "src"),
                                                      env.get("PYTHONPATH")]))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL)
    return Etcd(proc, client_port, log_path)


def server_command(kind: str) -> list[str]:
    return [ETCD] if kind == "etcd" else CAIRN_SERVE


def start_cluster(kind: str, root: str, size: int, extra: tuple = ()) -> Cluster:
    """``extra``: more flags for every member (etcd's, which cairn takes)."""
    names = [f"m{i + 1}" for i in range(size)]
    ports = [(free_port(), free_port()) for _ in names]
    peer_urls = [f"http://127.0.0.1:{peer}" for _, peer in ports]
    token = padded_token(peer_urls)
    initial = ",".join(f"{n}={u}" for n, u in zip(names, peer_urls))
    cluster = Cluster([], names, peer_urls, token)
    try:
        for name, (client, peer) in zip(names, ports):
            cluster.members.append(_launch(server_command(kind), root, name, client, peer,
                                           initial, token, "new", extra))
        for member in cluster.members:
            wait_until(member.healthy, 30, f"{kind} member on {member.endpoint}")
    except BaseException:
        cluster.stop()
        raise
    return cluster


def join_member(kind: str, root: str, cluster: Cluster, name: str, peer_port: int,
                initial_cluster: str) -> Etcd:
    """Start a member the cluster was told about (``member add``)."""
    member = _launch(server_command(kind), root, name, free_port(), peer_port,
                     initial_cluster, cluster.token, "existing")
    cluster.extra.append(member)
    wait_until(member.healthy, 30, f"{kind} member {name} on {member.endpoint}")
    return member


# -- comparing outputs ------------------------------------------------------------

class IdSubs(dict):
    """Placeholder name -> this side's text, for cli_diff's substitution:
    each ID as ``%16x``, bare hex and decimal, each URL as itself."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.id_names: dict[int, str] = {}

    def add_id(self, name: str, member_id: int, padded: bool = True) -> IdSubs:
        """``padded``: the ID is printed as ``%16x`` (whose leading spaces
        the placeholder takes in)."""
        if padded:
            self[name + "16x"] = f"{member_id:16x}"
        self[name + "x"] = f"{member_id:x}"
        self[name + "d"] = str(member_id)
        self.id_names[member_id] = name
        return self

    def ids(self) -> dict[int, str]:
        return dict(self.id_names)


# Field number -> nested schema (None: a scalar or string).
_MEMBER = {}
_HEADER = {}
_MEMBERS_RESPONSE = {1: _HEADER, 2: _MEMBER}
_MEMBER_ADD_RESPONSE = {1: _HEADER, 2: _MEMBER, 3: _MEMBER}
SCHEMAS = {"members": _MEMBERS_RESPONSE, "member_add": _MEMBER_ADD_RESPONSE,
           "move_leader": {1: _HEADER}}


def decode_protobuf(data: bytes, schema: dict, subs: IdSubs) -> list:
    """(field, value) pairs, repeated fields sorted; varints that are IDs
    in ``subs`` become their placeholder names, strings have ``subs``
    replaced, and messages in ``schema`` are decoded in turn."""
    ids = subs.ids()
    out, i = [], 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, i = _read_varint(data, i)
            out.append((number, ids.get(value, value)))
        elif wire_type == 2:
            length, i = _read_varint(data, i)
            chunk = data[i:i + length]
            i += length
            nested = schema.get(number)
            if nested is not None:
                out.append((number, decode_protobuf(chunk, nested, subs)))
            else:
                out.append((number, _replace(chunk.decode(errors="replace"), subs)))
        else:
            raise AssertionError(f"unexpected wire type {wire_type} in {data!r}")
    return sorted(out, key=repr)


def _replace(text: str, subs: IdSubs) -> str:
    for name, value in subs.items():
        text = text.replace(value, "{" + name + "}")
    return text


def canonical_json(text: bytes, subs: IdSubs):
    """A ``-w json`` line with IDs and ``subs`` replaced and member lists
    sorted (the server orders members by ID, and each side's new member
    has its own)."""
    ids = subs.ids()

    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return sorted((walk(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        if isinstance(value, int) and not isinstance(value, bool) and value in ids:
            return "{" + ids[value] + "}"
        if isinstance(value, str):
            return _replace(value, subs)
        return value
    return walk(json.loads(text))


def canonical_simple(text: bytes, subs: IdSubs) -> str:
    """Simple output with ``subs`` replaced and ETCD_INITIAL_CLUSTER's
    entries sorted (they follow the server's order of member IDs)."""
    lines = _replace(text.decode(), subs).split("\n")
    for n, line in enumerate(lines):
        name, _, value = line.partition("=")
        if name == "ETCD_INITIAL_CLUSTER":
            lines[n] = name + '="' + ",".join(sorted(value.strip('"').split(","))) + '"'
    return "\n".join(lines)


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i
