"""Load benchmark (a script, not a test): the real bot process (`python -m bot run`, long
polling) against the fake Bot API server, 5,000 messages from 500 simulated users.

Two runs on the same process: a burst (all messages at once: the most it can do) and a
paced run at a steady rate (latency from the moment a user's message reaches the server to
the bot's reply). Prints throughput, p50/p99 latency and the bot's peak memory (VmHWM).

    .venv/bin/python -m tests.loadtest [--messages 5000] [--users 500] [--rate 300]

The outgoing rate limit is switched off (OUTGOING_RATE_LIMIT=0): Telegram itself would cap
a bot at about 30 messages a second, which is the point of measuring capacity separately.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict, deque
from pathlib import Path

from tests.fake_telegram import Call, FakeTelegram
from tests.fakes import TOKEN

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


class Meter:
    """Matches each reply to the oldest unanswered message of its chat."""

    def __init__(self) -> None:
        self.sent: dict[int, deque[float]] = defaultdict(deque)
        self.latencies: list[float] = []
        self.last_reply = 0.0

    def record_push(self, chat: int) -> None:
        self.sent[chat].append(time.perf_counter())

    def on_call(self, call: Call) -> None:
        if call.method != "sendMessage":
            return
        now = time.perf_counter()
        queue = self.sent.get(int(call.params.get("chat_id", 0)))
        if queue:
            self.latencies.append(now - queue.popleft())
            self.last_reply = now


async def one_run(
    fake: FakeTelegram, messages: int, users: int, rate: float | None, first_chat: int
) -> dict[str, float]:
    meter = Meter()
    fake.on_call = meter.on_call
    start = time.perf_counter()
    for number in range(messages):
        if rate:
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        chat = first_chat + number % users
        meter.record_push(chat)
        fake.send_text(QUESTIONS[number % len(QUESTIONS)], chat_id=chat)
    await fake.wait_until(lambda: len(meter.latencies) >= messages, within=600)
    elapsed = meter.last_reply - start
    ordered = sorted(meter.latencies)
    return {
        "messages": messages,
        "seconds": elapsed,
        "throughput": messages / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000,
    }


async def main(messages: int, users: int, rate: float) -> None:
    fake = await FakeTelegram(TOKEN).start()
    with tempfile.TemporaryDirectory() as scratch:
        environment = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_PATH": str(Path(scratch) / "load.sqlite3"),
            "HASH_SECRET": "load",
            "OUTGOING_RATE_LIMIT": "0",
            "FLOOD_LIMIT": "1000000",
            "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "-m", "bot", "run"]
        if os.environ.get("LOADTEST_PROFILE"):
            command[1:1] = ["-m", "cProfile", "-o", os.environ["LOADTEST_PROFILE"]]
        bot = subprocess.Popen(command, cwd=ROOT, env=environment)  # noqa: ASYNC220 (returns at once)
        try:
            await fake.wait_until(lambda: len(fake.sent("setMyCommands")) >= 2, within=60)
            burst = await one_run(fake, messages, users, None, first_chat=1)
            paced = await one_run(fake, messages, users, rate, first_chat=100_000)
            peak = peak_rss_mb(bot.pid)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(30)
            await fake.stop()
    print(f"load: {messages:,} messages from {users} users; bot = python -m bot run (polling)")
    for label, run in (("burst (all at once)", burst), (f"paced at {rate:g}/s", paced)):
        print(
            f"  {label:<22} throughput {run['throughput']:7.1f} msg/s"
            f"   p50 {run['p50_ms']:7.1f} ms   p99 {run['p99_ms']:7.1f} ms"
            f"   ({run['seconds']:.1f} s)"
        )
    print(f"  peak RSS of the bot process: {peak:.1f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--rate", type=float, default=300.0, help="paced run, messages/s")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.messages, arguments.users, arguments.rate))
