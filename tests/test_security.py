"""Secrets and identities: the token and webhook secret never reach a log line, even at DEBUG
and through errors; a refused token is reported without showing it.

Elsewhere: webhook requests without the secret get 403 (test_operations), .env is
git-ignored (test_settings), knowledge loading refuses files that link outside knowledge/
(test_knowledge), and chats are stored only as keyed hashes (test_store_and_report)."""

from __future__ import annotations

import asyncio

from tests.fake_telegram import Faults
from tests.fakes import TOKEN
from tests.test_end_to_end import (
    SECRET,
    _start_cli,
    _start_webhook_cli,
    _stop_cli,
    _wait_started,
    fake,  # noqa: F401 (the fixture)
)


async def test_no_secret_in_debug_logs_through_faults_in_polling_mode(fake, tmp_path):  # noqa: F811
    process = _start_cli(fake, tmp_path, LOG_LEVEL="DEBUG", HTTP_TIMEOUT_SECONDS="1")
    await _wait_started(fake, 1)
    fake.faults = Faults(rate=0.5, hang_seconds=1.2)
    for chat in range(7000, 7020):
        fake.send_text("who led the delegation?", chat_id=chat)
    await asyncio.sleep(2.0)
    fake.faults = Faults()
    await fake.wait_until(lambda: all(fake.replies_to(c) for c in range(7000, 7020)), within=60)
    logs = await _stop_cli(process, tmp_path)
    assert "DEBUG" in logs
    assert "[REDACTED]" in logs  # PTB logs its API URL at DEBUG: the token was there, redacted
    assert "; retry 1 in" in logs  # failed calls were logged with their error messages
    assert TOKEN not in logs
    assert TOKEN.split(":")[1] not in logs


async def test_no_secret_in_debug_logs_in_webhook_mode(fake, tmp_path):  # noqa: F811
    process, port = _start_webhook_cli(fake, tmp_path, LOG_LEVEL="DEBUG")
    await _wait_started(fake, 1)
    await fake.wait_until(lambda: fake.webhook is not None, within=30)
    fake.deliver_to(f"http://127.0.0.1:{port}/hook")
    fake.send_text("principles", chat_id=7100)
    await fake.wait_until(lambda: fake.replies_to(7100), within=30)
    logs = await _stop_cli(process, tmp_path)
    assert TOKEN not in logs
    assert SECRET not in logs


async def test_a_refused_token_is_reported_without_showing_it(fake, tmp_path):  # noqa: F811
    fake.token = "999999:a-different-token-the-server-expects"
    process = _start_cli(fake, tmp_path)
    code = await asyncio.to_thread(process.wait, 30)
    logs = (tmp_path / "bot.log").read_text(encoding="utf-8")
    assert code == 2
    assert "Telegram refused the token" in logs
    assert TOKEN not in logs
