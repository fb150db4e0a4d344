"""One test per rule of Figure 2 of the Raft paper ("In Search of an
Understandable Consensus Algorithm"), each named after the sentence it
checks.  PreVote and CheckQuorum are off here: the figure's rules are the
plain algorithm (they have their own tests)."""
from cairn._codec import (MSG_APP, MSG_APP_RESP, MSG_HEARTBEAT, MSG_VOTE, MSG_VOTE_RESP,
                          Entry, Message)
from cairn._raft import ROLE_CANDIDATE, ROLE_FOLLOWER, ROLE_LEADER, RawNode

from tests.sim.lockstep import Lockstep
from tests.sim.storage import MemoryStorage


def follower_with_log(terms, term=None, commit=0):
    """A member 1 of {1,2,3} whose persisted log has entries of these terms."""
    c = Lockstep(3)
    st = c.storage[1]
    st.persist(None, [Entry(term=t, index=i + 1) for i, t in enumerate(terms)])
    st.hard_state.term = term if term is not None else (terms[-1] if terms else 0)
    st.hard_state.commit = commit
    c.start(1)
    return c


def app(frm, term, index, log_term, entries=(), commit=0, to=1):
    return Message(type=MSG_APP, to=to, frm=frm, term=term, index=index, log_term=log_term,
                   entries=[Entry(term=t, index=index + 1 + k, data=b"e%d" % (index + 1 + k))
                            for k, t in enumerate(entries)],
                   commit=commit)


def vote(frm, term, index, log_term, to=1):
    return Message(type=MSG_VOTE, to=to, frm=frm, term=term, index=index, log_term=log_term)


# -- All servers --------------------------------------------------------------

def test_all_servers_apply_committed_entries_in_log_order_once():
    c = Lockstep(3)
    c.elect(1)
    for k in range(5):
        c[1].propose(b"w%d" % k)
    c.stabilize()
    for i in c.ids:
        assert [e.index for e in c.applied[i]] == list(range(1, 7))
        assert c.applied_data(i) == [b"w%d" % k for k in range(5)]
    # a restart with applied=6 applies nothing again, but resumes after it
    c.start(2)
    c[1].propose(b"w5")
    c.stabilize()
    assert [e.index for e in c.applied[2]] == list(range(1, 8))


def test_all_servers_adopt_a_higher_term_and_become_followers():
    for role in (ROLE_FOLLOWER, ROLE_CANDIDATE, ROLE_LEADER):
        c = Lockstep(3)
        if role == ROLE_CANDIDATE:
            c[1].campaign()
        elif role == ROLE_LEADER:
            c.elect(1)
        assert c[1].role == role
        term = c[1].term
        c[1].step(app(frm=2, term=term + 5, index=0, log_term=0))
        assert (c[1].role, c[1].term, c[1].leader) == (ROLE_FOLLOWER, term + 5, 2)


# -- Followers ------------------------------------------------------------------

def test_followers_respond_to_candidates_and_leaders():
    c = Lockstep(3)
    c[1].step(vote(frm=2, term=1, index=0, log_term=0))
    c[1].step(app(frm=2, term=1, index=0, log_term=0))
    types = [m.type for m in c.take(1)]
    assert types == [MSG_VOTE_RESP, MSG_APP_RESP]


def test_followers_become_candidates_when_the_election_timeout_elapses():
    c = Lockstep(3)
    c.tick(1, 2 * 10)   # randomized timeout is below 2 * election_tick
    assert c[1].role == ROLE_CANDIDATE
    assert c[1].term == 1


def test_followers_hearing_from_the_leader_do_not_time_out():
    c = Lockstep(3)
    c.elect(1)
    for _ in range(100):
        c.tick(2)
        c.tick(1)
        c.stabilize()
    assert c[2].role == ROLE_FOLLOWER and c[1].role == ROLE_LEADER
    assert c[2].term == c[1].term == 1


def test_granting_a_vote_restarts_the_election_timer():
    c = Lockstep(3)
    c.tick(1, 9)
    c[1].step(vote(frm=2, term=1, index=0, log_term=0))
    c.tick(1, 9)
    assert c[1].role == ROLE_FOLLOWER


def test_election_timeouts_are_randomized_between_one_and_two_timeouts():
    seen = set()
    for seed in range(40):
        n = RawNode(1, MemoryStorage([1, 2, 3]), election_tick=10, seed=seed, pre_vote=False)
        ticks = 0
        while n.role == ROLE_FOLLOWER:
            n.tick()
            ticks += 1
        seen.add(ticks)
    assert min(seen) >= 10 and max(seen) < 20
    assert len(seen) > 3


# -- Candidates -----------------------------------------------------------------

def test_candidates_increment_the_term_vote_for_themselves_and_request_votes():
    c = Lockstep(3)
    c[1].campaign()
    assert (c[1].role, c[1].term, c[1].vote) == (ROLE_CANDIDATE, 1, 1)
    votes = c.take(1)
    assert sorted(m.to for m in votes) == [2, 3]
    assert all(m.type == MSG_VOTE and m.term == 1 for m in votes)
    # the term and vote are persisted before the requests go out
    assert c.storage[1].hard_state.term == 1 and c.storage[1].hard_state.vote == 1


def test_candidates_with_votes_from_a_majority_become_leader():
    for n, granted, expect in ((3, [2], ROLE_LEADER), (5, [2], ROLE_CANDIDATE),
                               (5, [2, 3], ROLE_LEADER), (1, [], ROLE_LEADER)):
        c = Lockstep(n)
        c[1].campaign()
        c.take(1)
        for v in granted:
            c[1].step(Message(type=MSG_VOTE_RESP, to=1, frm=v, term=1))
        assert c[1].role == expect, (n, granted)


def test_candidates_rejected_by_a_majority_become_followers():
    c = Lockstep(3)
    c[1].campaign()
    c[1].step(Message(type=MSG_VOTE_RESP, to=1, frm=2, term=1, reject=True))
    assert c[1].role == ROLE_CANDIDATE
    c[1].step(Message(type=MSG_VOTE_RESP, to=1, frm=3, term=1, reject=True))
    assert c[1].role == ROLE_FOLLOWER and c[1].term == 1


def test_candidates_hearing_from_a_leader_of_their_term_become_followers():
    for msg_type in (MSG_APP, MSG_HEARTBEAT):
        c = Lockstep(3)
        c[1].campaign()
        c[1].step(Message(type=msg_type, to=1, frm=2, term=1))
        assert (c[1].role, c[1].term, c[1].leader) == (ROLE_FOLLOWER, 1, 2)


def test_candidates_start_a_new_election_when_the_timeout_elapses():
    c = Lockstep(3)
    c[1].campaign()
    c.take(1)
    c.tick(1, 2 * 10)
    assert c[1].role == ROLE_CANDIDATE and c[1].term == 2
    assert sorted(m.to for m in c.take(1, MSG_VOTE)) == [2, 3]


# -- Leaders --------------------------------------------------------------------

def test_leaders_send_appends_on_election_and_heartbeats_when_idle():
    c = Lockstep(3)
    c[1].campaign()
    c.take(1)
    c[1].step(Message(type=MSG_VOTE_RESP, to=1, frm=2, term=1))
    first = c.take(1)
    assert sorted(m.to for m in first) == [2, 3]
    assert all(m.type == MSG_APP and [e.data for e in m.entries] == [b""] for m in first)
    c.tick(1)   # heartbeat_tick = 1
    beats = c.take(1, MSG_HEARTBEAT)
    assert sorted(m.to for m in beats) == [2, 3]


def test_leaders_append_client_commands_and_commit_them_after_replication():
    c = Lockstep(3)
    c.elect(1)
    index = c[1].propose(b"cmd")
    assert index == 2
    c.process(1)
    assert c.storage[1].last_index() == 2        # appended to the local log
    assert c[1].commit == 1 and c.applied_data(1) == []   # not yet applied
    c.stabilize()
    assert c.applied_data(1) == [b"cmd"]


def test_leaders_send_followers_the_entries_from_their_next_index():
    c = Lockstep(3)
    c.elect(1)
    c.isolate(3)
    for k in range(3):
        c[1].propose(b"w%d" % k)
    c.stabilize()
    assert c.storage[3].last_index() == 1
    c.heal()
    c.tick(1)   # a heartbeat reveals member 3 lagging
    c.stabilize()
    assert c.applied_data(3) == [b"w0", b"w1", b"w2"]
    assert c[1].status()["progress"][3]["match"] == 4


def test_leaders_step_back_next_index_after_a_rejected_append_and_retry():
    # member 2 holds a conflicting suffix from a term-2 leader that never
    # committed it; the term-3 leader walks back to the match and overwrites
    c = Lockstep(3)
    for i in (1, 2, 3):
        c.storage[i].persist(None, [Entry(term=1, index=1, data=b"a")])
    c.storage[2].persist(None, [Entry(term=2, index=2, data=b"x"), Entry(term=2, index=3, data=b"y")])
    for i in c.ids:
        c.storage[i].hard_state.term = 2
        c.start(i)
    c.elect(1)
    assert c[1].term == 3
    c[1].propose(b"b")
    c.stabilize()
    for i in c.ids:
        assert [(e.term, e.data) for e in c.storage[i].ents] == [(1, b"a"), (3, b""), (3, b"b")]


def test_leaders_commit_by_majority_of_match_indexes():
    c = Lockstep(5)
    c.elect(1)
    for peer in (4, 5):
        c.isolate(peer)
    c[1].propose(b"x")
    c.stabilize()
    assert c[1].commit == 2         # 1, 2, 3 of 5 have it
    c.isolate(3)
    c[1].propose(b"y")
    c.stabilize()
    assert c[1].commit == 2         # 1 and 2 of 5: no majority


def test_leaders_do_not_commit_entries_of_earlier_terms_by_counting_replicas():
    # Figure 8: the entry of term 2 at index 2 reaches a majority, but the
    # leader of term 4 may commit it only along with an entry of its own.
    c = Lockstep(3)
    for i in c.ids:
        c.storage[i].persist(None, [Entry(term=1, index=1)])
    c.storage[1].persist(None, [Entry(term=2, index=2, data=b"old")])
    for i in c.ids:
        c.storage[i].hard_state.term = 3
        c.storage[i].hard_state.commit = 1
        c.start(i)
    c[1].campaign()
    c.take(1)
    c[1].step(Message(type=MSG_VOTE_RESP, to=1, frm=2, term=4))
    assert c[1].role == ROLE_LEADER
    c.take(1)   # its empty entry (term 4, index 3) is persisted
    c[1].step(Message(type=MSG_APP_RESP, to=1, frm=2, term=4, index=2))
    c.process(1)
    assert c[1].commit == 1     # index 2 is on 2 of 3 members, but of term 2
    c[1].step(Message(type=MSG_APP_RESP, to=1, frm=2, term=4, index=3))
    c.process(1)
    assert c[1].commit == 3     # its own entry commits both


# -- RequestVote receiver ---------------------------------------------------------

def test_vote_requests_of_an_older_term_are_refused():
    c = follower_with_log([1, 1], term=3)
    c[1].step(vote(frm=2, term=2, index=5, log_term=2))
    assert c[1].vote == 0
    assert [m.type for m in c.take(1)] == []   # ignored; the candidate learns the term elsewhere


def test_votes_go_only_to_logs_at_least_as_up_to_date():
    # our log: terms [1, 2] -> last (index 2, term 2)
    cases = [((2, 2), True), ((3, 2), True), ((1, 2), False),
             ((5, 1), False), ((1, 3), True), ((0, 0), False)]
    for (index, log_term), granted in cases:
        c = follower_with_log([1, 2])
        c[1].step(vote(frm=2, term=3, index=index, log_term=log_term))
        resp = c.take(1, MSG_VOTE_RESP)
        assert len(resp) == 1 and resp[0].reject == (not granted), (index, log_term)
        assert c[1].vote == (2 if granted else 0)


def test_one_vote_per_term_repeatable_for_the_same_candidate():
    c = Lockstep(3)
    c[1].step(vote(frm=2, term=1, index=0, log_term=0))
    c[1].step(vote(frm=3, term=1, index=0, log_term=0))
    c[1].step(vote(frm=2, term=1, index=0, log_term=0))
    assert [m.reject for m in c.take(1, MSG_VOTE_RESP)] == [False, True, False]
    assert c.storage[1].hard_state.vote == 2


def test_a_vote_is_persisted_in_the_ready_that_carries_its_response():
    c = Lockstep(3)
    c[1].step(vote(frm=2, term=1, index=0, log_term=0))
    rd = c[1].ready()
    assert rd.hard_state.term == 1 and rd.hard_state.vote == 2 and rd.must_sync
    assert [m.type for m in rd.messages] == [MSG_VOTE_RESP]


# -- AppendEntries receiver -------------------------------------------------------

def test_appends_of_an_older_term_are_refused():
    c = follower_with_log([1], term=3)
    c[1].step(app(frm=2, term=2, index=1, log_term=1, entries=[2]))
    assert c[1].last_index == 1
    assert c[1].term == 3 and c[1].leader == 0


def test_appends_whose_previous_entry_does_not_match_are_refused():
    c = follower_with_log([1, 1, 2], term=3)
    c[1].step(app(frm=2, term=3, index=3, log_term=3, entries=[3]))   # term differs at 3
    c[1].step(app(frm=2, term=3, index=5, log_term=3, entries=[3]))   # 5 is past our end
    resps = c.take(1, MSG_APP_RESP)
    assert [m.reject for m in resps] == [True, True]
    assert c[1].last_index == 3
    # the hint names where the logs may match: our index 3 has term 2 <= 3
    assert (resps[0].reject_hint, resps[0].log_term) == (3, 2)
    assert (resps[1].reject_hint, resps[1].log_term) == (3, 2)


def test_conflicting_entries_and_all_that_follow_are_deleted():
    c = follower_with_log([1, 1, 2, 2], term=3)
    c[1].step(app(frm=2, term=3, index=2, log_term=1, entries=[3]))
    rd = c[1].ready()
    assert [(e.index, e.term) for e in rd.entries] == [(3, 3)]
    c.storage[1].persist(rd.hard_state, rd.entries)
    c[1].advance(rd)
    assert [e.term for e in c.storage[1].ents] == [1, 1, 3]


def test_new_entries_are_appended_and_present_ones_kept():
    c = follower_with_log([1, 1], term=1)
    # a duplicate of what we have, plus one: only the new one is written
    c[1].step(app(frm=2, term=1, index=0, log_term=0, entries=[1, 1, 1]))
    rd = c[1].ready()
    assert [e.index for e in rd.entries] == [3]
    c.storage[1].persist(rd.hard_state, rd.entries)
    c[1].advance(rd)
    # a stale, shorter append truncates nothing
    c[1].step(app(frm=2, term=1, index=0, log_term=0, entries=[1]))
    assert not c[1].ready().entries
    assert c[1].last_index == 3


def test_commit_index_follows_the_leader_up_to_the_last_new_entry():
    c = follower_with_log([1], term=1)
    c[1].step(app(frm=2, term=1, index=1, log_term=1, entries=[1], commit=10))
    assert c[1].commit == 2     # min(leaderCommit 10, last new entry 2)
    c[1].step(app(frm=2, term=1, index=1, log_term=1, entries=[], commit=1))
    assert c[1].commit == 2     # never backwards
