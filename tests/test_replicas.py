"""Two real `python -m bot run` processes in webhook mode on one PostgreSQL database (a real
server the tests start), against the fake Bot API: one inbox, one chat state, take-over."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.fake_telegram import FakeTelegram
from tests.fakes import TOKEN
from tests.test_end_to_end import HOOK_URL, SECRET, _start_webhook_cli, _stop_cli

pytestmark = pytest.mark.usefixtures("postgres_url")


@pytest.fixture
async def fake():
    server = await FakeTelegram(TOKEN).start()
    yield server
    await server.stop()


def replica(fake: FakeTelegram, tmp_path: Path, url: str, name: str):
    folder = tmp_path / name
    folder.mkdir()
    return _start_webhook_cli(
        fake,
        folder,
        DATABASE_URL=url,
        HASH_SECRET="shared-by-the-replicas",
        INBOX_LEASE_SECONDS="2",
    )


async def everyone_answered(fake: FakeTelegram, chats: list[int]) -> None:
    """Wait until every chat has a reply, and a moment more for any double to arrive."""
    wanted = set(chats)
    await fake.wait_until(lambda: wanted <= {p.get("chat_id") for p in fake.sent()}, within=120)
    await asyncio.sleep(1.0)


def tally(fake: FakeTelegram, chats: list[int]) -> tuple[int, int]:
    """(chats never answered, replies beyond the first)."""
    counted = Counter(p.get("chat_id") for p in fake.sent())
    lost = sum(counted[c] == 0 for c in chats)
    return lost, sum(counted[c] - 1 for c in chats if counted[c] > 1)


async def healthy(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the replica did not come up")


async def test_two_replicas_answer_a_duplicate_once_and_share_the_pin(fake, tmp_path, postgres_url):
    (one, port_one) = replica(fake, tmp_path, postgres_url, "one")
    (two, port_two) = replica(fake, tmp_path, postgres_url, "two")
    try:
        await asyncio.gather(healthy(port_one), healthy(port_two))
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        pin_id = fake.send_text("/lang es", chat_id=61)
        question_id = fake.send_text("who led the delegation?", chat_id=61)
        pin, question = (next(u for u in fake.pending if u["update_id"] == i)
                         for i in (pin_id, question_id))  # fmt: skip
        async with httpx.AsyncClient() as client:
            await client.post(f"http://127.0.0.1:{port_one}/hook", json=pin, headers=headers)
            await fake.wait_until(lambda: len(fake.replies_to(61)) == 1, within=20)
            for port in (port_one, port_two):  # the same update delivered to both
                response = await client.post(
                    f"http://127.0.0.1:{port}/hook", json=question, headers=headers
                )
                assert response.status_code == 200
        await fake.wait_until(lambda: len(fake.replies_to(61)) >= 2, within=20)
        await asyncio.sleep(0.5)
        replies = fake.replies_to(61)
        assert len(replies) == 2, replies  # the pin's confirmation and one answer
        assert "La delegación mexicana" in replies[1]  # pinned through one, answered by either
    finally:
        logs = await _stop_cli(one, tmp_path / "one") + await _stop_cli(two, tmp_path / "two")
    assert "postgres@" not in logs  # the database URL is a secret too


async def test_a_killed_replica_loses_nothing_the_survivor_takes_over(fake, tmp_path, postgres_url):
    (one, port_one) = replica(fake, tmp_path, postgres_url, "one")
    (two, port_two) = replica(fake, tmp_path, postgres_url, "two")
    await asyncio.gather(healthy(port_one), healthy(port_two))
    fake.webhook = {"url": HOOK_URL, "secret": SECRET}
    fake.deliver_to(f"http://127.0.0.1:{port_one}/hook")
    chats = list(range(20_000, 22_000))
    for chat in chats:
        fake.send_text("what happens next?", chat_id=chat)
    await fake.wait_until(lambda: len(fake.sent()) >= 200, within=60)
    one.kill()  # SIGKILL, with a backlog accepted and not answered
    await asyncio.to_thread(one.wait, 30)
    fake.webhook_targets = [f"http://127.0.0.1:{port_two}/hook"]  # the balancer: only two
    await everyone_answered(fake, chats)
    await _stop_cli(two, tmp_path / "two")
    lost, doubled = tally(fake, chats)
    print(f"replicas: lost {lost}, doubled {doubled} of {len(chats)}")
    assert lost == 0
    assert doubled / len(chats) < 0.005


async def test_the_database_going_away_for_a_few_seconds_loses_nothing(
    fake, tmp_path, postgres_url, postgres_server_running
):
    (bot, port) = replica(fake, tmp_path, postgres_url, "one")
    await healthy(port)
    fake.webhook = {"url": HOOK_URL, "secret": SECRET}
    fake.deliver_to(f"http://127.0.0.1:{port}/hook")
    chats = list(range(30_000, 30_600))
    for chat in chats[:300]:
        fake.send_text("who led the delegation?", chat_id=chat)
    await fake.wait_until(lambda: len(fake.sent()) >= 100, within=60)
    postgres_server_running.stop()  # the database goes away, mid-stream
    for chat in chats[300:]:
        fake.send_text("who led the delegation?", chat_id=chat)
    async with httpx.AsyncClient() as client:
        await asyncio.sleep(1.0)
        down = await client.get(f"http://127.0.0.1:{port}/healthz")
        assert down.status_code == 503
        assert down.json()["database"] == "unreachable"
        await asyncio.sleep(2.0)
        postgres_server_running.start()  # and comes back
        await everyone_answered(fake, chats)
        assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
    await _stop_cli(bot, tmp_path / "one")
    lost, doubled = tally(fake, chats)
    print(f"outage: lost {lost}, doubled {doubled} of {len(chats)}")
    assert lost == 0
