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
from typing import Any, Final

import snowballstemmer

_POSSESSIVE = re.compile(r"(\w)['’`´]s\b")
_DOTTED_ABBREVIATION = re.compile(r"\b(?:[a-z]\.){2,}")
_APOSTROPHES = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_ELONGATED: Final = re.compile(r"([^\W\d_])\1{2,}")  # "whaaat": a letter held down
_YEAR: Final = re.compile(r"(?:19|20)\d\d")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Return `text` casefolded, without accents or punctuation, words separated by one space.

    "U.S." and "D.C." become "us" and "dc"; a possessive "'s" is dropped; other apostrophes
    join their word ("don't" -> "dont"), so typing with or without them gives the same result.
    A letter typed three times or more counts twice ("whaaat", "agreeee": neither language
    writes a letter three times), so the typo repair can take it from there.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = _POSSESSIVE.sub(r"\1", stripped)
    stripped = _DOTTED_ABBREVIATION.sub(lambda m: m.group(0).replace(".", ""), stripped)
    stripped = _APOSTROPHES.sub("", stripped)
    stripped = _ELONGATED.sub(r"\1\1", stripped)
    return _NON_WORD.sub(" ", stripped).strip()


def is_year(word: str) -> bool:
    """True for a folded word that is a year (1900-2099). The article gives no year, so a
    message that names one asks about a time the article does not place itself in ("what
    did they agree in 2019?"): the matcher reads a year as off topic, like a subject the
    article lacks, and `check` rejects a phrasing that names one."""
    return _YEAR.fullmatch(word) is not None


_STEMMERS: Final = {
    "en": snowballstemmer.stemmer("english"),
    "es": snowballstemmer.stemmer("spanish"),
}
LANGUAGE_CODES: Final = tuple(_STEMMERS)
SHORTEST_STEMMED: Final = 4  # shorter words are kept whole


@lru_cache(maxsize=32768)
def stem(word: str, language: str = "en") -> str:
    """The Snowball stem of a folded word in `language` ("en" or "es").

    The knowledge base's phrasings are stemmed in their own language; a question, whose
    language is not known word by word, is read with both stemmers (see `Analyzer.readings`).
    """
    if len(word) < SHORTEST_STEMMED or word.isdigit():
        return word
    stemmed = str(_STEMMERS[language].stemWord(word))
    if language == "es" and stemmed.endswith("z"):
        # Spanish writes z as c before e and i: "avanzar" and "avance", "cruz" and "cruces"
        # share one stem
        return stemmed[:-1] + "c"
    return stemmed


def _inner_phrases_read(expression: str, phrases: Mapping[str, str]) -> str:
    """`expression` with every other phrase inside it replaced by its canonical word."""
    padded = f" {expression} "
    for inner in sorted(phrases, key=len, reverse=True):
        if inner != expression and f" {inner} " in padded:
            padded = padded.replace(f" {inner} ", f" {phrases[inner]} ")
    return padded.strip()


# A phrasal verb with a pronoun for its object, which English puts between the verb and the
# particle ("put it out", "sum it up", "made this public"): read as the phrase, object after.
_OBJECT_PARTICLE = (
    r" (it|this|that|something|anything|everything|them|these|those)"
    r" (up|out|off|down|back|over|away|public)\b"
)
_SEPARATED = re.compile(r"\b(\w+)" + _OBJECT_PARTICLE)
_HAS_SEPARATED = re.compile(_OBJECT_PARTICLE)  # a quick look first: the full pattern is slower


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
    synonyms: Mapping[str, Mapping[str, str]]  # language -> stem of a variant -> canonical
    spellings: frozenset[str] = frozenset()  # every folded word the lexicon lists
    question_words: frozenset[str] = frozenset()  # canonical words that ask, not describe
    language_stop_words: Mapping[str, frozenset[str]] = field(default_factory=dict)
    off_topic: frozenset[str] = frozenset()  # folded words of subjects the article lacks
    question_starts: frozenset[str] = frozenset()  # folded words that open a question
    synonym_words: Mapping[str, str] = field(default_factory=dict)  # folded variant -> canonical
    contrast: tuple[str, ...] = ()  # folded openings of a clause that sets a topic aside
    shorthand: Mapping[str, str] = field(default_factory=dict)  # texting form -> folded words
    asking_words: frozenset[str] = frozenset()  # folded question words as written (who, quien)
    fallback: Mapping[str, str] = field(default_factory=dict)  # folded word -> canonical term
    else_words: frozenset[str] = frozenset()  # "what else?" after a contrast clause
    framing_stems: Mapping[str, frozenset[str]] = field(default_factory=dict)  # per language
    # lexicon group -> groups beside which alone it points at an entry ("the DEA" at "the
    # meetings"); without one of them it is a subject the article lacks ("who runs the DEA");
    # the matcher reads each as its term
    only_beside: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # folded function words of a second, larger list: read as stop words only when the
    # knowledge base does not use them as a term of its own
    weak_stop_words: frozenset[str] = frozenset()
    # folded off-topic words that put the whole message off topic, not only their own part
    whole_off_topic: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        stop_words: Mapping[str, Iterable[str]],
        phrases: Mapping[str, Iterable[str]],
        synonyms: Mapping[str, Iterable[str]],
        *,
        question_words: Iterable[str] = (),
        off_topic: Iterable[str] = (),
        whole_off_topic: Iterable[str] = (),
        question_starts: Iterable[str] = (),
        contrast: Iterable[str] = (),
        shorthand: Mapping[str, str] | None = None,
        fallback: Mapping[str, Iterable[str]] | None = None,
        else_words: Iterable[str] = (),
        framing: Mapping[str, Iterable[str]] | None = None,
        only_beside: Mapping[str, Iterable[str]] | None = None,
        weak_stop_words: Iterable[str] = (),
    ) -> Lexicon:
        """Fold and stem the curated lists into lookup tables; reject contradictions.

        `stop_words` maps a language code to that language's stop words (function words and
        framing); a word also listed as a synonym or a question word keeps that reading.
        `framing` (also among `stop_words`) lists the words that frame a message; their
        stems make any inflection of them framing too ("gets", "mencionaron").
        """
        keeps_reading = {fold(w) for w in question_words} | {
            fold(w) for target, variants in synonyms.items() for w in (target, *variants)
        }
        by_language = {
            lang: frozenset(fold(w) for w in words) - keeps_reading
            for lang, words in stop_words.items()
        }
        stops = frozenset().union(*by_language.values())
        phrase_map = {
            fold(expression): fold(target)
            for target, expressions in phrases.items()
            for expression in expressions
        }
        # The analyzer reads phrases in two passes, so a phrase must also be found once the
        # phrases inside it were read: "attorney general of the united states" as
        # "prosecutor of the us".
        for expression, target in list(phrase_map.items()):
            phrase_map.setdefault(_inner_phrases_read(expression, phrase_map), target)
        # A variant is looked up as written first, then by its stem in each language; a stem
        # two variants share across languages goes to the variant written that way, else to
        # the first listed (only the same written word under two canonicals is an error).
        exact: dict[str, str] = {}
        synonym_map: dict[str, dict[str, str]] = {code: {} for code in LANGUAGE_CODES}
        for target, variants in synonyms.items():
            canonical = fold(target)
            for word in (target, *variants):
                folded_word = fold(word)
                if exact.setdefault(folded_word, canonical) != canonical:
                    raise LexiconConflictError(word, exact[folded_word], canonical)
                for code, mapping in synonym_map.items():
                    mapping.setdefault(stem(folded_word, code), canonical)
        for code, mapping in synonym_map.items():
            mapping.update({stem(w, code): c for w, c in exact.items() if stem(w, code) == w})
        # A phrase's joined word ("sofar", "mexicocity") is read as written, never stemmed:
        # stemmed, "sofar" became "sof" in Spanish, and so did "sofa".
        for target in set(phrase_map.values()):
            if " " not in target:
                exact.setdefault(target, target)
        spellings = {w for expression in phrase_map for w in expression.split()} | {
            w for t, vs in synonyms.items() for v in (t, *vs) for w in fold(v).split()
        }

        asking = frozenset(
            exact.get(folded) or synonym_map[code].get(stem(folded, code), stem(folded, code))
            for w in question_words
            for folded in [phrase_map.get(fold(w), fold(w))]
            for code in LANGUAGE_CODES
        )
        foreign = frozenset(fold(w) for w in off_topic)
        spellings |= foreign
        return cls(
            stops,
            phrase_map,
            synonym_map,
            frozenset(spellings),
            asking,
            by_language,
            foreign,
            frozenset(fold(w) for w in question_starts),
            exact,
            tuple(sorted({fold(c) for c in contrast}, key=len, reverse=True)),
            {fold(k): fold(v) for k, v in (shorthand or {}).items()},
            frozenset(w for q in question_words for w in fold(q).split()),
            {
                fold(word): exact.get(fold(target), fold(target))
                for target, words in (fallback or {}).items()
                for word in words
            },
            frozenset(fold(w) for w in else_words),
            {
                lang: frozenset(stem(fold(w), lang) for w in words)
                - {stem(w, lang) for w in keeps_reading}
                for lang, words in (framing or {}).items()
            },
            {
                fold(term): frozenset(fold(w) for w in companions)
                for term, companions in (only_beside or {}).items()
            },
            frozenset(fold(w) for w in weak_stop_words) - keeps_reading - foreign,
            frozenset(fold(w) for w in whole_off_topic),
        )

    @classmethod
    def empty(cls) -> Lexicon:
        """A lexicon that only folds and stems (for tests and generated knowledge bases)."""
        return cls(frozenset(), {}, {code: {} for code in LANGUAGE_CODES})


PLURAL_FROM: Final = 4  # letters from which a phrase's word may also be written plural


def _plural_pattern(expression: str) -> str:
    """A phrase as a pattern in which each word of PLURAL_FROM letters may take a plural
    ending ("sit downs", "mesas de trabajo"); shorter words stay as written ("us")."""
    return " ".join(
        re.escape(w) + ("(?:e?s)?" if len(w) >= PLURAL_FROM and w.isalpha() else "")
        for w in expression.split()
    )


def _trie_pattern(expressions: Iterable[str]) -> str:
    """One alternation for all the phrases, factored by their words ("how (?:do i|can i)"),
    so the regex tries each first word once instead of every phrase at every position. A
    longer phrase is still tried before a shorter one that starts it ("how do i know if"
    before "how do i")."""
    trie: dict[str, Any] = {}
    for expression in expressions:
        node = trie
        for word in expression.split():
            node = node.setdefault(word, {})
        node[""] = {}  # a phrase ends here

    def pattern(node: dict[str, Any]) -> str:
        options = []
        for word, rest in sorted(node.items(), key=lambda item: -len(item[0])):
            if not word:
                continue  # the end mark
            head = _plural_pattern(word)
            if set(rest) == {""}:
                options.append(head)  # the phrase ends with this word
            elif "" in rest:
                options.append(f"{head}(?: {pattern(rest)})?")  # a longer one may go on
            else:
                options.append(f"{head} {pattern(rest)}")
        return "(?:" + "|".join(options) + ")"

    return pattern(trie)


def _singular(expression: str) -> str:
    """The key that a phrase and its plural forms share: each word of PLURAL_FROM letters
    without a final "s", then without a final "e"."""
    return " ".join(
        w.removesuffix("s").removesuffix("e") if len(w) >= PLURAL_FROM else w
        for w in expression.split()
    )


class Analyzer:
    """Turns text into the content words the matcher compares (stems, synonyms resolved)."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        expressions = sorted(lexicon.phrases, key=len, reverse=True)
        self._phrase_keys: dict[str, str] = {}
        for expression in expressions:
            self._phrase_keys.setdefault(_singular(expression), lexicon.phrases[expression])
        self._phrase_re = (
            re.compile(r"\b(?:" + _trie_pattern(expressions) + r")\b") if expressions else None
        )

    def _phrase(self, match: re.Match[str]) -> str:
        return self._phrase_keys[_singular(match.group(0))]

    def _separated(self, match: re.Match[str]) -> str:
        verb, pronoun, particle = match.groups()
        if _singular(f"{verb} {particle}") in self._phrase_keys:
            return f"{verb} {particle} {pronoun}"
        return match.group(0)

    def words(self, text: str) -> list[str]:
        """Folded words with phrases joined, stop words kept (used for display and typos)."""
        folded = fold(text)
        if _HAS_SEPARATED.search(folded):
            folded = _SEPARATED.sub(self._separated, folded)
        if self._phrase_re is not None:
            # Two passes, so that a phrase may contain another one's canonical word
            # ("united states attorney general" -> "us attorney general" -> one word).
            for _ in range(2):
                folded = self._phrase_re.sub(self._phrase, folded)
        return folded.split()

    def canonical(self, word: str, language: str = "en") -> str:
        """The canonical stem of one folded word read in `language` (synonyms resolved)."""
        exact = self.lexicon.synonym_words.get(word)
        if exact is not None:
            return exact
        stemmed = stem(word, language)
        return self.lexicon.synonyms[language].get(stemmed, stemmed)

    def readings(self, word: str) -> tuple[str, ...]:
        """The word's canonical stem in each language, English first (for questions)."""
        return tuple(self.canonical(word, code) for code in LANGUAGE_CODES)

    def is_stop_word(self, word: str) -> bool:
        """True when the word carries no topic."""
        return word in self.lexicon.stop_words

    def is_framing_form(self, word: str, language: str | None = None) -> bool:
        """True when the word is an inflection of a framing word ("gets" of "get", "wanted"
        of "want") in `language`, or in either language when it is not known. A word that
        the lexicon lists as a synonym keeps that reading."""
        if word in self.lexicon.synonym_words:
            return False
        stems = self.lexicon.framing_stems
        codes = (language,) if language is not None else LANGUAGE_CODES
        return any(stem(word, code) in stems.get(code, ()) for code in codes)

    def terms(self, text: str, language: str = "en") -> list[str]:
        """Content terms of `text` read in `language`: no stop words, canonical stems, in
        first occurrence order."""
        seen: dict[str, None] = {}
        for word in self.words(text):
            if not (self.is_stop_word(word) or self.is_framing_form(word, language)):
                seen.setdefault(self.canonical(word, language), None)
        return list(seen)
