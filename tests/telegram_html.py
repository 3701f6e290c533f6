"""Checks that a text is valid Telegram HTML: only the tags Telegram allows, balanced, and no
bare <, > or & outside tags and entities (https://core.telegram.org/bots/api#html-style)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
     "code", "pre", "blockquote", "tg-emoji"}
)  # fmt: skip
_TAG = re.compile(r"</?([a-z-]+)(?:\s[^<>]*)?>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag <{tag}> is not allowed")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close {self.stack[-1:] or 'anything'}")
        else:
            self.stack.pop()


def html_problems(text: str) -> list[str]:
    """Why `text` is not valid Telegram HTML (empty when it is)."""
    problems: list[str] = []
    bare = _ENTITY.sub("", _TAG.sub("", text))
    for char in "<>&":
        if char in bare:
            problems.append(f"bare {char!r} outside tags and entities")
    checker = _Balance()
    checker.feed(text)
    checker.close()
    problems += checker.problems
    if checker.stack:
        problems.append(f"unclosed tags: {checker.stack}")
    return problems
