"""What a conversation carries from one message to the next: the /lang pin and the topic of
the last answer (the context a follow-up is read in).

`ChatState` is the interface; `bot.store.sqlite.SqliteStore` keeps it across restarts under
the keyed hash of the chat, and `MemoryChatState` keeps it in memory (tests, the console
without a database). No Telegram import.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from bot.core.knowledge import Language


class ChatState(Protocol):
    """Per-chat state: a pinned language and the last answer's topic."""

    def pinned(self, chat: int | None) -> Language | None:
        """The language pinned with /lang, if any."""

    def pin(self, chat: int | None, language: Language | None) -> None:
        """Pin the language (None: follow each message)."""

    def topic(self, chat: int | None, max_age: float) -> str | None:
        """The entry last answered in the chat, if less than `max_age` seconds ago."""

    def set_topic(self, chat: int | None, entry_id: str | None) -> None:
        """Remember the entry just answered (None: forget it)."""

    def forget(self, chat: int | None, user: int | None) -> int:
        """Delete everything kept for the chat (and the user's votes); how much was deleted."""


class MemoryChatState:
    """Chat state in dictionaries (lost at exit)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._pins: dict[int | None, Language] = {}
        self._topics: dict[int | None, tuple[str, float]] = {}

    def pinned(self, chat: int | None) -> Language | None:
        """The language pinned with /lang, if any."""
        return self._pins.get(chat)

    def pin(self, chat: int | None, language: Language | None) -> None:
        """Pin the language (None: follow each message)."""
        if language is None:
            self._pins.pop(chat, None)
        else:
            self._pins[chat] = language

    def topic(self, chat: int | None, max_age: float) -> str | None:
        """The entry last answered in the chat, if less than `max_age` seconds ago."""
        found = self._topics.get(chat)
        if found is None or self._clock() - found[1] > max_age:
            return None
        return found[0]

    def set_topic(self, chat: int | None, entry_id: str | None) -> None:
        """Remember the entry just answered (None: forget it)."""
        if entry_id is None:
            self._topics.pop(chat, None)
        else:
            self._topics[chat] = (entry_id, self._clock())

    def forget(self, chat: int | None, user: int | None) -> int:
        """Delete everything kept for the chat."""
        return int(self._pins.pop(chat, None) is not None) + int(
            self._topics.pop(chat, None) is not None
        )
