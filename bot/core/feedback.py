"""What users tell the curator: votes on answers, "did you mean" picks and declined questions.

`FeedbackSink` is the interface the edges write to; `MemoryFeedback` keeps events in memory
(tests, the console). A storing sink lives with the operations code. No Telegram import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from bot.core.knowledge import Language

EventKind = Literal["vote", "pick", "unanswered"]


@dataclass(frozen=True)
class FeedbackEvent:
    """One thing a user did that the curator should know about.

    vote: 👍 (+1) or 👎 (-1) on `entry_id`. pick: the user chose `entry_id` from a "did you
    mean" offered for `question`. unanswered: `question` was declined or only suggested.
    `chat` identifies the conversation and `user` the person (one vote per person and
    entry counts); sinks that store events must not keep either in clear.
    """

    kind: EventKind
    language: Language
    entry_id: str | None = None
    value: int = 0
    question: str | None = None
    chat: int | None = None
    user: int | None = None


class FeedbackSink(Protocol):
    """Where feedback events go."""

    def record(self, event: FeedbackEvent) -> None:
        """Keep one event; must not raise for storage problems (log them instead)."""


@dataclass
class MemoryFeedback:
    """A sink that keeps events in a list."""

    events: list[FeedbackEvent] = field(default_factory=list)

    def record(self, event: FeedbackEvent) -> None:
        """Append the event."""
        self.events.append(event)
