"""The Telegram-native experience through process_update: answer cards, feedback, inline mode,
groups, deep links, small talk and long answers, in private chats and in groups."""

from __future__ import annotations

import pytest

from bot.core.feedback import FeedbackEvent, MemoryFeedback
from bot.telegram.app import build_application
from tests.fakes import (
    BOT_ID,
    BOT_USERNAME,
    answer_data,
    callback_update,
    inline_update,
    message_update,
    vote_data,
)


def buttons(params) -> list[dict]:
    markup = params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


@pytest.fixture
def feedback() -> MemoryFeedback:
    return MemoryFeedback()


@pytest.fixture
async def bot_app(settings, answerer, fake_request, feedback):
    application = build_application(settings, answerer, request=fake_request, feedback=feedback)
    async with application:
        fake_request.clear()
        yield application


# ------------------------------------------------------------------ answer card


async def test_answer_card_layout(bot_app, fake_request):
    await bot_app.process_update(message_update(bot_app.bot, "what are the four principles"))
    [sent] = fake_request.sent()
    text = sent["text"]
    assert text.startswith("<b>The four principles</b>\n\n")
    assert "<i>📄 Source: the article, paragraph 4" in text
    labels = [b["text"] for b in buttons(sent)]
    assert labels[:3] == [
        "➡️ President Claudia Sheinbaum",
        "➡️ What the two governments agreed",
        "➡️ The high-level security working group",
    ]
    assert labels[3:5] == ["👍", "👎"]
    share = buttons(sent)[5]
    assert share["url"] == f"https://t.me/{BOT_USERNAME}?start=principles"


async def test_spanish_card_shares_a_spanish_link(bot_app, fake_request):
    await bot_app.process_update(message_update(bot_app.bot, "¿cuáles son los principios?"))
    share = buttons(fake_request.sent()[0])[-1]
    assert share["url"].endswith("?start=es-principles")
    assert share["text"].startswith("🔗 Compartir")


async def test_related_button_answers_the_related_entry(bot_app, fake_request):
    await bot_app.process_update(callback_update(bot_app.bot, answer_data("sheinbaum", "en")))
    assert fake_request.calls[0][0] == "answerCallbackQuery"
    assert "Claudia Sheinbaum is the President of Mexico" in fake_request.texts()[0]


async def test_votes_are_acknowledged_and_recorded(bot_app, fake_request, feedback):
    await bot_app.process_update(callback_update(bot_app.bot, vote_data("goal", 1, "en")))
    await bot_app.process_update(callback_update(bot_app.bot, vote_data("goal", -1, "es")))
    acks = fake_request.sent("answerCallbackQuery")
    assert [a["text"] for a in acks] == ["Thanks for the feedback!", "¡Gracias por tu opinión!"]
    assert fake_request.sent() == []  # no new message for a vote
    assert [(e.kind, e.entry_id, e.value, e.language) for e in feedback.events] == [
        ("vote", "goal", 1, "en"),
        ("vote", "goal", -1, "es"),
    ]
    assert all(e.chat == 777 for e in feedback.events)


async def test_forged_vote_gets_the_topics_not_an_error(bot_app, fake_request, feedback):
    await bot_app.process_update(callback_update(bot_app.bot, "f:en:?:goal"))
    assert fake_request.calls[0][0] == "answerCallbackQuery"
    assert "out of date" in fake_request.texts()[0]
    assert feedback.events == []


async def test_did_you_mean_pick_answers_and_records_the_question(bot_app, fake_request, feedback):
    await bot_app.process_update(message_update(bot_app.bot, "mexico"))
    [suggestion] = fake_request.sent()
    assert "reply_parameters" in suggestion  # quotes the question, so a pick knows it
    pick = buttons(suggestion)[0]["callback_data"]
    fake_request.clear()
    await bot_app.process_update(callback_update(bot_app.bot, pick, replying_to="mexico"))
    assert fake_request.calls[0][0] == "answerCallbackQuery"
    entry_id = pick.split(":")[2]
    assert fake_request.texts()[0].startswith("<b>")
    assert feedback.events[-1] == FeedbackEvent("pick", "en", entry_id, 0, "mexico", 777)
    assert feedback.events[0].kind == "unanswered"


async def test_a_decline_offers_its_nearest_topic_as_a_pick(bot_app, fake_request, feedback):
    question = "is sovereignty in there somewhere"
    await bot_app.process_update(message_update(bot_app.bot, question))
    [decline] = fake_request.sent()
    assert "does not seem to cover" in decline["text"]
    nearest = buttons(decline)[0]["callback_data"]
    assert nearest == "s:en:principles"  # a "did you mean" pick
    fake_request.clear()
    await bot_app.process_update(callback_update(bot_app.bot, nearest, replying_to=question))
    assert "four principles" in fake_request.texts()[0]
    assert [e.kind for e in feedback.events] == ["unanswered", "pick"]
    assert feedback.events[-1].entry_id == "principles"


async def test_declines_are_recorded_for_the_curator(bot_app, feedback):
    await bot_app.process_update(message_update(bot_app.bot, "who won the world cup"))
    [event] = feedback.events
    assert (event.kind, event.question) == ("unanswered", "who won the world cup")


async def test_stale_message_button_still_answers(bot_app, fake_request):
    await bot_app.process_update(callback_update(bot_app.bot, answer_data("delegation", "en")))
    assert "The Mexican delegation" in fake_request.texts()[0]


# ------------------------------------------------------------------ inline mode


async def test_inline_query_returns_ranked_cards(bot_app, fake_request):
    await bot_app.process_update(inline_update(bot_app.bot, "who led the delegation"))
    [answer] = fake_request.sent("answerInlineQuery")
    results = answer["results"]
    assert 1 <= len(results) <= 10
    first = results[0]
    assert first["type"] == "article"
    assert first["id"] == "delegation"
    assert first["title"] == "The Mexican delegation"
    assert len(first["description"]) <= 100
    content = first["input_message_content"]
    assert content["message_text"].startswith("<b>The Mexican delegation</b>")
    assert content["parse_mode"] == "HTML"
    assert any(b.get("url") for row in first["reply_markup"]["inline_keyboard"] for b in row)


async def test_empty_inline_query_returns_the_main_topics(bot_app, fake_request, knowledge):
    await bot_app.process_update(inline_update(bot_app.bot, ""))
    results = fake_request.sent("answerInlineQuery")[0]["results"]
    assert len(results) == 10
    assert [r["id"] for r in results] == [e.id for e in knowledge.topics[:10]]


async def test_inline_query_without_match_says_not_covered(bot_app, fake_request, feedback):
    await bot_app.process_update(inline_update(bot_app.bot, "best pizza in naples"))
    [result] = fake_request.sent("answerInlineQuery")[0]["results"]
    assert result["id"] == "not-covered"
    assert result["title"] == "Not covered by the article"
    assert feedback.events[0].kind == "unanswered"


async def test_inline_query_in_spanish(bot_app, fake_request):
    await bot_app.process_update(inline_update(bot_app.bot, "¿quién encabezó la delegación?"))
    first = fake_request.sent("answerInlineQuery")[0]["results"][0]
    assert first["title"] == "La delegación mexicana"
    await bot_app.process_update(inline_update(bot_app.bot, "pizza napolitana", "es"))
    assert fake_request.sent("answerInlineQuery")[1]["results"][0]["title"] == (
        "El artículo no trata eso"
    )


async def test_inline_message_buttons_edit_the_message(bot_app, fake_request, feedback):
    data = vote_data("delegation", 1, "en")
    await bot_app.process_update(callback_update(bot_app.bot, data, with_message=False))
    assert [name for name, _ in fake_request.calls] == ["answerCallbackQuery"]
    assert feedback.events[0].kind == "vote"


# ------------------------------------------------------------------ groups


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
async def test_groups_ignore_messages_not_meant_for_the_bot(bot_app, fake_request, chat_type):
    await bot_app.process_update(
        message_update(bot_app.bot, "who led the delegation?", chat_type=chat_type)
    )
    assert fake_request.sent() == []


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
async def test_groups_answer_a_mention(bot_app, fake_request, chat_type):
    text = f"@{BOT_USERNAME} who led the delegation?"
    mention = [{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}]
    update = message_update(bot_app.bot, text, chat_type=chat_type, entities=mention)
    await bot_app.process_update(update)
    [sent] = fake_request.sent()
    assert "Juan Ramón de la Fuente" in sent["text"]
    assert sent["reply_parameters"]["message_id"] == update.message.message_id
    assert sent["chat_id"] == -100123


async def test_groups_answer_a_reply_to_the_bot(bot_app, fake_request):
    update = message_update(
        bot_app.bot, "and the navy secretary?", chat_type="group", reply_to_bot=True
    )
    await bot_app.process_update(update)
    assert "Raymundo Pedro Morales" in fake_request.texts()[0]


async def test_groups_greet_a_bare_mention(bot_app, fake_request):
    mention = [{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}]
    update = message_update(bot_app.bot, f"@{BOT_USERNAME}", chat_type="group", entities=mention)
    await bot_app.process_update(update)
    assert "Hello" in fake_request.texts()[0]


async def test_groups_ignore_a_mention_of_another_bot(bot_app, fake_request):
    mention = [{"type": "mention", "offset": 0, "length": 9}]
    update = message_update(
        bot_app.bot, "@OtherBot who led it", chat_type="group", entities=mention
    )
    await bot_app.process_update(update)
    assert fake_request.sent() == []


async def test_groups_answer_a_text_mention_of_the_bot(bot_app, fake_request):
    entity = {
        "type": "text_mention",
        "offset": 0,
        "length": 3,
        "user": {"id": BOT_ID, "is_bot": True, "first_name": "Agreement"},
    }
    update = message_update(bot_app.bot, "bot principles", chat_type="group", entities=[entity])
    await bot_app.process_update(update)
    assert "mutual trust" in fake_request.texts()[0]


async def test_groups_commands_work_and_other_bots_commands_are_ignored(bot_app, fake_request):
    await bot_app.process_update(message_update(bot_app.bot, "/principles", chat_type="group"))
    await bot_app.process_update(
        message_update(bot_app.bot, f"/principles@{BOT_USERNAME}", chat_type="group")
    )
    await bot_app.process_update(
        message_update(bot_app.bot, "/principles@OtherBot", chat_type="group")
    )
    await bot_app.process_update(message_update(bot_app.bot, "/frobnicate", chat_type="group"))
    assert len(fake_request.sent()) == 2


async def test_edited_messages_and_channel_posts_are_not_answered(bot_app, fake_request):
    edited = message_update(bot_app.bot, "who led the delegation?").to_dict()
    edited["edited_message"] = edited.pop("message")
    channel = message_update(bot_app.bot, "who led the delegation?", chat_type="channel")
    channel_dict = channel.to_dict()
    channel_dict["channel_post"] = channel_dict.pop("message")
    from telegram import Update

    await bot_app.process_update(Update.de_json(edited, bot_app.bot))
    await bot_app.process_update(Update.de_json(channel_dict, bot_app.bot))
    assert fake_request.sent() == []


# ------------------------------------------------------------------ deep links


async def test_deep_link_opens_the_entry(bot_app, fake_request):
    await bot_app.process_update(message_update(bot_app.bot, "/start principles"))
    await bot_app.process_update(message_update(bot_app.bot, "/start es-delegation"))
    english, spanish = fake_request.texts()
    assert english.startswith("<b>The four principles</b>")
    assert spanish.startswith("<b>La delegación mexicana</b>")


@pytest.mark.parametrize("payload", ["no-such-entry", "es-nothing", "x" * 64])
async def test_unknown_deep_link_gets_the_topics(bot_app, fake_request, payload):
    await bot_app.process_update(message_update(bot_app.bot, f"/start {payload}"))
    text = fake_request.texts()[0]
    assert "don't know that topic" in text or "Ya no conozco ese tema" in text


def test_every_entry_id_is_a_valid_deep_link_payload(knowledge):
    import re

    for entry in knowledge.entries:
        for payload in (entry.id, f"es-{entry.id}"):
            assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)


# ------------------------------------------------------------------ small talk


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi", "Hi!"),
        ("Hello there!", "Hi!"),
        ("thanks!", "You're welcome"),
        ("what can you do?", "I answer questions"),
        ("hola", "¡Hola!"),
        ("muchas gracias", "¡Con gusto!"),
        ("¿qué puedes hacer?", "Respondo preguntas"),
        ("bye", "Goodbye"),
        ("ok thanks, bye!", "Goodbye"),  # several pieces: the last one's kind
        ("thanks for the info", "You're welcome"),
        ("hey bot are you a real person lol", "I answer questions"),
        ("¿eres un bot?", "Respondo preguntas"),
        ("lol are you a bot or a person?", "I answer questions"),  # a laugh first
        ("jaja ¿eres un bot o una persona?", "Respondo preguntas"),
    ],
)
async def test_small_talk_gets_a_friendly_reply_and_topics(bot_app, fake_request, text, expected):
    await bot_app.process_update(message_update(bot_app.bot, text, language_code=None))
    [sent] = fake_request.sent()
    assert expected in sent["text"]
    assert len(buttons(sent)) == len(bot_app.bot_data["handlers"].knowledge.topics)


async def test_greeting_with_a_question_is_a_question(bot_app, fake_request):
    await bot_app.process_update(message_update(bot_app.bot, "hi, who led the delegation?"))
    assert "Juan Ramón de la Fuente" in fake_request.texts()[0]


# ------------------------------------------------------------------ long answers


async def test_long_answers_are_split_with_the_keyboard_last(bot_app, fake_request, answerer):
    from bot.core.replies import Paragraph, Reply
    from bot.telegram.io import send_reply

    card = answerer.card(answerer.knowledge.get("delegation"))
    long_reply = Reply(
        "answer",
        "en",
        (card.paragraphs[0], *[Paragraph("x" * 3000, "x" * 3000)] * 3, card.paragraphs[-1]),
        card.buttons,
        "delegation",
    )
    update = message_update(bot_app.bot, "who led the delegation?")
    await send_reply(update.message, long_reply, BOT_USERNAME)
    sent = fake_request.sent()
    assert len(sent) == 3
    assert all(len(s["text"]) <= 4096 for s in sent)
    assert [bool(s.get("reply_markup")) for s in sent] == [False, False, True]
