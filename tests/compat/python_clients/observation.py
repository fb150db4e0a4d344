"""What a client scenario saw, written so that two servers' runs compare
equal exactly when they answered alike.

The scenario scripts run inside a client's own virtual environment, so this
module uses the standard library only.  Server-chosen numbers that legitimately
differ between two servers are replaced by stable stand-ins:

* revisions are given relative to the revision the scenario started at (each
  scenario writes only under its own prefix, so the offsets depend on the
  scenario alone, not on what ran before it);
* lease IDs become `lease#1`, `lease#2`, … in order of first appearance
  (etcd picks them at random);
* the endpoint's URL becomes `<endpoint>`.
"""

import json
import sys


class Observation:
    def __init__(self, endpoint_url: str):
        self.endpoint_url = endpoint_url
        self.base_revision = None
        self.steps = []
        self._lease_labels = {}

    def start_at(self, revision: int) -> None:
        self.base_revision = revision

    def rev(self, revision: int):
        """A revision as an offset from the start; 0 (no revision, e.g. the
        create revision of an absent key) stays 0."""
        if not revision:
            return 0
        return "base%+d" % (revision - self.base_revision)

    def lease(self, lease_id: int) -> str:
        if not lease_id:
            return "no lease"
        if lease_id not in self._lease_labels:
            self._lease_labels[lease_id] = "lease#%d" % (len(self._lease_labels) + 1)
        return self._lease_labels[lease_id]

    def url(self, url: str) -> str:
        return "<endpoint>" if url == self.endpoint_url else url

    def kv(self, kv) -> dict:
        """A mvccpb.KeyValue (or anything with its fields) as a dict."""
        return {"key": text(kv.key), "value": text(kv.value),
                "create_revision": self.rev(kv.create_revision),
                "mod_revision": self.rev(kv.mod_revision),
                "version": kv.version, "lease": self.lease(kv.lease)}

    def record(self, label: str, value) -> None:
        self.steps.append([label, value])

    def emit(self) -> None:
        json.dump({"steps": self.steps}, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")


def text(data) -> str:
    """Keys and values as text for the report; non-UTF-8 bytes as repr."""
    if isinstance(data, str):
        return data
    try:
        return data.decode()
    except UnicodeDecodeError:
        return repr(data)


def check(condition: bool, what: str) -> None:
    """A fact the scenario is written to show; a reference etcd that fails
    it means the scenario does not test what it says."""
    if not condition:
        raise AssertionError(what)
