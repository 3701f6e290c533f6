"""Questions with several parts: "who are the defense secretary and the ambassador?",
"who is Harfuch and who is Figueroa?", "¿quiénes son el de Marina y la secretaria ejecutiva?".

A message is cut at "and", "y", "e", "&" and commas into two or three parts; a part without
a question word of its own borrows the first part's ("who are the ambassador"). The cut is
only offered: the pipeline takes it when every part, on its own, clearly answers a different
entry (see `Answerer.several`), so "what did the US and Mexico agree?" and "what happens in
the next weeks and months?" stay one question. An either-or question whose two alternatives
each name a covered topic ("¿hablan de drogas o nomás de armas?") is offered the same way,
the alternative asked about first (not the one "only" assumes). No Telegram import.
"""

from __future__ import annotations

import re
from typing import Final

from bot.core.text import fold

MAX_PARTS: Final = 3
ALTERNATIVES: Final = 2  # an either-or question weighs two
_JOINS: Final = re.compile(r"\s*(?:,|;|&|\band\b|\by\b|\be\b)\s*", re.IGNORECASE)
_HEAD: Final = re.compile(
    r"^((?:(?:and|y)\s+)?(?:who|what|which|quien|quienes|que|cual|cuales)"
    r"(?:\s+(?:is|are|was|were|s|re|es|son|era|eran|fue|fueron))?)\b"
)


# Folded words after "or"/"o" that end a question as a tag, not as a second alternative
# ("... or what?", "¿o qué?", "a week or so"); the matcher's clause split reads them too.
OR_TAGS: Final = (
    *("what", "who", "not", "something", "whatever", "no", "so"),
    *("que", "quien", "algo", "como", "nada"),
)
_EITHER_OR: Final = re.compile(rf"\s(?:or|o)\s(?!(?:{'|'.join(OR_TAGS)})$)")


# An alternative with "only" is the one assumed; the other is the one asked about.
_ONLY: Final = re.compile(r"\b(?:just|only|solo|solamente|nomas|nada mas|unicamente)\b")


def alternatives_of(message: str) -> list[str]:
    """The two alternatives of an either-or question ("is it drugs or only guns?"), folded;
    empty when the message has no single "or" between two alternatives."""
    pieces = [p.strip() for p in _EITHER_OR.split(fold(message))]
    if len(pieces) != ALTERNATIVES or not all(pieces):
        return []
    first, second = pieces
    if _ONLY.search(first) and not _ONLY.search(second):
        return [second, first]  # "just drugs, or firearms too?" asks about firearms
    return [first, second]


def parts_of(message: str) -> list[str]:
    """The parts of a message that may ask about several things (empty: one question)."""
    pieces = [fold(p) for p in _JOINS.split(message) if fold(p)]
    if not 1 < len(pieces) <= MAX_PARTS:
        return []
    head = _HEAD.match(pieces[0])
    if head is None:
        return []
    prefix = head.group(1)
    return [pieces[0], *(p if _HEAD.match(p) else f"{prefix} {p}" for p in pieces[1:])]
