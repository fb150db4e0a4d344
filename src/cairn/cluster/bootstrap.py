"""A member's first start: who it is and what its log begins with.

A member of a new cluster (--initial-cluster-state new) derives every
member's ID from --initial-cluster and --initial-cluster-token, so all
founders agree without talking; its log starts with one committed
configuration change per founder (term 1), each carrying the founder's name
and peer URLs.  Applying those builds Raft's membership and the member
table the same way on every member, founders and members added later alike.

A member joining a running cluster (--initial-cluster-state existing, after
`member add`) asks the peers in --initial-cluster for the member list and
finds itself by its advertised peer URLs; its log starts empty and the
leader sends it everything (entries or a snapshot).
"""

import logging

from cairn._codec import CONF_CHANGE_ADD_NODE, ENTRY_CONF_CHANGE, ConfChange, Entry, HardState, Member
from cairn.storage.tables import CLUSTER_ID, MEMBER_ID, u64

from cairn.server import identity

log = logging.getLogger("cairn.bootstrap")


def founders(config):
    """[(member ID, name, peer URLs)] of a new cluster, in ID order."""
    token = config.initial_cluster_token
    out = [(identity.member_id(urls, token), name, list(urls)) for name, urls in config.initial_cluster.items()]
    return sorted(out)


def first_log(founding):
    """The entries and hard state every founder's log starts with."""
    entries = []
    for i, (member_id, name, urls) in enumerate(founding):
        context = Member(ID=member_id, name="", peerURLs=urls).encode()
        cc = ConfChange(CONF_CHANGE_ADD_NODE, member_id, context)
        entries.append(Entry(term=1, index=i + 1, type=ENTRY_CONF_CHANGE, data=cc.encode()))
    return entries, HardState(term=1, vote=0, commit=len(entries))


async def bootstrap_new(config, environment, raftlog, writer):
    """Writes a founder's identity and first log; returns (cluster ID,
    member ID)."""
    founding = founders(config)
    ids = {name: member_id for member_id, name, _ in founding}
    if config.name not in ids:
        raise RuntimeError("--initial-cluster has no member named %r" % config.name)
    own_urls = sorted(config.initial_advertise_peer_urls)
    listed = sorted(config.initial_cluster[config.name])
    if own_urls != listed:
        raise RuntimeError("--initial-cluster has %s=%s but --initial-advertise-peer-urls is %s"
                           % (config.name, ",".join(listed), ",".join(own_urls)))
    member_id = ids[config.name]
    cluster_id = identity.cluster_id(ids.values())
    entries, hard_state = first_log(founding)
    await write_identity(environment, raftlog, writer, cluster_id, member_id, entries, hard_state)
    log.info("bootstrapped member %x of new cluster %x with %d members", member_id, cluster_id, len(founding))
    return cluster_id, member_id


async def write_identity(environment, raftlog, writer, cluster_id, member_id, entries=(), hard_state=None):
    meta_db = environment.db["meta"]
    append = raftlog.append_job(list(entries), hard_state)
    ids_bytes = (u64(cluster_id), u64(member_id))

    def run(txn):
        append(txn)
        txn.put(CLUSTER_ID, ids_bytes[0], db=meta_db)
        txn.put(MEMBER_ID, ids_bytes[1], db=meta_db)

    await writer.submit(run, sync=True)
    raftlog.persisted(list(entries), hard_state, stored=True)


def find_self(members, advertise_peer_urls):
    """The member among `members` (a running cluster's list) whose peer URLs
    are ours: the ID `member add` gave us."""
    own = set(advertise_peer_urls)
    for member in members:
        if own & set(member.peerURLs):
            return member
    return None


async def join(config, environment, raftlog, writer):
    """A member added with `member add`, started with
    --initial-cluster-state existing: learns the cluster's ID and its own
    from a running member's peer port; returns (cluster ID, member ID, the
    members as that peer knows them)."""
    import asyncio

    from .members_query import fetch_members

    own = set(config.initial_advertise_peer_urls)
    peers = [url for name, urls in config.initial_cluster.items() for url in urls if url not in own]
    if not peers:
        raise RuntimeError("--initial-cluster-state existing: --initial-cluster names no other member")
    loop = asyncio.get_running_loop()
    errors = []
    for url in peers:
        try:
            cluster_id, members = await loop.run_in_executor(None, fetch_members, url)
        except OSError as exc:
            errors.append("%s: %s" % (url, exc))
            continue
        found = find_self(members, config.initial_advertise_peer_urls)
        if found is None:
            raise RuntimeError("the cluster at %s has no member with peer URLs %s (add it with `member add` first)"
                               % (url, ",".join(sorted(own))))
        await write_identity(environment, raftlog, writer, cluster_id, found.ID)
        log.info("joining cluster %x as member %x", cluster_id, found.ID)
        return cluster_id, found.ID, members
    raise RuntimeError("could not fetch the cluster's members from %s" % "; ".join(errors))
