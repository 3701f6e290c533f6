"""Command line: `agreement-bot run | chat | ask | check` (also `python -m bot`).

Exit status: 0 on success, 2 when the settings or the knowledge base are invalid.
`ask --json -` is a stable contract for outside evaluation: one question per input line,
one JSON object per output line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from bot.answers import Answerer
from bot.console import ConsoleChat
from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge
from bot.replies import Reply
from bot.settings import Settings, describe_errors

EXIT_OK = 0
EXIT_INVALID = 2


class _Invalid(Exception):
    """Settings or knowledge are invalid; the message lines are ready to print."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for --help tests)."""
    parser = argparse.ArgumentParser(
        prog="agreement-bot",
        description="Answers questions about the U.S.-Mexico agreement against organized crime.",
    )
    parser.add_argument(
        "--knowledge", type=Path, help="knowledge directory (default: KNOWLEDGE_DIR or knowledge/)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run", help="start the bot: Telegram when TELEGRAM_BOT_TOKEN is set, else the console"
    )
    commands.add_parser("chat", help="chat in this terminal (no Telegram)")
    ask = commands.add_parser("ask", help="print the reply to one question")
    ask.add_argument("question", nargs="+", help="the question, or - to read one per line")
    ask.add_argument("--json", action="store_true", help="print JSON objects instead of text")
    commands.add_parser("check", help="validate the knowledge base (exit 0, or 2 with problems)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `agreement-bot` console script."""
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = _settings(args.knowledge)
        knowledge = _knowledge(settings)
    except _Invalid as problem:
        for line in problem.lines:
            print(line, file=sys.stderr)
        return EXIT_INVALID
    if command == "check":
        print(f"knowledge OK: {len(knowledge.entries)} entries in {settings.knowledge_dir}")
        return EXIT_OK
    answerer = Answerer(knowledge, settings.thresholds())
    if command == "ask":
        return _ask(answerer, args.question, as_json=args.json, out=sys.stdout)
    if command == "chat" or settings.telegram_bot_token is None:
        return ConsoleChat(answerer).run()
    # Imported here so that `ask`, `check` and the console start without loading Telegram.
    from bot.telegram_app import run_telegram  # noqa: PLC0415

    return run_telegram(settings, answerer)


def _settings(knowledge_dir: Path | None) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        raise _Invalid(["invalid settings:", *describe_errors(exc)]) from None
    if knowledge_dir is not None:
        settings = settings.model_copy(update={"knowledge_dir": knowledge_dir})
    return settings


def _knowledge(settings: Settings) -> KnowledgeBase:
    try:
        return load_knowledge(settings.knowledge_dir)
    except KnowledgeError as exc:
        count = len(exc.problems)
        header = f"knowledge base has {count} problem{'s' if count != 1 else ''}:"
        raise _Invalid([header, *(f"  {p}" for p in exc.problems)]) from None


def reply_json(reply: Reply) -> dict[str, object]:
    """The stable JSON contract of `ask --json`."""
    return {
        "matched": reply.matched,
        "entry_id": reply.entry_id if reply.matched else None,
        "score": reply.score,
        "answer": reply.plain,
        "suggestions": list(reply.suggestions),
    }


def _ask(answerer: Answerer, words: list[str], *, as_json: bool, out: TextIO) -> int:
    questions = sys.stdin if words == ["-"] else [" ".join(words)]
    for line in questions:
        reply = answerer.answer(line.rstrip("\n"))
        if as_json:
            out.write(json.dumps(reply_json(reply), ensure_ascii=False) + "\n")
        else:
            out.write(reply.plain + "\n")
        out.flush()
    return EXIT_OK
