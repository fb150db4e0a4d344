"""A real etcd for tests: started on free loopback ports in a temp dir,
spoken to through its v3 JSON gateway, stopped by pid.

Requests and responses travel as cairn._codec messages; to_json/from_json
translate them to and from the gateway's JSON (proto field names, bytes as
base64, int64 as strings, zero values left out).
"""
import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

from cairn._codec import (
    CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse,
    KeyValue, PutRequest, PutResponse, RangeRequest, RangeResponse, ResponseHeader,
    TxnRequest, TxnResponse,
)

ETCD = shutil.which("etcd")  # Debian etcd-server; the model tests skip without it

_PATHS = {RangeRequest: "/v3/kv/range", PutRequest: "/v3/kv/put",
          DeleteRangeRequest: "/v3/kv/deleterange", TxnRequest: "/v3/kv/txn",
          CompactionRequest: "/v3/kv/compaction"}
_RESPONSES = {RangeRequest: RangeResponse, PutRequest: PutResponse,
              DeleteRangeRequest: DeleteRangeResponse, TxnRequest: TxnResponse,
              CompactionRequest: CompactionResponse}
_OP_NAMES = {RangeRequest: "range", PutRequest: "put", DeleteRangeRequest: "delete_range",
             TxnRequest: "txn"}
_UNION = {4: "version", 5: "create_revision", 6: "mod_revision", 7: "value", 8: "lease"}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _b64(b):
    return base64.b64encode(b).decode()


def to_json(m):
    """A request message as the gateway's JSON object."""
    if isinstance(m, TxnRequest):
        def op(o):
            return {} if o is None else {"request_" + _OP_NAMES[type(o)]: to_json(o)}
        return {"compare": [to_json(c) for c in m.compare],
                "success": [op(o) for o in m.success], "failure": [op(o) for o in m.failure]}
    out = {}
    for name in type(m)._fields:
        if name == "union_field":
            if m.union_field == 7:
                out["value"] = _b64(m.value)
            elif m.union_field in _UNION:
                out[_UNION[m.union_field]] = str(m.number)
            continue
        if name in ("number", "value") and hasattr(m, "union_field"):
            continue
        v = getattr(m, name)
        out[name] = _b64(v) if isinstance(v, bytes) else v
    return out


def _kv(d):
    return KeyValue(key=base64.b64decode(d.get("key", "")), value=base64.b64decode(d.get("value", "")),
                    create_revision=int(d.get("create_revision", 0)),
                    mod_revision=int(d.get("mod_revision", 0)),
                    version=int(d.get("version", 0)), lease=int(d.get("lease", 0)))


def from_json(cls, d):
    """A response message from the gateway's JSON; cluster_id, member_id and
    raft_term are dropped (they are the server's, not the store's)."""
    m = cls()
    if "header" in d:
        m.header = ResponseHeader(revision=int(d["header"].get("revision", 0)))
    if cls is RangeResponse:
        m.kvs = [_kv(kv) for kv in d.get("kvs", [])]
        m.more = d.get("more", False)
        m.count = int(d.get("count", 0))
    elif cls is PutResponse:
        if "prev_kv" in d:
            m.prev_kv = _kv(d["prev_kv"])
    elif cls is DeleteRangeResponse:
        m.deleted = int(d.get("deleted", 0))
        m.prev_kvs = [_kv(kv) for kv in d.get("prev_kvs", [])]
    elif cls is TxnResponse:
        m.succeeded = d.get("succeeded", False)
        for op in d.get("responses", []):
            if not op:
                m.responses.append(None)
                continue
            (name, body), = op.items()
            sub = {"response_range": RangeResponse, "response_put": PutResponse,
                   "response_delete_range": DeleteRangeResponse, "response_txn": TxnResponse}[name]
            m.responses.append(from_json(sub, body))
    return m


class EtcdProcess:
    """One etcd member.  By default a new one-member cluster; with `join`
    (the initial cluster's other members, "name=peerURL,...") and `peer_port`
    a member joining an existing cluster after a member add."""

    def __init__(self, *flags, name="model", peer_port=None, join=None):
        self.dir = tempfile.mkdtemp(prefix="cairn-etcd-")
        self.client_port, peer_port = _free_port(), peer_port or _free_port()
        client = "http://127.0.0.1:%d" % self.client_port
        peer = "http://127.0.0.1:%d" % peer_port
        cluster = ["--initial-cluster", "%s=%s" % (name, peer)]
        if join:
            cluster = ["--initial-cluster", "%s,%s=%s" % (join, name, peer), "--initial-cluster-state", "existing"]
        self.log = open(os.path.join(self.dir, "etcd.log"), "wb")
        self.proc = subprocess.Popen(
            [ETCD, "--name", name, "--data-dir", os.path.join(self.dir, "data"),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             *cluster, *flags],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.conn = None
        # a learner serves serializable ranges only
        self._ready_request = {"key": _b64(b"ready"), "serializable": bool(join)}
        try:
            self._wait_ready(deadline=time.monotonic() + 30)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, deadline):
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("etcd exited with %s; log in %s" % (self.proc.returncode, self.dir))
            try:
                status, _ = self._post("/v3/kv/range", self._ready_request)
                if status == 200:
                    return
            except OSError:
                self.conn = None
            if time.monotonic() > deadline:
                raise TimeoutError("etcd did not answer within the deadline")
            time.sleep(0.05)  # poll interval while waiting on the condition above

    def _post(self, path, body):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.client_port, timeout=10)
        self.conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        return r.status, json.loads(r.read())

    def call(self, request):
        """The response message, or ("error", code, message) for an etcd error."""
        status, d = self._post(_PATHS[type(request)], to_json(request))
        if "error" in d or "code" in d:
            return ("error", d.get("code"), d.get("message"))
        return from_json(_RESPONSES[type(request)], d)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.conn is not None:
            self.conn.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
