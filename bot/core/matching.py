"""Ranks knowledge entries for a question; decides between answer, "did you mean" and decline.

How a message is scored (all pure, no I/O, no Telegram):
1. The message is cut into clauses (sentences, and parts between commas, dashes and the
   like). The whole message, each clause and each run of up to three clauses are scored, and
   the best-scoring part wins, so a greeting, a reason or a story around the question does not
   lower the question's score. When some clause asks (a question mark or a question word),
   only parts that contain an asking clause count, and in them a clause that tells adds only
   the words the knowledge base knows. An either-or question is split at "or". A part that
   names a subject the article lacks (the lexicon's off_topic words: other countries, tariffs,
   migration ...) or a year (the article gives none) is skipped; it is read after phrases, so a
   first-person hedge or a greeting ("I think", "creo que", "good morning") is framing there,
   not a word of opinion.
2. The analyzer folds the text, joins phrases, drops stop words and maps synonyms to one word;
   the rest are Snowball stems, in English or Spanish, whichever the knowledge base knows.
3. Words the knowledge base does not know are repaired against its own vocabulary with
   rapidfuzz (OSA edit distance: one typo in words of 6-7 letters, two from 8 letters; shorter
   words only by swapping two letters, or towards a name or a function word; a name also by
   its sound: "chainbaum", "belasco"), before phrases are joined.
4. Every term gets a weight: its inverse document frequency across entries, and a high fixed
   weight when it is still unknown, so a question about something else is not "covered"
   (half of it for an unknown verb or adverb form: "attached", "seriously").
5. An entry scores 0-100 from two parts: how much of the part's weight the entry's whole
   vocabulary covers, and the best F1 overlap between the part and one of its phrasings.
   A single shared word among several unknown ones therefore scores low. An entry about
   numbers is ranked only when a number is asked for (its `needs`), and a person's entry only
   when the message names something of that person: a word of the name or the office, or a
   word few other entries use.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Final

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.knowledge import LANGUAGES, Entry, Person, needed_terms
from bot.core.parts import OR_TAGS
from bot.core.text import Analyzer, fold, is_year
from bot.core.words import is_real_word

MIN_REPAIR_LENGTH = 6  # shorter words are too often one edit away from another real word
MIN_NAME_REPAIR_LENGTH = 5  # ... except toward a person's name ("gerts" -> "gertz")
MIN_SHORT_REPAIR_LENGTH = 3  # short words: swapped letters ("teh"), or one edit to a function word
MAX_CLAUSES = 12  # a longer message keeps its first and last clauses, the middle in one
MAX_SPAN = 3  # clauses in one scored part
MAX_CONTRAST_WORDS = 4  # the longest contrast opener ("mas alla del") and a word more
DISTINCTIVE = 3  # a word found in at most this many entries points at them
MIN_SPELLING = 4  # shorter words are not offered as the repair of a typo
TWO_EDITS_FROM = 8  # letters from which a typo may be two edits away
MIN_CHOICES = 2  # "did you mean" needs at least two close options; one is an answer
ALONE = "(alone)"  # marks a term read without the companions it needs (lexicon only_beside)
INFLECTED = "~"  # marks an unknown word read as a verb or adverb form ("~attach")
# Endings of verb and adverb forms: English -ed, -ing, -ly; Spanish -mente, gerunds, preterite.
_INFLECTED = re.compile(r"(?:ed|ing|ly|mente|ando|iendo|aron|ieron)$")
_ACUTE: Final = {"a": "[aá]", "e": "[eé]", "i": "[ií]", "o": "[oó]", "u": "[uú]"}
_TAGS: Final = "|".join("".join(_ACUTE.get(c, c) for c in tag) for tag in OR_TAGS)  # "qu[eé]"
# Clauses end at punctuation, at a spaced dash or an em dash (an en dash between two words is
# a compound: "US–Mexico"), and at "or"/"o", which splits an either-or question, but not at a
# tag that ends it ("... or what?", "o qué?").
_CLAUSE_BREAK = re.compile(
    r"[.!?;:¿¡()\[\]\n]+|,|\s[-–—]+\s|—"
    rf"|\s(?:or|o)\s(?!(?:{_TAGS})\W*(?:$|[.!?]))",
    re.IGNORECASE,
)
_TLDR = re.compile(r"\btl;\s?dr\b", re.IGNORECASE)
# "us" after a verb that takes an object is the pronoun, not the United States ("wants us").
_PRONOUN_US = re.compile(
    r"\b((?:let|lets|help|helps|tell|told|give|gave|show|showed|want|wants|wanted|ask|asks|"
    r"asked|make|makes|made|keep|keeps|get|gets|got) )us\b"
)
# Dotted abbreviations, which are no sentence ends: "U.S.", "D.C.", and the Spanish plural
# ones that double each letter, with or without a space ("EE. UU.", "FF.AA.").
_DOTTED = re.compile(r"\b(?:[^\W\d_]\.){2,}|\b(?:([^\W\d_])\1\.\s?){2,}")
# An embedded question starts a new clause: "could you remind me | who led the delegation";
# so do the texting forms of "qué" and "por qué" (q, k, xq).
_EMBEDDED = re.compile(
    r"\s(?=(?:who|what|which|when|where|why|how|whether|quien|quienes|qui[eé]n|qui[eé]nes|"
    r"que|qu[eé]|cual|cuales|cu[aá]l|cu[aá]les|cuando|cu[aá]ndo|donde|d[oó]nde|como|c[oó]mo|"
    r"cuant[oa]s?|cu[aá]nt[oa]s?|q|k|xq)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Candidate:
    """One entry's score for a question."""

    entry: Entry
    score: float
    phrasing: str  # the phrasing of the entry that matched best
    coverage: float  # how much of the question the entry's vocabulary covers, 0..1
    f1: float  # word-overlap F1 between the question and `phrasing`, 0..1


@dataclass(frozen=True)
class Match:
    """The ranked result of one question, with what the matcher understood of it."""

    question: str
    terms: tuple[str, ...]
    unknown: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    candidates: tuple[Candidate, ...]
    part: str = ""  # the part of the message that was scored ("" when it was all of it)
    off_topic: tuple[str, ...] = ()  # subjects the article lacks, found in the message
    anchored: bool = False  # the part names the best entry with a distinctive word
    set_aside: tuple[str, ...] = ()  # entries a contrast clause set aside ("besides fentanyl")

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
    """Cut-offs on the 0-100 score, calibrated on every labelled set but the held-out half
    (`agreement-bot eval --calibrate`): the best in-scope accuracy with at least 96% of
    out-of-scope messages declined in each language, a "did you mean" band of at least 5
    points and a margin that asks on ties."""

    answer: float = 60.0
    suggest: float = 55.0
    margin: float = 0.5
    anchored: float = 42.0  # a lone candidate named by a distinctive word, from this score
    anchored_lead: float = 5.0  # ... when it leads the runner-up by this much
    spread: float = 20.0
    max_suggestions: int = 3


@dataclass(frozen=True)
class Decision:
    """The outcome for a match, with the entry to answer or the entries to suggest."""

    outcome: Outcome
    match: Match
    suggestions: tuple[Candidate, ...] = ()
    near: bool = False  # a decline whose best candidate scores at least the anchored cut-off

    @property
    def entry(self) -> Entry | None:
        """The entry to answer with (only for ANSWER)."""
        best = self.match.best
        return best.entry if self.outcome is Outcome.ANSWER and best is not None else None

    @property
    def closest(self) -> Entry | None:
        """For a decline of a message that points at something of the article (a distinctive
        word of the best entry, or a best score of at least the anchored cut-off) and names
        no subject the article lacks: that entry, offered as the nearest topic the article
        does cover, so the decline is not a dead end."""
        best = self.match.best
        if self.outcome is not Outcome.DECLINE or best is None:
            return None
        points = self.match.anchored or self.near
        return best.entry if points and not self.match.off_topic else None


def decide(match: Match, thresholds: Thresholds) -> Decision:
    """Choose the outcome: a clear winner is answered; "did you mean" only offers a real
    choice (two or three close candidates); below the suggest cut-off, decline, unless the
    scored part names the best entry by a distinctive word, has no word the knowledge base
    does not know, and no other entry comes close ("wat r the 4 principals lol")."""
    best = match.best
    runner_up = match.candidates[1].score if len(match.candidates) > 1 else 0.0
    if best is None or best.score < thresholds.suggest:
        if (
            best is not None
            and match.anchored
            and not match.off_topic
            and not match.unknown
            and best.score >= thresholds.anchored
            and best.score - runner_up >= thresholds.anchored_lead
        ):
            return Decision(Outcome.ANSWER, match)
        near = best is not None and best.score >= thresholds.anchored
        return Decision(Outcome.DECLINE, match, near=near)
    if best.score >= thresholds.answer and best.score - runner_up >= thresholds.margin:
        return Decision(Outcome.ANSWER, match)
    close = tuple(
        c
        for c in match.candidates
        if c.score >= thresholds.suggest and c.score >= best.score - thresholds.spread
    )
    if len(close) < MIN_CHOICES:
        return Decision(Outcome.ANSWER, match)  # one clear candidate: nothing to choose from
    return Decision(Outcome.SUGGEST, match, close[: thresholds.max_suggestions])


@dataclass(frozen=True)
class Scoring:
    """How the score is composed (tuned on the labelled evaluation set)."""

    unknown_factor: float = 1.25  # weight of an unknown word, relative to the rarest known one
    coverage_weight: float = 0.5  # share of the score from coverage; the rest is phrasing F1
    answer_credit: float = 0.5  # coverage credit for words found only in the entry's answer
    question_word_weight: float = 0.6  # weight factor of words that ask (who, when, how many)
    evidence: float = 2.0  # question weight below which scores shrink (sqrt of the shortfall)
    part_power: float = 0.5  # choosing a part: score x (its share of the known weight) ** this
    inflected_factor: float = 0.5  # weight of an unknown verb or adverb form ("attached")


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
        self._positions = {entry.id: position for position, entry in enumerate(self.entries)}
        lexicon = self.analyzer.lexicon
        self._function_words = lexicon.stop_words | lexicon.asking_words
        # never a repair target: an off-topic word would turn a typo into a foreign subject
        self._repair_choices = sorted(
            (self._index.spellings | self._function_words) - lexicon.off_topic
        )
        self._lexicon_words = lexicon.spellings | lexicon.asking_words
        self._names = frozenset(
            word
            for entry in self.entries
            if entry.person is not None
            for word in fold(entry.person.name).split()
            if len(word) >= MIN_NAME_REPAIR_LENGTH
        )
        self._name_sounds: dict[str, list[str]] = {}
        for name in sorted(self._names):
            self._name_sounds.setdefault(_consonants(name), []).append(name)
        rarest = max(self._index.idf.values(), default=1.0)
        self.unknown_weight = rarest * self.scoring.unknown_factor
        self._repair_word = lru_cache(maxsize=4096)(self._repair_uncached)
        self._contrast_starts = frozenset(c.split()[0] for c in lexicon.contrast)
        # an entry's phrasings hold its needs (check makes sure), so the index reads them
        # as a question does
        self._needs: dict[int, frozenset[str]] = {}
        for position, entry in enumerate(self.entries):
            if entry.needs:
                self._needs[position] = needed_terms(entry, analyzer)
            elif entry.person is not None:
                self._needs[position] = self._named_by(position, entry.person)
        self._only_beside = {
            self.term_of(term): frozenset(self.term_of(w) for w in companions)
            for term, companions in lexicon.only_beside.items()
        }

    def needs_of(self, entry: Entry) -> frozenset[str] | None:
        """The terms of which a message must hold one for `entry` to be ranked (None: any)."""
        return self._needs.get(self._positions[entry.id])

    def _named_by(self, position: int, person: Person) -> frozenset[str]:
        """The terms that name a person's entry: those of no more than DISTINCTIVE entries,
        and those of the person's name and office that are not in most entries ("security",
        "president"). A message with none of them does not ask about that person: "who led
        the Mexican side?" asks about the delegation, not about the security secretary."""
        postings = self._index.entry_postings
        common = len(self.entries) // 2
        named = {t for t in postings if self._distinctive(t, position)}
        for language in LANGUAGES:
            for text in (person.name, person.office.get(language)):
                named.update(
                    t
                    for t in self.analyzer.terms(text, language)
                    if len(postings.get(t, ())) <= common
                )
        return frozenset(named)

    def _build_index(self) -> _Index:
        index = _Index()
        analyzer = self.analyzer
        for position, entry in enumerate(self.entries):
            words: set[str] = set()
            for language in LANGUAGES:
                for text in entry.phrasings(language):
                    terms = frozenset(analyzer.terms(text, language))
                    if not terms:
                        continue
                    pid = len(index.phrasings)
                    index.phrasings.append(_Phrasing(position, text, terms))
                    for term in terms:
                        index.phrasing_postings[term].append(pid)
                    words |= terms
                    index.spellings.update(w for w in fold(text).split() if len(w) >= MIN_SPELLING)
            for term in words:
                index.entry_postings[term].append(position)
            answer_terms = {
                term
                for language in LANGUAGES
                for term in analyzer.terms(entry.text(language).answer, language)
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
        index.spellings.update(w for w in analyzer.lexicon.spellings if len(w) >= MIN_SPELLING)
        return index

    def clear_caches(self) -> None:
        """Forget remembered typo repairs (for benchmarks that time cold questions)."""
        self._repair_word.cache_clear()

    # ------------------------------------------------------------------ question side

    def term_of(self, word: str) -> str:
        """The canonical term of a folded question word: its reading in the language whose
        stem the knowledge base knows (English first), else its English reading."""
        readings = self.analyzer.readings(word)
        return next((r for r in readings if r in self._index.idf), readings[0])

    def _is_known(self, word: str) -> bool:
        return (
            word in self._index.spellings
            or word in self._lexicon_words
            or self.analyzer.is_stop_word(word)
            or self.term_of(word) in self._index.idf
            or self.analyzer.is_framing_form(word)
        )

    def _popularity(self, word: str) -> int:
        if self.analyzer.is_stop_word(word):
            return 0
        return len(self._index.entry_postings.get(self.term_of(word), ()))

    def _repair(self, word: str) -> str | None:
        """The repaired spelling of an unknown word, or None to keep it as typed. A real word
        of English or Spanish is not turned into another word that names something ("building"
        is not "binding"); it may still be read as the function word it looks like."""
        if len(word) < MIN_SHORT_REPAIR_LENGTH or word.isdigit() or self._is_known(word):
            return None
        if word in self.analyzer.lexicon.off_topic:
            return None
        if word.endswith("in") and self._is_known(word + "g"):
            return word + "g"  # a dropped g: "hopin", "talkin"
        repaired = self._repair_word(word)
        if repaired is not None and not self._is_function(repaired) and is_real_word(word):
            return None
        return repaired

    def _is_function(self, word: str) -> bool:
        """A function word, a stop word or a framing word: it names no topic."""
        return word in self._function_words or self._is_framing(word)

    def _repair_uncached(self, word: str) -> str | None:
        """The known spelling a misspelt word most likely means, or None.

        A letter typed twice, when 4 letters remain ("whaat"; but "seem" is not "sem"). From 6
        letters: one edit (two from 8). A 5-letter word: swapped letters, or one edit towards a
        person's name. Shorter: only towards a function word, by swapping two letters or adding
        the one left out, or towards a name with a letter left out ("gerz"). Failing those, a
        word of 5 letters or more that sounds like one person's name ("chainbaum", "belasco").
        """
        off_topic = self.analyzer.lexicon.off_topic
        for i in range(len(word) - 1):  # a letter typed twice ("whaat", "untill")
            single = word[:i] + word[i + 1 :]
            if (
                word[i] == word[i + 1]
                and len(single) >= MIN_SPELLING
                and self._is_known(single)
                and single not in off_topic
            ):
                return single
        max_edits = 1 if len(word) < TWO_EDITS_FROM else 2
        found = process.extract(
            word, self._repair_choices, scorer=OSA.distance, score_cutoff=max_edits, limit=8
        )
        best: tuple[int, int, str] | None = None
        for choice, distance, _ in found:
            transposition = distance == 1 and sorted(choice) == sorted(word)
            if not (transposition or choice[0] == word[0] or choice == "h" + word):
                # a wrong first letter is rare in typos, and common in other words; but a
                # silent h is often left out ("arfuch", "acer")
                continue
            if abs(len(choice) - len(word)) > 1:
                continue  # two edits that both add or drop letters make another word
            function_word = choice in self._function_words
            if len(word) < MIN_NAME_REPAIR_LENGTH:
                # "teh", "hwo" (swapped) and "wat", "wich" (a letter left out) -> function words;
                # a name with a letter left out ("gerz")
                left_out = len(choice) == len(word) + 1
                if not (function_word and (transposition or left_out)) and not (
                    left_out and len(word) > MIN_SHORT_REPAIR_LENGTH and choice in self._names
                ):
                    continue
            elif len(word) < MIN_REPAIR_LENGTH:
                if not (transposition or choice in self._names):
                    continue  # five letters: swapped letters ("abotu"), or towards a name
            elif function_word and not transposition:
                continue  # a long word seldom means a function word
            key = (int(distance), -self._popularity(choice), choice)
            if best is None or key < best:
                best = key
        return best[2] if best is not None else self._name_by_sound(word)

    def _name_by_sound(self, word: str) -> str | None:
        """The one person's name with the consonants of `word`, a name heard rather than read
        ("chainbaum", "gurts", "belasco"), or None."""
        if len(word) < MIN_NAME_REPAIR_LENGTH:
            return None
        sounds = self._name_sounds.get(_consonants(word), [])
        return sounds[0] if len(sounds) == 1 else None

    def understand(self, question: str) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """Terms of a text after typo repair, the still-unknown terms, and the repairs."""
        words, corrections = self.spell(question)
        terms = self.terms_of(self.analyzer.words(" ".join(words)))
        unknown = [t for t in terms if t not in self._index.idf]
        return terms, unknown, corrections

    def anchors(self, text: str) -> list[str]:
        """The distinctive terms of `text`: each found in at most DISTINCTIVE entries, so it
        points at a topic by itself ("ambassador", "principles"; not "mexico")."""
        postings = self._index.entry_postings
        terms, _, _ = self.understand(text)
        return [t for t in terms if 0 < len(postings.get(t, ())) <= DISTINCTIVE]

    def spell(self, text: str) -> tuple[list[str], list[tuple[str, str]]]:
        """The folded words of `text` with texting forms spelled out and typos repaired, and
        the repairs. Repair works before phrases are joined, so "workin group" still reads as
        the phrase "working group"."""
        shorthand = self.analyzer.lexicon.shorthand
        fixed: list[str] = []
        corrections: list[tuple[str, str]] = []
        written = [w for typed in fold(text).split() for w in shorthand.get(typed, typed).split()]
        for word in written:
            repaired = self._repair(word)
            if repaired is not None:
                corrections.append((word, repaired))
            fixed.append(repaired or word)
        return fixed, corrections

    def terms_of(self, words: Sequence[str]) -> list[str]:
        """The canonical terms of phrase-joined words, in order; stop words are left out, and
        so are a single letter no entry knows ("w/", "a)"), too short to name a topic, and a
        weak stop word no entry uses ("aquel", "usted"): neither names a subject.
        An unknown word with the ending of a verb or adverb form ("attached", "checking",
        "seriously") is marked INFLECTED: such a word seldom names a subject of its own."""
        idf = self._index.idf
        weak = self.analyzer.lexicon.weak_stop_words
        return list(
            dict.fromkeys(
                term if term in idf or not _INFLECTED.search(w) else INFLECTED + term
                for w in words
                if not self._is_framing(w)
                for term in [self.term_of(w)]
                if len(w) > 1 or not w.isalpha() or term in idf
                if term in idf or w not in weak
            )
        )

    def _is_framing(self, word: str) -> bool:
        """A stop word, or an inflection of a framing word that the knowledge base does not
        use as a term of its own ("gets", but not "respect" beside "respecto")."""
        analyzer = self.analyzer
        if analyzer.is_stop_word(word):
            return True
        return analyzer.is_framing_form(word) and self.term_of(word) not in self._index.idf

    def match(self, question: str, limit: int = 5) -> Match:
        """Rank the entries for `question`, best first, at most `limit` of them.

        Every part of the message (see the module docstring) is ranked; the part whose best
        candidate scores highest is the one that counts.
        """
        clauses = [
            _Clause.read(self, piece, segment)
            for text, segment in _split(question)
            for piece in self._contrast_split(text)
        ]
        if not any(c.terms for c in clauses):  # "what's the news?": framing is all there is
            clauses = [c.with_fallback(self.analyzer.lexicon.fallback) for c in clauses]
        elif not any(t in self._index.idf for c in clauses for t in c.terms):
            # "quick one before my bus comes: what is this article about?"
            clauses = [
                c.with_fallback(self.analyzer.lexicon.fallback) if c.asks and not c.terms else c
                for c in clauses
            ]
        set_aside = self._set_aside(clauses)
        corrections = tuple(fix for c in clauses for fix in c.corrections)
        off_topic = tuple(w for c in clauses for w in c.off_topic)
        best = self._best_part(question, clauses, set_aside, limit)
        if best is None:  # no part names an entry: only a contrast may still point at one
            terms = tuple(dict.fromkeys(t for c in clauses for t in c.terms))
            unknown = tuple(t for t in terms if t not in self._index.idf)
            best = Match(question, terms, unknown, corrections, (), "", off_topic)
            if off_topic or not set_aside:
                return best
        candidates, anchored = best.candidates, best.anchored
        sibling = self._sibling(set_aside) if set_aside and not anchored else None
        if sibling is not None and self._asks_what_else(clauses):
            # "besides fentanyl, what else?": the rest names nothing of its own, so it asks
            # for the set-aside entry's closest sibling, as surely as the contrast clause
            # named that entry.
            candidates, anchored = (sibling,), True
        return dataclasses.replace(
            best,
            corrections=corrections,
            candidates=candidates,
            off_topic=off_topic,
            anchored=anchored,
            set_aside=tuple(set_aside),
        )

    def _contrast_split(self, text: str) -> list[str]:
        """A "what else" question with its contrast after it ("what else are they after
        besides fentanyl", "¿qué más atacan aparte de la droga?"): the question, then the
        contrast as a clause of its own, as if the contrast had come first. Only when an
        else-word comes before the contrast, so "I forget who went" is no contrast."""
        lexicon = self.analyzer.lexicon
        words = text.split()
        folded = [fold(w) for w in words]
        asked = next((i for i, w in enumerate(folded) if w in lexicon.else_words), None)
        if asked is None:
            return [text]
        for position in range(asked + 1, len(words)):
            if folded[position] not in self._contrast_starts:
                continue
            rest = " ".join(folded[position : position + MAX_CONTRAST_WORDS])
            if self.contrast_opening(rest) is not None:
                head, tail = " ".join(words[:position]), " ".join(words[position:])
                return [head + ("?" if "?" in tail else ""), tail]
        return [text]

    def off_topic_whole(self, off_topic: Iterable[str]) -> bool:
        """True when one of a message's off-topic words puts all of it off topic (the
        lexicon's whole_off_topic: asking for the bot's own view)."""
        return not self.analyzer.lexicon.whole_off_topic.isdisjoint(off_topic)

    def contrast_opening(self, folded: str) -> str | None:
        """The contrast opener that folded text starts with ("besides", "aparte de"), if any."""
        padded = folded + " "
        return next((c for c in self.analyzer.lexicon.contrast if padded.startswith(c + " ")), None)

    def _set_aside(self, clauses: Sequence[_Clause]) -> dict[str, Candidate]:
        """Entries that contrast clauses set aside, with their score there, unless the rest of
        the message names the entry itself ("besides mutual trust, what other principles")."""
        asked = {t for c in clauses if not c.contrast for t in c.terms}
        found: dict[str, Candidate] = {}
        for clause in clauses:
            ranked = self._rank(clause.terms, 1) if clause.contrast else ()
            if ranked and not self._names_entry(asked - set(clause.terms), ranked[0].entry):
                found.setdefault(ranked[0].entry.id, ranked[0])
        return found

    def _best_part(
        self,
        question: str,
        clauses: Sequence[_Clause],
        set_aside: Mapping[str, Candidate],
        limit: int,
    ) -> Match | None:
        """The best-scoring part of the message: its best candidate's score, times the
        square root of the part's share of the known words (so that dropping words the
        knowledge base knows is not rewarded). Segments with an off-topic word are skipped,
        and all of them when one asks for the bot's own view (the lexicon's whole_off_topic)."""
        idf = self._index.idf
        known_total = sum(idf.get(t, 0.0) for c in clauses if not c.contrast for t in c.terms)
        vetoed = {c.segment for c in clauses if c.off_topic}
        if self.off_topic_whole(w for c in clauses for w in c.off_topic):  # "your opinion?"
            vetoed = {c.segment for c in clauses}
        best: Match | None = None
        best_key = -1.0
        for first, last in _spans(clauses):
            span = clauses[first:last]
            if any(c.segment in vetoed for c in span):
                continue
            terms = self._span_terms(span)
            ranked = self._rank(terms, limit + len(set_aside))
            candidates = tuple(c for c in ranked if c.entry.id not in set_aside)[:limit]
            if not candidates:
                continue
            share = sum(idf.get(t, 0.0) for t in terms) / known_total if known_total else 1.0
            key = candidates[0].score * share**self.scoring.part_power
            if key <= best_key:
                continue
            best_key = key
            part = "" if (first, last) == (0, len(clauses)) else " ".join(c.text for c in span)
            # unknown words of the part, those of a telling clause included
            told = (t for c in span if not c.contrast for t in c.terms if t not in idf)
            unknown = tuple(dict.fromkeys((*(t for t in terms if t not in idf), *told)))
            anchored = self._names_entry(set(terms), candidates[0].entry)
            best = Match(question, terms, unknown, (), candidates, part, anchored=anchored)
        return best

    def _span_terms(self, span: Sequence[_Clause]) -> tuple[str, ...]:
        """The terms a part is scored on. Beside a clause that asks, a clause that tells (a
        greeting, a reason, a story) adds only the words the knowledge base knows: they may
        point at the topic ("not the drugs, the weapons. what about those?"), while "my
        cousin in Arizona" must not count against it."""
        idf = self._index.idf
        asking = any(c.asks for c in span)
        terms = tuple(
            dict.fromkeys(
                t
                for c in span
                if not c.contrast
                for t in c.terms
                if c.asks or not asking or t in idf
            )
        )
        return self._without_companion(terms)

    def _without_companion(self, terms: Sequence[str]) -> tuple[str, ...]:
        """`terms`, where a term the lexicon reads only beside others (`only_beside`) and
        found without any of them becomes a word no entry knows: "was the DEA at the
        meetings" asks about the talks, "who runs the DEA" about a subject the article lacks."""
        only_beside = self._only_beside
        present = set(terms)
        return tuple(
            f"{t}{ALONE}" if t in only_beside and not only_beside[t] & present else t for t in terms
        )

    def _asks_what_else(self, clauses: Sequence[_Clause]) -> bool:
        """True when a clause that is not a contrast asks "what else" ("¿qué más?"). Beside a
        contrast, a clause that opens with "what"/"que" asks even without "?" or an accent
        ("aparte de las drogas q mas quieren")."""
        else_words = self.analyzer.lexicon.else_words
        return any(
            (c.asks or (bool(c.words) and c.words[0] in _WHAT))
            and not c.contrast
            and not else_words.isdisjoint(c.words)
            for c in clauses
        )

    def _sibling(self, set_aside: Mapping[str, Candidate]) -> Candidate | None:
        """The first related entry of a set-aside entry that is not set aside itself (its
        closest sibling), scored as the set-aside entry was."""
        for named in set_aside.values():
            for related in named.entry.related:
                if related not in set_aside and related in self._positions:
                    entry = self.entries[self._positions[related]]
                    return Candidate(entry, named.score, named.phrasing, named.coverage, 0.0)
        return None

    def _names_entry(self, terms: set[str], entry: Entry) -> bool:
        """True when one of `terms` is distinctive of `entry` (found in at most 3 entries)."""
        position = self._positions[entry.id]
        return any(self._distinctive(t, position) for t in terms)

    def _distinctive(self, term: str, position: int) -> bool:
        """True when `term` is found in the entry at `position` and in at most DISTINCTIVE
        entries in all."""
        found = self._index.entry_postings.get(term, ())
        return position in found and len(found) <= DISTINCTIVE

    def _rank(self, terms: Sequence[str], limit: int) -> tuple[Candidate, ...]:
        """Score every entry that shares a term with `terms`, best first."""
        index = self._index
        inflected = self.unknown_weight * self.scoring.inflected_factor
        weights = {
            t: index.idf.get(t, inflected if t.startswith(INFLECTED) else self.unknown_weight)
            for t in terms
        }
        total = sum(weights.values())
        if not total:
            return ()

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
        mix = self.scoring.coverage_weight
        asked = set(terms)
        for position, (f1, pid) in best_f1.items():
            needs = self._needs.get(position)
            if needs is not None and needs.isdisjoint(asked):
                continue  # an entry about numbers and no number asked for, or a person not named
            coverage = covered[position] / total
            score = 100.0 * (mix * coverage + (1.0 - mix) * f1) * shrink
            ranked.append(
                Candidate(self.entries[position], score, index.phrasings[pid].text, coverage, f1)
            )
        ranked.sort(key=lambda c: (-c.score, c.entry.id))
        return tuple(ranked[:limit])


@dataclass(frozen=True)
class _Clause:
    """One clause of a message, read once: its terms, repairs and what it says about itself."""

    text: str
    terms: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    asks: bool
    off_topic: tuple[str, ...]
    contrast: bool  # the clause sets a topic aside ("besides fentanyl")
    segment: int  # which part between punctuation marks it belongs to
    words: tuple[str, ...] = ()  # as read: folded, texting forms spelled out, typos repaired

    def with_fallback(self, fallback: Mapping[str, str]) -> _Clause:
        """The clause read with the lexicon's fallback words ("news" -> summary)."""
        terms = tuple(dict.fromkeys(fallback[w] for w in fold(self.text).split() if w in fallback))
        return dataclasses.replace(self, terms=terms)

    @classmethod
    def read(cls, matcher: Matcher, text: str, segment: int = 0) -> _Clause:
        lexicon = matcher.analyzer.lexicon
        folded = fold(_PRONOUN_US.sub(r"\1we", text))
        lead = _LEADING_LINK.match(folded)
        rest = folded[lead.end() :] if lead else folded
        opening = matcher.contrast_opening(rest)
        if opening is not None:
            folded = rest[len(opening) :]
        fixed, corrections = matcher.spell(folded)
        joined = matcher.analyzer.words(" ".join(fixed))  # phrases joined: "good job", "t mec"
        terms = matcher.terms_of(joined)
        asks = (
            "?" in text
            or any(w in lexicon.question_starts for w in fixed[:3])
            or _ACCENTED_QUESTION_WORD.search(text) is not None
        )
        # read after phrases: "I think" and "good morning" frame the message, "think" alone
        # asks for an opinion
        foreign = tuple(dict.fromkeys(w for w in joined if w in lexicon.off_topic or is_year(w)))
        return cls(
            text,
            tuple(terms),
            tuple(corrections),
            asks,
            foreign,
            opening is not None,
            segment,
            tuple(fixed),
        )


# A conjunction (or "ok") before a contrast opener: "y además de las drogas…", "and besides…".
_LEADING_LINK = re.compile(r"^\s*(?:and|but|so|ok|okay|y|e|pero|entonces)\s+")
# In Spanish an accent marks a question word ("qué", "cuándo"), even without "¿?".
_ACCENTED_QUESTION_WORD = re.compile(
    r"\b(?:qué|quién|quiénes|cuál|cuáles|cómo|cuándo|dónde|cuánt[oa]s?)\b", re.IGNORECASE
)
# "what" in either language, which opens a question even without "?" or an accent
_WHAT: Final = frozenset(("what", "que", "which", "cual"))
# Words after which a question word does not start a new clause.
_KEEP_BEFORE_QUESTION_WORD: Final = frozenset(
    (
        *("of", "in", "on", "at", "for", "about", "from", "with", "to", "by", "into", "than"),
        *("and", "or", "but", "so", "por", "para", "de", "a", "en", "con", "sin", "sobre"),
        *("cada", "lo", "el", "la", "los", "las", "y", "o", "pero", "pues"),
    )
)


# Letters that sound alike in names heard and typed ("sh"/"ch", "z"/"s", "v"/"b", "c"/"k").
_SOUNDS_ALIKE: Final = (
    ("sh", "ch"),
    ("ph", "f"),
    ("qu", "k"),
    ("ck", "k"),
    ("c", "k"),
    ("z", "s"),
    ("v", "b"),
    ("y", "i"),
    ("ll", "i"),
    ("j", "h"),
)


def _consonants(word: str) -> str:
    """How a name sounds, roughly: its consonants, sound-alike letters made one, vowels, h, w
    and doubled letters dropped ("sheinbaum" and "chainbaum" -> "knbm")."""
    for written, heard in _SOUNDS_ALIKE:
        word = word.replace(written, heard)
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiouhw]", "", word))


def _undotted(abbreviation: re.Match[str]) -> str:
    """A dotted abbreviation as one word ("EE. UU. " -> "EEUU "), keeping the space after it."""
    text = abbreviation.group(0)
    return text.replace(".", "").replace(" ", "") + (" " if text.endswith(" ") else "")


def _split(question: str) -> list[tuple[str, int]]:
    """The message's clauses, each with the number of the segment (the text between two
    punctuation marks) it comes from; at most MAX_CLAUSES, the middle ones joined into one."""
    question = _DOTTED.sub(_undotted, question)  # U.S., D.C., EE. UU.
    question = _TLDR.sub("tldr", question)
    parts = [p.strip() for p in _CLAUSE_BREAK.split(question)]
    marks = [m.group(0) for m in _CLAUSE_BREAK.finditer(question)]
    clauses: list[tuple[str, int]] = []
    for segment, part in enumerate(parts):
        pieces: list[str] = []
        for piece in _EMBEDDED.split(part):
            words = fold(pieces[-1]).split() if pieces else []
            if words and (words[-1] in _KEEP_BEFORE_QUESTION_WORD or len(words) == 1):
                pieces[-1] += " " + piece  # "por qué", "in which", "so who": one clause
            elif fold(piece):
                pieces.append(piece)
        if pieces:
            # keep a question mark with its clause: it tells that the clause asks
            if segment < len(marks) and "?" in marks[segment]:
                pieces[-1] += "?"
            clauses.extend((piece, segment) for piece in pieces)
    if len(clauses) > MAX_CLAUSES:  # questions open or close a long message: keep both ends
        keep = MAX_CLAUSES // 2
        middle = " ".join(text for text, _ in clauses[keep - 1 : -keep])
        clauses = [*clauses[: keep - 1], (middle, clauses[keep - 1][1]), *clauses[-keep:]]
    return clauses or [(question, 0)]


def _spans(clauses: Sequence[_Clause]) -> list[tuple[int, int]]:
    """The parts to score: the whole message, then runs of 1..MAX_SPAN clauses; when some
    clause asks, only runs that contain an asking clause."""
    count = len(clauses)
    runs = [
        (first, last)
        for first in range(count)
        for last in range(first + 1, min(count, first + MAX_SPAN) + 1)
        if (first, last) != (0, count)
    ]
    if any(c.asks for c in clauses):
        runs = [(a, b) for a, b in runs if any(c.asks for c in clauses[a:b])]
    return [(0, count), *runs]
