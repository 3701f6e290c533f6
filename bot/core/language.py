"""Which language a message is written in (English or Spanish), judged from the message itself.

Words that only one language of the knowledge base uses (its stop words and phrasings) are
counted, with Spanish punctuation and accents as extra evidence; people's names count for
neither. `LanguageChoice` is the one place the language of a reply is decided: the chat's
pinned language (/lang), else the message's own language, else the user's app language
(Telegram's language_code), else English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.core.knowledge import LANGUAGES, KnowledgeBase, Language
from bot.core.text import fold

SPANISH_MARKS: Final = frozenset("¿¡ñ")
ACCENTED: Final = frozenset("áéíóúü")
DEFAULT_LANGUAGE: Final[Language] = "en"


def language_of_code(code: str | None) -> Language | None:
    """The supported language a Telegram language_code ("es-MX", "en") stands for, if any."""
    if not code:
        return None
    prefix = code.split("-")[0].lower()
    return next((lang for lang in LANGUAGES if lang == prefix), None)


@dataclass(frozen=True)
class LanguageChoice:
    """What decides the language of a reply, in order of precedence."""

    pinned: Language | None = None  # chosen for the chat with /lang
    app_language: str | None = None  # the user's app language (Telegram's language_code)

    def resolve(self, own: Language | None = None) -> Language:
        """The reply's language: pinned, else the message's `own`, else the app's, else English."""
        return self.pinned or own or language_of_code(self.app_language) or DEFAULT_LANGUAGE


class LanguageDetector:
    """Counts words that belong to only one language of the knowledge base."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        name_words = {
            word
            for entry in knowledge.entries
            if entry.person is not None
            for word in fold(entry.person.name).split()
        }
        vocab: dict[Language, set[str]] = {}
        for language in LANGUAGES:
            words = set()
            for entry in knowledge.entries:
                text = entry.text(language)
                for phrase in (*text.questions, text.title, text.answer):
                    words.update(fold(phrase).split())
            vocab[language] = (words - name_words) | knowledge.lexicon.language_stop_words.get(
                language, frozenset()
            )
        # Full names and their runs of two or more words ("de la fuente") are removed before
        # counting, longest first, so a name's "de" or "ó" is not taken for Spanish.
        runs = {
            " ".join(words[i:j])
            for entry in knowledge.entries
            if entry.person is not None
            for words in [fold(entry.person.name).split()]
            for i in range(len(words))
            for j in range(i + 2, len(words) + 1)
        }
        self._name_runs = sorted(runs, key=len, reverse=True)
        self._name_words = frozenset(name_words)
        self._only: dict[Language, frozenset[str]] = {
            language: frozenset(
                vocab[language].difference(*(vocab[o] for o in LANGUAGES if o != language))
            )
            for language in LANGUAGES
        }

    def scores(self, text: str, repaired: str | None = None) -> dict[Language, float]:
        """Evidence for each language in `text` (words read from `repaired` when given)."""
        folded = f" {fold(repaired if repaired is not None else text)} "
        for run in self._name_runs:
            folded = folded.replace(f" {run} ", " ")
        words = folded.split()
        found: dict[Language, float] = {
            language: float(sum(word in self._only[language] for word in words))
            for language in LANGUAGES
        }
        marks = accents = 0
        for word in text.casefold().split():
            marks += sum(c in SPANISH_MARKS for c in word)
            if fold(word) not in self._name_words:
                accents += sum(c in ACCENTED for c in word)
        found["es"] += 2.0 * marks + min(2.0, float(accents))
        return found

    def is_neutral(self, text: str, repaired: str | None = None) -> bool:
        """True when the text shows no language (a bare name, an acronym)."""
        return len(set(self.scores(text, repaired).values())) == 1

    def guess(self, text: str, repaired: str | None = None) -> Language | None:
        """The language `text` is written in, or None when it does not show one.

        `repaired` is the text with its typos repaired (so "principos" counts as Spanish).
        """
        found = self.scores(text, repaired)
        best = max(found.values())
        leaders = [language for language in LANGUAGES if found[language] == best]
        return leaders[0] if len(leaders) == 1 else None

    def detect(
        self, text: str, app_language: str | None = None, repaired: str | None = None
    ) -> Language:
        """The language of `text`; when it shows none, the app language's, else English."""
        return LanguageChoice(app_language=app_language).resolve(self.guess(text, repaired))
