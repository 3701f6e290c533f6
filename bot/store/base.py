"""The one storage interface: everything the bot keeps, whatever keeps it.

`bot.store.sqlite.SqliteStore` is the embedded implementation (the default). Another backend
(PostgreSQL for several replicas, issue 14) implements the same methods, and
`tests/test_store_contract.py` runs one suite of contract tests against every implementation.
Chats and voters are passed in as ids and must be stored only under a keyed hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.feedback import FeedbackEvent
from bot.core.knowledge import Language


@dataclass(frozen=True)
class Stats:
    """Counts for /stats."""

    unanswered: int
    picks: int
    upvotes: int
    downvotes: int
    chats: int


class InboxError(Exception):
    """The inbox cannot keep an update: it must not be acknowledged."""


class Store(Protocol):
    """The durable inbox, curator feedback and per-chat state."""

    shared: bool  # True when other replicas use the same inbox (their dead claims are taken)

    # ---- the inbox: an update is kept before it is acknowledged, until it is answered

    def accept(self, updates: Sequence[tuple[int, str]]) -> list[int]:
        """Keep (update id, raw JSON) pairs; the ids seen for the first time. Raises when
        they cannot be kept (then they must not be acknowledged)."""

    def finish(self, update_id: int) -> None:
        """The update has been handled."""

    def renew(self) -> None:
        """Keep this process's claims on the updates it holds (shared inboxes)."""

    def unfinished(self) -> list[tuple[int, str]]:
        """Kept updates not handled yet, oldest first."""

    def prune(self, keep_seconds: float) -> int:
        """Forget handled updates older than `keep_seconds`."""

    def inbox_depth(self) -> tuple[int, float | None]:
        """(updates not handled yet, age in seconds of the oldest)."""

    # ---- the curator's data

    def record(self, event: FeedbackEvent) -> None:
        """Keep one feedback event (a vote replaces the voter's earlier vote on the entry)."""

    def unanswered(self) -> list[tuple[str, str, int]]:
        """(question, language, times) of questions that got no answer card."""

    def votes(self) -> list[tuple[str, int, int]]:
        """(entry id, 👍, 👎) per voted entry."""

    def picks(self) -> list[tuple[str, str, int]]:
        """(question, picked entry id, times) of "did you mean" picks."""

    def stats(self) -> Stats:
        """Totals for /stats."""

    # ---- per-chat state

    def pinned(self, chat: int | None) -> Language | None:
        """The chat's /lang pin."""

    def pin(self, chat: int | None, language: Language | None) -> None:
        """Pin (or, with None, unpin) the chat's language."""

    def topic(self, chat: int | None, max_age: float) -> str | None:
        """The chat's last answered entry, if recent enough."""

    def set_topic(self, chat: int | None, entry_id: str | None) -> None:
        """Remember the chat's last answered entry."""

    def forget(self, chat: int | None, user: int | None) -> int:
        """Delete everything kept for the chat and the user's votes."""

    def prune_topics(self, max_age: float) -> None:
        """Forget topics older than `max_age`."""

    # ---- operations

    def ping(self) -> bool:
        """True when the storage can be reached."""

    def close(self) -> None:
        """Release connections."""
