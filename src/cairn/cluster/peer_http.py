"""Plain HTTP/1.1 on the peer port, for requests that are not streams: the
member list for joining members and the lease calls followers forward to
the leader.  One request per connection; routes come from the transport's
`http_routes`: (method, path) -> handler(body) returning (status, body) or
an awaitable of it."""

import asyncio
import inspect
import logging

import httptools

log = logging.getLogger("cairn.transport")

MAX_BODY = 1 << 20
_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 413: b"Payload Too Large",
            500: b"Internal Server Error", 503: b"Service Unavailable"}


class PeerHttp:
    def __init__(self, owner, transport):
        self.owner = owner
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body = []
        self.size = 0
        self.answered = False

    def feed(self, data):
        if self.answered:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._respond(400, b"bad request\n")

    # httptools callbacks
    def on_url(self, url):
        self.url += url

    def on_body(self, body):
        self.size += len(body)
        if self.size > MAX_BODY:
            self._respond(413, b"request too large\n")
            return
        self.body.append(body)

    def on_message_complete(self):
        if self.answered:
            return
        method = self.parser.get_method()
        path = self.url.split(b"?", 1)[0]
        handler = self.owner.http_routes.get((method, path))
        if handler is None:
            self._respond(404, b"404 page not found\n")
            return
        try:
            result = handler(b"".join(self.body))
        except Exception:
            log.exception("peer HTTP %s %s failed", method, path)
            self._respond(500, b"internal error\n")
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            task.add_done_callback(self._finished)
        else:
            self._respond(*result)

    def _finished(self, task):
        if task.cancelled() or task.exception() is not None:
            if not task.cancelled():
                log.warning("peer HTTP handler failed: %r", task.exception())
            self._respond(503, b"unavailable\n")
        else:
            self._respond(*task.result())

    def _respond(self, status, body):
        if self.answered or self.transport.is_closing():
            self.answered = True
            return
        self.answered = True
        head = b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
            status, _REASONS.get(status, b"Error"), len(body))
        self.transport.write(head + body)
        self.transport.close()
