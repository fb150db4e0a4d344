"""The member list a running member serves on its peer port (`GET
/members`, as etcd's peer handler does), for members joining the cluster:
JSON {"cluster_id": "<hex>", "members": [{"id": "<hex>", "name", "peerURLs",
"clientURLs", "isLearner"}]}."""

import http.client
import urllib.parse

import orjson

from cairn._codec import Member

PATH = b"/members"


def members_json(cluster_id, members):
    return orjson.dumps({
        "cluster_id": "%x" % cluster_id,
        "members": [{"id": "%x" % m.ID, "name": m.name, "peerURLs": list(m.peerURLs),
                     "clientURLs": list(m.clientURLs), "isLearner": m.isLearner} for m in members],
    })


def fetch_members(peer_url, timeout=5.0):
    """(cluster ID, [Member]) from the member at peer_url (blocking)."""
    parsed = urllib.parse.urlsplit(peer_url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        conn.request("GET", PATH.decode())
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise OSError("GET /members answered %d" % response.status)
    except http.client.HTTPException as exc:
        raise OSError(str(exc)) from None
    finally:
        conn.close()
    obj = orjson.loads(body)
    members = [Member(ID=int(m["id"], 16), name=m.get("name", ""), peerURLs=list(m.get("peerURLs", [])),
                      clientURLs=list(m.get("clientURLs", [])), isLearner=bool(m.get("isLearner")))
               for m in obj["members"]]
    return int(obj["cluster_id"], 16), members
