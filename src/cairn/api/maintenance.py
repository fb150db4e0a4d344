"""The gateway's Maintenance and Cluster services: status, alarms,
defragment, member list."""

import asyncio
import time

from cairn import ETCD_API_VERSION
from cairn._codec import (
    ALARM_GET,
    AlarmRequest,
    AlarmResponse,
    DefragmentRequest,
    DefragmentResponse,
    EtcdError,
    JsonError,
    MemberListResponse,
    ResponseHeader,
    StatusResponse,
)

from .service import GatewayService


class Maintenance(GatewayService):
    service = "etcdserverpb.Maintenance"

    def __init__(self, server):
        super().__init__(server)
        self.routes = {
            b"/v3/maintenance/status": self.status,
            b"/v3/maintenance/alarm": self.alarm,
            b"/v3/maintenance/defragment": self.defragment,
        }

    def status(self, request):
        started = time.perf_counter()
        server = self.server
        response = StatusResponse(
            header=ResponseHeader(revision=self.store.current_revision),
            version=ETCD_API_VERSION,
            dbSize=server.environment.size_bytes(),
            leader=self.node.leader_id,
            raftIndex=self.node.commit_index,
            raftTerm=self.node.term,
            raftAppliedIndex=server.applier.applied_index,
            dbSizeInUse=server.environment.size_in_use_bytes(),
        )
        return self._ok(response, "Status", started)

    def alarm(self, request):
        """GET lists the alarms; ACTIVATE and DEACTIVATE go through Raft."""
        started = time.perf_counter()
        try:
            req = self.decode(AlarmRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Alarm", started)
        if req.action == ALARM_GET:
            return self._ok(AlarmResponse(alarms=self.server.alarms.list()), "Alarm", started, header=False)
        return self.node.propose(req), lambda f: self._finish("Alarm", started, f, header=False)

    def defragment(self, request):
        started = time.perf_counter()
        try:
            self.decode(DefragmentRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "Defragment", started)
        task = asyncio.ensure_future(self.server.defragment())
        return task, lambda f: self._defragmented(started, f)

    def _defragmented(self, started, task):
        exc = task.exception()
        if exc is not None:
            if isinstance(exc, EtcdError):
                return self._error(exc, "Defragment", started)
            raise exc
        return self._ok(DefragmentResponse(), "Defragment", started, header=False)


class Cluster(GatewayService):
    service = "etcdserverpb.Cluster"

    def __init__(self, server):
        super().__init__(server)
        self.routes = {b"/v3/cluster/member/list": self.member_list}

    def member_list(self, request):
        started = time.perf_counter()
        response = MemberListResponse(header=ResponseHeader(), members=self.server.members())
        return self._ok(response, "MemberList", started)
