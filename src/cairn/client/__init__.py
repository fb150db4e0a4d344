"""cairn's Python client for etcd-compatible servers.

``cairn.client.Client`` blocks; ``cairn.client.aio.Client`` is the asyncio
original.  Requests for txns come from ``cairn.client.ops`` and compares
from ``cairn.client.compare``; responses are ``cairn.client.messages``
objects; failures are ``cairn.client.errors.EtcdError`` subclasses.
Watches (``cairn.client.watch``) and lease keep-alives
(``cairn.client.lease_keepalive``) are iterators over a stream each.
"""

from . import compare, errors, messages, ops
from .errors import ClientError, EtcdError
from .messages import SortOrder, SortTarget
from .sync import Client

__all__ = ["Client", "ClientError", "EtcdError", "SortOrder", "SortTarget",
           "compare", "errors", "messages", "ops"]
