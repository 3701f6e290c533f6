"""Ranks knowledge entries for a question; decides between answer, "did you mean" and decline.

How a question is scored (all pure, no I/O, no Telegram):
1. The analyzer folds the text, joins phrases, drops stop words and maps synonyms to one stem.
2. Words the knowledge base does not know are repaired against its own vocabulary with
   rapidfuzz (OSA edit distance: one typo in words of 6-7 letters, two from 8 letters),
   before phrases are joined.
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
from bot.text import Analyzer, fold

MIN_REPAIR_LENGTH = 6  # shorter words are too often one edit away from another real word
MIN_NAME_REPAIR_LENGTH = 5  # ... except toward a person's name ("gerts" -> "gertz")


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
    def repaired(self) -> str:
        """The folded question with its typos repaired."""
        fixes = dict(self.corrections)
        return " ".join(fixes.get(word, word) for word in fold(self.question).split())

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
    """Cut-offs on the 0-100 score, calibrated on tests/data/eval.yaml (`agreement-bot eval
    --calibrate`): the best in-scope accuracy with at least 97% of out-of-scope questions
    declined, a "did you mean" band of at least 5 points and a margin that asks on ties."""

    answer: float = 60.0
    suggest: float = 55.0
    margin: float = 0.5
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


@dataclass(frozen=True)
class Scoring:
    """How the score is composed (tuned on the labelled evaluation set)."""

    unknown_factor: float = 1.25  # weight of an unknown word, relative to the rarest known one
    coverage_weight: float = 0.5  # share of the score from coverage; the rest is phrasing F1
    answer_credit: float = 0.5  # coverage credit for words found only in the entry's answer
    question_word_weight: float = 0.6  # weight factor of words that ask (who, when, how many)
    evidence: float = 2.0  # question weight below which scores shrink (sqrt of the shortfall)


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
    answer_postings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    idf: dict[str, float] = field(default_factory=dict)
    spellings: set[str] = field(default_factory=set)  # known folded words, for typo repair


class Matcher:
    """Scores every entry of a knowledge base against a question."""

    def __init__(
        self, entries: Sequence[Entry], analyzer: Analyzer, scoring: Scoring | None = None
    ) -> None:
        self.entries = tuple(entries)
        self.analyzer = analyzer
        self.scoring = scoring or Scoring()
        self._index = self._build_index()
        self._repair_choices = sorted(self._index.spellings | self.analyzer.lexicon.stop_words)
        self._names = frozenset(
            word
            for entry in self.entries
            if entry.person is not None
            for word in fold(entry.person.name).split()
            if len(word) >= MIN_NAME_REPAIR_LENGTH
        )
        rarest = max(self._index.idf.values(), default=1.0)
        self.unknown_weight = rarest * self.scoring.unknown_factor
        self._repair_word = lru_cache(maxsize=4096)(self._repair_uncached)

    def _build_index(self) -> _Index:
        index = _Index()
        analyzer = self.analyzer
        for position, entry in enumerate(self.entries):
            words: set[str] = set()
            for language in LANGUAGES:
                for text in entry.phrasings(language):
                    terms = frozenset(analyzer.terms(text))
                    if not terms:
                        continue
                    pid = len(index.phrasings)
                    index.phrasings.append(_Phrasing(position, text, terms))
                    for term in terms:
                        index.phrasing_postings[term].append(pid)
                    words |= terms
                    index.spellings.update(w for w in fold(text).split() if len(w) >= 4)
            for term in words:
                index.entry_postings[term].append(position)
            answer_terms = {
                term
                for language in LANGUAGES
                for term in analyzer.terms(entry.text(language).answer)
            }
            for term in answer_terms - words:
                index.answer_postings[term].append(position)
        total = max(len(self.entries), 1)
        asking = analyzer.lexicon.question_words
        factor = self.scoring.question_word_weight
        index.idf = {
            term: math.log(1.0 + total / len(postings)) * (factor if term in asking else 1.0)
            for term, postings in index.entry_postings.items()
        }
        for phrasing in index.phrasings:
            phrasing.weight = sum(index.idf[t] for t in phrasing.terms)
        index.spellings.update(w for w in analyzer.lexicon.spellings if len(w) >= 4)
        return index

    def clear_caches(self) -> None:
        """Forget remembered typo repairs (for benchmarks that time cold questions)."""
        self._repair_word.cache_clear()

    # ------------------------------------------------------------------ question side

    def _is_known(self, word: str) -> bool:
        return (
            word in self._index.spellings
            or self.analyzer.is_stop_word(word)
            or self.analyzer.canonical(word) in self._index.idf
        )

    def _popularity(self, word: str) -> int:
        if self.analyzer.is_stop_word(word):
            return 0
        return len(self._index.entry_postings.get(self.analyzer.canonical(word), ()))

    def _repair(self, word: str) -> str | None:
        """The repaired spelling of an unknown word, or None to keep it as typed."""
        if len(word) < MIN_NAME_REPAIR_LENGTH or word.isdigit() or self._is_known(word):
            return None
        repaired = self._repair_word(word)
        if len(word) < MIN_REPAIR_LENGTH and repaired not in self._names:
            return None
        return repaired

    def _repair_uncached(self, word: str) -> str | None:
        """The known spelling a misspelt word most likely means, or None."""
        max_edits = 1 if len(word) < 8 else 2
        found = process.extract(
            word, self._repair_choices, scorer=OSA.distance, score_cutoff=max_edits, limit=8
        )
        best: tuple[int, int, str] | None = None
        for choice, distance, _ in found:
            transposition = distance == 1 and sorted(choice) == sorted(word)
            if not (transposition or choice[0] == word[0]):
                continue  # a wrong first letter is rare in typos, and common in other words
            if abs(len(choice) - len(word)) > 1:
                continue  # two edits that both add or drop letters make another word

            if self.analyzer.is_stop_word(choice) and not transposition:
                continue  # only plain transpositions may turn into stop words ("waht")
            key = (int(distance), -self._popularity(choice), choice)
            if best is None or key < best:
                best = key
        return best[2] if best is not None else None

    def understand(self, question: str) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """Terms of the question after typo repair, the still-unknown terms, and the repairs.

        Repair works on spellings before phrases are joined, so "workin group" still reads
        as the phrase "working group".
        """
        fixed: list[str] = []
        corrections: list[tuple[str, str]] = []
        for word in fold(question).split():
            repaired = self._repair(word)
            if repaired is not None:
                corrections.append((word, repaired))
            fixed.append(repaired or word)
        terms = self.analyzer.terms(" ".join(fixed))
        unknown = [t for t in terms if t not in self._index.idf]
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
        credit = self.scoring.answer_credit
        for term, weight in weights.items():
            for position in index.entry_postings.get(term, ()):
                covered[position] += weight
            if credit:
                for position in index.answer_postings.get(term, ()):
                    covered[position] += weight * credit
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

        shrink = min(1.0, total / self.scoring.evidence) ** 0.5 if self.scoring.evidence else 1.0
        ranked: list[Candidate] = []
        for position, (f1, pid) in best_f1.items():
            coverage = covered[position] / total
            mix = self.scoring.coverage_weight
            score = 100.0 * (mix * coverage + (1.0 - mix) * f1) * shrink
            ranked.append(
                Candidate(self.entries[position], score, index.phrasings[pid].text, coverage, f1)
            )
        ranked.sort(key=lambda c: (-c.score, c.entry.id))
        return Match(
            question, tuple(terms), tuple(unknown), tuple(corrections), tuple(ranked[:limit])
        )
