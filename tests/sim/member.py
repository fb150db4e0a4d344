"""A simulated member: what survives a crash (storage, the applied state
machine, snapshot data received and not yet installed) and what does not
(the RawNode, Readys not yet persisted)."""
from collections import deque

from cairn._codec import (CONF_CHANGE_REMOVE_NODE, ENTRY_CONF_CHANGE, ConfChange, ConfState)

from .checker import chain


class State:
    """An immutable copy of a state machine: what a snapshot carries."""
    __slots__ = ("index", "digest", "data", "conf_state", "removed")

    def __init__(self, index, digest, data, conf_state, removed):
        self.index = index
        self.digest = digest
        self.data = data                # client writes applied, in order (tuple)
        self.conf_state = conf_state
        self.removed = removed          # ids whose removal was applied (frozenset)


class Member:
    # ticks a member that applied its own removal keeps running, so that
    # its last messages (the commit index of the change) get out (etcd
    # waits a little before stopping a removed member too)
    LINGER_TICKS = 10

    def __init__(self, id, storage):
        self.id = id
        self.storage = storage
        self.node = None
        self.pending = deque()      # [Ready, persisted?, applied?] in ready() order
        # the state machine, persisted with its applied index; the
        # membership part of it is storage.conf_state
        self.applied_index = 0
        self.digest = 0
        self.applied_data = []
        self.removed = set()        # members whose removal this one applied
        self.staged = {}            # (index, term) -> State of a MSG_SNAP received
        self.self_removed = False   # applied its own removal: never starts again
        self.linger = None          # ticks left before a removed member stops

    @property
    def running(self):
        return self.node is not None

    def stop(self):
        self.node = None
        self.pending.clear()

    # -- the state machine ---------------------------------------------------

    def apply(self, entries, checker):
        """Applies committed entries in order; returns the client writes."""
        writes = []
        for e in entries:
            digest = chain(self.digest, e)
            checker.applied(self, e, digest)
            self.digest = digest
            self.applied_index = e.index
            if e.type == ENTRY_CONF_CHANGE:
                self.apply_conf_change(ConfChange.decode(e.data), e.index, checker)
            elif e.data:
                self.applied_data.append(e.data)
                writes.append(e.data)
        return writes

    def apply_conf_change(self, cc, index, checker):
        if cc.node_id in self.removed:
            # a removed id never returns: the state machine vetoes the
            # change (as etcd's server does) and raft does not see it
            cs = self.storage.conf_state
            checker.conf_applied(self, index, ConfState(cs.voters, cs.learners))
            return
        cs = self.node.apply_conf_change(cc)
        self.storage.conf_state = cs
        checker.conf_applied(self, index, cs)
        if cc.type == CONF_CHANGE_REMOVE_NODE:
            self.removed.add(cc.node_id)
            if cc.node_id == self.id:
                self.self_removed = True
                self.linger = self.LINGER_TICKS

    def state(self):
        cs = self.storage.conf_state
        return State(self.applied_index, self.digest, tuple(self.applied_data),
                     ConfState(cs.voters, cs.learners), frozenset(self.removed))

    def snapshot(self, compact_to):
        """Snapshots the applied state and compacts the log up to
        compact_to (at most the applied index)."""
        st = self.storage
        if self.applied_index == 0:
            return
        st.save_snapshot(self.applied_index, st.conf_state, self.state())
        st.compact(min(compact_to, self.applied_index))

    def install(self, meta, state):
        """Installs a leader's snapshot: state and log restart after it."""
        self.storage.install_snapshot(meta, state)
        self.applied_index = state.index
        self.digest = state.digest
        self.applied_data = list(state.data)
        self.removed = set(state.removed)
        if self.id in self.removed and not self.self_removed:
            self.self_removed = True
            self.linger = self.LINGER_TICKS
        for key in [k for k in self.staged if k[0] <= meta.index]:
            del self.staged[key]

    def tick(self):
        self.node.tick()
        if self.linger is not None:
            self.linger -= 1
            if self.linger <= 0:
                self.linger = None
                self.stop()

    def __repr__(self):
        if self.node is None:
            return "Member(%d, %s, applied=%d)" % (
                self.id, "removed" if self.self_removed else "down", self.applied_index)
        return repr(self.node)
