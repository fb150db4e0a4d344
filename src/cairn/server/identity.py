"""Member and cluster IDs, derived the way etcd derives them in spirit:
a member's ID from its peer URLs and the cluster token, the cluster's ID
from its members' IDs, so every member computes the same IDs at bootstrap."""

import hashlib


def member_id(peer_urls, cluster_token) -> int:
    digest = hashlib.sha1(("".join(sorted(peer_urls)) + cluster_token).encode()).digest()
    return int.from_bytes(digest[:8], "big") or 1


def cluster_id(member_ids) -> int:
    digest = hashlib.sha1(b"".join(i.to_bytes(8, "big") for i in sorted(member_ids))).digest()
    return int.from_bytes(digest[:8], "big") or 1
