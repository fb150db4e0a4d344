# RAFT_DEBUG is true in a CAIRN_DEBUG=1 build (setup.py leaves NDEBUG
# undefined there) and a constant false otherwise, so the C compiler drops
# the checks it guards from release builds.
cdef extern from *:
    """
    #ifdef NDEBUG
    #define CAIRN_RAFT_DEBUG 0
    #else
    #define CAIRN_RAFT_DEBUG 1
    #endif
    """
    const bint RAFT_DEBUG "CAIRN_RAFT_DEBUG"
