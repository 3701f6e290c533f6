"""Command line: `agreement-bot run | chat | ask | check | eval | bench | report`.

The same program runs as `python -m bot`.

Exit status: 0 on success, 1 when `eval` finds quality under the floors, 2 when the settings,
the knowledge base or an input file are invalid.
`ask --json -` is a stable contract for outside evaluation: one question per input line,
one JSON object per output line.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

import psycopg
import yaml
from pydantic import ValidationError

from bot.chat.interaction import Interaction, Sender, load
from bot.console import ConsoleChat
from bot.core import words
from bot.core.knowledge import KnowledgeBase, KnowledgeError
from bot.core.matching import Thresholds
from bot.core.pipeline import Answerer
from bot.core.replies import Reply
from bot.settings import Settings, describe_errors
from bot.store import report
from bot.store.base import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from bot.tools import bench, dialogues, evaluation
from bot.tools.evaluation import DEFAULT_EVAL_FILE

EXIT_OK = 0
EXIT_BELOW_FLOOR = 1
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
        "run",
        help="start the bot: on Telegram (BOT_MODE polling or webhook) when "
        "TELEGRAM_BOT_TOKEN is set, else the console chat",
    )
    commands.add_parser("chat", help="chat in this terminal (no Telegram)")
    ask = commands.add_parser("ask", help="print the reply to one question")
    ask.add_argument("question", nargs="+", help="the question, or - to read one per line")
    output = ask.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON objects instead of text")
    output.add_argument(
        "--explain", action="store_true", help="show how the question was matched and why"
    )
    ask.add_argument(
        "--conversation",
        action="store_true",
        help="read the lines as consecutive messages of one chat: a follow-up is read in the "
        "context of the last answer",
    )
    commands.add_parser("check", help="validate the knowledge base (exit 0, or 2 with problems)")
    evaluate = commands.add_parser(
        "eval", help="accuracy and decline rate on a labelled set (exit 1 below the floors)"
    )
    evaluate.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="a labelled file to score alone (default: the tuning and held-out halves of "
        "tests/data/real.yaml side by side, with the other tuning sets beside them)",
    )
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.add_argument(
        "--loo",
        action="store_true",
        help="leave-one-out over the knowledge base: each phrasing removed in turn must still "
        "reach its entry",
    )
    evaluate.add_argument(
        "--calibrate",
        action="store_true",
        help="also search the thresholds that maximise accuracy with >= 96%% declined in "
        "each language (never on the held-out half)",
    )
    curator = commands.add_parser(
        "report", help="the curator's report: unanswered questions, 👎 answers, picks"
    )
    curator.add_argument("--csv", action="store_true", help="write CSV to standard output")
    curator.add_argument("--limit", type=int, default=20, help="rows per section (text only)")
    bench = commands.add_parser(
        "bench", help="time one match (shipped and generated bases) and start-up"
    )
    bench.add_argument(
        "--sizes", type=int, nargs="*", default=[1000, 10000], help="generated base sizes"
    )
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
    return _dispatch(command, args, settings, knowledge)


def _dispatch(
    command: str, args: argparse.Namespace, settings: Settings, knowledge: KnowledgeBase
) -> int:
    def answerer() -> Answerer:
        return Answerer(knowledge, settings.thresholds())

    actions: dict[str, Callable[[], int]] = {
        "check": lambda: _check(settings, knowledge),
        "report": lambda: _report(settings, as_csv=args.csv, limit=args.limit),
        "bench": lambda: _bench(knowledge, args.sizes),
        "eval": lambda: _evaluate(
            answerer(), args.file, as_json=args.json, calibrating=args.calibrate, loo=args.loo
        ),
        "ask": lambda: _ask(answerer(), args, out=sys.stdout),
        "chat": lambda: ConsoleChat(Interaction(answerer())).run(),
        "run": lambda: _run(settings, answerer()),
    }
    if command in {"chat", "run"}:
        words.warm_up()
    return actions[command]()


def _check(settings: Settings, knowledge: KnowledgeBase) -> int:
    print(f"knowledge OK: {len(knowledge.entries)} entries in {settings.knowledge_dir}")
    return EXIT_OK


def _bench(knowledge: KnowledgeBase, sizes: list[int]) -> int:
    questions = [case.question for case in evaluation.load_cases(DEFAULT_EVAL_FILE)]
    print(bench.run(knowledge, questions, sizes))
    return EXIT_OK


def _run(settings: Settings, answerer: Answerer) -> int:
    if settings.telegram_bot_token is None:
        return ConsoleChat(Interaction(answerer)).run()
    # Imported here so that `ask`, `check` and the console start without loading Telegram.
    from bot.telegram.app import run_telegram  # noqa: PLC0415

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
        return load(settings.knowledge_dir)
    except KnowledgeError as exc:
        count = len(exc.problems)
        header = f"knowledge base has {count} problem{'s' if count != 1 else ''}:"
        raise _Invalid([header, *(f"  {p}" for p in exc.problems)]) from None


def _read_cases(answerer: Answerer, path: Path) -> list[evaluation.Case] | None:
    """The labelled cases of `path`, or None after printing why they cannot be used."""
    try:
        cases = evaluation.load_cases(path)
    except (OSError, yaml.YAMLError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return None
    unknown = evaluation.unknown_labels(cases, answerer)
    if unknown:
        print(f"{path}: labels that are not entry ids: {', '.join(unknown)}", file=sys.stderr)
        return None
    return cases


def _cutoffs(t: Thresholds) -> str:
    """The calibrated cut-offs, as `eval` prints them."""
    return (
        f"answer {t.answer:g}, suggest {t.suggest:g}, margin {t.margin:g}, anchored {t.anchored:g}"
    )


def _evaluate(
    answerer: Answerer, path: Path | None, *, as_json: bool, calibrating: bool, loo: bool
) -> int:
    if loo:
        return _leave_one_out(answerer, as_json=as_json)
    if path is None:
        return _evaluate_halves(answerer, as_json=as_json, calibrating=calibrating)
    cases = _read_cases(answerer, path)
    if cases is None:
        return EXIT_INVALID
    matches = evaluation.run_cases(answerer, cases)
    found = evaluation.reports(evaluation.judge(matches, answerer.thresholds))
    calibrated = evaluation.calibrate(matches) if calibrating else None
    if as_json:
        data: dict[str, object] = {"file": str(path), "reports": [r.as_dict() for r in found]}
        if calibrated is not None:
            data["calibrated"] = {"thresholds": asdict(calibrated[0]), **calibrated[1].as_dict()}
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        t = answerer.thresholds
        print(f"{path}: {len(cases)} questions; thresholds {_cutoffs(t)}")
        for report in found:
            print(evaluation.format_report(report, show_misses=report is found[0]))
        if calibrated is not None:
            best, report = calibrated
            print(f"calibrated: {_cutoffs(best)}")
            print(evaluation.format_report(report, show_misses=False))
    return EXIT_OK if all(r.passes() for r in found) else EXIT_BELOW_FLOOR


def _evaluate_halves(answerer: Answerer, *, as_json: bool, calibrating: bool) -> int:
    """real.yaml's tuning and held-out halves side by side, the other tuning sets beside them."""
    realistic = [_read_cases(answerer, path) for path in evaluation.REAL_EVAL_FILES]
    files = (evaluation.FRESH_EVAL_FILE, *evaluation.TUNING_FILES)
    others = {path.name: _read_cases(answerer, path) for path in files}
    if any(cases is None for cases in (*realistic, *others.values())):
        return EXIT_INVALID
    halves = evaluation.split_cases([case for cases in realistic if cases for case in cases])
    sets: dict[str, list[evaluation.Case]] = {
        "tuning": halves["tuning"],
        "held-out": halves["held-out"],
        **{name: cases for name, cases in others.items() if cases is not None},
    }
    matched = {name: evaluation.run_cases(answerer, cases) for name, cases in sets.items()}
    results = {
        name: evaluation.judge(found, answerer.thresholds) for name, found in matched.items()
    }
    columns = {name: evaluation.by_language(found) for name, found in results.items()}
    problems = evaluation.split_problems(columns["tuning"], columns["held-out"])
    first = columns[DEFAULT_EVAL_FILE.name]
    problems += [
        f"{DEFAULT_EVAL_FILE.name} {r.language}: under the floors"
        for r in first.values()
        if not r.passes()
    ]
    unseen = {"held-out", evaluation.FRESH_EVAL_FILE.name}  # never tuned on: no misses shown
    tuned = [m for name, found in matched.items() if name not in unseen for m in found]
    misses = [
        r for name, found in results.items() if name not in unseen for r in found if not r.correct
    ]
    if as_json:
        data: dict[str, object] = {
            name: {lang: _figures(r) for lang, r in found.items()}
            for name, found in columns.items()
        }
        data["tuning misses"] = evaluation.summarise(misses).as_dict()["misses"]
        data["problems"] = problems
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK if not problems else EXIT_BELOW_FLOOR
    t = answerer.thresholds
    sizes = ", ".join(f"{name} {len(cases)}" for name, cases in sets.items())
    names = " and ".join(path.name for path in evaluation.REAL_EVAL_FILES)
    print(
        f"messages: {sizes} (tuning and held-out: the halves of {names}); thresholds {_cutoffs(t)}"
    )
    print(evaluation.format_table(list(columns.items())))
    if misses:
        print(
            f"misses in the tuning sets ({len(misses)}; held-out and fresh misses are not shown):"
        )
        print(evaluation.format_misses(misses))
    if calibrating:
        best, report = evaluation.calibrate(tuned)
        print(f"calibrated on the tuning sets: {_cutoffs(best)}")
        print(evaluation.format_report(report, show_misses=False))
    print(_dialogue_figures(answerer))
    floors = (
        f"floors: held-out >= {evaluation.HELD_OUT_ACCURACY_FLOOR:.0%} in scope and >= "
        f"{evaluation.HELD_OUT_DECLINE_FLOOR:.0%} declined in each language, tuning minus "
        f"held-out <= {evaluation.MAX_GAP:.0%}; {DEFAULT_EVAL_FILE.name} >= "
        f"{evaluation.ACCURACY_FLOOR:.0%} / {evaluation.DECLINE_FLOOR:.0%}"
    )
    print(floors + (": PASS" if not problems else ": FAIL"))
    for problem in problems:
        print("  " + problem)
    return EXIT_OK if not problems else EXIT_BELOW_FLOOR


def _dialogue_figures(answerer: Answerer) -> str:
    """The dialogues, turn by turn in one chat each: both halves side by side, and the
    tuning half's misses (the held-out half's are never shown)."""
    halves = dialogues.split_dialogues(dialogues.load_dialogues())
    results = {name: dialogues.run(answerer, found) for name, found in halves.items()}
    lines = [
        f"dialogues ({dialogues.DIALOGUES_FILE.name}): "
        + ", ".join(f"{name} {len(found)}" for name, found in halves.items()),
        dialogues.format_table(
            [
                (f"{name} {language}", dialogues.by_language(found)[language])
                for name, found in results.items()
                for language in ("en", "es")
            ]
        ),
    ]
    missed = dialogues.misses(results["tuning"])
    if missed:
        lines += ["misses in the tuning dialogues:", missed]
    return "\n".join(lines)


def _figures(report: evaluation.Report) -> dict[str, object]:
    data = report.as_dict()
    data.pop("misses")
    return data


def _leave_one_out(answerer: Answerer, *, as_json: bool) -> int:
    results = evaluation.leave_one_out(answerer)
    found = evaluation.by_language(results)
    if as_json:
        data = {lang: report.as_dict() for lang, report in found.items()}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"leave-one-out: {len(results)} phrasings, each removed in turn")
    for language, figures in found.items():
        right = figures.in_scope - len(figures.misses)
        print(
            f"[{language}] reached its entry: {figures.accuracy:.1%} ({right}/{figures.in_scope}); "
            f"flat declines: {figures.flat_decline_rate:.1%}; declined offering it: "
            f"{figures.right_topic_rate:.1%}; did-you-mean: {figures.suggest_share:.1%}"
        )
    misses = found["all"].misses
    if misses:
        print(f"misses ({len(misses)}):")
        print(evaluation.format_misses(misses))
    return EXIT_OK


def _report(settings: Settings, *, as_csv: bool, limit: int) -> int:
    store: Store
    if settings.database_url is not None:  # the replicas' shared database
        where = "the PostgreSQL database (DATABASE_URL)"
        store = PostgresStore(settings.database_url.get_secret_value(), secret=b"")
    else:
        path = settings.database_path
        if not path.exists():
            print(f"no feedback recorded yet ({path} does not exist)")
            return EXIT_OK
        where = str(path)
        store = SqliteStore(path, secret=b"")  # reading needs no key: chats are hashed
    try:
        found = report.build_report(store)
    except (sqlite3.Error, psycopg.Error, OSError) as exc:
        print(f"cannot read {where}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    finally:
        store.close()
    if as_csv:
        report.write_csv(found, sys.stdout)
    else:
        print(report.format_report(found, limit))
    return EXIT_OK


def reply_json(reply: Reply) -> dict[str, object]:
    """The stable JSON contract of `ask --json`."""
    return {
        "matched": reply.matched,
        "entry_id": reply.entry_id if reply.matched else None,
        "score": reply.score,
        "answer": reply.plain,
        "suggestions": list(reply.suggestions),
        "language": reply.language,
        "context": reply.context,
        "parts": list(reply.parts),
        "nearest": reply.nearest,
    }


def _ask(answerer: Answerer, args: argparse.Namespace, out: TextIO) -> int:
    questions = sys.stdin if args.question == ["-"] else [" ".join(args.question)]
    chat = Interaction(answerer) if args.conversation else None
    sender = Sender(chat=0)
    for line in questions:
        question = line.rstrip("\n")
        if args.explain:
            context = chat.context(sender) if chat is not None else None
            out.write(answerer.explain(question, context) + "\n")
        if chat is not None:
            reply = chat.text(sender, question)
        elif args.explain:
            continue
        else:
            reply = answerer.answer(question)
        if args.json:
            out.write(json.dumps(reply_json(reply), ensure_ascii=False) + "\n")
        elif not args.explain:
            out.write(reply.plain + "\n")
        out.flush()
    return EXIT_OK
