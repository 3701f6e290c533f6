"""The curator's report: what people asked that the bot could not answer, which answers got
👎, and which "did you mean" picks show a phrasing the knowledge base is missing.

Unanswered questions are grouped by similarity with rapidfuzz, so "who paid for it?" and
"who pays for this" count as one need. No Telegram import.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, TextIO

from rapidfuzz import fuzz, process

from bot.core.knowledge import Language
from bot.core.messages import messages
from bot.core.text import fold
from bot.store.base import Store

SIMILAR: Final = 80  # token_sort_ratio at which two questions count as the same need


@dataclass
class QuestionGroup:
    """Similar unanswered questions: the most frequent one stands for the group."""

    example: str
    language: str
    count: int
    variants: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CuratorReport:
    """Everything `agreement-bot report` shows."""

    unanswered: list[QuestionGroup]
    downvoted: list[tuple[str, int, int]]  # (entry id, 👍, 👎), most 👎 first
    missing_phrasings: list[tuple[str, str, int]]  # (question, picked entry id, times)


def group_questions(
    rows: Sequence[tuple[str, str, int]], threshold: float = SIMILAR
) -> list[QuestionGroup]:
    """Greedy grouping, most frequent first: a question joins the first similar group."""
    groups: list[QuestionGroup] = []
    keys: list[str] = []
    for question, language, count in sorted(rows, key=lambda r: (-r[2], r[0])):
        key = fold(question)
        found = process.extractOne(key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=threshold)
        if found is not None and groups[found[2]].language == language:
            group = groups[found[2]]
            group.count += count
            group.variants.append(question)
        else:
            groups.append(QuestionGroup(question, language, count))
            keys.append(key)
    return sorted(groups, key=lambda g: (-g.count, g.example))


def build_report(store: Store) -> CuratorReport:
    """Read the store and assemble the report."""
    return CuratorReport(
        unanswered=group_questions(store.unanswered()),
        downvoted=[row for row in store.votes() if row[2] > 0],
        missing_phrasings=store.picks(),
    )


def format_report(report: CuratorReport, limit: int = 20) -> str:
    """The report as text for the terminal."""
    unanswered: list[str] = []
    for group in report.unanswered[:limit]:
        unanswered.append(f"  {group.count:4d}  [{group.language}] {group.example}")
        unanswered += [f"              also: {variant}" for variant in group.variants[:3]]
    sections = [
        ("Most frequent unanswered questions (grouped by similarity):", unanswered),
        (
            "Answers with the most 👎 (entry: 👍 / 👎):",
            [f"  {entry_id}: {up} / {down}" for entry_id, up, down in report.downvoted[:limit]],
        ),
        (
            '"Did you mean" picks - phrasings to add to the picked entry:',
            [
                f"  {times:4d}  {entry_id} <- {question!r}"
                for question, entry_id, times in report.missing_phrasings[:limit]
            ],
        ),
    ]
    return "\n\n".join("\n".join([title, *(rows or ["  (none yet)"])]) for title, rows in sections)


def write_csv(report: CuratorReport, out: TextIO) -> None:
    """The report as one CSV table: section, entry_id, text, language, count, extra."""
    writer = csv.writer(out)
    writer.writerow(["section", "entry_id", "text", "language", "count", "extra"])
    for group in report.unanswered:
        variants = " | ".join(group.variants)
        writer.writerow(["unanswered", "", group.example, group.language, group.count, variants])
    for entry_id, up, down in report.downvoted:
        writer.writerow(["downvoted", entry_id, "", "", down, f"upvotes={up}"])
    for question, entry_id, times in report.missing_phrasings:
        writer.writerow(["missing_phrasing", entry_id, question, "", times, ""])


def stats_text(store: Store, language: Language, entries: int) -> str:
    """The /stats message in `language`: totals and the top unanswered and 👎 answers."""
    words = messages(language)
    try:
        totals = store.stats()
        report = build_report(store)
    except Exception as exc:
        return words.stats_unreadable.format(error=exc)
    lines = [
        words.stats_knowledge.format(entries=entries),
        words.stats_feedback.format(
            unanswered=totals.unanswered,
            picks=totals.picks,
            up=totals.upvotes,
            down=totals.downvotes,
            chats=totals.chats,
        ),
        words.stats_top_unanswered,
    ]
    lines += [f"  {g.count} × {g.example}" for g in report.unanswered[:5]] or [
        f"  {words.stats_none}"
    ]
    lines.append(words.stats_most_downvoted)
    lines += [f"  {e}: {d} 👎 / {u} 👍" for e, u, d in report.downvoted[:3]] or [
        f"  {words.stats_none}"
    ]
    return "\n".join(lines)
