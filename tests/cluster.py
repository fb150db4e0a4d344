"""A cluster of real cairn processes on loopback for tests: N members on
free ports, started with etcd's bootstrap flags, each stopped by its pid."""

import json
import os
import sys
import time

from tests.servers import ROOT, Server, free_port, wait_until

FAST_TIMING = ("--heartbeat-interval", "50", "--election-timeout", "500")


class Cluster:
    def __init__(self, tmp_dir, size, token="cairn-test", extra=FAST_TIMING, prefix="m"):
        self.tmp_dir = str(tmp_dir)
        self.token = token
        self.extra = tuple(extra)
        self.members = []
        ports = [(free_port(), free_port()) for _ in range(size)]
        self.initial = ",".join("%s%d=http://127.0.0.1:%d" % (prefix, i, peer) for i, (_, peer) in enumerate(ports))
        for i, (client, peer) in enumerate(ports):
            self.members.append(self._server("%s%d" % (prefix, i), client, peer, self.initial, "new"))

    def _server(self, name, client, peer, initial, state, data_dir=None):
        data_dir = data_dir or os.path.join(self.tmp_dir, "%s.cairn" % name)
        argv = [
            sys.executable, "-m", "cairn", "serve", "--name", name, "--data-dir", data_dir,
            "--listen-client-urls", "http://127.0.0.1:%d" % client,
            "--advertise-client-urls", "http://127.0.0.1:%d" % client,
            "--listen-peer-urls", "http://127.0.0.1:%d" % peer,
            "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % peer,
            "--initial-cluster", initial,
            "--initial-cluster-state", state,
            "--initial-cluster-token", self.token,
            *self.extra,
        ]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.path.join(ROOT, "src") + os.pathsep + env.get("PYTHONPATH", "")
        server = Server(argv, client, data_dir, env, name)
        server.peer_port = peer
        server.peer_url = "http://127.0.0.1:%d" % peer
        return server

    def new_member(self, name, initial):
        """A server for a member to be added (--initial-cluster-state existing)."""
        client, peer = free_port(), free_port()
        server = self._server(name, client, peer, initial, "existing")
        return server

    def start(self, timeout=60.0):
        """Launches every member and waits until each is healthy; on failure
        the members already launched are stopped (by pid) before raising."""
        try:
            for m in self.members:
                launch(m)
            for m in self.members:
                wait_healthy(m, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        for m in self.members:
            try:
                m.stop()
            except Exception:
                pass

    def running(self):
        return [m for m in self.members if m.proc is not None and m.proc.poll() is None]

    def status(self, member):
        status, body = member.call("/v3/maintenance/status", {})
        assert status == 200, (status, body)
        return body

    def leader(self, timeout=30.0):
        """The member every running member names as leader."""
        def agreed():
            ids = set()
            for m in self.running():
                ids.add(self.status(m).get("leader"))
            if len(ids) != 1 or None in ids:
                return None
            (leader_id,) = ids
            for m in self.running():
                if self.status(m)["header"]["member_id"] == leader_id:
                    return m
            return None

        return wait_until(agreed, timeout, what="one leader named by every running member")


def launch(server):
    server._log = open(server.log_path, "ab")
    import subprocess

    server.proc = subprocess.Popen(server.argv, stdout=server._log, stderr=subprocess.STDOUT, env=server.env,
                                   cwd=ROOT)
    return server


def wait_healthy(server, timeout=60.0):
    wait_until(server._healthy, timeout, what="%s to be healthy on %s" % (server.name, server.url))
    return server


def put(member, key, value, timeout=10.0):
    """(status, body) of a gateway put."""
    from tests.servers import b64

    status, data = member.request("POST", "/v3/kv/put", {"key": b64(key), "value": b64(value)}, timeout=timeout)
    return status, json.loads(data) if data else None


def range_all(member, serializable=True, revision=0):
    from tests.servers import b64

    body = {"key": b64("\0"), "range_end": b64("\0"), "serializable": serializable}
    if revision:
        body["revision"] = str(revision)
    status, obj = member.call("/v3/kv/range", body)
    assert status == 200, (status, obj)
    return obj


def elapsed_since(start):
    return time.monotonic() - start


def reconfigure(member, path, body, timeout=30.0):
    """POSTs a member add or remove as an etcd user has to: etcd refuses a
    change as "unhealthy cluster" until the voters have been connected for
    5 s (strict reconfiguration), so that answer is retried."""
    done = {}

    def accepted():
        status, obj = member.call(path, body)
        if status == 503 and obj.get("message") == "etcdserver: unhealthy cluster":
            return False
        assert status == 200, (path, body, status, obj)
        done["response"] = obj
        return True

    wait_until(accepted, timeout, interval=0.2, what="the cluster to accept %s" % path)
    return done["response"]
