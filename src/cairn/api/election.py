"""etcd's Election service (v3electionpb.Election), over gRPC and the JSON
gateway (/v3/election/{campaign,proclaim,leader,observe,resign}), behaving
as etcd 3.4's v3election server (the recipe of clientv3/concurrency's
Election; shared steps in concurrency.py).

A campaigner's key is `<name>/<lease hex>` holding its value; the leader is
the campaigner whose key has the lowest create revision.  A LeaderKey
(name, key, rev = the key's create revision, lease) names one term of one
leader: Proclaim and Resign act only while that key still has that create
revision, so a leader whose key was deleted and put again lost its term.
"""

import asyncio

from cairn import _codec as codec
from cairn._codec import (
    CampaignRequest,
    CampaignResponse,
    DeleteRangeRequest,
    EtcdError,
    JsonError,
    LeaderKey,
    LeaderRequest,
    LeaderResponse,
    ProclaimRequest,
    ProclaimResponse,
    PutRequest,
    RangeRequest,
    ResignRequest,
    ResignResponse,
    ResponseHeader,
    TxnRequest,
)
from cairn._mvcc import EVENT_DELETE, EVENT_PUT
from cairn.keyspace import prefix_range_end

from .concurrency import (ONE_ANSWER_STREAM, ConcurrencyService, EventFeed, contender_key, created_at,
                          stop_with)
from .errors import gateway_error
from .grpc import SERVER_STREAM, UNARY
from .http import Response
from .service import check_receive_limit, decode_body
from .streams import GatewayStream, split_json_values, stream_header

# etcd's words (clientv3/concurrency, v3election); all reach clients as Unknown
NOT_LEADER = "election: not leader"
NO_LEADER = "election: no leader"
MISSING_LEADER_KEY = '"leader" field must be provided'


def resign_request(key: bytes, revision: int) -> TxnRequest:
    """Deletes the leader key of the term that began at `revision`, if it is still that term."""
    return TxnRequest(compare=[created_at(key, revision)], success=[DeleteRangeRequest(key=key)])


class Election(ConcurrencyService):
    service = "v3electionpb.Election"

    def __init__(self, server):
        super().__init__(server)
        self.routes = {
            b"/v3/election/campaign": self.campaign,
            b"/v3/election/proclaim": self.proclaim,
            b"/v3/election/leader": self.leader,
            b"/v3/election/resign": self.resign,
        }
        self.streams = {b"/v3/election/observe": lambda response: ObserveStream(self, response)}
        self.methods = {
            "Campaign": (CampaignRequest, self._serve_call("Campaign", self._campaign), ONE_ANSWER_STREAM),
            "Proclaim": (ProclaimRequest, self.proclaim, UNARY),
            "Leader": (LeaderRequest, self.leader, UNARY),
            "Observe": (LeaderRequest, self.observe_call, SERVER_STREAM),
            "Resign": (ResignRequest, self.resign, UNARY),
        }

    def campaign(self, request):
        return self._serve("Campaign", request, CampaignRequest, self._campaign)

    def proclaim(self, request):
        return self._serve("Proclaim", request, ProclaimRequest, self._proclaim)

    def leader(self, request):
        return self._serve("Leader", request, LeaderRequest, self._leader)

    def resign(self, request):
        return self._serve("Resign", request, ResignRequest, self._resign)

    # --- unary calls ------------------------------------------------------------

    async def _campaign(self, req: CampaignRequest):
        """Answers once this campaigner leads, with the header of its first
        write (as etcd does, however long it waited)."""
        lease_id = await self.session_lease(req.lease)
        key = contender_key(req.name, lease_id)
        txn = TxnRequest(compare=[created_at(key, 0)],
                         success=[PutRequest(key=key, value=req.value, lease=lease_id)],
                         failure=[RangeRequest(key=key)])
        response = await self.commit_or_undo(
            txn, lambda r: resign_request(key, r.header.revision) if r.succeeded else None, "a campaign")
        revision = response.header.revision
        if not response.succeeded:
            # the lease campaigns already: this is its term, with the new value
            kv = response.responses[0].kvs[0]
            revision = kv.create_revision
            if kv.value != req.value:
                try:
                    await self._proclaim_value(key, revision, lease_id, req.value)
                except BaseException:
                    self.clean_up(resign_request(key, revision), "a campaign")
                    raise
        try:
            await self.wait_deletes(req.name + b"/", revision - 1)
        except asyncio.CancelledError:
            # only a stopped campaign resigns; one whose wait failed keeps its key (as etcd)
            self.clean_up(resign_request(key, revision), "a campaign")
            raise
        return CampaignResponse(header=ResponseHeader(revision=response.header.revision),
                                leader=LeaderKey(name=req.name, key=key, rev=revision, lease=lease_id))

    async def _proclaim(self, req: ProclaimRequest):
        leader = req.leader
        if leader is None:
            raise EtcdError(MISSING_LEADER_KEY, codec.UNKNOWN)
        lease_id = await self.session_lease(leader.lease)
        response = await self._proclaim_value(leader.key, leader.rev, lease_id, req.value)
        return ProclaimResponse(header=ResponseHeader(revision=response.header.revision))

    async def _proclaim_value(self, key, revision, lease_id, value):
        txn = TxnRequest(compare=[created_at(key, revision)],
                         success=[PutRequest(key=key, value=value, lease=lease_id)])
        response = await self.commit(txn)
        if not response.succeeded:
            raise EtcdError(NOT_LEADER, codec.UNKNOWN)
        return response

    async def _leader(self, req: LeaderRequest):
        response = await self.first_created(req.name + b"/")
        if not response.kvs:
            raise EtcdError(NO_LEADER, codec.UNKNOWN)
        return LeaderResponse(header=ResponseHeader(revision=response.header.revision), kv=response.kvs[0])

    async def _resign(self, req: ResignRequest):
        """Not being the leader (any more) is no error: nothing is deleted."""
        leader = req.leader
        if leader is None:
            raise EtcdError(MISSING_LEADER_KEY, codec.UNKNOWN)
        # etcd opens a session here too: lease 0 gets a lease, which goes unused
        await self.session_lease(leader.lease)
        response = await self.commit(resign_request(leader.key, leader.rev))
        return ResignResponse(header=ResponseHeader(revision=response.header.revision))

    # --- Observe --------------------------------------------------------------------

    async def observe_call(self, req: LeaderRequest, call):
        """gRPC Observe: the call ends with OK when the observation does."""
        stop_with(call)

        async def send(message):
            if not call.send(message):
                await call.drain()

        await self.observe(req.name, send)

    async def observe(self, name: bytes, send):
        """Sends (awaiting send(LeaderResponse)) the current leader, each
        value it proclaims, and each leader after it, in revision order.  An
        election without a leader is answered when one appears.  Returns
        when a read or a watch fails (etcd's Observe then ends its stream
        without an error)."""
        prefix = name + b"/"
        try:
            while True:
                response = await self.first_created(prefix)
                if response.kvs:
                    kv, revision = response.kvs[0], response.header.revision
                else:
                    kv = await self._first_put(prefix, response.header.revision)
                    revision = kv.mod_revision
                await send(LeaderResponse(header=stream_header(self.server, revision), kv=kv))
                await self._follow(kv.key, revision, send)
        except EtcdError:
            return

    async def _first_put(self, prefix, revision):
        """The first key put on an empty election after `revision`: its first leader."""
        feed = EventFeed(self.watching, prefix, prefix_range_end(prefix), revision + 1, self.loop)
        try:
            while True:
                for kind, kv, _ in await feed.next():
                    if kind == EVENT_PUT:
                        return kv
        finally:
            feed.close()

    async def _follow(self, key, revision, send):
        """Sends each value the leader's key takes after `revision`, until it is deleted."""
        feed = EventFeed(self.watching, key, b"", revision + 1, self.loop)
        try:
            while True:
                for kind, kv, _ in await feed.next():
                    if kind == EVENT_DELETE:
                        return
                    await send(LeaderResponse(header=stream_header(self.server, kv.mod_revision), kv=kv))
        finally:
            feed.close()


class ObserveStream(GatewayStream):
    """POST /v3/election/observe (also over WebSocket): the request is the
    body's first JSON value, decoded (and refused) as a unary call's body is,
    read as soon as it is complete (etcd's gateway decodes it off the body
    stream); then one `{"result":...}` line per LeaderResponse, for as long
    as the client stays."""

    def __init__(self, election, response):
        super().__init__(election.server, response)
        self.election = election
        self.task = None
        self.resumed = None  # set while a send waits for the connection to drain
        response.on_resume = self._on_resume

    def feed(self, data):
        if self.task is not None or self._failed:
            return  # what follows the request is not read
        self._buffer += data
        values, _ = split_json_values(self._buffer)
        if values:
            self._start(values[0])
        elif len(self._buffer) > self.max_message_bytes * 4:  # the JSON of a message gRPC would refuse
            self._refuse(EtcdError("grpc: received message larger than max", codec.RESOURCE_EXHAUSTED))

    def end_of_input(self):
        if self.task is None and not self._failed:
            self._start(self._buffer)  # an empty body is the empty request

    def _start(self, body):
        self._buffer = b""
        try:
            req = decode_body(LeaderRequest, body)
            check_receive_limit(req, body, self.election.receive_limit)
        except (JsonError, EtcdError) as exc:
            return self._refuse(exc)
        self.task = self.server.loop.create_task(self.election.observe(req.name, self._send))
        self.task.add_done_callback(self._ended)

    def _refuse(self, exc):
        self._failed = True
        self._buffer = b""
        code = exc.code if isinstance(exc, EtcdError) else codec.INVALID_ARGUMENT
        status, body = gateway_error(code, exc.message if isinstance(exc, EtcdError) else str(exc))
        self.response.fail_plain(Response(status, body))

    async def _send(self, message):
        if not self.result(message):
            # backed up (or gone: then closed() cancels this wait)
            self.resumed = self.server.loop.create_future()
            await self.resumed

    def _on_resume(self):
        resumed, self.resumed = self.resumed, None
        if resumed is not None and not resumed.done():
            resumed.set_result(None)

    def _ended(self, task):
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.fail(exc if isinstance(exc, EtcdError) else EtcdError(str(exc), codec.UNKNOWN))
            return
        self.response.finish()

    def closed(self):
        if self.task is not None and not self.task.done():
            self.task.cancel()
