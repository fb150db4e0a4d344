# Errors raised by the Raft core.


class ProposalDropped(Exception):
    """A proposal or read request found no leader to take it (or this member
    is not the leader and forwarding is off).  The caller may retry once a
    leader is known."""


class InvalidMessage(ValueError):
    """A peer's message that no correct member sends: local-only type, wrong
    recipient, missing term, non-consecutive entries."""


class RaftInvariantError(RuntimeError):
    """A Raft safety invariant would break (for example a committed entry
    about to be overwritten).  The member must stop rather than continue."""
