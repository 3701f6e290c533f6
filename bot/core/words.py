"""Real English and Spanish words, so that typo repair leaves them alone.

A word the knowledge base does not know may be a typo ("goverments") or a real word it does not
use ("building", "planets", "pantalla"). Only a typo should be repaired: "building" is not a
misspelt "binding". The words come from pyspellchecker's word-frequency dictionaries (built
from subtitles), keeping those seen at least MIN_FREQUENCY times, folded like the messages.
They are read once, on the first repair that needs them, so start-up does not pay for it; a
long-running bot reads them in the background as it starts (`warm_up`). No Telegram import.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Final

from spellchecker import SpellChecker

from bot.core.text import fold

LANGUAGES: Final = ("en", "es")
MIN_FREQUENCY: Final = 1000  # rarer entries of the dictionaries include typos and names
# Spanish verb endings: a form the frequency list lacks is real when its infinitive is listed
VERB_ENDINGS: Final = (
    *("aron", "ieron", "aban", "aba", "ando", "iendo", "ado", "ada", "ido", "ida"),
    *("amos", "imos", "emos", "an", "en", "as", "es", "o", "a", "e"),
)
INFINITIVES: Final = ("ar", "er", "ir")
MIN_ROOT: Final = 3  # letters left once the ending is taken off


@lru_cache(maxsize=1)
def real_words() -> frozenset[str]:
    """The folded real words of English and Spanish (about 28,000)."""
    words: set[str] = set()
    for language in LANGUAGES:
        counts = SpellChecker(language=language, distance=1).word_frequency.dictionary
        words.update(
            word if word.isascii() and word.isalpha() else fold(word)
            for word, count in counts.items()
            if count >= MIN_FREQUENCY
        )
    return frozenset(words)


def is_real_word(word: str) -> bool:
    """True for a folded real word, or a Spanish verb form whose infinitive is one
    ("arreglaron": arreglar), since the list keeps only the frequent forms."""
    words = real_words()
    if word in words:
        return True
    for ending in VERB_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_ROOT:
            root = word[: -len(ending)]
            if any(root + infinitive in words for infinitive in INFINITIVES):
                return True
    return False


def warm_up() -> None:
    """Read the words in a background thread, so that the first misspelt message does not
    wait for them (about 0.4 s)."""
    threading.Thread(target=real_words, name="real-words", daemon=True).start()
