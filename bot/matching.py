"""Ranks knowledge entries for a question; decides between answer, "did you mean" and decline.

How a question is scored (all pure, no I/O, no Telegram):
1. The analyzer folds the text, joins phrases, drops stop words and maps synonyms to one stem.
2. Words the knowledge base does not know are repaired against its own vocabulary with
   rapidfuzz (OSA edit distance: one typo in words of 5-7 letters, two from 8 letters).
3. Every term gets a weight: its inverse document frequency across entries, and a high fixed
   weight when it is still unknown, so a question about something else is not "covered".
4. An entry scores 0-100 from two parts: how much of the question's weight the entry's whole
   vocabulary covers, and the best F1 overlap between the question and one of its phrasings.
   A single shared word among several unknown ones therefore scores low.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.knowledge import LANGUAGES, Entry
from bot.text import Analyzer

_STOP: str = "\x00stop"  # repair target meaning "this was a misspelt stop word"
MIN_REPAIR_LENGTH = 5  # shorter words are too often one edit away from another real word


@dataclass(frozen=True)
class Candidate:
    """One entry's score for a question."""

    entry: Entry
    score: float
    phrasing: str
    coverage: float
    overlap: float


@dataclass(frozen=True)
class Match:
    """The ranked result of one question, with what the matcher understood of it."""

    question: str
    terms: tuple[str, ...]
    unknown: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate | None:
        """The highest-scoring candidate, if any."""
        return self.candidates[0] if self.candidates else None


class Outcome(StrEnum):
    """What the bot does with a question."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    DECLINE = "decline"


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs on the 0-100 score, calibrated on the labelled evaluation set."""

    answer: float = 70.0
    suggest: float = 45.0
    margin: float = 4.0
    spread: float = 20.0
    max_suggestions: int = 3


@dataclass(frozen=True)
class Decision:
    """The outcome for a match, with the entry to answer or the entries to suggest."""

    outcome: Outcome
    match: Match
    suggestions: tuple[Candidate, ...] = ()

    @property
    def entry(self) -> Entry | None:
        """The entry to answer with (only for ANSWER)."""
        best = self.match.best
        return best.entry if self.outcome is Outcome.ANSWER and best is not None else None


def decide(match: Match, thresholds: Thresholds) -> Decision:
    """Choose the outcome: a clear winner is answered, close or middling scores are suggested."""
    best = match.best
    if best is None or best.score < thresholds.suggest:
        return Decision(Outcome.DECLINE, match)
    runner_up = match.candidates[1].score if len(match.candidates) > 1 else 0.0
    if best.score >= thresholds.answer and best.score - runner_up >= thresholds.margin:
        return Decision(Outcome.ANSWER, match)
    close = tuple(
        c
        for c in match.candidates
        if c.score >= thresholds.suggest and c.score >= best.score - thresholds.spread
    )
    return Decision(Outcome.SUGGEST, match, close[: thresholds.max_suggestions])


@dataclass
class _Phrasing:
    entry: int
    text: str
    terms: frozenset[str]
    weight: float = 0.0


@dataclass
class _Index:
    phrasings: list[_Phrasing] = field(default_factory=list)
    phrasing_postings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    entry_postings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    idf: dict[str, float] = field(default_factory=dict)
    repair: dict[str, str] = field(default_factory=dict)  # folded word -> canonical (or _STOP)


class Matcher:
    """Scores every entry of a knowledge base against a question."""

    def __init__(self, entries: Sequence[Entry], analyzer: Analyzer) -> None:
        self.entries = tuple(entries)
        self.analyzer = analyzer
        self._index = self._build_index()
        self._repair_choices = list(self._index.repair)
        self.unknown_weight = max(self._index.idf.values(), default=1.0) * 1.25
        self._repair_word = lru_cache(maxsize=4096)(self._repair_uncached)

    def _build_index(self) -> _Index:
        index = _Index()
        vocabulary: list[set[str]] = []
        for position, entry in enumerate(self.entries):
            words: set[str] = set()
            for language in LANGUAGES:
                for text in entry.phrasings(language):
                    terms = frozenset(self.analyzer.terms(text))
                    if not terms:
                        continue
                    pid = len(index.phrasings)
                    index.phrasings.append(_Phrasing(position, text, terms))
                    for term in terms:
                        index.phrasing_postings[term].append(pid)
                    words |= terms
                    for word in self.analyzer.words(text):
                        if not self.analyzer.is_stop_word(word):
                            index.repair.setdefault(word, self.analyzer.canonical(word))
            vocabulary.append(words)
            for term in words:
                index.entry_postings[term].append(position)
        total = max(len(self.entries), 1)
        index.idf = {
            term: math.log(1.0 + total / len(postings))
            for term, postings in index.entry_postings.items()
        }
        for phrasing in index.phrasings:
            phrasing.weight = sum(index.idf[t] for t in phrasing.terms)
        for variant, canonical in self.analyzer.lexicon.synonyms.items():
            if canonical in index.idf:
                index.repair.setdefault(variant, canonical)
        for word in self.analyzer.lexicon.stop_words:
            index.repair.setdefault(word, _STOP)
        return index

    # ------------------------------------------------------------------ question side

    def _repair_uncached(self, word: str) -> str | None:
        """The canonical term a misspelt word most likely means, _STOP, or None."""
        if len(word) < MIN_REPAIR_LENGTH or word.isdigit():
            return None
        max_edits = 1 if len(word) < 8 else 2
        found = process.extract(
            word, self._repair_choices, scorer=OSA.distance, score_cutoff=max_edits, limit=8
        )
        best: tuple[int, float, str] | None = None
        for choice, distance, _ in found:
            target = self._index.repair[choice]
            transposition = distance == 1 and sorted(choice) == sorted(word)
            if len(choice) < 4 or not (transposition or choice[0] == word[0]):
                continue  # a wrong first letter is rare in typos, and common in other words
            if target == _STOP and not transposition:
                continue  # only plain transpositions may turn into stop words ("waht")
            popularity = len(self._index.entry_postings.get(target, ())) if target != _STOP else 0
            key = (int(distance), -popularity, target)
            if best is None or key < best:
                best = key
        return best[2] if best is not None else None

    def understand(self, question: str) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """Terms of the question after typo repair, the still-unknown terms, and the repairs."""
        terms: list[str] = []
        unknown: list[str] = []
        corrections: list[tuple[str, str]] = []
        idf = self._index.idf
        for word in self.analyzer.words(question):
            if self.analyzer.is_stop_word(word):
                continue
            term = self.analyzer.canonical(word)
            if term not in idf:
                repaired = self._repair_word(word)
                if repaired == _STOP:
                    corrections.append((word, "(stop word)"))
                    continue
                if repaired is not None:
                    corrections.append((word, repaired))
                    term = repaired
                else:
                    unknown.append(term)
            if term not in terms:
                terms.append(term)
        return terms, unknown, corrections

    def match(self, question: str, limit: int = 5) -> Match:
        """Rank the entries for `question`, best first, at most `limit` of them."""
        terms, unknown, corrections = self.understand(question)
        index = self._index
        weights = {t: index.idf.get(t, self.unknown_weight) for t in terms}
        total = sum(weights.values())
        if not total:
            return Match(question, tuple(terms), tuple(unknown), tuple(corrections), ())

        covered: dict[int, float] = defaultdict(float)
        overlap: dict[int, float] = defaultdict(float)
        for term, weight in weights.items():
            for position in index.entry_postings.get(term, ()):
                covered[position] += weight
            for pid in index.phrasing_postings.get(term, ()):
                overlap[pid] += weight

        best_f1: dict[int, tuple[float, int]] = {}
        for pid, shared in overlap.items():
            phrasing = index.phrasings[pid]
            recall = shared / total
            precision = shared / phrasing.weight
            f1 = 2 * recall * precision / (recall + precision)
            current = best_f1.get(phrasing.entry)
            if current is None or f1 > current[0]:
                best_f1[phrasing.entry] = (f1, pid)

        ranked: list[Candidate] = []
        for position, (f1, pid) in best_f1.items():
            coverage = covered[position] / total
            score = 100.0 * (0.5 * coverage + 0.5 * f1)
            ranked.append(
                Candidate(self.entries[position], score, index.phrasings[pid].text, coverage, f1)
            )
        ranked.sort(key=lambda c: (-c.score, c.entry.id))
        return Match(
            question, tuple(terms), tuple(unknown), tuple(corrections), tuple(ranked[:limit])
        )
