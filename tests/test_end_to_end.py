"""The real application against the fake Bot API server, in polling and webhook mode,
through faults, and as the real command line stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.settings import Settings
from bot.telegram.app import build_application
from bot.telegram.lifecycle import poll, running
from tests.conftest import KNOWLEDGE_DIR
from tests.fake_telegram import FAULT_KINDS, FakeTelegram, Faults
from tests.fakes import TOKEN, serve_webhook_in_background

SECRET = "end-to-end-webhook-secret-0123456789"
HOOK_URL = "https://bot.example.test/hook"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(TOKEN).start()
    yield server
    await server.stop()


def live_settings(fake: FakeTelegram, tmp_path: Path, **extra) -> Settings:
    values = {
        "telegram_bot_token": SecretStr(TOKEN),
        "telegram_api_base_url": fake.base_url,
        "http_timeout_seconds": 1.0,
        "outgoing_rate_limit": 0,
        "database_path": tmp_path / "feedback.sqlite3",
        "hash_secret": SecretStr("test"),
        "flood_limit": 1000,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def polling_bot(settings: Settings, answerer, store=None) -> AsyncIterator:
    """The application polling the fake server, run the way `run_telegram` runs it."""
    application = build_application(settings, answerer, store=store)
    stop = asyncio.Event()

    async def run() -> None:
        async with running(application):
            await poll(application, stop)

    task = asyncio.create_task(run())
    try:
        yield application
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


# ------------------------------------------------------------------ polling


async def test_polling_answers_messages(fake, answerer, tmp_path):
    async with polling_bot(live_settings(fake, tmp_path), answerer):
        fake.send_text("who led the delegation?", chat_id=101)
        fake.send_text("¿cuáles son los cuatro principios?", chat_id=102)
        await fake.wait_until(lambda: fake.replies_to(101) and fake.replies_to(102))
    assert "Juan Ramón de la Fuente" in fake.replies_to(101)[0]
    assert "confianza mutua" in fake.replies_to(102)[0]
    methods = {c.method for c in fake.calls}
    assert {"getMe", "deleteWebhook", "setMyCommands", "getUpdates", "sendMessage"} <= methods


async def test_get_updates_offsets_confirm_what_was_handled(fake, answerer, tmp_path):
    async with polling_bot(live_settings(fake, tmp_path), answerer):
        for chat in range(5):
            fake.send_text("principles", chat_id=200 + chat)
        await fake.wait_until(lambda: len(fake.sent()) == 5)
        await fake.wait_until(lambda: not fake.pending)  # the next getUpdates confirmed them
    offsets = [c.params.get("offset") for c in fake.calls if c.method == "getUpdates"]
    assert max(o or 0 for o in offsets) == 6


async def test_buttons_and_inline_queries_through_the_server(fake, answerer, tmp_path):
    async with polling_bot(live_settings(fake, tmp_path), answerer):
        fake.push(
            {
                "callback_query": {
                    "id": "cb1",
                    "from": {"id": 301, "is_bot": False, "first_name": "U"},
                    "chat_instance": "x",
                    "data": "a:en:goal",
                    "message": {
                        "message_id": 9,
                        "date": 0,
                        "chat": {"id": 301, "type": "private"},
                        "text": "old card",
                    },
                }
            }
        )
        fake.push(
            {
                "inline_query": {
                    "id": "iq1",
                    "from": {"id": 302, "is_bot": False, "first_name": "U"},
                    "query": "sovereignty",
                    "offset": "",
                }
            }
        )
        await fake.wait_until(lambda: fake.sent("answerInlineQuery") and fake.replies_to(301))
    assert fake.sent("answerCallbackQuery")[0]["callback_query_id"] == "cb1"
    assert "The main goal" in fake.replies_to(301)[0]
    results = fake.sent("answerInlineQuery")[0]["results"]
    assert results[0]["id"] == "principles"


# ------------------------------------------------------------------ faults


async def _storm(fake: FakeTelegram, faults: Faults, seconds: float) -> None:
    fake.faults = faults
    await asyncio.sleep(seconds)
    fake.faults = Faults()


def assert_exactly_once(fake: FakeTelegram, chats: list[int]) -> None:
    for chat in chats:
        replies = fake.replies_to(chat)
        assert len(replies) == 1, (chat, replies)
        assert "went wrong" not in replies[0]


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_every_message_is_answered_exactly_once_through_a_fault(
    fake, answerer, tmp_path, kind
):
    chats = list(range(1000, 1030))
    async with polling_bot(live_settings(fake, tmp_path), answerer):
        storm = asyncio.create_task(
            _storm(fake, Faults(rate=0.5, kinds=(kind,), hang_seconds=1.3, seed=3), 2.0)
        )
        for chat in chats:
            fake.send_text("who led the delegation?", chat_id=chat)
            await asyncio.sleep(0.02)
        await storm
        await fake.wait_until(lambda: all(fake.replies_to(c) for c in chats), within=60)
        await asyncio.sleep(0.5)  # anything doubled would show up by now
    assert any(c.fault == kind for c in fake.calls)
    assert_exactly_once(fake, chats)


async def test_a_mixed_storm_on_every_method(fake, answerer, tmp_path):
    chats = list(range(2000, 2100))
    async with polling_bot(live_settings(fake, tmp_path), answerer):
        storm = asyncio.create_task(_storm(fake, Faults(rate=0.4, hang_seconds=1.3), 4.0))
        for chat in chats:  # messages keep arriving through the whole storm
            fake.send_text("what are the four principles?", chat_id=chat)
            await asyncio.sleep(0.04)
        await storm
        await fake.wait_until(lambda: all(fake.replies_to(c) for c in chats), within=90)
        await asyncio.sleep(0.5)
    faulty = {c.fault for c in fake.calls if c.fault}
    assert faulty == set(FAULT_KINDS)
    assert_exactly_once(fake, chats)


# ------------------------------------------------------------------ webhook


async def test_webhook_mode_end_to_end_with_faults(fake, answerer, tmp_path):
    settings = live_settings(
        fake, tmp_path, bot_mode="webhook", webhook_url=HOOK_URL, webhook_secret=SECRET
    )
    application = build_application(settings, answerer)
    task, stop, port = await serve_webhook_in_background(application, HOOK_URL, SECRET)
    fake.deliver_to(f"http://127.0.0.1:{port}/hook")
    assert fake.webhook == {"url": HOOK_URL, "secret": SECRET}
    chats = list(range(3000, 3030))
    storm = asyncio.create_task(
        _storm(fake, Faults(rate=0.4, methods=frozenset({"sendMessage"})), 1.5)
    )
    for chat in chats:
        fake.send_text("who is the navy secretary", chat_id=chat)
    await storm
    await fake.wait_until(lambda: all(fake.replies_to(c) for c in chats), within=60)
    stop.set()
    await asyncio.wait_for(task, 20)
    assert_exactly_once(fake, chats)
    assert "Raymundo Pedro Morales" in fake.replies_to(3000)[0]


# ------------------------------------------------------------------ the real command line


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_cli(fake: FakeTelegram, tmp_path: Path, **env: str) -> subprocess.Popen[bytes]:
    """`python -m bot run` against the fake server; its log goes to tmp_path/bot.log."""
    environment = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_PATH": str(tmp_path / "cli.sqlite3"),
        "HASH_SECRET": "cli-test",
        "OUTGOING_RATE_LIMIT": "0",
        "HTTP_TIMEOUT_SECONDS": "2",
        "LOG_LEVEL": "INFO",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=KNOWLEDGE_DIR.parent,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "bot.log").open("ab"),
    )


async def _stop_cli(process: subprocess.Popen[bytes], tmp_path: Path) -> str:
    """SIGTERM, then the exit status must be 0; returns the log."""
    process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(process.wait, 30)
    logs = (tmp_path / "bot.log").read_text(encoding="utf-8")
    assert code == 0, logs
    assert "stopped cleanly" in logs
    return logs


def _start_webhook_cli(
    fake: FakeTelegram, tmp_path: Path, port: int | None = None, **env: str
) -> tuple[subprocess.Popen[bytes], int]:
    """`python -m bot run` in webhook mode on a free port; returns the process and port."""
    port = port or _free_port()
    webhook = {
        "BOT_MODE": "webhook",
        "WEBHOOK_URL": HOOK_URL,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(port),
    }
    return _start_cli(fake, tmp_path, **webhook, **env), port


async def _wait_started(fake: FakeTelegram, starts: int) -> None:
    """Wait until the `starts`-th start is receiving: its two command menus are registered and
    after them it has polled (getUpdates) or registered its webhook (setWebhook)."""

    def receiving() -> bool:
        menus = [i for i, c in enumerate(fake.calls) if c.method == "setMyCommands" and not c.fault]
        if len(menus) < 2 * starts:
            return False
        after = fake.calls[menus[2 * starts - 1] + 1 :]
        return any(c.method in ("getUpdates", "setWebhook") and not c.fault for c in after)

    await fake.wait_until(receiving, within=30)


async def test_cli_polling_sigterm_loses_nothing_across_a_restart(fake, tmp_path):
    process = _start_cli(fake, tmp_path)
    await _wait_started(fake, 1)
    chats = list(range(4000, 4040))
    for chat in chats:
        fake.send_text("what happens next?", chat_id=chat)
    await fake.wait_until(lambda: fake.replies_to(chats[0]), within=30)
    logs = await _stop_cli(process, tmp_path)  # stops in the middle of the stream
    answered = [c for c in chats if fake.replies_to(c)]
    waiting = {u["message"]["chat"]["id"] for u in fake.pending}
    assert set(chats) <= set(answered) | waiting, "an update was fetched and never answered"
    restarted = _start_cli(fake, tmp_path)
    await _wait_started(fake, 2)
    await fake.wait_until(lambda: all(fake.replies_to(c) for c in chats), within=30)
    logs += await _stop_cli(restarted, tmp_path)
    assert_exactly_once(fake, chats)
    assert TOKEN not in logs


async def test_cli_webhook_mode_health_and_sigterm(fake, tmp_path):
    process, port = _start_webhook_cli(fake, tmp_path)
    await _wait_started(fake, 1)
    await fake.wait_until(lambda: fake.webhook is not None, within=30)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{port}/healthz")
        assert response.json()["status"] == "ok"
        denied = await client.post(f"http://127.0.0.1:{port}/hook", json={"update_id": 1})
        assert denied.status_code == 403
    fake.deliver_to(f"http://127.0.0.1:{port}/hook")
    chats = list(range(5000, 5020))
    for chat in chats:
        fake.send_text("is the agreement binding?", chat_id=chat)
    await fake.wait_until(lambda: all(fake.replies_to(c) for c in chats), within=30)
    logs = await _stop_cli(process, tmp_path)
    assert_exactly_once(fake, chats)
    assert "does not say that any document was signed" in fake.replies_to(5000)[0]
    assert TOKEN not in logs
    assert SECRET not in logs


async def test_cli_sigterm_during_start_up_exits_cleanly(fake, tmp_path):
    """A stop signal while PTB's start-up call is in flight (here: a hanging deleteWebhook)."""
    fake.faults = Faults(
        rate=1.0, kinds=("hang",), methods=frozenset({"deleteWebhook"}), hang_seconds=3
    )
    process = _start_cli(fake, tmp_path, HTTP_TIMEOUT_SECONDS="5")
    await fake.wait_until(lambda: any(c.method == "deleteWebhook" for c in fake.calls), within=30)
    await asyncio.sleep(0.2)
    logs = await _stop_cli(process, tmp_path)
    assert "stopped during start-up" in logs


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_kill_9_with_a_backlog_loses_nothing(fake, tmp_path, mode):
    """The process is killed (no chance to clean up) with a backlog of accepted updates; the
    fake Bot API keeps re-delivering what was not acknowledged, as Telegram does. After a
    restart every message has its answer; a reply sent just before the kill, whose update
    was not yet marked done, may come twice."""

    def start(port: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
        if mode == "polling":
            return _start_cli(fake, tmp_path), 0
        return _start_webhook_cli(fake, tmp_path, port)

    process, port = start()
    await _wait_started(fake, 1)
    if mode == "webhook":
        fake.deliver_to(f"http://127.0.0.1:{port}/hook")
    chats = list(range(7000, 9000))
    for chat in chats:
        fake.send_text("who led the delegation?", chat_id=chat)
    await fake.wait_until(lambda: len(fake.sent()) >= 200, within=60)
    process.kill()  # SIGKILL: no shutdown, no drain
    killed_at = time.perf_counter()
    await asyncio.to_thread(process.wait, 30)
    answered_before = len(fake.sent())
    assert answered_before < len(chats), "the backlog was gone before the kill"
    restarted, _ = start(port)
    await _wait_started(fake, 2)
    wanted = set(chats)

    def everyone_answered() -> bool:
        return wanted <= {p.get("chat_id") for p in fake.sent()}

    await fake.wait_until(everyone_answered, within=90)
    await asyncio.sleep(0.5)  # anything doubled would arrive by now
    await _stop_cli(restarted, tmp_path)
    counted = Counter(p.get("chat_id") for p in fake.sent())
    replies = [counted[c] for c in chats]
    lost = replies.count(0)
    doubled = sum(n - 1 for n in replies if n > 1)
    print(f"{mode}: killed after {answered_before} of {len(chats)}; lost {lost}, doubled {doubled}")
    for call in fake.calls:  # a double's first copy went out just before the kill
        chat = call.params.get("chat_id")
        if call.method == "sendMessage" and counted[chat] > 1:
            print(f"  {chat}: a reply {(call.at - killed_at) * 1000:+.1f} ms from the kill")
    assert lost == 0
    # Only replies in flight at the kill can double: at most CONCURRENT_UPDATES per crash.
    assert doubled <= Settings.model_fields["concurrent_updates"].default
    assert doubled / len(chats) < 0.005


async def test_cli_port_in_use_is_one_clear_line_and_exit_2(fake, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process, _ = _start_webhook_cli(fake, tmp_path, taken.getsockname()[1])
        code = await asyncio.to_thread(process.wait, 30)
    logs = (tmp_path / "bot.log").read_text(encoding="utf-8")
    assert code == 2, logs
    assert "the webhook server cannot listen on 127.0.0.1:" in logs
    assert "Traceback" not in logs
    assert TOKEN not in logs
    assert TOKEN.lower() not in logs.lower()
