"""The form cairn keeps members' peer URLs in, as etcd 3.4 keeps them:
trimmed, scheme in lower case and sorted when added (types.NewURLs); as
given when updated, after the check its client makes on the trimmed form.
(Seen against etcd 3.4.23 through etcdctl: test_etcdctl_matrix_cluster.)"""

import pytest

from cairn._codec import EtcdError, Member
from cairn.cluster.membership import Membership, stored_peer_urls


def test_added_urls_are_trimmed_lower_cased_and_sorted():
    assert stored_peer_urls([" http://127.0.0.1:3", "HTTP://127.0.0.1:2\t"]) == \
        ["http://127.0.0.1:2", "http://127.0.0.1:3"]
    assert stored_peer_urls(["https://[::1]:9"]) == ["https://[::1]:9"]


def test_an_update_is_checked_trimmed():
    membership = Membership(1)
    membership.members[7] = Member(ID=7, peerURLs=["http://127.0.0.1:1"])
    membership.check_update(7, ["http://127.0.0.1:5 ", " http://127.0.0.1:4"])
    for bad in ([], ["not a url"], [" http://127.0.0.1"], ["http://127.0.0.1:5/path "]):
        with pytest.raises(EtcdError, match="given member URLs are invalid"):
            membership.check_update(7, bad)
