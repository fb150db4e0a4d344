"""The gateway's Cluster service: member list, add, remove, update and
promote.  Changes are checked against the member table here (etcd's
answers for an unknown or existing member, used URLs, a quorum the change
would lose) and again when applied; they go through Raft one at a time."""

import os
import time

from cairn._codec import (
    CONF_CHANGE_ADD_LEARNER_NODE,
    CONF_CHANGE_ADD_NODE,
    CONF_CHANGE_REMOVE_NODE,
    CONF_CHANGE_UPDATE_NODE,
    ConfChange,
    EtcdError,
    ErrLearnerNotReady,
    ErrMemberNotEnoughStarted,
    ErrTooManyLearners,
    ErrUnhealthy,
    JsonError,
    Member,
    MemberAddRequest,
    MemberAddResponse,
    MemberListRequest,
    MemberListResponse,
    MemberPromoteRequest,
    MemberPromoteResponse,
    MemberRemoveRequest,
    MemberRemoveResponse,
    MemberUpdateRequest,
    MemberUpdateResponse,
    ResponseHeader,
)

from cairn.cluster.membership import check_peer_urls, stored_peer_urls

from .service import UNARY, GatewayService, begin

MAX_LEARNERS = 1  # etcd 3.4's limit
# etcd's HealthInterval: a peer counts as connected once its stream has been up this long
HEALTH_INTERVAL = 5.0
# a learner is ready for promotion once its log is this close to the leader's
LEARNER_READY_FRACTION = 0.9


class Cluster(GatewayService):
    service = "etcdserverpb.Cluster"

    def __init__(self, server):
        super().__init__(server)
        self.routes = {
            b"/v3/cluster/member/list": self.member_list,
            b"/v3/cluster/member/add": self.member_add,
            b"/v3/cluster/member/remove": self.member_remove,
            b"/v3/cluster/member/update": self.member_update,
            b"/v3/cluster/member/promote": self.member_promote,
        }
        self.methods = {
            "MemberAdd": (MemberAddRequest, self.member_add, UNARY),
            "MemberRemove": (MemberRemoveRequest, self.member_remove, UNARY),
            "MemberUpdate": (MemberUpdateRequest, self.member_update, UNARY),
            "MemberList": (MemberListRequest, self.member_list, UNARY),
            "MemberPromote": (MemberPromoteRequest, self.member_promote, UNARY),
        }

    @property
    def membership(self):
        return self.server.peers.membership

    def member_list(self, request):
        started = begin(request)
        try:
            self.decode(MemberListRequest, request)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "MemberList", started)
        response = MemberListResponse(header=ResponseHeader(), members=self.server.members())
        return self._ok(response, "MemberList", started)

    def member_add(self, request):
        started = begin(request)
        try:
            req = self.decode(MemberAddRequest, request)
            member_id = _new_member_id(self.membership)
            urls = stored_peer_urls(req.peerURLs)
            check_peer_urls(urls)  # etcd's order: the URLs, the cluster's health, then (at apply) the change
            self._check_add(req.isLearner)
            self.membership.check_add(member_id, urls)
            if req.isLearner and sum(1 for m in self.membership.list() if m.isLearner) >= MAX_LEARNERS:
                raise ErrTooManyLearners()
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "MemberAdd", started)
        member = Member(ID=member_id, peerURLs=urls, isLearner=req.isLearner)
        kind = CONF_CHANGE_ADD_LEARNER_NODE if req.isLearner else CONF_CHANGE_ADD_NODE
        future = self.node.propose_conf_change(ConfChange(kind, member_id, member.encode()))
        return future, lambda f: self._answer(MemberAddResponse, "MemberAdd", started, f, member=member)

    def member_remove(self, request):
        started = begin(request)
        try:
            req = self.decode(MemberRemoveRequest, request)
            self.membership.check_remove(req.ID)
            if not self.membership.get(req.ID).isLearner:
                self._check_remove(req.ID)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "MemberRemove", started)
        future = self.node.propose_conf_change(ConfChange(CONF_CHANGE_REMOVE_NODE, req.ID))
        return future, lambda f: self._answer(MemberRemoveResponse, "MemberRemove", started, f)

    def member_update(self, request):
        started = begin(request)
        try:
            req = self.decode(MemberUpdateRequest, request)
            urls = list(req.peerURLs)
            self.membership.check_update(req.ID, urls)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "MemberUpdate", started)
        context = Member(ID=req.ID, peerURLs=urls).encode()
        future = self.node.propose_conf_change(ConfChange(CONF_CHANGE_UPDATE_NODE, req.ID, context))
        return future, lambda f: self._answer(MemberUpdateResponse, "MemberUpdate", started, f)

    def member_promote(self, request):
        started = begin(request)
        try:
            req = self.decode(MemberPromoteRequest, request)
            self.membership.check_promote(req.ID)
            self._check_learner_ready(req.ID)
        except (JsonError, EtcdError) as exc:
            return self._error(exc, "MemberPromote", started)
        current = self.membership.get(req.ID)
        context = Member(ID=req.ID, peerURLs=list(current.peerURLs)).encode()
        future = self.node.propose_conf_change(ConfChange(CONF_CHANGE_ADD_NODE, req.ID, context))
        return future, lambda f: self._answer(MemberPromoteResponse, "MemberPromote", started, f)

    # --- checks --------------------------------------------------------------

    def _started(self, member_id):
        """etcd's "started": the member has published its name."""
        member = self.membership.get(member_id)
        return member is not None and bool(member.name)

    def _connected(self, member_id, since):
        """etcd's isConnectedSince: this member, or a peer whose stream has
        been up since `since` (monotonic seconds)."""
        if member_id == self.server.member_id:
            return True
        up = self.server.peers.transport.peer_active_since(member_id)
        return up is not None and up <= since

    def _check_add(self, learner):
        """etcd 3.4's checks before adding a member: a new voter needs a
        quorum of started voters counting itself (but a second member may
        join a one-member cluster: the way to restore one from a backup), and
        every voter must have been connected for the last HEALTH_INTERVAL."""
        voters = [m.ID for m in self.membership.list() if not m.isLearner]
        started = sum(1 for v in voters if self._started(v))
        size = len(voters) + 1
        if not learner and not (started == 1 and size == 2) and started < size // 2 + 1:
            raise ErrMemberNotEnoughStarted()
        since = time.monotonic() - HEALTH_INTERVAL
        if not all(self._connected(v, since) for v in voters):
            raise ErrUnhealthy()

    def _check_remove(self, member_id):
        """etcd 3.4's checks before removing a voter: the voters left must
        have a started quorum, and removing a connected one must leave a
        quorum connected for the last HEALTH_INTERVAL."""
        voters = [m.ID for m in self.membership.list() if not m.isLearner]
        left = [v for v in voters if v != member_id]
        if sum(1 for v in left if self._started(v)) < len(left) // 2 + 1:
            raise ErrMemberNotEnoughStarted()
        if member_id != self.server.member_id and not self._connected(member_id, float("inf")):
            return  # a member that is down is not part of the active quorum
        since = time.monotonic() - HEALTH_INTERVAL
        active = sum(1 for v in voters if self._connected(v, since))
        if active - 1 < 1 + (len(voters) - 1) // 2:
            raise ErrUnhealthy()

    def _check_learner_ready(self, member_id):
        """Only the leader knows how far a learner's log is; elsewhere the
        apply-time check is all there is."""
        node = self.node
        if not node.is_leader:
            return
        status = node.raft.status()
        progress = status.get("progress", {}).get(member_id)
        if progress is None:
            raise ErrLearnerNotReady()
        if progress["match"] < status["commit"] * LEARNER_READY_FRACTION:
            raise ErrLearnerNotReady()

    def _answer(self, response_class, method, started, future, member=None):
        exc = future.exception()
        if exc is not None:
            return self._error(exc, method, started)
        response = response_class(header=ResponseHeader(), members=future.result())
        if member is not None:
            response.member = member
        return self._ok(response, method, started)


def _new_member_id(membership):
    while True:
        member_id = int.from_bytes(os.urandom(8), "big") & 0x7FFFFFFFFFFFFFFF
        if member_id and member_id not in membership.members and member_id not in membership.removed:
            return member_id
