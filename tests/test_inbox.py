"""Nothing lost, nothing doubled, nothing gamed: the durable inbox, the hardened webhook
server, flood limits on button presses and one vote per person."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import resource

import httpx
import pytest
from pydantic import SecretStr
from telegram import Update

from bot.settings import Settings
from bot.store.sqlite import SqliteStore
from bot.telegram.app import build_application
from bot.telegram.lifecycle import RawUpdates, running
from bot.telegram.webhook import MAX_BODY_BYTES, SECRET_HEADER
from tests.fakes import (
    TOKEN,
    callback_update,
    message_update,
    serve_webhook_in_background,
    vote_data,
)

SECRET = "an-inbox-webhook-secret-0123456789"
URL = "https://bot.example.org/hook"
PATH = "/hook"


def make_settings(**values) -> Settings:
    values.setdefault("telegram_bot_token", SecretStr(TOKEN))
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def store(tmp_path):
    kept = SqliteStore(tmp_path / "bot.sqlite3", b"k")
    yield kept
    kept.close()


# ------------------------------------------------------------------ the inbox itself


def test_an_update_is_kept_once_and_unfinished_until_done(store):
    assert store.accept([(1, '{"update_id": 1}'), (2, '{"update_id": 2}')]) == [1, 2]
    assert store.accept([(2, '{"update_id": 2}'), (3, '{"update_id": 3}')]) == [3]
    store.finish(1)
    assert [update_id for update_id, _ in store.unfinished()] == [2, 3]
    assert store.inbox_depth()[0] == 2
    assert store.prune(keep_seconds=3600) == 0  # answered a moment ago: kept for a while
    assert store.prune(keep_seconds=0) == 1
    assert store.accept([(1, '{"update_id": 1}')]) == [1]  # forgotten once pruned


async def test_updates_left_from_a_crash_are_answered_first_on_start(answerer, fake_request, store):
    application = build_application(make_settings(), answerer, request=fake_request, store=store)
    left = message_update(application.bot, "who led the delegation?")
    store.accept([(left.update_id, json.dumps(left.to_dict()))])
    async with running(application):
        for _ in range(200):
            if fake_request.sent():
                break
            await asyncio.sleep(0.01)
    assert "Juan Ramón de la Fuente" in fake_request.texts()[0]
    assert store.unfinished() == []


def test_polling_keeps_telegrams_own_json_of_each_update(fake_request):
    raw = RawUpdates(fake_request)
    raw.last = json.dumps(
        {"ok": True, "result": [{"update_id": 5, "message": {"text": "é"}}, {"update_id": 6}]}
    ).encode()
    updates = [Update(5), Update(6)]
    assert raw.bodies_of(updates) == [
        '{"update_id": 5, "message": {"text": "é"}}',
        '{"update_id": 6}',
    ]
    assert raw.bodies_of([Update(5)]) is None  # not the last answer: serialise instead


# ------------------------------------------------------------------ the webhook server


@pytest.fixture
async def hook(answerer, fake_request, store):
    settings = make_settings(bot_mode="webhook", webhook_url=URL, webhook_secret=SECRET)
    application = build_application(settings, answerer, request=fake_request, store=store)
    task, stop, port = await serve_webhook_in_background(application, URL, SECRET)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield application, client, port
    stop.set()
    await asyncio.wait_for(task, 10)


async def _answered(fake_request, count: int) -> list[str]:
    for _ in range(300):
        if len(fake_request.sent()) >= count:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # and nothing more comes
    return fake_request.texts()


async def test_the_same_update_delivered_twice_is_answered_once(hook, fake_request, store):
    application, client, _ = hook
    update = message_update(application.bot, "who led the delegation?").to_dict()
    for _ in range(3):
        response = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200
    assert len(await _answered(fake_request, 1)) == 1
    assert store.unfinished() == []


@pytest.mark.parametrize(
    "body",
    [b"null", b"[]", b"123", b'"text"', b"[" * 100_000 + b"]" * 100_000, b'{"update_id": "7"}'],
    ids=["null", "list", "number", "string", "deep", "id-not-int"],
)
async def test_json_that_is_not_an_update_gets_400_and_one_warning(hook, body, caplog):
    _, client, _ = hook
    with caplog.at_level(logging.WARNING):
        response = await client.post(PATH, content=body, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 400
    records = [r for r in caplog.records if r.name == "bot.telegram.webhook"]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_request_without_the_secret_is_refused_before_its_body(hook):
    _, _, port = hook
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY_BYTES}\r\n"
        "Content-Type: application/json\r\n\r\n".encode()
    )
    await writer.drain()  # the headers only: the body never comes
    status = await asyncio.wait_for(reader.readline(), 5)
    assert status.startswith(b"HTTP/1.1 403")
    assert await asyncio.wait_for(reader.read(), 5) is not None  # then the server hangs up
    writer.close()


async def test_held_bodies_without_the_secret_do_not_grow_memory(hook):
    _, _, port = hook
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    half = b"x" * (MAX_BODY_BYTES // 2)

    async def hold() -> None:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY_BYTES}\r\n\r\n"
            writer.write(head.encode() + half)
            await writer.drain()
        except OSError:
            return  # refused and closed: what we want

    await asyncio.gather(*(hold() for _ in range(200)))
    await asyncio.sleep(0.2)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50  # 200 held half bodies would be 100 MB if they were read


async def test_a_body_over_the_cap_is_refused(hook):
    _, client, _ = hook
    response = await client.post(
        PATH, content=b"x" * (MAX_BODY_BYTES + 1), headers={SECRET_HEADER: SECRET}
    )
    assert response.status_code == 413


# ------------------------------------------------------------------ presses and votes


async def test_a_press_flood_is_limited_like_messages(answerer, fake_request):
    settings = make_settings(flood_limit=20)
    application = build_application(settings, answerer, request=fake_request)
    async with application:
        for _ in range(40):
            await application.process_update(callback_update(application.bot, "a:en:goal"))
    assert len(fake_request.sent()) == 20
    notices = [p.get("text") for p in fake_request.sent("answerCallbackQuery") if p.get("text")]
    assert len(notices) == 1
    assert "more than 20" in notices[0]


async def test_votes_cannot_be_stuffed_or_forged(answerer, fake_request, store):
    settings = make_settings(flood_limit=100)
    application = build_application(settings, answerer, request=fake_request, store=store)
    async with application:
        for _ in range(50):
            await application.process_update(
                callback_update(application.bot, vote_data("goal", -1, "en"))
            )
        await application.process_update(
            callback_update(application.bot, vote_data("no-such-entry", -1, "en"))
        )
    assert store.votes() == [("goal", 0, 1)]
    notices = [p.get("text") for p in fake_request.sent("answerCallbackQuery")]
    assert "not counted" in notices[-1]


# ------------------------------------------------------------------ metrics and health


async def test_metrics_count_updates_duplicates_replies_and_latency(hook, fake_request):
    application, client, _ = hook
    update = message_update(application.bot, "who led the delegation?").to_dict()
    for _ in range(2):
        await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
    await _answered(fake_request, 1)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.text
    for line in (
        "agreement_updates_received_total 1.0",
        "agreement_duplicates_dropped_total 1.0",
        'agreement_replies_total{outcome="answer"} 1.0',
        "agreement_match_seconds_count 1.0",
        "agreement_inbox_depth 0.0",
        "agreement_knowledge_entries 28.0",
    ):
        assert line in text, line
    assert "delegation" not in text  # no question text
    # no chat id (777, the fake chat's): as a number of its own, not inside a timing's digits
    assert not re.search(r"(?<![\d.])777(?![\d.])", text)


async def test_health_reports_the_database(hook, store, monkeypatch):
    _, client, _ = hook
    assert (await client.get("/healthz")).json()["database"] == "ok"
    monkeypatch.setattr(store, "ping", lambda: False)
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_in_polling_mode_the_status_server_serves_only_health_and_metrics(
    answerer, fake_request
):
    from bot.telegram.app import health
    from bot.telegram.webhook import WebhookServer

    application = build_application(make_settings(), answerer, request=fake_request)
    async with application:
        server = WebhookServer(application, "", "", lambda: health(application, "polling"))
        port = await server.start("127.0.0.1", 0)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                assert "agreement_knowledge_entries 28.0" in (await client.get("/metrics")).text
                assert (await client.get("/healthz")).json()["mode"] == "polling"
                update = message_update(application.bot, "hi").to_dict()
                assert (await client.post("/", json=update)).status_code == 404
        finally:
            await server.stop()
