"""The routes of the client port's HTTP/1.1 side: the v3 JSON gateway
(`/v3/...`, with `/v3beta/...` rewritten to it), `/version`, `/health`,
`/metrics`.  Routing answers as etcd 3.4's client port does (see
docs/etcd-gateway-behaviour.md §1): Go's plain-text 404s and 405s, 301 to
a cleaned path, OPTIONS answered empty."""

import posixpath

import orjson

from cairn import ETCD_API_VERSION, ETCD_CLUSTER_VERSION
from cairn.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

from .http import TEXT, Response

NOSNIFF = ((b"X-Content-Type-Options", b"nosniff"),)
NOT_FOUND = Response(404, b"404 page not found\n", TEXT, NOSNIFF)
GATEWAY_NOT_FOUND = Response(404, b"Not Found\n", TEXT, NOSNIFF)
METHOD_NOT_ALLOWED = Response(405, b"Method Not Allowed\n", TEXT, NOSNIFF)
OPTIONS = Response(200, b"", None)
VERSION_BODY = orjson.dumps({"etcdserver": ETCD_API_VERSION, "etcdcluster": ETCD_CLUSTER_VERSION})
HEALTHY = Response(200, b'{"health":"true"}', TEXT)
UNHEALTHY = Response(503, b'{"health":"false"}', TEXT)


def clean_path(path: bytes) -> bytes:
    """Go's path.Clean as net/http applies it (a trailing slash is kept)."""
    cleaned = posixpath.normpath(path.decode("latin-1")).encode("latin-1")
    if cleaned.startswith(b"//"):
        cleaned = cleaned[1:]
    if path.endswith(b"/") and cleaned != b"/":
        cleaned += b"/"
    return cleaned


class Router:
    def __init__(self, server, services, streams=None):
        self.server = server
        self.routes = {}
        for service in services:
            self.routes.update(service.routes)
        # path -> open(StreamResponse) -> stream handler
        self.streams = dict(streams or {})
        self.plain = {
            b"/version": self.version,
            b"/health": self.health,
            b"/metrics": self.metrics,
        }

    def stream(self, method, path):
        """The opener of a streaming route, or None (then the request is
        routed as any other, which answers 405 for a wrong method)."""
        if method != b"POST":
            return None
        if path.startswith(b"/v3beta/"):
            path = b"/v3/" + path[8:]
        return self.streams.get(path)

    def __call__(self, request):
        path = request.path
        method = request.method
        if method == b"OPTIONS":
            return OPTIONS
        if path.startswith(b"/v3beta/"):
            path = b"/v3/" + path[8:]
        handler = self.routes.get(path)
        if handler is not None:
            if method != b"POST":
                return METHOD_NOT_ALLOWED
            return handler(request)
        if path in self.streams:
            return METHOD_NOT_ALLOWED  # a POST would have opened the stream
        handler = self.plain.get(path)
        if handler is not None:
            if method not in (b"GET", b"HEAD"):
                return METHOD_NOT_ALLOWED
            return handler(request)
        cleaned = clean_path(path)
        if path == b"/v3":
            cleaned = b"/v3/"
        if cleaned != path:
            return Response(301, b"", None, ((b"Location", cleaned),))
        if path.startswith(b"/v3/"):
            return GATEWAY_NOT_FOUND
        return NOT_FOUND

    def version(self, request):
        return Response(200, VERSION_BODY)

    def health(self, request):
        node = self.server.node
        if not node.leader_id:
            return UNHEALTHY
        return node.read_barrier(), self._health_after_barrier

    @staticmethod
    def _health_after_barrier(future):
        return UNHEALTHY if future.exception() is not None else HEALTHY

    def metrics(self, request):
        self.server.refresh_gauges()
        return Response(200, self.server.metrics.exposition(), METRICS_CONTENT_TYPE)
