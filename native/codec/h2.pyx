# HTTP/2 server sessions: libnghttp2 does the framing, HPACK, SETTINGS,
# PING, stream states and flow control; this fragment turns its callbacks
# into a list of events for the Python protocol and queues the response
# frames it asks for.  No I/O here: feed() takes bytes read from the socket,
# take_output() gives the bytes to write.
#
# Callbacks never let a Python exception into C: they keep the first one in
# _error, return NGHTTP2_ERR_CALLBACK_FAILURE (connection-fatal in nghttp2),
# and feed()/take_output() raise it once nghttp2 has returned.
#
# Flow control is manual (NGHTTP2_OPT_NO_AUTO_WINDOW_UPDATE): a WINDOW_UPDATE
# goes out only for bytes the application hands back with consume(), so a
# peer can never have more unread bytes in flight than the windows allow.

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy

# take_output()'s buffer is kept between calls up to this size
DEF _OUTPUT_BUFFER_KEEP = 16 << 10

# event kinds: each event is a tuple (kind, stream id, value)
cdef enum:
    _DATA = 2
    _END = 3
    _CLOSED = 4

H2_REQUEST = 1  # value: dict of request header name -> value (bytes); the last of a repeated name wins
H2_DATA = _DATA  # value: bytes of a DATA frame (give them back with consume() once taken)
H2_END = _END    # value: None; the client half-closed the stream
H2_CLOSED = _CLOSED  # value: HTTP/2 error code; the stream closed before its response ended (client RST_STREAM, protocol error)
H2_GOAWAY = 5   # stream id: the client's last stream id; value: error code

# HTTP/2 error codes (RFC 9113 §7)
H2_NO_ERROR = 0
H2_PROTOCOL_ERROR = 1
H2_INTERNAL_ERROR = 2
H2_REFUSED_STREAM = 7
H2_CANCEL = 8


class H2Error(Exception):
    """The HTTP/2 connection is broken (bad preface, protocol error): send
    what take_output() still has (a GOAWAY) and close it."""


cdef class _Outgoing:
    def __cinit__(self):
        self.chunks = []


cdef nghttp2_nv *_nv_array(list headers) except NULL:
    """nghttp2 name/value pairs pointing into `headers` (a list of (bytes,
    bytes)), which must outlive the submit call; nghttp2 copies them."""
    cdef Py_ssize_t i, n = len(headers)
    cdef nghttp2_nv *nva = <nghttp2_nv *>malloc(max(n, 1) * sizeof(nghttp2_nv))
    cdef bytes name, value
    if nva == NULL:
        raise MemoryError()
    for i in range(n):
        name, value = headers[i]
        if name is None or value is None:
            free(nva)
            raise TypeError("header names and values are bytes")
        nva[i].name = <uint8_t *>PyBytes_AS_STRING(name)
        nva[i].namelen = PyBytes_GET_SIZE(name)
        nva[i].value = <uint8_t *>PyBytes_AS_STRING(value)
        nva[i].valuelen = PyBytes_GET_SIZE(value)
        nva[i].flags = NGHTTP2_NV_FLAG_NONE
    return nva


cdef class H2Session:
    """One server-side HTTP/2 connection.  The client preface is expected as
    the first bytes fed."""

    def __cinit__(self, uint32_t max_concurrent_streams=1000, int32_t initial_window_size=1 << 20,
                  int32_t connection_window_size=16 << 20, uint32_t max_header_list_size=1 << 20):
        cdef nghttp2_session_callbacks *cbs = NULL
        cdef nghttp2_option *option = NULL
        cdef nghttp2_settings_entry settings[3]
        cdef int rv
        self._events = []
        self._incoming = {}
        self._outgoing = {}
        if nghttp2_session_callbacks_new(&cbs) != 0:
            raise MemoryError()
        if nghttp2_option_new(&option) != 0:
            nghttp2_session_callbacks_del(cbs)
            raise MemoryError()
        nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, _on_begin_headers)
        nghttp2_session_callbacks_set_on_header_callback(cbs, _on_header)
        nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, _on_frame_recv)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, _on_data_chunk)
        nghttp2_session_callbacks_set_on_stream_close_callback(cbs, _on_stream_close)
        nghttp2_session_callbacks_set_on_frame_send_callback(cbs, _on_frame_send)
        nghttp2_option_set_no_auto_window_update(option, 1)
        # HTTP messaging rules off: with them nghttp2 resets a stream whose
        # :authority is not a bare host[:port], and etcd 3.4's Go client sends
        # ":authority: http://host:port" when it dials one member by its
        # client URL (etcdctl endpoint status|hashkv --cluster, or with
        # --endpoints=http://...).  grpc-go serves those; GrpcProtocol checks
        # what gRPC needs itself (method, content-type, path).
        nghttp2_option_set_no_http_messaging(option, 1)
        # closed streams are not kept for RFC 7540's priority tree (gRPC
        # clients send no priorities): less bookkeeping per call
        nghttp2_option_set_no_closed_streams(option, 1)
        # user_data is a borrowed pointer: the session dies in __dealloc__, before self
        rv = nghttp2_session_server_new2(&self._session, cbs, <void *>self, option)
        nghttp2_session_callbacks_del(cbs)
        nghttp2_option_del(option)
        if rv != 0:
            self._session = NULL
            raise MemoryError()
        settings[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS
        settings[0].value = max_concurrent_streams
        settings[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE
        settings[1].value = <uint32_t>initial_window_size
        settings[2].settings_id = NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE
        settings[2].value = max_header_list_size
        _check(nghttp2_submit_settings(self._session, NGHTTP2_FLAG_NONE, settings, 3))
        # the connection window is not a SETTING: it opens with a WINDOW_UPDATE
        _check(nghttp2_session_set_local_window_size(self._session, NGHTTP2_FLAG_NONE, 0, connection_window_size))

    def __dealloc__(self):
        if self._session != NULL:
            nghttp2_session_del(self._session)
            self._session = NULL
        free(self._outbuf)
        self._outbuf = NULL

    # --- input ------------------------------------------------------------

    def attach(self, dict calls not None, opener not None, dict registry=None, protocol=None,
               Py_ssize_t max_recv=0):
        """Serves requests without events: opener(stream_id, headers) is
        called as each request's headers complete, and the DATA, end and
        close of a stream whose entry in `calls` is a UnaryCall go straight
        to it (other calls still get H2_DATA/H2_END/H2_CLOSED events; a
        stream without an entry has its DATA only handed back to flow
        control).  With `registry`, a plain unary request (POST,
        application/grpc, no grpc-timeout or grpc-encoding, a UNARY path)
        is opened here as UnaryCall(protocol, ..., max_recv) without calling
        opener, which does every other case and all the checks."""
        self._calls = calls
        self._opener = opener
        self._registry = registry
        self._protocol = protocol
        self._max_recv = max_recv

    cdef int _open_stream(self, int32_t stream_id, dict headers) except -1:
        cdef object method
        if self._registry is not None:
            method = self._registry.get(headers.get(b":path"))
            if (method is not None and method.kind == "unary" and headers.get(b":method") == b"POST"
                    and headers.get(b"content-type") == b"application/grpc"
                    and b"grpc-timeout" not in headers and b"grpc-encoding" not in headers):
                self._calls[stream_id] = UnaryCall(self._protocol, self, self._calls, stream_id, method, headers,
                                                   self._max_recv, None)
                return 0
        self._opener(stream_id, headers)
        return 0

    cdef int _route(self, int kind, int32_t stream_id, const uint8_t *data, size_t n,
                    uint32_t error_code) except -1:
        """A stream's DATA (_DATA), half-close (_END) or early close
        (_CLOSED): straight to its UnaryCall once attached, dropped for a
        stream without a call (DATA only given back to flow control: an
        answered or refused stream), else queued as an event."""
        if self._calls is not None:
            call = self._calls.get(stream_id)
            if call is None:
                if kind == _DATA and n:
                    self._consume(stream_id, n)
                return 0
            if type(call) is UnaryCall:
                if kind == _DATA:
                    (<UnaryCall>call)._receive(data, n)
                elif kind == _END:
                    (<UnaryCall>call)._end_of_input()
                else:
                    (<UnaryCall>call)._abandon()
                return 0
        if kind == _DATA:
            self._events.append((H2_DATA, stream_id, PyBytes_FromStringAndSize(<const char *>data, n)))
        elif kind == _END:
            self._events.append((H2_END, stream_id, None))
        else:
            self._events.append((H2_CLOSED, stream_id, error_code))
        return 0

    def feed(self, bytes data not None):
        """Processes bytes read from the client; returns the events they
        (and any take_output() since the last feed) produced."""
        cdef ssize_t rv = nghttp2_session_mem_recv(
            self._session, <const uint8_t *>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
        self._raise_kept()
        if rv < 0:
            raise H2Error(nghttp2_strerror(<int>rv).decode())
        return self.take_events()

    def take_events(self):
        events = self._events
        self._events = []
        return events

    def consume(self, int32_t stream_id, size_t n):
        """Gives `n` received DATA bytes of the stream back to the peer's
        stream and connection windows (also for a stream closed since)."""
        if n:
            _check(nghttp2_session_consume(self._session, stream_id, n))

    cdef int _consume(self, int32_t stream_id, size_t n) except -1:
        return _check(nghttp2_session_consume(self._session, stream_id, n))

    # --- output -----------------------------------------------------------

    def submit_response_headers(self, int32_t stream_id, list headers not None, bint end_stream=False):
        """Response HEADERS for a stream (`headers` a list of (bytes, bytes),
        :status first).  end_stream sends them as the whole response (gRPC's
        trailers-only answer).  Returns False if the stream is gone."""
        return self._submit_headers(stream_id, headers, end_stream)

    cdef bint _submit_headers(self, int32_t stream_id, list headers, bint end_stream) except? 0:
        cdef _Outgoing out = _Outgoing()
        out.finished = end_stream
        return self._submit_response(stream_id, headers, out)

    cdef bint _submit_unary(self, int32_t stream_id, list headers, bytes message, list trailers) except? 0:
        """A whole unary gRPC answer at once: response HEADERS, `message` as
        one length-prefixed gRPC message (uncompressed), then trailers.
        False if the stream is gone or already answered."""
        cdef _Outgoing out
        cdef Py_ssize_t n = PyBytes_GET_SIZE(message)
        cdef bytes framed
        cdef char *p
        if n > 0xFFFFFFFF:
            raise ValueError("gRPC message too long")
        framed = PyBytes_FromStringAndSize(NULL, n + 5)
        p = PyBytes_AS_STRING(framed)
        p[0] = 0
        p[1] = <char>((n >> 24) & 0xFF)
        p[2] = <char>((n >> 16) & 0xFF)
        p[3] = <char>((n >> 8) & 0xFF)
        p[4] = <char>(n & 0xFF)
        memcpy(p + 5, PyBytes_AS_STRING(message), n)
        out = _Outgoing()
        out.chunks.append(framed)
        out.size = n + 5
        out.trailers = trailers
        out.finished = True
        return self._submit_response(stream_id, headers, out)

    def submit_data(self, int32_t stream_id, bytes data not None, bint end_stream=False):
        """Queues response body bytes; they leave as the peer's window allows."""
        cdef _Outgoing out = self._open_outgoing(stream_id)
        if out is None:
            return False
        if PyBytes_GET_SIZE(data):
            out.chunks.append(data)
            out.size += PyBytes_GET_SIZE(data)
        if end_stream:
            out.end_stream = True
            out.finished = True
        self._resume(stream_id, out)
        return True

    def submit_trailers(self, int32_t stream_id, list headers not None):
        """Ends the response with trailers, after the queued body."""
        cdef _Outgoing out = self._open_outgoing(stream_id)
        if out is None:
            return False
        out.trailers = headers
        out.finished = True
        self._resume(stream_id, out)
        return True

    def reset_stream(self, int32_t stream_id, uint32_t error_code=H2_CANCEL):
        cdef _Outgoing out = self._outgoing.get(stream_id)
        if out is not None:
            out.finished = True
        elif nghttp2_session_find_stream(self._session, stream_id) != NULL:
            out = _Outgoing()
            out.finished = True
            self._outgoing[stream_id] = out
        _check(nghttp2_submit_rst_stream(self._session, NGHTTP2_FLAG_NONE, stream_id, error_code))

    def goaway(self, uint32_t error_code=H2_NO_ERROR):
        """GOAWAY naming the last stream the application has seen: later
        streams are refused, earlier ones run to their end."""
        _check(nghttp2_submit_goaway(self._session, NGHTTP2_FLAG_NONE,
                                     nghttp2_session_get_last_proc_stream_id(self._session),
                                     error_code, NULL, 0))

    def pending(self, int32_t stream_id):
        """Body bytes of the stream still waiting for window."""
        cdef _Outgoing out = self._outgoing.get(stream_id)
        return 0 if out is None else out.size

    def take_output(self):
        """The bytes nghttp2 has ready to write (b"" when none), gathered in
        the session's buffer and copied out once (a buffer that had to grow
        past _OUTPUT_BUFFER_KEEP is not kept)."""
        cdef const uint8_t *data
        cdef ssize_t n
        cdef size_t used = 0
        while True:
            n = nghttp2_session_mem_send(self._session, &data)
            if n <= 0:
                break
            self._gather(data, <size_t>n, used)  # valid only until the next mem_send
            used += n
        out = PyBytes_FromStringAndSize(self._outbuf, used) if used else b""
        if self._outcap > _OUTPUT_BUFFER_KEEP:
            free(self._outbuf)
            self._outbuf, self._outcap = NULL, 0
        self._raise_kept()
        if n < 0:
            raise H2Error(nghttp2_strerror(<int>n).decode())
        return out

    cdef int _gather(self, const uint8_t *data, size_t n, size_t used) except -1:
        cdef size_t want
        cdef char *grown
        if used + n > self._outcap:
            want = max(self._outcap * 2, used + n, <size_t>_OUTPUT_BUFFER_KEEP)
            grown = <char *>realloc(self._outbuf, want)
            if grown == NULL:
                raise MemoryError()
            self._outbuf, self._outcap = grown, want
        memcpy(self._outbuf + used, data, n)
        return 0

    def detach(self):
        """Forgets what attach() gave (the connection is gone) and frees the
        output buffer: no reference cycle with the protocol is left."""
        self._calls = None
        self._opener = None
        self._registry = None
        self._protocol = None
        free(self._outbuf)
        self._outbuf, self._outcap = NULL, 0

    def want_close(self):
        """True once nghttp2 neither reads nor writes (GOAWAY exchanged, or
        a fatal error): the connection can be closed."""
        return not nghttp2_session_want_read(self._session) and not nghttp2_session_want_write(self._session)

    # --- internals --------------------------------------------------------

    cdef bint _submit_response(self, int32_t stream_id, list headers, _Outgoing out) except? 0:
        """Response HEADERS, then `out`'s body and trailers (none when `out`
        is finished and empty: the headers end the stream).  False if the
        stream is gone or already answered."""
        cdef nghttp2_data_provider provider
        cdef nghttp2_nv *nva
        cdef int rv
        if nghttp2_session_find_stream(self._session, stream_id) == NULL or stream_id in self._outgoing:
            return False
        nva = _nv_array(headers)
        if out.finished and not out.size and out.trailers is None:
            rv = nghttp2_submit_response(self._session, stream_id, nva, len(headers), NULL)
        else:
            provider.source.ptr = <void *>out
            provider.read_callback = _read_outgoing
            rv = nghttp2_submit_response(self._session, stream_id, nva, len(headers), &provider)
        free(nva)
        _check(rv)
        # the provider points at `out`: the dict keeps it alive until the stream closes
        self._outgoing[stream_id] = out
        return True

    cdef _Outgoing _open_outgoing(self, int32_t stream_id):
        cdef _Outgoing out = self._outgoing.get(stream_id)
        if out is None or out.finished:
            return None
        return out

    cdef int _resume(self, int32_t stream_id, _Outgoing out) except -1:
        if out.deferred:
            out.deferred = False
            _check(nghttp2_session_resume_data(self._session, stream_id))
        return 0

    cdef int _keep(self, BaseException exc) noexcept:
        if self._error is None:
            self._error = exc
        return 0

    cdef int _raise_kept(self) except -1:
        if self._error is not None:
            exc, self._error = self._error, None
            raise exc
        return 0

    cdef ssize_t _read(self, int32_t stream_id, _Outgoing out, uint8_t *buf, size_t length,
                       uint32_t *flags) except? -1:
        cdef Py_ssize_t n = 0, take, avail
        cdef bytes chunk
        cdef nghttp2_nv *nva
        cdef int rv
        cdef Py_ssize_t want = <Py_ssize_t>length
        while n < want and out.head < len(out.chunks):
            chunk = <bytes>out.chunks[out.head]
            avail = PyBytes_GET_SIZE(chunk) - out.offset
            take = avail if avail < want - n else want - n
            memcpy(buf + n, PyBytes_AS_STRING(chunk) + out.offset, take)
            n += take
            out.offset += take
            if out.offset == PyBytes_GET_SIZE(chunk):
                out.head += 1
                out.offset = 0
        out.size -= n
        if out.head == len(out.chunks):
            del out.chunks[:]
            out.head = 0
        if out.size:
            return n
        if out.trailers is not None:
            flags[0] |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM
            nva = _nv_array(out.trailers)
            rv = nghttp2_submit_trailer(self._session, stream_id, nva, len(out.trailers))
            free(nva)
            out.trailers = None
            _check(rv)
        elif out.end_stream:
            flags[0] |= NGHTTP2_DATA_FLAG_EOF
        elif n == 0:
            out.deferred = True
            return NGHTTP2_ERR_DEFERRED
        return n


# header names and values every gRPC request repeats: handed out as shared
# objects instead of a new bytes object each time (candidates by length)
cdef list _COMMON_HEADER_BYTES = [() for _ in range(32)]
for _known in (b":method", b":scheme", b":path", b":authority", b"content-type", b"te", b"user-agent",
               b"grpc-timeout", b"grpc-encoding", b"grpc-accept-encoding", b"hasleader", b"POST", b"http", b"https",
               b"application/grpc", b"trailers", b"true", b"identity,deflate,gzip"):
    _COMMON_HEADER_BYTES[len(_known)] += (_known,)
del _known


cdef object _header_bytes(const uint8_t *p, size_t n):
    cdef bytes known
    if n < 32:
        for known in <tuple>_COMMON_HEADER_BYTES[n]:
            if memcmp(PyBytes_AS_STRING(known), p, n) == 0:
                return known
    return PyBytes_FromStringAndSize(<const char *>p, n)


cdef int _check(int rv) except -1:
    if rv < 0:
        raise H2Error(nghttp2_strerror(rv).decode())
    return 0


# --- nghttp2 callbacks: user_data is the H2Session ------------------------

cdef ssize_t _read_outgoing(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *user_data) noexcept:
    cdef H2Session self = <H2Session>user_data
    try:
        return self._read(stream_id, <_Outgoing>source.ptr, buf, length, data_flags)
    except BaseException as exc:
        self._keep(exc)
        return NGHTTP2_ERR_CALLBACK_FAILURE


cdef int _on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) noexcept:
    cdef H2Session self = <H2Session>user_data
    if frame.hd.type == NGHTTP2_HEADERS and frame.headers.cat == NGHTTP2_HCAT_REQUEST:
        try:
            self._incoming[frame.hd.stream_id] = {}
        except BaseException as exc:
            self._keep(exc)
            return NGHTTP2_ERR_CALLBACK_FAILURE
    return 0


cdef int _on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                    const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data) noexcept:
    cdef H2Session self = <H2Session>user_data
    # trailers from the client (a HEADERS frame that is not the request) carry nothing gRPC reads
    if frame.headers.cat != NGHTTP2_HCAT_REQUEST:
        return 0
    try:
        headers = self._incoming.get(frame.hd.stream_id)
        if headers is not None:
            headers[_header_bytes(name, namelen)] = _header_bytes(value, valuelen)
    except BaseException as exc:
        self._keep(exc)
        return NGHTTP2_ERR_CALLBACK_FAILURE
    return 0


cdef int _on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) noexcept:
    cdef H2Session self = <H2Session>user_data
    cdef int32_t stream_id = frame.hd.stream_id
    try:
        if frame.hd.type == NGHTTP2_HEADERS:
            if frame.headers.cat == NGHTTP2_HCAT_REQUEST:
                if self._opener is not None:
                    self._open_stream(stream_id, self._incoming.pop(stream_id, {}))
                else:
                    self._events.append((H2_REQUEST, stream_id, self._incoming.pop(stream_id, {})))
            if frame.hd.flags & NGHTTP2_FLAG_END_STREAM:
                self._route(_END, stream_id, NULL, 0, 0)
        elif frame.hd.type == NGHTTP2_DATA:
            if frame.hd.flags & NGHTTP2_FLAG_END_STREAM:
                self._route(_END, stream_id, NULL, 0, 0)
        elif frame.hd.type == NGHTTP2_GOAWAY:
            self._events.append((H2_GOAWAY, frame.goaway.last_stream_id, frame.goaway.error_code))
    except BaseException as exc:
        self._keep(exc)
        return NGHTTP2_ERR_CALLBACK_FAILURE
    return 0


cdef int _on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) noexcept:
    # The response ended (END_STREAM on HEADERS: trailers, or a trailers-only
    # answer) while the client may still send: RST_STREAM(NO_ERROR) tells it
    # to stop, as gRPC servers do, and frees the stream's slot at once
    # instead of when the client gets round to half-closing.  No Python here.
    if (frame.hd.type == NGHTTP2_HEADERS and frame.hd.flags & NGHTTP2_FLAG_END_STREAM
            and nghttp2_session_get_stream_remote_close(session, frame.hd.stream_id) == 0):
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame.hd.stream_id, NGHTTP2_NO_ERROR)
    return 0


cdef int _on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                        size_t n, void *user_data) noexcept:
    cdef H2Session self = <H2Session>user_data
    try:
        self._route(_DATA, stream_id, data, n, 0)
    except BaseException as exc:
        self._keep(exc)
        return NGHTTP2_ERR_CALLBACK_FAILURE
    return 0


cdef int _on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                          void *user_data) noexcept:
    # Reported only for a stream whose response had not ended: the
    # application still has a call running for it.
    cdef H2Session self = <H2Session>user_data
    cdef _Outgoing out
    try:
        self._incoming.pop(stream_id, None)
        out = self._outgoing.pop(stream_id, None)
        if out is None or not out.finished:
            self._route(_CLOSED, stream_id, NULL, 0, error_code)
    except BaseException as exc:
        self._keep(exc)
        return NGHTTP2_ERR_CALLBACK_FAILURE
    return 0
