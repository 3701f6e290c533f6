"""Running it for real: webhook secret and health, clean shutdown, reload, flood limit, admins."""

from __future__ import annotations

import asyncio
import shutil

import httpx
import pytest
from pydantic import SecretStr

from bot.chat.limits import FloodLimiter, Verdict
from bot.core.feedback import MemoryFeedback
from bot.settings import Settings, describe_errors
from bot.store.sqlite import SqliteStore
from bot.telegram.app import build_application, health
from bot.telegram.lifecycle import starting
from bot.telegram.webhook import SECRET_HEADER, webhook_path
from tests.conftest import KNOWLEDGE_DIR
from tests.fakes import TOKEN, message_update, serve_webhook_in_background

ADMIN = 777
SECRET = "a-webhook-secret-of-32-characters"
URL = "https://bot.example.org/telegram/updates"


def make_settings(**values) -> Settings:
    values.setdefault("telegram_bot_token", SecretStr(TOKEN))
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# ------------------------------------------------------------------ settings


def test_webhook_mode_needs_url_and_secret():
    with pytest.raises(ValueError, match="WEBHOOK_URL and WEBHOOK_SECRET"):
        make_settings(bot_mode="webhook")
    with pytest.raises(ValueError, match="https"):
        make_settings(bot_mode="webhook", webhook_url="http://x", webhook_secret=SECRET)
    settings = make_settings(bot_mode="webhook", webhook_url=URL, webhook_secret=SECRET)
    assert settings.webhook_listen == "127.0.0.1"
    assert SECRET not in repr(settings)


def test_webhook_secret_shape_is_checked_without_echoing_it(monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET", "short!")
    with pytest.raises(ValueError, match=r"webhook_secret") as caught:
        Settings(_env_file=None)  # type: ignore[call-arg]
    lines = describe_errors(caught.value)  # type: ignore[arg-type]
    assert lines[0].startswith("WEBHOOK_SECRET:")
    assert "short!" not in " ".join(lines)


def test_admin_ids_from_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("ADMIN_IDS", "12, 34;56")
    assert Settings(_env_file=None).admin_ids == [12, 34, 56]  # type: ignore[call-arg]


def test_webhook_path_is_the_path_of_the_public_url():
    assert webhook_path(URL) == "/telegram/updates"
    assert webhook_path("https://bot.example.org") == "/"


# ------------------------------------------------------------------ webhook server


@pytest.fixture
async def webhook_bot(answerer, fake_request):
    """The real application on a webhook server at 127.0.0.1 (a free port)."""
    settings = make_settings(bot_mode="webhook", webhook_url=URL, webhook_secret=SECRET)
    application = build_application(settings, answerer, request=fake_request)
    task, stop, port = await serve_webhook_in_background(application, URL, SECRET)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        yield application, client, stop, task
    stop.set()
    await asyncio.wait_for(task, 10)


def update_json(bot, text: str) -> dict:
    return message_update(bot, text).to_dict()


async def test_webhook_is_registered_with_the_secret(webhook_bot, fake_request):
    [registration] = fake_request.sent("setWebhook")
    assert registration["url"] == URL
    assert registration["secret_token"] == SECRET


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}])
async def test_webhook_refuses_requests_without_the_secret(webhook_bot, fake_request, headers):
    application, client, _, _ = webhook_bot
    response = await client.post(
        "/telegram/updates", json=update_json(application.bot, "hi"), headers=headers
    )
    assert response.status_code == 403
    await asyncio.sleep(0.05)
    assert fake_request.sent() == []


async def test_webhook_answers_an_update_with_the_secret(webhook_bot, fake_request):
    application, client, _, _ = webhook_bot
    response = await client.post(
        "/telegram/updates",
        json=update_json(application.bot, "who led the delegation?"),
        headers={SECRET_HEADER: SECRET},
    )
    assert response.status_code == 200
    for _ in range(100):
        if fake_request.sent():
            break
        await asyncio.sleep(0.02)
    assert "Juan Ramón de la Fuente" in fake_request.texts()[0]


async def test_webhook_rejects_a_body_that_is_not_an_update(webhook_bot):
    _, client, _, _ = webhook_bot
    response = await client.post(
        "/telegram/updates", content=b"{not json", headers={SECRET_HEADER: SECRET}
    )
    assert response.status_code == 400


async def test_health_endpoint_reports_up_and_the_knowledge(webhook_bot, knowledge):
    _, client, _, _ = webhook_bot
    response = await client.get("/healthz")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "ok"
    assert data["knowledge_entries"] == len(knowledge.entries)


async def test_health_says_unavailable_when_not_running(answerer, fake_request):
    application = build_application(make_settings(), answerer, request=fake_request)
    assert health(application, "webhook")["status"] == "unavailable"


async def test_shutdown_answers_every_received_update(webhook_bot, fake_request):
    application, client, stop, task = webhook_bot
    questions = [f"who led the delegation? ({n})" for n in range(20)]
    responses = await asyncio.gather(
        *(
            client.post(
                "/telegram/updates",
                json=update_json(application.bot, q),
                headers={SECRET_HEADER: SECRET},
            )
            for q in questions
        )
    )
    assert all(r.status_code == 200 for r in responses)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert len(fake_request.sent()) == len(questions)
    with pytest.raises(httpx.ConnectError):
        await client.get("/healthz")


# ------------------------------------------------------------------ admins, reload, flood


@pytest.fixture
async def admin_app(answerer, fake_request, tmp_path):
    knowledge_dir = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, knowledge_dir)
    settings = make_settings(admin_ids=[ADMIN], knowledge_dir=knowledge_dir, flood_limit=3)
    store = SqliteStore(tmp_path / "feedback.sqlite3", b"k")
    application = build_application(settings, answerer, request=fake_request, store=store)
    async with application:
        fake_request.clear()
        yield application, knowledge_dir, store
    store.close()


def from_user(bot, text: str, user_id: int, chat_type: str = "private"):
    update = message_update(bot, text, chat_type=chat_type).to_dict()
    update["message"]["from"]["id"] = user_id
    from telegram import Update

    return Update.de_json(update, bot)


async def test_stats_for_admins(admin_app, fake_request):
    application = admin_app[0]
    await application.process_update(message_update(application.bot, "who won the world cup"))
    await application.process_update(from_user(application.bot, "/stats", ADMIN))
    stats = fake_request.texts()[-1]
    assert "Feedback: 1 unanswered" in stats
    assert "who won the world cup" in stats


async def test_stats_for_everyone_else_is_an_unknown_command(admin_app, fake_request):
    application = admin_app[0]
    await application.process_update(from_user(application.bot, "/stats", 555))
    assert "I don't know that command" in fake_request.texts()[0]
    await application.process_update(from_user(application.bot, "/stats", 555, "group"))
    await application.process_update(from_user(application.bot, "/reload", 555, "group"))
    assert len(fake_request.sent()) == 1


async def test_reload_swaps_in_a_good_knowledge_base(admin_app, fake_request):
    application, knowledge_dir, _ = admin_app
    path = knowledge_dir / "20_actions.yaml"
    path.write_text(
        path.read_text().replace("        - working group\n", "        - the zebra committee\n"),
        encoding="utf-8",
    )
    await application.process_update(from_user(application.bot, "/reload", ADMIN))
    assert "Reloaded: 28 entries." in fake_request.texts()[-1]
    assert len(fake_request.sent("setMyCommands")) == 4  # en and es, public and admin
    await application.process_update(message_update(application.bot, "the zebra committee"))
    assert "working group" in fake_request.texts()[-1]


async def test_reload_of_a_broken_file_keeps_the_running_base(admin_app, fake_request):
    application, knowledge_dir, _ = admin_app
    handlers = application.bot_data["handlers"]
    before = handlers.interaction.answerer
    (knowledge_dir / "20_actions.yaml").write_text("entries:\n  - id: [broken\n", encoding="utf-8")
    await application.process_update(from_user(application.bot, "/reload", ADMIN))
    text = fake_request.texts()[-1]
    assert "Reload refused; the running knowledge base stays" in text
    assert "knowledge/20_actions.yaml" in text
    assert "malformed YAML" in text
    assert handlers.interaction.answerer is before
    await application.process_update(message_update(application.bot, "who led the delegation?"))
    assert "Juan Ramón de la Fuente" in fake_request.texts()[-1]


async def test_flood_limit_sends_one_notice_then_silence(admin_app, fake_request):
    application, _, _ = admin_app
    for _ in range(6):
        await application.process_update(from_user(application.bot, "principles", 4242))
    texts = fake_request.texts()
    assert len(texts) == 4
    assert "more than 3 messages or taps a minute" in texts[3]
    await application.process_update(from_user(application.bot, "principles", 4343))
    assert len(fake_request.texts()) == 5  # another user is not limited


async def test_admins_are_not_flood_limited(admin_app, fake_request):
    application, _, _ = admin_app
    for _ in range(5):
        await application.process_update(from_user(application.bot, "principles", ADMIN))
    assert len(fake_request.texts()) == 5


def test_flood_limiter_window_slides():
    now = [0.0]
    limiter = FloodLimiter(2, 60, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(4)] == [
        Verdict.ALLOW,
        Verdict.ALLOW,
        Verdict.NOTIFY,
        Verdict.DROP,
    ]
    now[0] = 61
    assert limiter.check(1) is Verdict.ALLOW


def test_flood_limiter_forgets_idle_users_without_scanning_them_all():
    now = [0.0]
    limiter = FloodLimiter(2, 60, clock=lambda: now[0])
    for user in range(10_000):
        limiter.check(user)
    assert len(limiter) == 10_000
    now[0] = 30
    limiter.check(1)  # the others are still inside their window
    assert len(limiter) == 10_000
    now[0] = 61
    limiter.check(20_000)  # everyone but user 1 (seen at 30) and the newcomer left the window
    assert len(limiter) == 2
    assert limiter.check(1) is Verdict.ALLOW


async def test_feedback_reaches_the_store(admin_app):
    application, _, store = admin_app
    await application.process_update(message_update(application.bot, "who won the world cup"))
    assert store.unanswered() == [("who won the world cup", "en", 1)]
    assert isinstance(application.bot_data["handlers"].interaction.feedback, SqliteStore)
    assert not isinstance(application.bot_data["handlers"].interaction.feedback, MemoryFeedback)


async def test_sighup_reloads_the_knowledge_base(admin_app, fake_request):
    import os
    import signal

    application = admin_app[0]
    handlers = application.bot_data["handlers"]
    before = handlers.interaction.answerer
    await starting(application)  # registers the SIGHUP handler
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(200):
            if handlers.interaction.answerer is not before:
                break
            await asyncio.sleep(0.02)
        assert handlers.interaction.answerer is not before
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
