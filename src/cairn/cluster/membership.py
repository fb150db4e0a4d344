"""The cluster's member table, part of the replicated state: who is in the
cluster (ID, name, peer URLs, client URLs, learner or voter) and which IDs
were removed (a removed ID never comes back, as in etcd).

It changes only by applying committed log entries, on every member in the
same order: ENTRY_CONF_CHANGE entries (add, remove, update, promote; the
changed member travels encoded in the change's context) and published
attributes (a member's name and client URLs, proposed by that member once
it serves clients).  Its writes are persisted with the applied index that
covers them (sub-database `members`: 8-byte ID -> encoded Member; b"r" +
8-byte ID -> b"" for removed IDs).
"""

import logging
import urllib.parse

from cairn._codec import (
    CONF_CHANGE_ADD_LEARNER_NODE,
    CONF_CHANGE_ADD_NODE,
    CONF_CHANGE_REMOVE_NODE,
    CONF_CHANGE_UPDATE_NODE,
    ErrMemberBadURLs,
    ErrMemberExist,
    ErrMemberNotFound,
    ErrMemberNotLearner,
    ErrPeerURLExist,
    Member,
)
from cairn.storage.tables import from_u64, u64

log = logging.getLogger("cairn.membership")

REMOVED_PREFIX = b"r"


def copy_member(m, **changes):
    fields = dict(ID=m.ID, name=m.name, peerURLs=list(m.peerURLs), clientURLs=list(m.clientURLs),
                  isLearner=m.isLearner)
    fields.update(changes)
    return Member(**fields)


def stored_peer_urls(urls):
    """The form etcd 3.4 keeps a new member's peer URLs in (types.NewURLs,
    then each URL's String()): spaces trimmed, the scheme in lower case,
    sorted.  (An update's URLs are kept as given.)"""
    out = []
    for url in urls:
        url = url.strip()
        scheme, colon, rest = url.partition(":")
        out.append(scheme.lower() + colon + rest)
    return sorted(out)


def check_peer_urls(urls):
    """etcd's rule for member URLs: each an http(s)://host:port URL."""
    if not urls:
        raise ErrMemberBadURLs()
    for url in urls:
        try:
            parsed = urllib.parse.urlsplit(url)
            port = parsed.port
        except ValueError:
            raise ErrMemberBadURLs() from None
        if parsed.scheme not in ("http", "https") or not parsed.hostname or port is None:
            raise ErrMemberBadURLs()
        if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
            raise ErrMemberBadURLs()


class Membership:
    def __init__(self, member_id):
        self.member_id = member_id
        self.members = {}  # ID -> Member
        self.removed = set()
        self._writes = []  # (key, value or None) not yet handed to the applier
        # observers(kind, member): "add" | "update" | "remove" after a change
        self.observers = []

    def load(self, items):
        for key, value in items:
            if key.startswith(REMOVED_PREFIX) and len(key) == 9:
                self.removed.add(from_u64(key[1:]))
            elif len(key) == 8:
                member = Member.decode(value)
                self.members[member.ID] = member

    def take_writes(self):
        writes, self._writes = self._writes, []
        return writes

    # --- reads ---------------------------------------------------------------

    def list(self):
        return [self.members[i] for i in sorted(self.members)]

    def get(self, member_id):
        return self.members.get(member_id)

    def peer_urls_in_use(self, urls, except_id=0):
        taken = {u for m in self.members.values() if m.ID != except_id for u in m.peerURLs}
        return any(u in taken for u in urls)

    # --- checks made before proposing (the apply checks again) -----------------

    def check_add(self, member_id, peer_urls):
        check_peer_urls(peer_urls)
        if member_id in self.members or member_id in self.removed:
            raise ErrMemberExist()
        if self.peer_urls_in_use(peer_urls):
            raise ErrPeerURLExist()

    def check_remove(self, member_id):
        if member_id not in self.members:
            raise ErrMemberNotFound()

    def check_update(self, member_id, peer_urls):
        # etcd 3.4 stores an update's URLs as given; its client has checked
        # them with spaces trimmed, so that is the form checked here
        check_peer_urls([url.strip() for url in peer_urls])
        if member_id not in self.members:
            raise ErrMemberNotFound()
        if self.peer_urls_in_use(peer_urls, except_id=member_id):
            raise ErrPeerURLExist()

    def check_promote(self, member_id):
        member = self.members.get(member_id)
        if member is None:
            raise ErrMemberNotFound()
        if not member.isLearner:
            raise ErrMemberNotLearner()

    # --- apply -------------------------------------------------------------------

    def apply_conf_change(self, cc):
        """Validates and applies a committed change to the member table.
        Returns True when Raft's membership must change too; raises an
        EtcdError (for the proposer) when the change is refused, in which
        case nothing changes anywhere."""
        node_id = cc.node_id
        member = Member.decode(cc.context) if cc.context else None
        current = self.members.get(node_id)
        if cc.type in (CONF_CHANGE_ADD_NODE, CONF_CHANGE_ADD_LEARNER_NODE):
            learner = cc.type == CONF_CHANGE_ADD_LEARNER_NODE
            if node_id in self.removed:
                raise ErrMemberNotFound()
            if current is not None:
                if learner or not current.isLearner:
                    raise ErrMemberExist()
                self._put(copy_member(current, isLearner=False), "update")  # promotion
                return True
            if member is None:
                member = Member(ID=node_id)
            if self.peer_urls_in_use(member.peerURLs):
                raise ErrPeerURLExist()
            self._put(copy_member(member, ID=node_id, isLearner=learner), "add")
            return True
        if cc.type == CONF_CHANGE_REMOVE_NODE:
            if current is None:
                raise ErrMemberNotFound()
            del self.members[node_id]
            self.removed.add(node_id)
            self._writes.append((u64(node_id), None))
            self._writes.append((REMOVED_PREFIX + u64(node_id), b""))
            self._notify("remove", current)
            return True
        if cc.type == CONF_CHANGE_UPDATE_NODE:
            if current is None:
                raise ErrMemberNotFound()
            urls = list(member.peerURLs) if member is not None else []
            if self.peer_urls_in_use(urls, except_id=node_id):
                raise ErrPeerURLExist()
            self._put(copy_member(current, peerURLs=urls), "update")
            return True
        raise ValueError("unknown configuration change type %d" % cc.type)

    def apply_attributes(self, published):
        """A member published its name and client URLs (etcd's attribute
        update, proposed by the member itself once it serves clients)."""
        current = self.members.get(published.ID)
        if current is None:
            return None  # removed meanwhile: nothing to record
        self._put(copy_member(current, name=published.name, clientURLs=list(published.clientURLs)), "update")
        return None

    def _put(self, member, kind):
        self.members[member.ID] = member
        self._writes.append((u64(member.ID), member.encode()))
        self._notify(kind, member)

    def _notify(self, kind, member):
        for observer in self.observers:
            try:
                observer(kind, member)
            except Exception:  # an observer's failure must not split the replicated state
                log.exception("membership observer failed")
