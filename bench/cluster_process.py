"""A cluster of etcd-compatible server processes under benchmark, used
where the single-process ServerProcess is: the load goes to the leader's
client port; CPU and memory are summed over every member."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from server_process import ServerProcess


@dataclass
class MemberProcess(ServerProcess):
    name: str = "default"
    initial_cluster: str = ""

    def argv(self) -> list[str]:
        argv = super().argv()
        argv[argv.index("--name") + 1] = self.name
        argv[argv.index("--initial-cluster") + 1] = self.initial_cluster
        return argv + ["--initial-cluster-token", "bench-" + self.label.split("/")[0],
                       "--initial-cluster-state", "new"]


@dataclass
class ClusterProcess:
    label: str
    members: list[MemberProcess] = field(default_factory=list)
    leader: MemberProcess | None = None

    @classmethod
    def build(cls, label: str, command: list[str], root: Path, quota: int, ports: list[int]) -> "ClusterProcess":
        size = len(ports) // 2
        initial = ",".join(f"m{i}=http://127.0.0.1:{ports[2 * i + 1]}" for i in range(size))
        members = []
        for i in range(size):
            (root / f"m{i}").mkdir(parents=True)
            members.append(MemberProcess(f"{label}/m{i}", command, root / f"m{i}" / "data",
                                         root / f"m{i}.log", quota, ports[2 * i], ports[2 * i + 1],
                                         name=f"m{i}", initial_cluster=initial))
        return cls(label, members)

    @property
    def client_port(self) -> int:
        return self.leader.client_port

    @property
    def client_url(self) -> str:
        return self.leader.client_url

    def argv(self) -> list[list[str]]:
        return [m.argv() for m in self.members]

    def start(self, env: dict[str, str]) -> None:
        for m in self.members:
            m.start(env)

    def wait_healthy(self, timeout: float) -> None:
        for m in self.members:
            m.wait_healthy(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leaders, ids = set(), {}
            for m in self.members:
                status = _status(m.client_port)
                leaders.add(status.get("leader"))
                ids[status["header"]["member_id"]] = m
            if len(leaders) == 1 and None not in leaders and next(iter(leaders)) in ids:
                self.leader = ids[next(iter(leaders))]
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.label}: no agreed leader after {timeout}s")

    def memory_kib(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for m in self.members:
            for k, v in m.memory_kib().items():
                totals[k] = totals.get(k, 0) + v
        return totals

    def cpu_seconds(self) -> float:
        return sum(m.cpu_seconds() for m in self.members)

    def stop(self, timeout: float = 10.0) -> None:
        for m in self.members:
            m.stop(timeout)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(m.log_tail(lines) for m in self.members)


def _status(port: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/v3/maintenance/status", body=b"{}")
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()
