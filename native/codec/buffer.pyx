from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Realloc
from libc.string cimport memcpy, memmove


class DecodeError(ValueError):
    """Bytes that do not decode as the expected message."""


cdef class WriteBuffer:

    def __cinit__(self, Py_ssize_t size=256):
        if size < 16:
            size = 16
        self._buf = <char *>PyMem_Realloc(NULL, size)
        if self._buf is NULL:
            raise MemoryError()
        self._size = size
        self._length = 0

    def __dealloc__(self):
        PyMem_Free(self._buf)

    def __len__(self):
        return self._length

    cdef inline int _reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t need = self._length + extra
        cdef Py_ssize_t size
        cdef char *buf
        if need <= self._size:
            return 0
        size = self._size * 2
        while size < need:
            size *= 2
        buf = <char *>PyMem_Realloc(self._buf, size)
        if buf is NULL:
            raise MemoryError()
        self._buf = buf
        self._size = size
        return 0

    cdef int write_byte(self, uint8_t b) except -1:
        self._reserve(1)
        self._buf[self._length] = <char>b
        self._length += 1
        return 0

    cdef int write_raw(self, const char *data, Py_ssize_t n) except -1:
        self._reserve(n)
        memcpy(self._buf + self._length, data, n)
        self._length += n
        return 0

    cdef int write_bytes_obj(self, bytes data) except -1:
        return self.write_raw(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))

    cdef int write_uvarint(self, uint64_t v) except -1:
        self._reserve(10)
        while v >= 0x80:
            self._buf[self._length] = <char>((v & 0x7F) | 0x80)
            self._length += 1
            v >>= 7
        self._buf[self._length] = <char>v
        self._length += 1
        return 0

    cdef int write_fixed32_le(self, uint32_t v) except -1:
        self._reserve(4)
        cdef int i
        for i in range(4):
            self._buf[self._length + i] = <char>((v >> (8 * i)) & 0xFF)
        self._length += 4
        return 0

    cdef int write_fixed64_be(self, uint64_t v) except -1:
        self._reserve(8)
        cdef int i
        for i in range(8):
            self._buf[self._length + i] = <char>((v >> (56 - 8 * i)) & 0xFF)
        self._length += 8
        return 0

    cdef int pb_varint(self, uint32_t field, uint64_t v) except -1:
        if v != 0:
            self.write_uvarint((<uint64_t>field << 3) | WIRE_VARINT)
            self.write_uvarint(v)
        return 0

    cdef int pb_int64(self, uint32_t field, int64_t v) except -1:
        # protobuf int64: negative values are ten-byte two's complement varints
        if v != 0:
            self.write_uvarint((<uint64_t>field << 3) | WIRE_VARINT)
            self.write_uvarint(<uint64_t>v)
        return 0

    cdef int pb_bool(self, uint32_t field, bint v) except -1:
        if v:
            self.write_uvarint((<uint64_t>field << 3) | WIRE_VARINT)
            self.write_byte(1)
        return 0

    cdef int pb_bytes(self, uint32_t field, bytes v) except -1:
        if v is not None and PyBytes_GET_SIZE(v) > 0:
            self.pb_bytes_always(field, v)
        return 0

    cdef int pb_bytes_always(self, uint32_t field, bytes v) except -1:
        self.write_uvarint((<uint64_t>field << 3) | WIRE_LEN)
        if v is None:
            self.write_byte(0)
            return 0
        self.write_uvarint(<uint64_t>PyBytes_GET_SIZE(v))
        self.write_bytes_obj(v)
        return 0

    cdef Py_ssize_t pb_begin(self, uint32_t field) except -1:
        cdef Py_ssize_t mark
        self.write_uvarint((<uint64_t>field << 3) | WIRE_LEN)
        mark = self._length
        self._reserve(5)
        self._length += 5
        return mark

    cdef int pb_end(self, Py_ssize_t mark) except -1:
        cdef Py_ssize_t body = self._length - mark - 5
        cdef uint64_t v = <uint64_t>body
        cdef Py_ssize_t n = 1
        cdef uint64_t t = v
        cdef Py_ssize_t i
        while t >= 0x80:
            t >>= 7
            n += 1
        if n > 5:
            raise ValueError("message too large")
        # compact: write the minimal varint and slide the body left
        for i in range(n):
            if i < n - 1:
                self._buf[mark + i] = <char>((v & 0x7F) | 0x80)
            else:
                self._buf[mark + i] = <char>(v & 0x7F)
            v >>= 7
        if n < 5:
            memmove(self._buf + mark + n, self._buf + mark + 5, body)
            self._length -= 5 - n
        return 0

    cdef bytes to_bytes(self):
        return PyBytes_FromStringAndSize(self._buf, self._length)

    cdef void clear(self):
        self._length = 0

    def getvalue(self):
        return self.to_bytes()


cdef class ReadBuffer:

    def __cinit__(self, bytes data not None, Py_ssize_t start=0, Py_ssize_t end=-1):
        self._obj = data
        self._data = PyBytes_AS_STRING(data)
        if end < 0:
            end = PyBytes_GET_SIZE(data)
        if start < 0 or start > end or end > PyBytes_GET_SIZE(data):
            raise DecodeError("bad bounds")
        self._pos = start
        self._end = end

    cdef inline bint at_end(self):
        return self._pos >= self._end

    cdef uint8_t read_byte(self) except? 0xFF:
        if self._pos >= self._end:
            raise DecodeError("unexpected end of data")
        self._pos += 1
        return <uint8_t>self._data[self._pos - 1]

    cdef uint64_t read_uvarint(self) except? 0xFFFFFFFFFFFFFFFF:
        cdef uint64_t v = 0
        cdef int shift = 0
        cdef uint8_t b
        while True:
            if self._pos >= self._end:
                raise DecodeError("truncated varint")
            b = <uint8_t>self._data[self._pos]
            self._pos += 1
            if shift == 63 and b > 1:
                raise DecodeError("varint overflows 64 bits")
            v |= (<uint64_t>(b & 0x7F)) << shift
            if b < 0x80:
                return v
            shift += 7
            if shift > 63:
                raise DecodeError("varint too long")

    cdef uint32_t read_fixed32_le(self) except? 0xFFFFFFFF:
        cdef uint32_t v = 0
        cdef int i
        if self._end - self._pos < 4:
            raise DecodeError("truncated fixed32")
        for i in range(4):
            v |= (<uint32_t><uint8_t>self._data[self._pos + i]) << (8 * i)
        self._pos += 4
        return v

    cdef uint64_t read_fixed64_be(self) except? 0xFFFFFFFFFFFFFFFF:
        cdef uint64_t v = 0
        cdef int i
        if self._end - self._pos < 8:
            raise DecodeError("truncated fixed64")
        for i in range(8):
            v = (v << 8) | <uint8_t>self._data[self._pos + i]
        self._pos += 8
        return v

    cdef bytes read_bytes(self, Py_ssize_t n):
        if n < 0 or self._end - self._pos < n:
            raise DecodeError("truncated bytes field")
        self._pos += n
        return PyBytes_FromStringAndSize(self._data + self._pos - n, n)

    cdef bytes read_len_bytes(self):
        cdef uint64_t n = self.read_uvarint()
        if n > <uint64_t>(self._end - self._pos):
            raise DecodeError("truncated length-delimited field")
        return self.read_bytes(<Py_ssize_t>n)

    cdef ReadBuffer sub_reader(self):
        cdef uint64_t n = self.read_uvarint()
        cdef ReadBuffer sub
        if n > <uint64_t>(self._end - self._pos):
            raise DecodeError("truncated sub-message")
        sub = ReadBuffer.__new__(ReadBuffer, self._obj, self._pos, self._pos + <Py_ssize_t>n)
        self._pos += <Py_ssize_t>n
        return sub

    cdef int skip_field(self, uint32_t wire_type) except -1:
        cdef uint64_t n
        cdef Py_ssize_t depth
        cdef uint32_t inner
        if wire_type == WIRE_START_GROUP:
            # an unknown group (proto2's deprecated wire types 3/4) is skipped
            # through its END_GROUP, nested groups too, as etcd's gogoproto
            # decoders do (they do not check the end's field number either);
            # a loop, not recursion: the nesting depth is the sender's choice
            depth = 1
            while depth > 0:
                inner = <uint32_t>(self.read_uvarint() & 7)
                if inner == WIRE_START_GROUP:
                    depth += 1
                elif inner == WIRE_END_GROUP:
                    depth -= 1
                else:
                    self.skip_field(inner)
        elif wire_type == WIRE_VARINT:
            self.read_uvarint()
        elif wire_type == WIRE_FIXED64:
            if self._end - self._pos < 8:
                raise DecodeError("truncated fixed64")
            self._pos += 8
        elif wire_type == WIRE_LEN:
            n = self.read_uvarint()
            if n > <uint64_t>(self._end - self._pos):
                raise DecodeError("truncated length-delimited field")
            self._pos += <Py_ssize_t>n
        elif wire_type == WIRE_FIXED32:
            if self._end - self._pos < 4:
                raise DecodeError("truncated fixed32")
            self._pos += 4
        else:
            raise DecodeError("unsupported wire type %d" % wire_type)
        return 0
