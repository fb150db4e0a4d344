# Completion (the outcome of a proposal or read barrier) and UnaryCall (a
# unary gRPC call from its request message to its answer): the layouts.


cdef class Completion:
    cdef int _state           # _PENDING, _RESULT or _ERROR
    cdef object _value
    cdef object _callbacks    # None, one callback, or a list of them

    cdef int _settle(self, int state, object value) except -1
    cdef int _run(self, object callback) except -1


cdef class UnaryCall:
    cdef readonly object protocol
    cdef H2Session session
    cdef dict calls           # the protocol's stream id -> call, left when the call ends
    cdef readonly int stream_id
    cdef readonly object method
    cdef readonly object metadata
    cdef Py_ssize_t limit     # the receive limit of a message
    cdef object inflate       # decompressor of the call's grpc-encoding, or None
    cdef object reader        # a MessageReader once a message did not arrive whole in one DATA chunk
    cdef object completion    # makes the answer of the handler's done future
    cdef readonly bint finished
    cdef readonly bint cancelled
    cdef readonly bint half_closed
    cdef readonly bint dispatched
    cdef public object timer  # the grpc-timeout deadline

    cdef int _receive(self, const unsigned char *data, size_t n) except -1
    cdef int _end_of_input(self) except -1
    cdef int _abandon(self) except -1
    cdef int _answer_later(self, object future) except -1
    cdef int _take(self, object payload) except -1
    cdef int _dispatch(self, object request) except -1
    cdef int _complete(self, object future) except -1
    cdef int _respond(self, object message) except -1
    cdef int _finish(self, int code, str message) except -1
    cdef int _end(self) except -1
