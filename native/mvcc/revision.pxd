# Revisions and the records the store hands to storage.
#
# A revision is (main, sub): main counts the store's writes (one per Put,
# DeleteRange or Txn that changed something), sub numbers the changes
# within one write.  Storage keys records by the 16-byte revision key: main
# and sub as big-endian uint64, so LMDB's cursor order is revision order.
# A record is one flag byte (bit 0: tombstone) + KeyValue.encode(); a
# tombstone's KeyValue holds the key and, as mod_revision, the main
# revision that deleted it.

cdef enum:
    REVISION_KEY_SIZE = 16
    RECORD_TOMBSTONE = 1

# as mvccpb.Event.EventType; plain ints in take_events()
cdef enum:
    EVENT_PUT = 0
    EVENT_DELETE = 1

cdef bytes make_revision_key(int64_t main, int64_t sub)
cdef int64_t revision_key_main(bytes key) except? -1
cdef bytes encode_record(WriteBuffer w, KeyValue kv, bint tombstone)
cdef KeyValue decode_record(bytes record)
