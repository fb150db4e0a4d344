"""The routes of the client port's HTTP/1.1 side: the v3 JSON gateway
(`/v3/...`, with `/v3beta/...` as an alias), `/version`, `/health`,
`/metrics`.  Unknown paths get Go's plain-text 404, as etcd answers."""

import orjson

from cairn import ETCD_API_VERSION
from cairn.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

from .http import TEXT, Response

NOT_FOUND = Response(404, b"404 page not found\n", TEXT)
VERSION_BODY = orjson.dumps({"etcdserver": ETCD_API_VERSION, "etcdcluster": ETCD_API_VERSION[:-1] + "0"})


class Router:
    def __init__(self, server, gateway):
        self.server = server
        self.routes = dict(gateway.routes)
        self.plain = {
            b"/version": self.version,
            b"/health": self.health,
            b"/metrics": self.metrics,
        }

    def __call__(self, request):
        path = request.path
        if path.startswith(b"/v3beta/"):
            path = b"/v3/" + path[8:]
        handler = self.routes.get(path)
        if handler is not None:
            if request.method != b"POST":
                return Response(405, b"Method Not Allowed\n", TEXT)
            return handler(request)
        handler = self.plain.get(path)
        if handler is not None:
            return handler(request)
        return NOT_FOUND

    def version(self, request):
        return Response(200, VERSION_BODY)

    def health(self, request):
        node = self.server.node
        if not node.leader_id:
            return Response(503, b'{"health":"false"}')
        return node.read_barrier(), self._health_after_barrier

    @staticmethod
    def _health_after_barrier(future):
        if future.exception() is not None:
            return Response(503, b'{"health":"false"}')
        return Response(200, b'{"health":"true"}')

    def metrics(self, request):
        self.server.refresh_gauges()
        return Response(200, self.server.metrics.exposition(), METRICS_CONTENT_TYPE)
