"""A per-user flood limit on incoming messages: at most N in a sliding window, one notice.

Pure and clock-injectable. User ids live only in memory, for the length of the window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import Final

MAX_TRACKED_USERS: Final = 10_000  # above this, users whose window passed are forgotten


class Verdict(StrEnum):
    """What to do with one incoming message."""

    ALLOW = "allow"
    NOTIFY = "notify"  # over the limit: drop it, and tell the user once
    DROP = "drop"  # over the limit, already told


class FloodLimiter:
    """At most `limit` messages per user within `window` seconds."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._told: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        """Count one message from `user_id` and say whether to answer it."""
        if len(self._seen) > MAX_TRACKED_USERS:
            self.forget_idle()
        now = self._clock()
        times = self._seen.setdefault(user_id, deque())
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

    def forget_idle(self) -> None:
        """Drop users whose window has passed (keeps memory bounded)."""
        now = self._clock()
        for user_id in [u for u, t in self._seen.items() if not t or now - t[-1] >= self.window]:
            del self._seen[user_id]
            self._told.discard(user_id)
