"""The etcdctl matrix: the same etcdctl 3.4 command lines run against an
etcd 3.4 cluster (the reference) and a cairn cluster of the same size, and
their outputs compared after ``etcdctl_output`` has put placeholders where
the servers' own values stand.

Each side is a fresh cluster (``member_cluster.start_cluster``: members
named m1.., IDs derived from the peer URLs); the sides start together and
are shared by a test module.  Both run every command of a test in the same
order, each command on both sides at once, so they hold the same keys at
the same revisions.  Arguments may name a side's values: ``{ep1}``,
``{id2:x}`` (member m2's ID in hex), ``{lease1:x}``, ``{dir}`` (a
directory of the side's own), ``{rev+3}`` (the revision the side had when
the test began, plus 3).

``CAIRN_MATRIX_SUT=etcd`` runs etcd on both sides: two etcds must agree on
everything compared, which proves the normalisation keeps nothing that
depends on the server instance.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
from dataclasses import dataclass, field

from cairn.client import Client

from .cli_diff import Result, Running
from .etcdctl_output import RANGE, Names, View, agreed_hash, decode_protobuf, perf_verdict
from .etcdctl_twins import ETCDCTL, base_env, wait_until
from .member_cluster import Cluster, start_cluster

REFERENCE = "etcd"
SUT = os.environ.get("CAIRN_MATRIX_SUT", "cairn")
COMMAND_TIMEOUT_S = 60.0
# A file to append each compared command and its normalised output to.
TRANSCRIPT = os.environ.get("CAIRN_MATRIX_TRANSCRIPT")

# A lease ID as etcdctl prints it on grant (%016x, or decimal in json and
# fields), and inside the key of a lock or an election (name/%x).
_GRANTED_LEASE = re.compile(rb'^lease ([0-9a-f]{16}) granted|"ID" ?: ?(\d+)', re.M)
_SESSION_LEASE = re.compile(rb'/([0-9a-f]{1,16})$|"[Ll]ease" ?: ?(\d+)', re.M)
_ADDED_MEMBER = re.compile(rb'^Member +([0-9a-f]+) added|"member":\{"ID":(\d+)', re.M)
_REVISION_ARG = re.compile(r"\{rev([+-]\d+)?\}")


@dataclass
class Side:
    kind: str
    cluster: Cluster
    root: str
    names: Names
    base: int = 0
    named: dict = field(default_factory=dict)   # prefix -> how many IDs named

    @property
    def endpoints(self) -> list[str]:
        return self.cluster.endpoints

    def expand(self, arg):
        if isinstance(arg, bytes):
            return self.expand(arg.decode()).encode()
        arg = _REVISION_ARG.sub(lambda m: str(self.base + int(m.group(1) or 0)), arg)
        return self.names.expand(arg)

    def client(self) -> Client:
        return Client(list(self.endpoints))

    def current_revision(self) -> int:
        with self.client() as client:
            return client.get("matrix-probe").header.revision

    def learn_ids(self, data: bytes, fmt: str, command: tuple) -> None:
        """Names the IDs of leases (lease1..) and of added members (new1..)
        in the order this side first printed them."""
        if command == ("member", "add"):
            self._name("new", _printed_ids(_ADDED_MEMBER, data))
        elif command == ("lease", "grant"):
            self._name("lease", _printed_ids(_GRANTED_LEASE, data))
        elif command[:1] in (("lock",), ("elect",)) and fmt == "protobuf":
            kvs = decode_protobuf(data, RANGE).get("kvs", []) if data else []
            self._name("lease", [kv["lease"] for kv in kvs if "lease" in kv])
        elif command[:1] in (("lock",), ("elect",)):
            self._name("lease", _printed_ids(_SESSION_LEASE, data))

    def _name(self, prefix: str, ids: list[int]) -> None:
        for value in ids:
            if value not in self.names.ids:
                self.named[prefix] = self.named.get(prefix, 0) + 1
                self.names.add_id(f"{prefix}{self.named[prefix]}", value)

    def last(self, prefix: str) -> str:
        return f"{prefix}{self.named.get(prefix, 0)}"


def _printed_ids(pattern, data: bytes) -> list[int]:
    """IDs matched in hex (group 1) or decimal (group 2)."""
    return [int(m.group(1), 16) if m.group(1) else int(m.group(2))
            for m in pattern.finditer(data)]


def start_side(kind: str, root: str, size: int, extra: tuple = ()) -> Side:
    os.makedirs(root, exist_ok=True)
    cluster = start_cluster(kind, root, size, extra)
    try:
        members = published_members(cluster, size)
    except BaseException:
        cluster.stop()
        raise
    names = Names()
    for member in members.members:
        names.add_id("id" + member.name.lstrip("m"), member.id)
    names.add_id("cluster", members.header.cluster_id)
    for n, (endpoint, peer) in enumerate(zip(cluster.endpoints, cluster.peer_urls), 1):
        names.add_text(f"ep{n}", endpoint).add_text(f"peer{n}", peer)
    names.add_text("dir", root)
    return Side(kind, cluster, root, names)


def published_members(cluster: Cluster, size: int):
    """The member list once every member has published its name and client
    URLs.  (etcd serves clients only after its own member has; cairn
    answers before, and lists members that have not yet as "unstarted".)"""
    found = {}

    def published() -> bool:
        with Client(list(cluster.endpoints)) as client:
            found["list"] = client.member_list()
        members = found["list"].members
        return len(members) == size and all(m.name and m.client_urls for m in members)
    wait_until(published, 30, "every member to publish its name and client URLs")
    return found["list"]


@dataclass
class Outcome:
    """One command's raw results: the reference's and the SUT's."""
    ref: Result
    sut: Result


class Matrix:
    def __init__(self, ref: Side, sut: Side):
        self.ref, self.sut = ref, sut

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.ref, self.sut)

    def stop(self) -> None:
        for side in self.sides:
            side.cluster.stop()

    def begin(self) -> Matrix:
        """Revisions in outputs count from here."""
        for side in self.sides:
            side.base = side.current_revision()
        return self

    def argv(self, side: Side, args, endpoints: str) -> list:
        return [ETCDCTL, "--endpoints=" + side.expand(endpoints)] + [side.expand(a) for a in args]

    def run(self, *args, stdin: bytes = b"", endpoints: str = "{ep1}", env=None,
            remaining: bool = False, lines: str = "exact", hashes: bool = False,
            timeout: float = COMMAND_TIMEOUT_S) -> Outcome:
        """Run the command on both sides at once and require the same
        normalised code, stdout and stderr.  ``remaining``: the output holds
        a lease's remaining TTL; ``lines``: "sorted" where the line order
        follows the sides' IDs, "distinct" where how often a line repeats
        depends on timing, "verdict" for check perf's verdict lines alone;
        ``hashes``: KV hashes are compared only among a side's members
        (cairn's are not etcd's)."""
        procs = []
        for side in self.sides:
            procs.append(subprocess.Popen(
                self.argv(side, args, endpoints), stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env(side, env)))
        results = []
        for side, proc in zip(self.sides, procs):
            try:
                out, err = proc.communicate(side.expand(stdin), timeout=timeout)
            except subprocess.TimeoutExpired:
                for p in procs:
                    p.kill()
                    p.wait()
                raise AssertionError(f"etcdctl {args} did not finish on {side.kind}")
            results.append(Result(proc.returncode, out, err))
        outcome = Outcome(*results)
        self.assert_same(args, outcome, remaining=remaining, lines=lines, hashes=hashes)
        return outcome

    def run_on(self, side: Side, *args, endpoints: str = "{ep1}") -> Result:
        """One side alone, compared with nothing: for waiting on a state."""
        p = subprocess.run(self.argv(side, args, endpoints), capture_output=True,
                           env=self.env(side), timeout=COMMAND_TIMEOUT_S)
        return Result(p.returncode, p.stdout, p.stderr)

    def env(self, side: Side, extra: dict | None = None) -> dict:
        env = base_env()
        env.update({k: side.expand(v) for k, v in (extra or {}).items()})
        return env

    def view(self, side: Side, args, result: Result, remaining=False, lines="exact",
             hashes=False):
        fmt, command = output_format(args)
        side.learn_ids(result.out, fmt, command)
        view = View(side.names, side.base, remaining=remaining)
        out, err = view.output(result.out, fmt, command), view.errors(result.err)
        if lines == "sorted":   # (health reports go to stderr)
            out, err = in_any_order(out, fmt), in_any_order(err, "simple")
        elif lines == "verdict":
            out = perf_verdict(out)
        elif lines == "distinct":
            out = "\n".join(sorted(set(out.split("\n"))))
        if hashes:
            out = agreed_hash(out)
        return result.code, out, err

    def assert_same(self, args, outcome: Outcome, remaining=False, lines="exact",
                    hashes=False) -> None:
        want = self.view(self.ref, args, outcome.ref, remaining, lines, hashes)
        got = self.view(self.sut, args, outcome.sut, remaining, lines, hashes)
        if TRANSCRIPT:
            with open(TRANSCRIPT, "a") as f:
                f.write(f"$ etcdctl {' '.join(map(repr, args))}\n[{want[0]}] {want[1]!r}\n"
                        f"    {want[2]!r}\n" + ("" if want == got else f"!! {got!r}\n"))
        if want != got:
            raise AssertionError(
                f"etcdctl {' '.join(map(str, args))}: {self.sut.kind} differs from etcd\n"
                f"  etcd : code={want[0]}\n    out={want[1]!r}\n    err={want[2]!r}\n"
                f"  {self.sut.kind}: code={got[0]}\n    out={got[1]!r}\n    err={got[2]!r}\n"
                f"  raw etcd : {outcome.ref}\n  raw {self.sut.kind}: {outcome.sut}")

    def last(self, prefix: str) -> str:
        """The name of the ID (lease, new member) both sides learned last,
        for arguments as ``{name:x}``."""
        names = {side.last(prefix) for side in self.sides}
        assert len(names) == 1, (self.ref.names.ids, self.sut.names.ids)
        return names.pop()

    def spawn(self, *args, endpoints: str = "{ep1}", env=None) -> Spawned:
        return Spawned(self, args, endpoints, env)


class Spawned:
    """One command running in the background on both sides (output
    collected by reader threads); always ended by ``kill`` in a finally."""

    def __init__(self, matrix: Matrix, args, endpoints: str, env):
        self.matrix, self.args = matrix, args
        self.running: list[Running] = []
        try:
            for side in matrix.sides:
                self.running.append(Running(matrix.argv(side, args, endpoints),
                                            matrix.env(side, env)))
        except BaseException:
            self.kill()
            raise

    @property
    def pid(self) -> tuple[int, ...]:
        return tuple(r.proc.pid for r in self.running)

    def wait_for(self, predicate, what: str, timeout: float = 15.0) -> None:
        """Until ``predicate(running)`` holds on both sides."""
        for running in self.running:
            running.wait_for(predicate, what, timeout)

    def write(self, data: bytes) -> None:
        for side, running in zip(self.matrix.sides, self.running):
            running.write(side.expand(data))

    def close_stdin(self) -> None:
        for running in self.running:
            running.close_stdin()

    def stop(self, sig=signal.SIGINT, lines="exact") -> Outcome:
        """Signal both (by pid), collect everything and compare."""
        outcome = Outcome(*(r.stop(sig) for r in self.running))
        self.matrix.assert_same(self.args, outcome, lines=lines)
        return outcome

    def finish(self, lines="exact") -> Outcome:
        """Wait for both to exit on their own and compare."""
        outcome = Outcome(*(r.finish() for r in self.running))
        self.matrix.assert_same(self.args, outcome, lines=lines)
        return outcome

    def kill(self) -> None:
        for running in self.running:
            running.kill()


def in_any_order(out: str, fmt: str) -> str:
    """The output with the order of its entries (a member's line, block
    or array element) taken out."""
    if fmt == "fields":   # entries: blocks, or a member's lines from its "ID" on
        return "\n\n".join(sorted(re.split(r'\n\n|\n(?="ID" : )', out)))
    if fmt == "json":
        def unordered(value):
            if isinstance(value, dict):
                return {k: unordered(v) for k, v in value.items()}
            if isinstance(value, list):
                return sorted((unordered(v) for v in value), key=json.dumps)
            return value
        return "\n".join(json.dumps(unordered(json.loads(line)), separators=(",", ":"))
                         if line.startswith(("[", "{")) else line for line in out.split("\n"))
    return "\n".join(sorted(out.split("\n")))


def output_format(args) -> tuple[str, tuple]:
    """(the -w format, the command words) of an etcdctl argument list."""
    fmt, words, i = "simple", [], 0
    args = [a for a in args if isinstance(a, str)]
    while i < len(args):
        arg = args[i]
        if arg in ("-w", "--write-out"):
            fmt, i = args[i + 1], i + 2
            continue
        if arg.startswith(("-w=", "--write-out=")):
            fmt = arg.split("=", 1)[1]
        elif not arg.startswith("-") and len(words) < 2:
            words.append(arg)
        i += 1
    return fmt, tuple(words)


def start_matrix(tmp_path_factory, size: int, extra: tuple = ()):
    """A generator for a module fixture: the two sides, started together
    (``extra``: more server flags)."""
    root = str(tmp_path_factory.mktemp(f"matrix{size}"))
    sides: dict[str, Side] = {}
    failures: list[BaseException] = []

    def start(label: str, kind: str):
        try:
            sides[label] = start_side(kind, os.path.join(root, label), size, extra)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(label, kind))
               for label, kind in (("ref", REFERENCE), ("sut", SUT))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        if failures:
            raise failures[0]
        matrix = Matrix(sides["ref"], sides["sut"])
        yield matrix
    finally:
        for side in sides.values():
            side.cluster.stop()
