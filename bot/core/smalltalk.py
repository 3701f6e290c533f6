"""Small talk: greetings, thanks, goodbyes and "what can you do", in English and Spanish.

A message is small talk only when it is nothing else (optionally with the bot's name, an
emoji or "there"); "hi, who led the delegation?" is a question. No Telegram import.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from bot.core.text import fold

SmallTalk = Literal["greeting", "thanks", "capabilities", "goodbye", "ack"]

_PHRASES: Final[dict[SmallTalk, tuple[str, ...]]] = {
    "greeting": (
        "hi", "hello", "hey", "hiya", "howdy", "yo", "good morning", "good afternoon",
        "good evening", "morning", "greetings", "hola", "buenas", "buenos dias",
        "buenas tardes", "buenas noches", "que tal", "saludos", "que onda", "how are you",
        "como estas", "como esta",
    ),
    "thanks": (
        "thanks", "thank you", "thank you very much", "thanks a lot", "thx", "ty", "cheers",
        "much appreciated", "gracias", "muchas gracias", "mil gracias", "te agradezco",
        "thanks for the info", "thanks for the help", "thank you for the info",
        "thank you for your help", "gracias por la info", "gracias por la informacion",
        "gracias por la ayuda", "gracias por tu ayuda",
    ),
    "capabilities": (
        "what can you do", "what do you do", "what are you", "who are you", "how does this work",
        "how do you work", "what is this bot", "what is this", "what can i ask", "help me",
        "que puedes hacer", "que haces", "que eres", "quien eres", "como funcionas",
        "que te puedo preguntar", "que sabes", "para que sirves", "ayuda", "ayudame",
        "are you a bot", "are you a robot", "are you a real person", "are you a person",
        "are you human", "are you real", "eres un bot", "eres un robot", "eres una persona",
        "eres humano", "eres real", "are you a bot or a person", "are you a bot or a human",
        "are you a person or a bot", "are you human or a bot", "eres un bot o una persona",
        "eres un bot o un humano", "eres una persona o un bot", "eres humano o un bot",
    ),
    "goodbye": ("bye", "goodbye", "see you", "see ya", "adios", "hasta luego", "nos vemos", "chao"),
    "ack": ("ok", "okay", "cool", "great", "nice", "perfect", "got it", "vale", "perfecto",
            "genial", "entendido", "listo", "sale", "orale", "lol", "haha", "jaja", "jajaja",
            "lmao"),
}  # fmt: skip
_FILLER: Final = (
    r"(?:\s+(?:there|bot|everyone|all|again|so much|amigo|amiga|a todos|chatbot"
    r"|lol|haha|jaja|jajaja))*"
)
_PATTERNS: Final = {
    kind: re.compile(
        r"^(?:"
        + "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
        + r")"
        + _FILLER
        + r"(?:\s+|$)"
    )
    for kind, phrases in _PHRASES.items()
}


def small_talk(text: str) -> SmallTalk | None:
    """The kind of small talk `text` is, or None when it is (also) something else.

    Several pieces of small talk in a row ("ok thanks", "thanks, bye") are small talk of the
    last one's kind."""
    rest = " ".join(fold(text).split())
    kind: SmallTalk | None = None
    while rest:
        found = next(((k, m) for k, p in _PATTERNS.items() if (m := p.match(rest))), None)
        if found is None:
            return None
        kind, rest = found[0], rest[found[1].end() :]
    return kind
