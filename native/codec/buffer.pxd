# Growable output buffer and bounds-checked input reader for the binary
# codecs (protobuf wire format, log entries, peer frames).

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t


cdef class WriteBuffer:
    # Invariant: 0 <= _length <= _size; _buf holds _size bytes.
    cdef char *_buf
    cdef Py_ssize_t _size
    cdef Py_ssize_t _length

    cdef inline int _reserve(self, Py_ssize_t extra) except -1
    cdef int write_byte(self, uint8_t b) except -1
    cdef int write_raw(self, const char *data, Py_ssize_t n) except -1
    cdef int write_bytes_obj(self, bytes data) except -1
    cdef int write_uvarint(self, uint64_t v) except -1
    cdef int write_fixed32_le(self, uint32_t v) except -1
    cdef int write_fixed64_be(self, uint64_t v) except -1
    # protobuf helpers: a field is written only when it is not the zero value
    cdef int pb_varint(self, uint32_t field, uint64_t v) except -1
    cdef int pb_int64(self, uint32_t field, int64_t v) except -1
    cdef int pb_bool(self, uint32_t field, bint v) except -1
    cdef int pb_bytes(self, uint32_t field, bytes v) except -1
    cdef int pb_bytes_always(self, uint32_t field, bytes v) except -1
    # length-delimited sub-message: begin returns the patch position, end
    # back-patches the length (reserved as a 5-byte padded varint when the
    # length is not known in advance, then compacted by end)
    cdef Py_ssize_t pb_begin(self, uint32_t field) except -1
    cdef int pb_end(self, Py_ssize_t mark) except -1
    cdef bytes to_bytes(self)
    cdef void clear(self)


cdef class ReadBuffer:
    # Reads from a bytes object it keeps alive.  Invariant: _pos <= _end.
    cdef bytes _obj
    cdef const char *_data
    cdef Py_ssize_t _pos
    cdef Py_ssize_t _end

    cdef inline bint at_end(self)
    cdef uint8_t read_byte(self) except? 0xFF
    cdef uint64_t read_uvarint(self) except? 0xFFFFFFFFFFFFFFFF
    cdef uint32_t read_fixed32_le(self) except? 0xFFFFFFFF
    cdef uint64_t read_fixed64_be(self) except? 0xFFFFFFFFFFFFFFFF
    cdef bytes read_bytes(self, Py_ssize_t n)
    cdef bytes read_len_bytes(self)
    cdef ReadBuffer sub_reader(self)
    cdef int skip_field(self, uint32_t wire_type) except -1


cdef enum:
    WIRE_VARINT = 0
    WIRE_FIXED64 = 1
    WIRE_LEN = 2
    WIRE_START_GROUP = 3
    WIRE_END_GROUP = 4
    WIRE_FIXED32 = 5
