"""Conversations as the bot sees them: labelled dialogues run turn by turn through the
interaction layer, so that follow-ups are read in the context of the last answer.

`tests/data/dialogues.yaml` holds the dialogues (written from the article alone). They are
split once into a tuning and a held-out half by the first message of each dialogue (the
same rule as the other sets). Each turn is also answered alone, without any context, so
the figures show what context adds and whether it ever makes a message worse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from bot.chat.interaction import Interaction, Sender
from bot.core.followup import follow_up
from bot.core.knowledge import Language
from bot.core.pipeline import Answerer
from bot.core.replies import Reply
from bot.tools.evaluation import DATA_DIR, DECLINE, Half, half_of

DIALOGUES_FILE: Final = DATA_DIR / "dialogues.yaml"
NOT_ANSWERS: Final = frozenset({"decline", "info", "smalltalk"})


@dataclass(frozen=True)
class Turn:
    """One message of a dialogue and what it asks about."""

    say: str
    expect: tuple[str, ...]  # entry ids (two or three for a multi-part question), or decline
    language: Language
    position: int  # 0 for the first message of its dialogue

    @property
    def in_scope(self) -> bool:
        """True when the turn asks about the article."""
        return self.expect != (DECLINE,)

    @property
    def is_follow_up(self) -> bool:
        """True when the message cannot stand alone (and is not the first)."""
        return self.position > 0 and follow_up(self.say) is not None

    @property
    def multi_part(self) -> bool:
        """True when the turn asks about several entries at once."""
        return len(self.expect) > 1


@dataclass(frozen=True)
class Dialogue:
    """Consecutive messages of one chat."""

    language: Language
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class TurnResult:
    """What the bot did with one turn, in the conversation and alone."""

    turn: Turn
    got: tuple[str, ...]  # the entries answered, or the kind of reply
    right: bool
    right_alone: bool
    context: str | None  # the entry the turn was read with, if context was used


def load_dialogues(path: Path = DIALOGUES_FILE) -> list[Dialogue]:
    """Read a dialogues file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for item in data.get("dialogues", []):
        language: Language = "es" if item.get("language") == "es" else "en"
        turns = []
        for position, turn in enumerate(item.get("turns", [])):
            expect = turn["expect"]
            labels = tuple(str(e) for e in expect) if isinstance(expect, list) else (str(expect),)
            turns.append(Turn(str(turn["say"]), labels, language, position))
        found.append(Dialogue(language, tuple(turns)))
    return found


def split_dialogues(dialogues: Sequence[Dialogue]) -> dict[Half, list[Dialogue]]:
    """The tuning and held-out halves, by the first message of each dialogue."""
    halves: dict[Half, list[Dialogue]] = {"tuning": [], "held-out": []}
    for dialogue in dialogues:
        halves[half_of(dialogue.turns[0].say)].append(dialogue)
    return halves


def unknown_labels(dialogues: Iterable[Dialogue], answerer: Answerer) -> list[str]:
    """Labels that are neither an entry id nor "decline"."""
    known = {e.id for e in answerer.knowledge.entries} | {DECLINE}
    labels = {label for d in dialogues for t in d.turns for label in t.expect}
    return sorted(labels - known)


def covered(reply: Reply) -> tuple[str, ...]:
    """The entries a reply answers, or its kind when it answers none."""
    if reply.kind == "answer":
        return reply.parts or ((reply.entry_id,) if reply.entry_id else ())
    return (reply.kind,)


def is_right(turn: Turn, reply: Reply) -> bool:
    """In scope: exactly the labelled entries answered. Out of scope: no fact stated."""
    if not turn.in_scope:
        return reply.kind in NOT_ANSWERS
    return reply.kind == "answer" and sorted(covered(reply)) == sorted(turn.expect)


def run(answerer: Answerer, dialogues: Sequence[Dialogue]) -> list[TurnResult]:
    """Every dialogue through a fresh conversation, each turn also answered alone."""
    results = []
    for dialogue in dialogues:
        chat = Interaction(answerer)
        sender = Sender(chat=1)
        for turn in dialogue.turns:
            reply = chat.text(sender, turn.say)
            alone = answerer.answer(turn.say)
            results.append(
                TurnResult(
                    turn,
                    covered(reply),
                    is_right(turn, reply),
                    is_right(turn, alone),
                    reply.context,
                )
            )
    return results


@dataclass(frozen=True)
class DialogueReport:
    """Figures over some turns."""

    turns: int
    right: int
    follow_ups: int  # later in-scope turns the bot detects as follow-ups (`follow_up`)
    follow_ups_right: int
    follow_ups_right_alone: int
    standalone: int  # later in-scope turns the bot reads alone (not detected as follow-ups)
    standalone_right: int
    made_worse: int  # turns right alone and wrong in the conversation
    declines: int
    declined: int
    multi_part: int
    multi_part_right: int

    @property
    def accuracy(self) -> float:
        """Share of all turns handled right."""
        return self.right / self.turns if self.turns else 1.0

    @property
    def follow_up_accuracy(self) -> float:
        """Share of follow-ups handled right."""
        return self.follow_ups_right / self.follow_ups if self.follow_ups else 1.0

    @property
    def decline_rate(self) -> float:
        """Share of out-of-scope turns declined."""
        return self.declined / self.declines if self.declines else 1.0


def summarise(results: Sequence[TurnResult]) -> DialogueReport:
    """Figures over `results`."""
    follow_ups = [r for r in results if r.turn.is_follow_up and r.turn.in_scope]
    standalone = [
        r for r in results if r.turn.position > 0 and r.turn.in_scope and not r.turn.is_follow_up
    ]
    declines = [r for r in results if not r.turn.in_scope]
    multi = [r for r in results if r.turn.multi_part]
    return DialogueReport(
        turns=len(results),
        right=sum(r.right for r in results),
        follow_ups=len(follow_ups),
        follow_ups_right=sum(r.right for r in follow_ups),
        follow_ups_right_alone=sum(r.right_alone for r in follow_ups),
        standalone=len(standalone),
        standalone_right=sum(r.right for r in standalone),
        made_worse=sum(r.right_alone and not r.right for r in results),
        declines=len(declines),
        declined=sum(r.right for r in declines),
        multi_part=len(multi),
        multi_part_right=sum(r.right for r in multi),
    )


def by_language(results: Sequence[TurnResult]) -> dict[str, DialogueReport]:
    """Figures for all turns and per language."""
    found = {"all": summarise(results)}
    for language in ("en", "es"):
        found[language] = summarise([r for r in results if r.turn.language == language])
    return found


def format_table(columns: Sequence[tuple[str, DialogueReport]]) -> str:
    """Reports side by side, one column each."""

    def share(right: int, total: int) -> str:
        return f"{right / total:.1%} ({right}/{total})" if total else "-"

    rows: list[tuple[str, Callable[[DialogueReport], str]]] = [
        ("all turns right", lambda r: share(r.right, r.turns)),
        ("follow-ups right", lambda r: share(r.follow_ups_right, r.follow_ups)),
        ("  the same, no context", lambda r: share(r.follow_ups_right_alone, r.follow_ups)),
        ("other later turns right", lambda r: share(r.standalone_right, r.standalone)),
        ("out of scope declined", lambda r: share(r.declined, r.declines)),
        ("multi-part right", lambda r: share(r.multi_part_right, r.multi_part)),
        ("made worse by context", lambda r: str(r.made_worse)),
    ]
    width = max(len(name) for name, _ in columns) + 2
    lines = [f"{'dialogues':<24}" + "".join(f"{name:>{max(width, 18)}}" for name, _ in columns)]
    for label, figure in rows:
        lines.append(f"{label:<24}" + "".join(f"{figure(r):>{max(width, 18)}}" for _, r in columns))
    return "\n".join(lines)


def misses(results: Sequence[TurnResult]) -> str:
    """The wrong turns, with the turn before each for context."""
    lines = []
    for result in results:
        if not result.right:
            turn = result.turn
            used = f" (read with {result.context})" if result.context else ""
            lines.append(
                f"  [{turn.language}] #{turn.position} {turn.say!r}: expected "
                f"{'+'.join(turn.expect)}, got {'+'.join(result.got)}{used}"
            )
    return "\n".join(lines)
