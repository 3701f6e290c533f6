"""Replies as plain data: paragraphs rendered both as Telegram HTML and as plain text, plus buttons.

No Telegram import. Everything user-supplied is escaped here, once, and long replies are split
on paragraph boundaries into pieces that each fit one Telegram message.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.knowledge import MAX_MESSAGE_CHARS, Language

ReplyKind = Literal["answer", "suggest", "decline", "info", "smalltalk"]


@dataclass(frozen=True)
class ShowEntry:
    """A button that answers one entry: a related topic, a topic, or a "did you mean" pick."""

    entry_id: str
    language: Language
    picked: bool = False  # chosen from "did you mean" (the curator wants to know)


@dataclass(frozen=True)
class Vote:
    """A 👍 (+1) or 👎 (-1) button under an answer."""

    entry_id: str
    language: Language
    value: int


@dataclass(frozen=True)
class ShowTopics:
    """The "all topics" button."""

    language: Language


Action = ShowEntry | Vote | ShowTopics


@dataclass(frozen=True)
class Paragraph:
    """One block of a reply, in Telegram HTML and in plain text."""

    html: str
    plain: str


class ParagraphBuilder:
    """Builds one paragraph from styled runs; user text is escaped on the way in."""

    def __init__(self) -> None:
        self._html: list[str] = []
        self._plain: list[str] = []

    def text(self, value: str) -> ParagraphBuilder:
        """Append plain text."""
        self._html.append(html.escape(value, quote=False))
        self._plain.append(value)
        return self

    def bold(self, value: str) -> ParagraphBuilder:
        """Append bold text."""
        self._html.append(f"<b>{html.escape(value, quote=False)}</b>")
        self._plain.append(value)
        return self

    def italic(self, value: str) -> ParagraphBuilder:
        """Append italic text."""
        self._html.append(f"<i>{html.escape(value, quote=False)}</i>")
        self._plain.append(value)
        return self

    def build(self) -> Paragraph:
        """The finished paragraph."""
        return Paragraph("".join(self._html), "".join(self._plain))


def plain(value: str) -> Paragraph:
    """A paragraph of unstyled text."""
    return ParagraphBuilder().text(value).build()


@dataclass(frozen=True)
class Button:
    """A button: a label and the action it asks for (the chat layer encodes it), or a URL."""

    label: str
    action: Action | None = None
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """What the bot says: the same content for Telegram (HTML), the console and the CLI (plain)."""

    kind: ReplyKind
    language: Language
    paragraphs: tuple[Paragraph, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    entry_id: str | None = None
    score: float = 0.0
    suggestions: tuple[str, ...] = ()
    context: str | None = None  # the entry a follow-up was read with, if any
    parts: tuple[str, ...] = ()  # the entries of a multi-part answer, in order
    nearest: str | None = None  # a decline's nearest topic that the article does cover

    @property
    def plain(self) -> str:
        """The whole reply as plain text, no markup."""
        return "\n\n".join(p.plain for p in self.paragraphs)

    @property
    def matched(self) -> bool:
        """True when the reply answers one entry of the knowledge base."""
        return self.kind == "answer" and self.entry_id is not None

    def html_chunks(self, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
        """The reply as HTML messages of at most `limit` characters, split between paragraphs."""
        return list(_pack(self.paragraphs, limit))


def _pack(paragraphs: Sequence[Paragraph], limit: int) -> Iterator[str]:
    current = ""
    for paragraph in paragraphs:
        pieces = (
            [paragraph.html]
            if len(paragraph.html) <= limit
            else [html.escape(p, quote=False) for p in _split_plain(paragraph.plain, limit)]
        )
        for piece in pieces:
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                if current:
                    yield current
                current = piece
    if current:
        yield current


def _split_plain(text: str, limit: int) -> Iterator[str]:
    """Split text so that each piece, once escaped, fits `limit`; cut at a line or a space."""
    while text:
        end = min(len(text), limit)
        while (overflow := len(html.escape(text[:end], quote=False)) - limit) > 0:
            end -= overflow // 4 + 1  # one character escapes to at most five
        if end < len(text):
            cut = max(text.rfind("\n", 0, end), text.rfind(" ", 0, end))
            end = cut if cut > end // 2 else end
        yield text[:end].rstrip()
        text = text[end:].lstrip()
