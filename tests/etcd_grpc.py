"""A thin gRPC client for etcd's v3 API in tests: grpcio's channel with
cairn's own codec as the (de)serialiser, so the same calls go to etcd and
to cairn and their answers (or status codes and messages) can be compared.

    client = EtcdGrpc("127.0.0.1:2379")
    client.call("KV", "Put", PutRequest(key=b"k", value=b"v"))
    client.outcome("KV", "Range", RangeRequest(key=b"k", revision=1))  # (code name, details) on error
"""

import grpc

from cairn import _codec as codec

RESPONSES = {
    ("KV", "Range"): codec.RangeResponse,
    ("KV", "Put"): codec.PutResponse,
    ("KV", "DeleteRange"): codec.DeleteRangeResponse,
    ("KV", "Txn"): codec.TxnResponse,
    ("KV", "Compact"): codec.CompactionResponse,
    ("Lease", "LeaseGrant"): codec.LeaseGrantResponse,
    ("Lease", "LeaseRevoke"): codec.LeaseRevokeResponse,
    ("Lease", "LeaseTimeToLive"): codec.LeaseTimeToLiveResponse,
    ("Lease", "LeaseLeases"): codec.LeaseLeasesResponse,
    ("Cluster", "MemberList"): codec.MemberListResponse,
    ("Cluster", "MemberAdd"): codec.MemberAddResponse,
    ("Cluster", "MemberRemove"): codec.MemberRemoveResponse,
    ("Maintenance", "Status"): codec.StatusResponse,
    ("Maintenance", "Alarm"): codec.AlarmResponse,
    ("Maintenance", "Defragment"): codec.DefragmentResponse,
    ("Maintenance", "Hash"): codec.HashResponse,
    ("Maintenance", "HashKV"): codec.HashKVResponse,
    ("Maintenance", "MoveLeader"): codec.MoveLeaderResponse,
}


def _encode(message):
    return message.encode() if message is not None else b""


class EtcdGrpc:
    def __init__(self, address):
        self.address = address
        self.channel = grpc.insecure_channel(address)

    def close(self):
        self.channel.close()

    def call(self, service, method, request, metadata=None, timeout=10.0, serializer=_encode, compression=None):
        stub = self.channel.unary_unary("/etcdserverpb.%s/%s" % (service, method), request_serializer=serializer,
                                        response_deserializer=RESPONSES[(service, method)].decode)
        return stub(request, metadata=metadata, timeout=timeout, compression=compression)

    def outcome(self, service, method, request, **kwargs):
        """The response, or (status code name, details) when the call fails."""
        try:
            return self.call(service, method, request, **kwargs)
        except grpc.RpcError as exc:
            return exc.code().name, exc.details()

    def watch(self, requests, metadata=None, timeout=None):
        """A Watch stream: `requests` is an iterator of Watch*Request
        messages (create/cancel/progress)."""
        stub = self.channel.stream_stream("/etcdserverpb.Watch/Watch", request_serializer=codec.encode_watch_request,
                                          response_deserializer=codec.WatchResponse.decode)
        return stub(requests, metadata=metadata, timeout=timeout)

    def keep_alive(self, requests, timeout=None):
        stub = self.channel.stream_stream("/etcdserverpb.Lease/LeaseKeepAlive", request_serializer=_encode,
                                          response_deserializer=codec.LeaseKeepAliveResponse.decode)
        return stub(requests, timeout=timeout)

    def snapshot(self, timeout=30.0):
        stub = self.channel.unary_stream("/etcdserverpb.Maintenance/Snapshot", request_serializer=_encode,
                                         response_deserializer=codec.SnapshotResponse.decode)
        return stub(codec.SnapshotRequest(), timeout=timeout)
