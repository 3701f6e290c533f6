"""Load benchmark (a script, not a test): the real bot process (`python -m bot run`, long
polling, the durable inbox on) against the fake Bot API server, 5,000 messages from 500
simulated users.

Two runs on the same process: a burst (all messages at once: the most it can do) and a
paced run at a steady rate (latency from the moment a user's message reaches the server to
the bot's reply). Every reply is checked: each message must get exactly the reply the
pipeline gives for it, exactly once. The same two runs first measure the harness's own
ceiling with a trivial echo bot (`tests/echo_bot.py`) in its place, so the bot's figures can
be read as a share of what this machine, the fake server and the generator allow.

    .venv/bin/python -m tests.loadtest [--messages 5000] [--users 500] [--rate 300]

The outgoing rate limit is switched off (OUTGOING_RATE_LIMIT=0): Telegram itself would cap
a bot at about 30 messages a second, which is the point of measuring capacity separately.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx

from bot.chat.interaction import load
from bot.core.pipeline import Answerer
from bot.settings import DEFAULT_KNOWLEDGE_DIR, Settings
from bot.store.sqlite import SqliteStore
from bot.telegram.app import build_application
from bot.telegram.lifecycle import accept
from tests import postgres_server
from tests.fake_telegram import Call, FakeTelegram
from tests.fakes import TOKEN, RecordingRequest, message_update

LOAD_SECRET = "load-test-webhook-secret-0123456789"

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "who led the delegation?",
    "¿cuáles son los cuatro principios?",
    "what happens next",
    "fentanyl",
    "who is the navy secretary",
    "is the agreement binding?",
    "what's the weather tomorrow",
    "mexico",
    "hola",
    "¿cuánto dinero hay de por medio?",
]


def peak_rss_mb(pid: int) -> float:
    """VmHWM (the peak resident set size) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass(frozen=True)
class Measured:
    """One bot's two runs and its peak memory."""

    burst: dict[str, float]
    paced: dict[str, float]
    peak_mb: float


class Meter:
    """Matches each reply to the oldest unanswered message of its chat, and keeps the texts."""

    def __init__(self) -> None:
        self.sent: dict[int, deque[float]] = defaultdict(deque)
        self.asked: dict[int, list[str]] = defaultdict(list)
        self.replies: dict[int, list[str]] = defaultdict(list)
        self.latencies: list[float] = []
        self.last_reply = 0.0

    def record_push(self, chat: int, question: str) -> None:
        self.sent[chat].append(time.perf_counter())
        self.asked[chat].append(question)

    def on_call(self, call: Call) -> None:
        if call.method != "sendMessage":
            return
        now = time.perf_counter()
        chat = int(call.params.get("chat_id", 0))
        self.replies[chat].append(str(call.params.get("text", "")))
        queue = self.sent.get(chat)
        if queue:
            self.latencies.append(now - queue.popleft())
            self.last_reply = now

    def problems(self, expected: Callable[[str], str]) -> dict[str, int]:
        """Messages whose reply is missing, came more than once, or is not the right one."""
        found = {"missing": 0, "doubled": 0, "wrong": 0}
        for chat, questions in self.asked.items():
            want = Counter(expected(q) for q in questions)
            got = Counter(self.replies.get(chat, []))
            found["missing"] += sum((want - got).values())
            extra = got - want
            found["doubled"] += sum(n for text, n in extra.items() if text in want)
            found["wrong"] += sum(n for text, n in extra.items() if text not in want)
        return found


async def one_run(
    fake: FakeTelegram,
    args: argparse.Namespace,
    *,
    rate: float | None,
    first_chat: int,
    expected: Callable[[str], str],
) -> dict[str, float]:
    """Send the messages (all at once, or at `rate` a second) and measure the replies."""
    messages, users = args.messages, args.users
    meter = Meter()
    fake.on_call = meter.on_call
    start = time.perf_counter()
    for number in range(messages):
        if rate:
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        chat = first_chat + number % users
        question = QUESTIONS[number % len(QUESTIONS)]
        meter.record_push(chat, question)
        fake.send_text(question, chat_id=chat)
    await fake.wait_until(lambda: len(meter.latencies) >= messages, within=600)
    elapsed = meter.last_reply - start
    await asyncio.sleep(1.0)  # a doubled reply would arrive by now
    ordered = sorted(meter.latencies)
    return {
        "messages": messages,
        "seconds": elapsed,
        "throughput": messages / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000,
        **meter.problems(expected),
    }


def expected_replies() -> Callable[[str], str]:
    """The reply the pipeline gives to each question, as the bot sends it (HTML)."""
    answerer = Answerer(load(DEFAULT_KNOWLEDGE_DIR), Settings(_env_file=None).thresholds())  # type: ignore[call-arg]
    replies = {}
    for question in QUESTIONS:
        [html] = answerer.answer(question).html_chunks()
        replies[question] = html
    return replies.__getitem__


async def measure(
    fake: FakeTelegram,
    processes: list[tuple[list[str], dict[str, str]]],
    *,
    ready: Callable[[], bool],
    expected: Callable[[str], str],
    args: argparse.Namespace,
    first_chat: int,
    log: TextIO | None = None,
    targets: list[str] | None = None,
) -> Measured:
    """Start the bot processes (command, environment), run the burst and the paced run, stop
    them. With `targets`, the fake delivers by webhook to them in turn (a load balancer)."""
    started = [
        subprocess.Popen(command, cwd=ROOT, env=environment, stderr=log)  # noqa: ASYNC220
        for command, environment in processes
    ]
    try:
        await fake.wait_until(ready, within=60)
        if targets:
            fake.webhook = {"url": "https://bot.example.test/hook", "secret": LOAD_SECRET}
            fake.deliver_to(targets)
        runs = [
            await one_run(fake, args, rate=rate, first_chat=first_chat + n * 1_000_000,
                          expected=expected)
            for n, rate in enumerate((None, args.rate))
        ]  # fmt: skip
        peak = max(peak_rss_mb(process.pid) for process in started)
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            await asyncio.to_thread(process.wait, 30)
        await fake.stop_delivery()
        fake.webhook = None
    return Measured(runs[0], runs[1], peak)


def healthy(ports: list[int]) -> Callable[[], bool]:
    """True once every replica answers /healthz with 200."""

    def check() -> bool:
        for port in ports:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
        return True

    return check


async def on_postgres(
    fake: FakeTelegram,
    environment: dict[str, str],
    args: argparse.Namespace,
    *,
    replicas: int,
    url: str,
    first_chat: int,
    log: TextIO,
) -> Measured:
    """`replicas` bot processes in webhook mode on one PostgreSQL database."""
    ports = [_free_port() for _ in range(replicas)]
    processes = [
        ([sys.executable, "-m", "bot", "run"], {
            **environment, "BOT_MODE": "webhook", "WEBHOOK_URL": "https://bot.example.test/hook",
            "WEBHOOK_SECRET": LOAD_SECRET, "WEBHOOK_PORT": str(port), "DATABASE_URL": url,
        })
        for port in ports
    ]  # fmt: skip
    return await measure(
        fake,
        processes,
        ready=healthy(ports),
        expected=expected_replies(),
        args=args,
        first_chat=first_chat,
        log=log,
        targets=[f"http://127.0.0.1:{port}/hook" for port in ports],
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main(args: argparse.Namespace) -> None:
    fake = await FakeTelegram(TOKEN).start()
    with tempfile.TemporaryDirectory() as scratch:
        log_path = Path(scratch) / "bot.log"
        environment = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_PATH": str(Path(scratch) / "load.sqlite3"),
            "HASH_SECRET": "load",
            "OUTGOING_RATE_LIMIT": "0",
            "FLOOD_LIMIT": "1000000",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        try:
            echo_command = [sys.executable, "-m", "tests.echo_bot", f"{fake.base_url}{TOKEN}"]
            echo = await measure(
                fake,
                [(echo_command, environment)],
                ready=lambda: any(c.method == "getUpdates" for c in fake.calls),
                expected=lambda question: question,
                args=args,
                first_chat=1,
            )
            command = [sys.executable, "-m", "bot", "run"]
            if os.environ.get("LOADTEST_PROFILE"):
                command[1:1] = ["-m", "cProfile", "-o", os.environ["LOADTEST_PROFILE"]]
            with log_path.open("w") as log:
                bot = await measure(
                    fake,
                    [(command, environment)],
                    ready=lambda: len(fake.sent("setMyCommands")) >= 2,
                    expected=expected_replies(),
                    args=args,
                    first_chat=10_000_000,
                    log=log,
                )
            replicas: dict[str, Measured] = {}
            if postgres_server.available() and not args.no_postgres:
                with postgres_server.running_server() as server, log_path.open("a") as log:
                    for count, first in ((1, 20_000_000), (2, 30_000_000)):
                        url = postgres_server.fresh_database(server.url)
                        replicas[f"{count} on PostgreSQL"] = await on_postgres(
                            fake,
                            environment,
                            args,
                            replicas=count,
                            url=url,
                            first_chat=first,
                            log=log,
                        )
            errors = [
                line
                for line in log_path.read_text(encoding="utf-8").splitlines()
                if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
            ]
        finally:
            await fake.stop()
    report(args, echo, {"1 on SQLite": bot, **replicas}, errors, await inbox_cost())


async def inbox_cost(updates: int = 3000, rounds: int = 3) -> tuple[float, float]:
    """Updates a second through `Application.process_update` (recording fake request, no
    network), with nothing stored and with the SQLite store (the durable inbox, given each
    update's raw JSON as the webhook and the polling loop are, and the chat state: the topic
    of each answer), in alternating rounds of the same run; the best round of each."""
    answerer = Answerer(load(DEFAULT_KNOWLEDGE_DIR))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=TOKEN, outgoing_rate_limit=0, flood_limit=10**9
    )
    best = {False: 0.0, True: 0.0}
    with tempfile.TemporaryDirectory(dir=ROOT) as scratch:
        store = SqliteStore(Path(scratch) / "inbox.sqlite3", b"k")
        for _ in range(rounds):
            for with_inbox in (False, True):
                application = build_application(
                    settings,
                    answerer,
                    request=RecordingRequest(),
                    store=store if with_inbox else None,
                )
                async with application:
                    batch = [
                        message_update(application.bot, QUESTIONS[n % len(QUESTIONS)], chat_id=n)
                        for n in range(updates)
                    ]
                    bodies = [json.dumps(u.to_dict()) for u in batch]  # as they arrive
                    start = time.perf_counter()
                    for update, body in zip(batch, bodies, strict=True):
                        for kept in accept(application, [update], [body]):
                            await application.process_update(kept)
                    rate = updates / (time.perf_counter() - start)
                best[with_inbox] = max(best[with_inbox], rate)
        store.close()
    return best[False], best[True]


def report(
    args: argparse.Namespace,
    echo: Measured,
    bots: dict[str, Measured],
    errors: list[str],
    cost: tuple[float, float],
) -> None:
    """Print the figures: the echo bot's ceiling, agreement-bot as one process on SQLite and
    as one and two replicas on PostgreSQL (webhook mode), and the bot's share of the ceiling."""
    print(f"load: {args.messages:,} messages from {args.users} users, each run")
    rows = (("echo bot (the harness's ceiling)", echo),
            *((f"agreement-bot, {name}", found) for name, found in bots.items()))  # fmt: skip
    for name, measured in rows:
        print(f"  {name}, peak RSS {measured.peak_mb:.1f} MB")
        for label, run in (("burst (all at once)", measured.burst),
                           (f"paced at {args.rate:g}/s", measured.paced)):  # fmt: skip
            print(
                f"    {label:<20} {run['throughput']:6.1f} msg/s  p50 {run['p50_ms']:7.1f} ms"
                f"  p99 {run['p99_ms']:7.1f} ms  missing {run['missing']:.0f}"
                f"  doubled {run['doubled']:.0f}  wrong {run['wrong']:.0f}"
            )
    for name, measured in bots.items():
        share = measured.burst["throughput"] / echo.burst["throughput"]
        print(f"  agreement-bot, {name}: burst {share:.0%} of the echo bot's, in the same run")
    print(f"  error lines in agreement-bot's logs: {len(errors)}")
    for line in errors[:5]:
        print(f"    {line}")
    without, with_inbox = cost
    print(
        f"in-process, process_update: {without:.0f} updates/s with nothing stored, "
        f"{with_inbox:.0f} with the SQLite store (inbox and chat state; "
        f"{with_inbox / without:.0%}), same run"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--rate", type=float, default=300.0, help="paced run, messages/s")
    parser.add_argument(
        "--no-postgres", action="store_true", help="skip the replicas on PostgreSQL"
    )
    asyncio.run(main(parser.parse_args()))
