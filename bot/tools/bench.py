"""`agreement-bot bench`: how long one match takes, beside the rapidfuzz floor, and start-up time.

The floor is one `rapidfuzz.process.extractOne` over all phrasings with `fuzz.WRatio`
(phrasings pre-processed once, the question processed per call). Larger knowledge bases are
generated at run time from pseudo-words, never committed. Figures are printed, not asserted.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from rapidfuzz import fuzz, process, utils

from bot.chat.limits import FloodLimiter
from bot.core.knowledge import LANGUAGES, Entry, EntryText, KnowledgeBase
from bot.core.matching import Matcher
from bot.core.text import Analyzer, fold
from bot.core.words import real_words

FLOOD_USERS: Final = (10, 10_000, 40_000)
TYPO_SHARE: Final = 0.5  # generated questions with one typo
OFF_TOPIC_SHARE: Final = 0.2  # generated questions about something else
LARGE_BASE: Final = 1000  # entries from which the floor is timed once, not five times

_SYLLABLES = ("ka", "lo", "mi", "tra", "sen", "dor", "vi", "qu", "ple", "ron", "zu", "bel", "ta")
# Chatty sentences that wrap a question in a long message (generated, never committed as data).
_CHATTER = (
    "Hello there, I hope you are having a good day.",
    "My teacher asked us to follow this story for a class project, so I am reading up on it.",
    "We were arguing about it at dinner yesterday and nobody could agree on anything.",
    "Sorry if this is a silly question, I do not follow politics very closely.",
    "I saw a short clip about it on my phone this morning but it was all very confusing.",
    "Thanks a lot in advance, you have been really helpful so far.",
    "Hola, buenas tardes, espero que estés bien.",
    "Mi tío dice que todo esto es puro show, pero yo quiero entenderlo bien.",
    "Lo vi en las noticias de la mañana y no me quedó claro, perdón por preguntar tanto.",
    "Gracias de antemano, me sirve mucho para la tarea de mañana.",
)
LONG_MIN, LONG_MAX = 300, 1000


@dataclass(frozen=True)
class Timing:
    """Median and 99th percentile of many timings, in milliseconds."""

    median_ms: float
    p99_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        """Summarise raw timings (seconds)."""
        ordered = sorted(seconds)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        return cls(statistics.median(ordered) * 1e3, p99 * 1e3)


def _time_each(call: Callable[[str], object], questions: Sequence[str]) -> list[float]:
    timings = []
    for question in questions:
        start = time.perf_counter()
        call(question)
        timings.append(time.perf_counter() - start)
    return timings


def time_matcher(matcher: Matcher, questions: Sequence[str], passes: int = 5) -> Timing:
    """One match per question, several passes; per-question caches are cleared each pass."""
    timings: list[float] = []
    for _ in range(passes):
        fold.cache_clear()
        matcher.clear_caches()
        timings += _time_each(matcher.match, questions)
    return Timing.of(timings)


def time_floor(phrasings: Sequence[str], questions: Sequence[str], passes: int = 5) -> Timing:
    """The floor: extractOne over every phrasing with WRatio."""
    choices = [utils.default_process(p) for p in phrasings]

    def floor(question: str) -> object:
        return process.extractOne(
            utils.default_process(question), choices, scorer=fuzz.WRatio, processor=None
        )

    return Timing.of([t for _ in range(passes) for t in _time_each(floor, questions)])


def all_phrasings(entries: Sequence[Entry]) -> list[str]:
    """Every phrasing of every entry, in every language."""
    return [p for e in entries for language in LANGUAGES for p in e.phrasings(language)]


def generate_entries(count: int, seed: int = 7) -> tuple[list[Entry], list[str]]:
    """`count` synthetic entries of five phrasings, and questions for them (typos, strangers)."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not cryptography)
    vocabulary = sorted(
        {"".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(6000)}
    )
    entries, questions = [], []
    for number in range(count):
        topic = rng.sample(vocabulary, 3)
        phrasings = [
            " ".join(
                rng.sample(topic, rng.randint(1, 3)) + rng.sample(vocabulary, rng.randint(1, 4))
            )
            for _ in range(5)
        ]
        text = EntryText(title=" ".join(topic), questions=phrasings, answer="generated")
        entries.append(Entry(id=f"gen-{number}", sources=[1], en=text, es=text))
    for _ in range(300):
        words = rng.choice(entries).en.questions[rng.randrange(5)].split()
        if rng.random() < TYPO_SHARE:  # one typo
            position = rng.randrange(len(words))
            word = words[position]
            cut = rng.randrange(len(word))
            words[position] = word[:cut] + rng.choice("aeiou") + word[cut + 1 :]
        if rng.random() < OFF_TOPIC_SHARE:  # a question about something else
            words = ["what", "about", *rng.sample(vocabulary, 2), "tomorrow"]
        questions.append(" ".join(words))
    return entries, questions


def long_messages(questions: Sequence[str], count: int = 300, seed: int = 11) -> list[str]:
    """`count` messages of LONG_MIN-LONG_MAX characters: a question wrapped in chatter."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not cryptography)
    found: list[str] = []
    while len(found) < count:
        parts = [rng.choice(questions)]
        while len(" ".join(parts)) < LONG_MIN:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(_CHATTER))
        message = " ".join(parts)
        if len(message) <= LONG_MAX:
            found.append(message)
    return found


def flood_check_microseconds(users: int, checks: int = 20_000) -> float:
    """Mean time of one flood-limit check with `users` users active in the window."""
    limiter = FloodLimiter(limit=20, window=60.0)
    for user in range(users):
        limiter.check(user)
    start = time.perf_counter()
    for turn in range(checks):
        limiter.check(turn % users)
    return (time.perf_counter() - start) / checks * 1e6


def startup_seconds(runs: int = 5) -> float:
    """Median wall time of `python -m bot check` (interpreter start, imports, load, validate)."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "check"],
            check=True,
            capture_output=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def run(knowledge: KnowledgeBase, questions: Sequence[str], sizes: Sequence[int]) -> str:
    """Run every benchmark and return the printed table."""
    start = time.perf_counter()
    real_words()  # read once per process, before any match is timed
    words_read = time.perf_counter() - start
    rows = []
    analyzer = Analyzer(knowledge.lexicon)
    cases: list[tuple[str, Sequence[Entry], Sequence[str]]] = [
        (f"shipped ({len(knowledge.entries)} entries)", knowledge.entries, questions)
    ]
    cases.append(
        (
            f"long messages ({LONG_MIN}-{LONG_MAX} chars)",
            knowledge.entries,
            long_messages(questions),
        )
    )
    for size in sizes:
        generated, generated_questions = generate_entries(size)
        cases.append((f"generated {size:,} entries", generated, generated_questions))
    for label, entries, asked in cases:
        start = time.perf_counter()
        matcher = Matcher(entries, analyzer)
        build = time.perf_counter() - start
        ours = time_matcher(matcher, asked)
        floor_passes = 5 if len(entries) < LARGE_BASE else 1  # the floor is slow on large bases
        floor = time_floor(all_phrasings(entries), asked, passes=floor_passes)
        rows.append(
            f"{label:<32} {ours.median_ms:8.3f} {ours.p99_ms:8.3f}   "
            f"{floor.median_ms:8.3f} {floor.p99_ms:8.3f}   {ours.median_ms / floor.median_ms:6.2f}x"
            f"   {build:6.2f}s"
        )
    header = (
        f"{'one match (ms)':<32} {'median':>8} {'p99':>8}   {'floor md':>8} {'floor 99':>8}"
        f"   {'ratio':>7}   {'index':>7}"
    )
    startup = startup_seconds()
    flood = ", ".join(
        f"{users:,} users {flood_check_microseconds(users):.2f} us" for users in FLOOD_USERS
    )
    return "\n".join(
        [
            header,
            *rows,
            "floor = rapidfuzz.process.extractOne over all phrasings with fuzz.WRatio",
            f"flood-limit check, users active in the window: {flood}",
            f"start-up (python -m bot check, median of 5): {startup:.2f} s",
            f"real-word list for typo repair, read once when first needed: {words_read:.2f} s",
        ]
    )
