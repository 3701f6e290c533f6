"""Messages that cannot stand alone: a follow-up leans on the topic of the last answer.

Four kinds, in English and Spanish:

- a pronoun for the last answer's subject: "is he a general?", "what did they report?",
  "¿y él qué hace?", or "even"/"ni" with the subject left out: "¿ni un nombre?";
- an additive word with the subject left out, as Spanish does, after an answer about a
  person: "¿también fue a Washington?", "did she go too?";
- a bare question word: "why?", "when?", "how many?", "¿cuándo?", "¿por qué?";
- an ellipsis with nothing of its own: "and him?", "what about it?", "¿y eso?".

An ellipsis that names something ("and Morales?", "what about the guns?", "¿y la de
seguridad?") stands alone: it is matched as it is, and so is any self-contained question.
No Telegram import.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from bot.core.text import fold

PRONOUNS: Final = frozenset(
    {
        "he", "she", "they", "it", "him", "her", "them", "his", "their", "its", "hes", "shes",
        "theyre", "el", "ella", "ellos", "ellas", "le", "les", "eso", "esa", "ese", "este",
        "esta", "esto",
    }
)  # fmt: skip
# "el" is the Spanish article as well as "él" once accents are gone: it counts as a pronoun
# only where an article cannot stand (at the end, or before a verb-like word, see below).
_ARTICLE_LIKE: Final = frozenset({"el", "esa", "ese", "este", "esta"})
QUESTION_WORDS: Final = frozenset(
    {
        "why", "when", "where", "how", "who", "what", "which", "many", "much", "long",
        "por", "porque", "para", "que", "cuando", "donde", "como", "quien", "quienes", "cual",
        "cuales", "cuanto", "cuanta", "cuantos", "cuantas", "and", "y", "so", "then", "pues",
        "entonces", "exactly", "exactamente", "again", "otra", "vez",
    }
)  # fmt: skip
# Additive words with the subject left out lean on the last answer's person ("did he go
# too?", "¿también fue a Washington?"); "even" and "ni" on any last answer ("not even the
# secretary of state?", "¿ni un nombre?").
ALSO: Final = frozenset({"also", "too", "tambien", "tb", "tmb", "either", "neither", "tampoco"})
EVEN: Final = frozenset({"even", "ni", "siquiera"})
_ELLIPSIS: Final = re.compile(
    r"^(?:and|also|so|what about|how about|and what about|y|y que hay de|que hay de|"
    r"que tal|y que tal|y que me dices de)\b"
)
_FILLER: Final = frozenset({"the", "a", "la", "lo", "los", "las", "un", "una", "about", "de"})
MAX_WORDS: Final = 8  # longer messages carry their own subject


class FollowUp(StrEnum):
    """How a message leans on the last answer."""

    PRONOUN = "pronoun"
    ALSO = "additive word"  # read like a pronoun, after an answer about a person
    BARE = "bare question word"
    ELLIPSIS = "ellipsis"


def follow_up(message: str) -> FollowUp | None:
    """The kind of follow-up `message` is, or None when it can stand alone."""
    words = fold(message).split()
    if not words or len(words) > MAX_WORDS:
        return None
    if all(word in QUESTION_WORDS for word in words):
        return FollowUp.BARE
    folded = " ".join(words)
    if _ELLIPSIS.match(folded):
        rest = [w for w in _ELLIPSIS.sub("", folded).split() if w not in _FILLER]
        if not rest or all(w in PRONOUNS or w in QUESTION_WORDS for w in rest):
            return FollowUp.ELLIPSIS
    pronoun = any(
        word in PRONOUNS and not _is_article(words, position) for position, word in enumerate(words)
    )
    if pronoun or EVEN.intersection(words):
        return FollowUp.PRONOUN
    # Spanish drops the subject: "¿también fue a Washington?"
    return FollowUp.ALSO if ALSO.intersection(words) else None


def _is_article(words: list[str], position: int) -> bool:
    """True when a word that may be a pronoun reads as an article: "el secretario"."""
    if words[position] not in _ARTICLE_LIKE:
        return False
    following = words[position + 1] if position + 1 < len(words) else None
    return following is not None and following not in QUESTION_WORDS
