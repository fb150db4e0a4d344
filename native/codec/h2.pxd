# HTTP/2 server sessions over libnghttp2's in-memory API: the declarations
# of the parts of nghttp2.h that h2.pyx uses, and H2Session's layout.

from libc.stdint cimport int32_t, uint8_t, uint32_t


cdef extern from "nghttp2/nghttp2.h":
    ctypedef struct nghttp2_session:
        pass
    ctypedef struct nghttp2_session_callbacks:
        pass
    ctypedef struct nghttp2_option:
        pass
    ctypedef struct nghttp2_stream:
        pass

    ctypedef struct nghttp2_frame_hd:
        size_t length
        int32_t stream_id
        uint8_t type
        uint8_t flags

    ctypedef struct nghttp2_headers:
        nghttp2_frame_hd hd
        int cat

    ctypedef struct nghttp2_rst_stream:
        nghttp2_frame_hd hd
        uint32_t error_code

    ctypedef struct nghttp2_goaway:
        nghttp2_frame_hd hd
        int32_t last_stream_id
        uint32_t error_code

    ctypedef union nghttp2_frame:
        nghttp2_frame_hd hd
        nghttp2_headers headers
        nghttp2_rst_stream rst_stream
        nghttp2_goaway goaway

    ctypedef struct nghttp2_nv:
        uint8_t *name
        uint8_t *value
        size_t namelen
        size_t valuelen
        uint8_t flags

    ctypedef struct nghttp2_settings_entry:
        int32_t settings_id
        uint32_t value

    ctypedef union nghttp2_data_source:
        int fd
        void *ptr

    ctypedef ssize_t (*nghttp2_data_source_read_callback)(
        nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
        uint32_t *data_flags, nghttp2_data_source *source, void *user_data) noexcept

    ctypedef struct nghttp2_data_provider:
        nghttp2_data_source source
        nghttp2_data_source_read_callback read_callback

    ctypedef int (*nghttp2_on_frame_recv_callback)(
        nghttp2_session *session, const nghttp2_frame *frame, void *user_data) noexcept
    ctypedef int (*nghttp2_on_frame_send_callback)(
        nghttp2_session *session, const nghttp2_frame *frame, void *user_data) noexcept
    ctypedef int (*nghttp2_on_begin_headers_callback)(
        nghttp2_session *session, const nghttp2_frame *frame, void *user_data) noexcept
    ctypedef int (*nghttp2_on_header_callback)(
        nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
        const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data) noexcept
    ctypedef int (*nghttp2_on_data_chunk_recv_callback)(
        nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
        size_t len, void *user_data) noexcept
    ctypedef int (*nghttp2_on_stream_close_callback)(
        nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data) noexcept

    enum:
        NGHTTP2_ERR_DEFERRED
        NGHTTP2_ERR_CALLBACK_FAILURE
        NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE
        NGHTTP2_NO_ERROR
        NGHTTP2_DATA_FLAG_EOF
        NGHTTP2_DATA_FLAG_NO_END_STREAM
        NGHTTP2_FLAG_NONE
        NGHTTP2_FLAG_END_STREAM
        NGHTTP2_NV_FLAG_NONE
        NGHTTP2_DATA
        NGHTTP2_HEADERS
        NGHTTP2_RST_STREAM
        NGHTTP2_GOAWAY
        NGHTTP2_HCAT_REQUEST
        NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS
        NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE
        NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE

    int nghttp2_session_callbacks_new(nghttp2_session_callbacks **callbacks)
    void nghttp2_session_callbacks_del(nghttp2_session_callbacks *callbacks)
    void nghttp2_session_callbacks_set_on_frame_recv_callback(
        nghttp2_session_callbacks *cbs, nghttp2_on_frame_recv_callback cb)
    void nghttp2_session_callbacks_set_on_frame_send_callback(
        nghttp2_session_callbacks *cbs, nghttp2_on_frame_send_callback cb)
    void nghttp2_session_callbacks_set_on_begin_headers_callback(
        nghttp2_session_callbacks *cbs, nghttp2_on_begin_headers_callback cb)
    void nghttp2_session_callbacks_set_on_header_callback(
        nghttp2_session_callbacks *cbs, nghttp2_on_header_callback cb)
    void nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        nghttp2_session_callbacks *cbs, nghttp2_on_data_chunk_recv_callback cb)
    void nghttp2_session_callbacks_set_on_stream_close_callback(
        nghttp2_session_callbacks *cbs, nghttp2_on_stream_close_callback cb)

    int nghttp2_option_new(nghttp2_option **option)
    void nghttp2_option_del(nghttp2_option *option)
    void nghttp2_option_set_no_auto_window_update(nghttp2_option *option, int val)
    void nghttp2_option_set_no_http_messaging(nghttp2_option *option, int val)
    void nghttp2_option_set_no_closed_streams(nghttp2_option *option, int val)

    int nghttp2_session_server_new2(nghttp2_session **session, const nghttp2_session_callbacks *cbs,
                                    void *user_data, const nghttp2_option *option)
    void nghttp2_session_del(nghttp2_session *session)
    ssize_t nghttp2_session_mem_recv(nghttp2_session *session, const uint8_t *data, size_t n)
    ssize_t nghttp2_session_mem_send(nghttp2_session *session, const uint8_t **data)
    int nghttp2_session_want_read(nghttp2_session *session)
    int nghttp2_session_want_write(nghttp2_session *session)
    int nghttp2_session_resume_data(nghttp2_session *session, int32_t stream_id)
    int nghttp2_session_consume(nghttp2_session *session, int32_t stream_id, size_t size)
    int nghttp2_session_set_local_window_size(nghttp2_session *session, uint8_t flags,
                                              int32_t stream_id, int32_t window_size)
    int32_t nghttp2_session_get_last_proc_stream_id(nghttp2_session *session)
    int nghttp2_session_get_stream_remote_close(nghttp2_session *session, int32_t stream_id)
    nghttp2_stream *nghttp2_session_find_stream(nghttp2_session *session, int32_t stream_id)

    int nghttp2_submit_settings(nghttp2_session *session, uint8_t flags,
                                const nghttp2_settings_entry *iv, size_t niv)
    int nghttp2_submit_response(nghttp2_session *session, int32_t stream_id, const nghttp2_nv *nva,
                                size_t nvlen, const nghttp2_data_provider *data_prd)
    int nghttp2_submit_trailer(nghttp2_session *session, int32_t stream_id,
                               const nghttp2_nv *nva, size_t nvlen)
    int nghttp2_submit_rst_stream(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                                  uint32_t error_code)
    int nghttp2_submit_goaway(nghttp2_session *session, uint8_t flags, int32_t last_stream_id,
                              uint32_t error_code, const uint8_t *opaque_data, size_t opaque_data_len)
    const char *nghttp2_strerror(int error_code)


cdef class _Outgoing:
    # A stream's response body waiting for flow-control window.
    # Invariant: size == total bytes of chunks[head:] minus offset.
    cdef list chunks
    cdef Py_ssize_t head      # index of the chunk being sent
    cdef Py_ssize_t offset    # bytes of chunks[head] already sent
    cdef Py_ssize_t size
    cdef bint deferred        # nghttp2 waits for resume_data
    cdef bint finished        # trailers, END_STREAM or a reset submitted: nothing more may be added
    cdef bint end_stream      # end the body with END_STREAM and no trailers
    cdef list trailers        # sent once the body is out; None before submit_trailers and after sending


cdef class H2Session:
    # Invariant: _session is NULL only after a failed __cinit__.
    cdef nghttp2_session *_session
    # events gathered by the callbacks while nghttp2 runs; handed out by feed()
    cdef list _events
    # stream id -> the request headers being received (a dict), until complete
    cdef dict _incoming
    # stream id -> _Outgoing, for every stream that has response headers
    # submitted and is not closed yet; keeps the data source object alive
    cdef dict _outgoing
    # the first exception raised inside a callback, re-raised after nghttp2 returns
    cdef object _error
    # attach(): the application's stream id -> call map, where a UnaryCall's
    # DATA, end and close go straight to it; opener(stream_id, headers) for
    # each new request (None: H2_REQUEST events instead)
    cdef dict _calls
    cdef object _opener
    cdef dict _registry       # path -> GrpcMethod, for opening plain unary calls here
    cdef object _protocol
    cdef Py_ssize_t _max_recv
    cdef char *_outbuf        # take_output()'s buffer, kept between calls
    cdef size_t _outcap

    cdef int _gather(self, const uint8_t *data, size_t n, size_t used) except -1
    cdef int _open_stream(self, int32_t stream_id, dict headers) except -1
    cdef int _route(self, int kind, int32_t stream_id, const uint8_t *data, size_t n,
                    uint32_t error_code) except -1

    cdef int _consume(self, int32_t stream_id, size_t n) except -1
    cdef bint _submit_headers(self, int32_t stream_id, list headers, bint end_stream) except? 0
    cdef bint _submit_unary(self, int32_t stream_id, list headers, bytes message, list trailers) except? 0
    cdef bint _submit_response(self, int32_t stream_id, list headers, _Outgoing out) except? 0
    cdef _Outgoing _open_outgoing(self, int32_t stream_id)
    cdef int _resume(self, int32_t stream_id, _Outgoing out) except -1
    cdef int _keep(self, BaseException exc) noexcept
    cdef int _raise_kept(self) except -1
    cdef ssize_t _read(self, int32_t stream_id, _Outgoing out, uint8_t *buf, size_t length,
                       uint32_t *flags) except? -1
