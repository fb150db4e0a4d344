# The apply loop's per-entry work (cairn.server.apply.Applier.apply), compiled:
# every committed write passes through it once, so its interpretation was a
# visible share of the event loop.


def apply_entries(list entries not None, uint64_t applied, dict proposals not None, dict dispatch not None,
                  alarms, conf_change):
    """Applies the entries past `applied` in order: a normal entry's request
    through dispatch[type(request)] (settling the local proposal's future
    in `proposals`, id -> (future, request), with the result or the
    EtcdError), a membership change through conf_change(data).  Returns
    (the last applied index, its term), the term None if nothing was
    applied."""
    cdef Entry entry
    cdef object term = None
    cdef object local, request, result, future
    cdef ReadBuffer r
    cdef uint64_t rid
    for entry in entries:
        if entry.index <= applied:
            continue
        if entry.type == ENTRY_NORMAL and PyBytes_GET_SIZE(entry.data):
            r = ReadBuffer(entry.data)
            rid = r.read_uvarint() if r.read_byte() == ((1 << 3) | WIRE_VARINT) else 0
            local = proposals.pop(rid, None) if rid else None
            if local is not None:
                request = (<tuple>local)[1]
            else:
                request = InternalRequest.decode(entry.data).request
            try:
                if alarms is not None and alarms.active:
                    alarms.check_apply(request)
                result = dispatch[type(request)](request)
            except EtcdError as err:
                if local is not None:
                    future = (<tuple>local)[0]
                    if not future.done():
                        future.set_exception(err)
            else:
                if local is not None:
                    future = (<tuple>local)[0]
                    if type(future) is Completion:
                        if (<Completion>future)._state == _PENDING:
                            (<Completion>future)._settle(_RESULT, result)
                    elif not future.done():
                        future.set_result(result)
        elif entry.type == ENTRY_CONF_CHANGE:
            conf_change(entry.data)
        applied = entry.index
        term = entry.term
    return applied, term
