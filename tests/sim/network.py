"""A seeded network: it loses, delays, duplicates and reorders messages, and
partitions members.  Every message crosses it as bytes (Message.encode /
Message.decode), as it would on a real wire.

Each direction of each pair of members is one link, first-in first-out
like the TCP connection cairn's transport uses; `reorder_rate` lets a
message overtake others on its link now and then, and delivery between
different links interleaves freely.  `on_drop` hears of every message
lost (the sender's transport learns of a failed snapshot stream).
"""
from collections import deque

from cairn._codec import Message


class Network:
    def __init__(self, rng, drop_rate=0.0, dup_rate=0.0, max_delay=0, reorder_rate=0.0,
                 on_drop=None):
        self.rng = rng
        self.on_drop = on_drop
        self.drop_rate = drop_rate
        self.dup_rate = dup_rate
        self.max_delay = max_delay  # in simulation steps
        self.reorder_rate = reorder_rate
        self.now = 0
        self.links = {}             # (frm, to) -> deque of [deliver_at, bytes]
        self.in_flight = 0
        self.cut = set()            # (frm, to) pairs that cannot talk
        self.sent = 0
        self.dropped = 0

    def send(self, msg):
        self.sent += 1
        link = (msg.frm, msg.to)
        if self.rng.random() < self.drop_rate or link in self.cut:
            self.dropped += 1
            if self.on_drop is not None:
                self.on_drop(msg)
            return
        data = msg.encode()
        q = self.links.get(link)
        if q is None:
            q = self.links[link] = deque()
        for _ in range(2 if self.rng.random() < self.dup_rate else 1):
            delay = self.rng.randint(0, self.max_delay) if self.max_delay else 0
            q.append([self.now + delay, data])
            self.in_flight += 1

    def pop_deliverable(self):
        """The next message of a random link whose head is due (sometimes
        one from further back), or None."""
        links = [link for link, q in self.links.items() if q and q[0][0] <= self.now]
        if not links:
            return None
        link = links[self.rng.randrange(len(links))]
        q = self.links[link]
        i = 0
        if len(q) > 1 and self.rng.random() < self.reorder_rate:
            i = self.rng.randrange(len(q))
            if q[i][0] > self.now:
                i = 0
        _, data = q[i]
        del q[i]
        self.in_flight -= 1
        msg = Message.decode(data)
        if link in self.cut:
            self.dropped += 1
            if self.on_drop is not None:
                self.on_drop(msg)
            return None
        return msg

    def partition(self, side_a, side_b):
        for a in side_a:
            for b in side_b:
                self.cut.add((a, b))
                self.cut.add((b, a))

    def heal(self):
        self.cut.clear()
