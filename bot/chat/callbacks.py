"""Buttons and deep links on the wire: a button's action as callback data, and back.

Callback data is "<kind>:<language>:<rest>", at most 64 bytes (Telegram's limit):

- `a:<language>:<entry id>`: answer an entry; `s:…` is the same, picked from "did you mean";
- `f:<language>:<+|->:<entry id>`: 👍 or 👎 on an answer;
- `t:<language>`: list the topics.

The `*_PATTERN`s let the Telegram application route each kind to its own handler. A deep link
t.me/<bot>?start=<payload> opens an entry: the payload is the entry id, with "<language>-"
in front for a language other than English.
"""

from __future__ import annotations

import re
from typing import Final

from bot.core.knowledge import LANGUAGES, Language
from bot.core.language import DEFAULT_LANGUAGE, language_of_code
from bot.core.replies import Action, ShowEntry, ShowTopics, Vote

SHOW: Final = "a"
PICK: Final = "s"
VOTE: Final = "f"
TOPICS: Final = "t"

SHOW_PATTERN: Final = re.compile(rf"^[{SHOW}{PICK}]:")
VOTE_PATTERN: Final = re.compile(rf"^{VOTE}:")
TOPICS_PATTERN: Final = re.compile(rf"^{TOPICS}:")


def encode(action: Action) -> str:
    """The callback data of a button's action."""
    match action:
        case ShowEntry(entry_id, language, picked):
            return f"{PICK if picked else SHOW}:{language}:{entry_id}"
        case Vote(entry_id, language, value):
            return f"{VOTE}:{language}:{'+' if value > 0 else '-'}:{entry_id}"
        case ShowTopics(language):
            return f"{TOPICS}:{language}"


def decode(data: str) -> Action | None:
    """The action behind callback data, or None when it is stale, forged or unknown."""
    kind, _, rest = data.partition(":")
    code, _, remainder = rest.partition(":")
    language = language_of_code(code) if code in LANGUAGES else None
    if language is None:
        return None
    if kind == TOPICS and not remainder:
        return ShowTopics(language)
    if kind in (SHOW, PICK) and remainder:
        return ShowEntry(remainder, language, picked=kind == PICK)
    sign, _, entry_id = remainder.partition(":")
    if kind == VOTE and sign in ("+", "-") and entry_id:
        return Vote(entry_id, language, 1 if sign == "+" else -1)
    return None


def deep_link_payload(entry_id: str, language: Language) -> str:
    """The /start payload that opens `entry_id` in `language`."""
    return entry_id if language == DEFAULT_LANGUAGE else f"{language}-{entry_id}"


def parse_deep_link(payload: str) -> list[tuple[str, Language | None]]:
    """The readings of a /start payload, most likely first: (entry id, its language or None)."""
    payload = payload.strip()
    readings: list[tuple[str, Language | None]] = [(payload, None)]
    code, _, entry_id = payload.partition("-")
    if code in LANGUAGES and entry_id:
        readings.append((entry_id, language_of_code(code)))
    return readings
