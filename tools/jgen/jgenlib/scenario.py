"""The scheduler: actors (generators) yield Entry objects and Wake markers in their own time
order; a heap merges them across actors and hosts, and each entry is rendered and written when
it is the earliest pending one, so output streams in global time order with O(actors) memory.

An actor is `def actor(c, ...)` where c is a Clock; it yields programs.Entry (emitted at
entry.t) or Wake (resume at wake.t, used before allocating PIDs or session ids so that those are
allocated in time order).  Sub-flows are composed with `yield from`.
"""

import calendar
import heapq
import random
import time

from .export import encode_cached, encode_field
from .host import Host
from .model import DEBIAN12, MSEC, USEC
from .programs import Entry


class Wake:
    __slots__ = ("t",)

    def __init__(self, t):
        self.t = t


class Clock:
    """An actor's notion of now (µs since the epoch) and its random source."""

    __slots__ = ("t", "rng")

    def __init__(self, t, rng):
        self.t = t
        self.rng = rng

    def sleep(self, seconds):
        self.t += int(seconds * USEC)
        return Wake(self.t)

    def until(self, t):
        self.t = max(self.t, t)
        return Wake(self.t)

    def ms(self, lo, hi=None):
        """Advances by lo..hi milliseconds (uniform) and returns the new time."""
        self.t += int(self.rng.uniform(lo, lo if hi is None else hi) * MSEC)
        return self.t

    def us(self, lo, hi):
        self.t += lo + int(self.rng.random() * (hi - lo))
        return self.t


def parse_time(s):
    """"2025-11-26T09:00:00Z" -> µs since the epoch (UTC)."""
    return calendar.timegm(time.strptime(s.rstrip("Z"), "%Y-%m-%dT%H:%M:%S")) * USEC


class Scenario:
    def __init__(self, seed=1, start="2025-11-26T08:00:00Z", order="journal"):
        self.seed = seed
        self.start = parse_time(start) if isinstance(start, str) else start
        self.order = order
        self.rng = random.Random("scenario/%s" % seed)
        self.hosts = []
        self._heap = []
        self._seq = 0
        self.truth = []
        self.written = 0
        self.last_written = 0

    def add_host(self, name, profile=DEBIAN12, **kw):
        kw.setdefault("order", self.order)
        h = Host(self, name, profile, **kw)
        self.hosts.append(h)
        return h

    def spawn(self, fn, t, *args, **kw):
        """Starts actor fn(clock, *args, **kw) at time t (µs)."""
        c = Clock(t, random.Random("%s/actor/%d" % (self.seed, self._seq)))
        gen = fn(c, *args, **kw)
        self._push(t, gen, None)
        return c

    def _push(self, t, gen, entry):
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, gen, entry))

    def _advance(self, gen, not_before):
        while True:
            try:
                item = next(gen)
            except StopIteration:
                return
            if item is not None:
                break
        t = max(item.t, not_before)
        if isinstance(item, Entry):
            item.t = t
            self._push(t, gen, item)
        else:
            self._push(t, gen, None)

    def run(self, out, until=None, limit=None):
        """Writes every entry up to `until` (µs, inclusive), at most `limit` entries, to the
        binary stream out; returns the number written."""
        heap = self._heap
        write = out.write
        n = 0
        while heap:
            if limit is not None and n >= limit:
                break
            t, _, gen, entry = heapq.heappop(heap)
            if until is not None and t > until:
                break
            if entry is not None:
                if entry.host is not None:
                    data, cursor, rt = self.render(entry)
                    write(data)
                    n += 1
                    self.last_written = rt
                    if entry.mark is not None:
                        entry.mark(entry, cursor, rt)
            self._advance(gen, t)
        self.written += n
        return n

    @staticmethod
    def render(e):
        h = e.host
        mono = e.t - h.boot_rt
        items = []
        for name, value in e.client:
            if value is None:
                value = str(mono - 200 - int(h.rng.random() * 2800))
            items.append(encode_cached(name, value) if name != "MESSAGE"
                         else encode_field(name, value))
        if e.proc is not None:
            items.extend(h.trusted(e))
        if e.src is not None:
            items.append(encode_field("_SOURCE_REALTIME_TIMESTAMP", str(e.src)))
        items.extend(h.tail)
        return h.journal.render(e.t, mono, h.boot_id, items)
