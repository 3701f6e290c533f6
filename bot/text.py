"""Text normalisation for matching: folding, light stemming and the lexicon-driven analyzer.

Pure functions and one small class; no I/O. The same analyzer reads the knowledge base's
phrasings and the user's question, so both sides land in the same word space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

_POSSESSIVE = re.compile(r"(\w)['’`´]s\b")
_DOTTED_ABBREVIATION = re.compile(r"\b(?:[a-z]\.){2,}")
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Return `text` casefolded, without accents or punctuation, words separated by one space.

    "U.S." and "D.C." become "us" and "dc"; a possessive "'s" is dropped; other apostrophes
    join their word ("don't" -> "dont"), so typing with or without them gives the same result.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = _POSSESSIVE.sub(r"\1", stripped)
    stripped = _DOTTED_ABBREVIATION.sub(lambda m: m.group(0).replace(".", ""), stripped)
    stripped = _APOSTROPHES.sub("", stripped)
    return _NON_WORD.sub(" ", stripped).strip()


# Spanish verb endings (past, gerund, participle, conditional, future plural), longest first.
_SPANISH_VERB_ENDINGS = (
    "ieron", "aron", "iendo", "ando", "arian", "erian", "irian", "arias", "aran", "eran",
    "iran", "aria", "eria", "iria", "ados", "adas", "idos", "idas", "ado", "ada", "ido", "ida",
)  # fmt: skip


@lru_cache(maxsize=16384)
def stem(word: str) -> str:
    """Return a light stem: Spanish verb endings, plural, -ing and -ed, and one final vowel go.

    It is deliberately crude (English and Spanish share it) and only has to be consistent:
    the knowledge base and the question are stemmed by the same function.
    """
    if len(word) <= 3 or word.isdigit():
        return word
    for ending in _SPANISH_VERB_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) >= 6:
        word = word[:-3]
    elif word.endswith("ed") and len(word) >= 5:
        word = word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    if word[-1] in "aeo" and len(word) > 4:
        word = word[:-1]
    return word


class LexiconConflictError(ValueError):
    """A word would be read as two different canonical words."""

    def __init__(self, word: str, first: str, second: str) -> None:
        super().__init__(f"{word!r} is listed under both {first!r} and {second!r}")
        self.word = word


@dataclass(frozen=True)
class Lexicon:
    """Stop words, multi-word phrases and synonyms, as curated in knowledge/lexicon.yaml."""

    stop_words: frozenset[str]
    phrases: Mapping[str, str]  # folded expression -> canonical word
    synonyms: Mapping[str, str]  # stem of a variant -> canonical stem
    spellings: frozenset[str] = frozenset()  # every folded word the lexicon lists
    question_words: frozenset[str] = frozenset()  # canonical words that ask, not describe
    language_stop_words: Mapping[str, frozenset[str]] = field(default_factory=dict)
    off_topic: frozenset[str] = frozenset()  # folded words of subjects the article lacks

    @classmethod
    def build(
        cls,
        stop_words: Mapping[str, Iterable[str]],
        phrases: Mapping[str, Iterable[str]],
        synonyms: Mapping[str, Iterable[str]],
        question_words: Iterable[str] = (),
        off_topic: Iterable[str] = (),
    ) -> Lexicon:
        """Fold and stem the curated lists into lookup tables; reject contradictions.

        `stop_words` maps a language code to that language's stop words.
        """
        by_language = {
            lang: frozenset(fold(w) for w in words) for lang, words in stop_words.items()
        }
        stops = frozenset().union(*by_language.values())
        phrase_map = {
            fold(expression): fold(target)
            for target, expressions in phrases.items()
            for expression in expressions
        }
        synonym_map: dict[str, str] = {}
        for target, variants in synonyms.items():
            stemmed = stem(fold(target))
            for word in (target, *variants):
                if fold(word) in stops:
                    raise LexiconConflictError(word, "stop_words", stemmed)
                key = stem(fold(word))
                if synonym_map.setdefault(key, stemmed) != stemmed:
                    raise LexiconConflictError(word, synonym_map[key], stemmed)
        spellings = {w for expression in phrase_map for w in expression.split()} | {
            w for t, vs in synonyms.items() for v in (t, *vs) for w in fold(v).split()
        }

        def resolve(word: str) -> str:
            folded = phrase_map.get(fold(word), fold(word))
            return synonym_map.get(stem(folded), stem(folded))

        asking = frozenset(resolve(w) for w in question_words)
        foreign = frozenset(fold(w) for w in off_topic)
        spellings |= foreign
        return cls(
            stops, phrase_map, synonym_map, frozenset(spellings), asking, by_language, foreign
        )

    @classmethod
    def empty(cls) -> Lexicon:
        """A lexicon that only folds and stems (for tests and generated knowledge bases)."""
        return cls(frozenset(), {}, {})


class Analyzer:
    """Turns text into the content words the matcher compares (stems, synonyms resolved)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        expressions = sorted(lexicon.phrases, key=len, reverse=True)
        self._phrase_re = (
            re.compile(r"\b(?:" + "|".join(re.escape(e) for e in expressions) + r")\b")
            if expressions
            else None
        )

    def words(self, text: str) -> list[str]:
        """Folded words with phrases joined, stop words kept (used for display and typos)."""
        folded = fold(text)
        if self._phrase_re is not None:
            # Two passes, so that a phrase may contain another one's canonical word
            # ("united states attorney general" -> "us attorney general" -> one word).
            for _ in range(2):
                folded = self._phrase_re.sub(lambda m: self.lexicon.phrases[m.group(0)], folded)
        return folded.split()

    def canonical(self, word: str) -> str:
        """The canonical stem of one folded word (synonyms resolved)."""
        stemmed = stem(word)
        return self.lexicon.synonyms.get(stemmed, stemmed)

    def is_stop_word(self, word: str) -> bool:
        """True when the word carries no topic."""
        return word in self.lexicon.stop_words

    def terms(self, text: str) -> list[str]:
        """Content terms of `text`: no stop words, canonical stems, first occurrence order."""
        seen: dict[str, None] = {}
        for word in self.words(text):
            if not self.is_stop_word(word):
                seen.setdefault(self.canonical(word), None)
        return list(seen)
