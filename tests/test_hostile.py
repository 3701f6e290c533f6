"""Hostile input, generated with hypothesis (thousands of examples), through process_update:
no unhandled exception, every text message answered, every reply valid Telegram HTML of at
most 4096 characters, every button press acknowledged, every inline query answered."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from telegram import Update

from bot.settings import Settings
from bot.telegram.app import build_application
from tests.fakes import TOKEN, RecordingRequest
from tests.telegram_html import html_problems

NASTY = [
    "<b>bold</b> <script>alert(1)</script> & &amp; &lt;",
    "*bold* _italic_ `code` [link](http://x) ~~strike~~ ||spoiler||",
    "<a href='javascript:alert(1)'>x</a>",
    "&#0; &#x110000; &bogus; & ; <", "</b></i><b><i>",
    "مرحبا، من قاد الوفد؟ \u202e who led the delegation",
    "\u200b\u200c\u200d\ufeff who\u200b led\u200b the\u200b delegation",
    "\x00\x01\x07\x1b[31m red \x7f",
    "👍🇲🇽🇺🇸🔫💊 fentanilo 🤔", "Z̴̡̛͎̻a̵l̸g̷o̶ ̶t̸e̶x̵t",
    "\n\n\n", "   ", ".", "?", "¿?", "/", "@", "#", "$$$",
    "x" * 4096, "who led the delegation? " * 170, "ñ" * 4096,
    "/start " + "x" * 200, "/lang ;DROP TABLE events;--", "/ask " + "<i>" * 500,
    "/principles@" + "y" * 100, "/" + "z" * 40, "/ask", "/start ../../etc/passwd",
    "/start es-" + "a" * 60, "/reload", "/stats", "hi " * 1000,
]  # fmt: skip

CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs",))
TEXTS = st.one_of(
    st.sampled_from(NASTY),
    st.text(CHARACTERS, min_size=1, max_size=200),
    st.text(CHARACTERS, min_size=3000, max_size=4096),
    st.builds(
        lambda command, junk: f"/{command} {junk}",
        st.sampled_from(["start", "help", "topics", "ask", "lang", "principles", "delegacion"]),
        st.text(CHARACTERS, max_size=300),
    ),
)
_ids = itertools.count(10_000)


class Harness:
    """One application and one event loop, reused by every hypothesis example."""

    def __init__(self, answerer: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.request = RecordingRequest()
        values = {
            "telegram_bot_token": SecretStr(TOKEN),
            "flood_limit": 10**6,
            "outgoing_rate_limit": 0,
        }
        settings_ = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        self.app = build_application(settings_, answerer, request=self.request)
        self.loop.run_until_complete(self.app.initialize())

    def run(self, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """Process one raw update; returns the Bot API calls it caused."""
        self.request.clear()
        update = Update.de_json({"update_id": next(_ids), **payload}, self.app.bot)
        self.loop.run_until_complete(self.app.process_update(update))
        return list(self.request.calls)

    def close(self) -> None:
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()


@pytest.fixture(scope="module")
def harness(answerer) -> Iterator[Harness]:
    instance = Harness(answerer)
    yield instance
    instance.close()


@pytest.fixture(autouse=True)
def _no_unhandled_errors(caplog) -> Iterator[None]:
    """An exception in a handler reaches the error handler, which logs it: fail on that."""
    with caplog.at_level(logging.ERROR, logger="bot.telegram.app"):
        yield
    assert "error while handling an update" not in caplog.text


def message(text: str | None, chat_type: str = "private", **extra: Any) -> dict[str, Any]:
    chat_id = next(_ids) if chat_type == "private" else -100_555
    body: dict[str, Any] = {
        "message_id": next(_ids),
        "date": 0,
        "chat": {"id": chat_id, "type": chat_type, "title": "G"},
        "from": {"id": next(_ids), "is_bot": False, "first_name": "Eve", "language_code": "xx"},
        **extra,
    }
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            body["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split(" ")[0])}
            ]
    return body


def check_replies(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    texts = [str(p["text"]) for name, p in calls if name in ("sendMessage", "editMessageText")]
    for text in texts:
        assert 0 < len(text) <= 4096
        assert html_problems(text) == [], (html_problems(text), text[:200])
    return texts


FAST = settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FAST
@given(text=TEXTS)
def test_any_private_text_gets_a_valid_reply(harness, text):
    calls = harness.run({"message": message(text)})
    texts = check_replies(calls)
    if text.strip() or text.startswith("/"):
        assert texts, f"no reply to {text[:80]!r}"


@settings(FAST, max_examples=400)
@given(text=TEXTS)
def test_group_messages_never_crash_and_replies_stay_valid(harness, text):
    check_replies(harness.run({"message": message(text, chat_type="supergroup")}))


@settings(FAST, max_examples=400)
@given(text=TEXTS, kind=st.sampled_from(["edited_message", "channel_post", "edited_channel_post"]))
def test_edits_and_channel_posts_are_ignored_safely(harness, text, kind):
    chat_type = "channel" if "channel" in kind else "private"
    calls = harness.run({kind: message(text, chat_type=chat_type, edit_date=1)})
    assert not [name for name, _ in calls if name == "sendMessage"]


MEDIA = {
    "sticker": {"file_id": "s", "file_unique_id": "u", "width": 1, "height": 1,
                "is_animated": False, "is_video": False, "type": "regular"},
    "photo": [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}],
    "location": {"latitude": 19.43, "longitude": -99.13},
    "voice": {"file_id": "v", "file_unique_id": "u", "duration": 3},
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(MEDIA))
def test_media_messages_get_a_hint_in_private_and_silence_in_groups(harness, kind):
    private = check_replies(harness.run({"message": message(None, **{kind: MEDIA[kind]})}))
    assert len(private) == 1
    assert "only read text" in private[0]
    group = harness.run({"message": message(None, chat_type="group", **{kind: MEDIA[kind]})})
    assert group == []


@settings(FAST, max_examples=1000)
@given(
    data=st.one_of(
        st.text(CHARACTERS, max_size=64),
        st.sampled_from(["a:en:goal", "a:es:goal", "s:en:money", "f:en:+:goal", "f:es:-:arms",
                         "t:es", "a:en:", "f:en:+:", "a:en:../../x", "a:en:" + "x" * 58]),
    ),
    with_message=st.booleans(),
)  # fmt: skip
def test_any_button_press_is_acknowledged_first(harness, data, with_message):
    query: dict[str, Any] = {
        "id": str(next(_ids)),
        "from": {"id": next(_ids), "is_bot": False, "first_name": "Eve"},
        "chat_instance": "c",
        "data": data,
    }
    if with_message:
        query["message"] = message("old card")
    else:
        query["inline_message_id"] = "im"
    calls = harness.run({"callback_query": query})
    assert calls[0][0] == "answerCallbackQuery"
    check_replies(calls)


@settings(FAST, max_examples=600)
@given(text=st.one_of(st.sampled_from(NASTY), st.text(CHARACTERS, max_size=256)))
def test_any_inline_query_is_answered_with_valid_cards(harness, text):
    query = {
        "id": str(next(_ids)),
        "from": {"id": next(_ids), "is_bot": False, "first_name": "Eve"},
        "query": text[:256],
        "offset": "",
    }
    calls = harness.run({"inline_query": query})
    [(name, params)] = calls
    assert name == "answerInlineQuery"
    results = params["results"]
    assert 1 <= len(results) <= 10
    for result in results:
        assert 1 <= len(result["id"].encode()) <= 64
        assert result["title"]
        content = result["input_message_content"]["message_text"]
        assert len(content) <= 4096
        if result["id"] != "not-covered":
            assert html_problems(content) == []
