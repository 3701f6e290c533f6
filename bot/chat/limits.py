"""A per-user flood limit on incoming messages: at most N in a sliding window, one notice.

Pure and clock-injectable. User ids live only in memory, for the length of the window.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from enum import StrEnum


class Verdict(StrEnum):
    """What to do with one incoming message."""

    ALLOW = "allow"
    NOTIFY = "notify"  # over the limit: drop it, and tell the user once
    DROP = "drop"  # over the limit, already told


class FloodLimiter:
    """At most `limit` messages per user within `window` seconds, in O(1) per message.

    Users are kept in the order they were last seen; each check forgets, from the front, the
    users whose last counted message left the window, so memory follows the users active in
    one window and no check scans them all (each user is forgotten at most once per visit).
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()
        self._told: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        """Count one message from `user_id` and say whether to answer it."""
        now = self._clock()
        self._forget_before(now - self.window)
        times = self._seen.get(user_id)
        if times is None:
            times = self._seen[user_id] = deque()
        else:
            self._seen.move_to_end(user_id)
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._told.discard(user_id)
            return Verdict.ALLOW
        if user_id in self._told:
            return Verdict.DROP
        self._told.add(user_id)
        return Verdict.NOTIFY

    def __len__(self) -> int:
        """Users tracked now."""
        return len(self._seen)

    def _forget_before(self, cutoff: float) -> None:
        while self._seen:
            user_id, times = next(iter(self._seen.items()))
            if times and times[-1] > cutoff:
                return
            del self._seen[user_id]
            self._told.discard(user_id)
