"""Telegram handlers, driven through Application.process_update with a recording fake request."""

from __future__ import annotations

import html
import logging

import pytest

from bot.telegram.io import register_commands
from tests.fakes import (
    BOT_USERNAME,
    TOKEN,
    answer_data,
    callback_update,
    message_update,
    raw_update,
)


def keyboard_data(params) -> list[str]:
    markup = params.get("reply_markup") or {}
    return [b.get("callback_data") for row in markup.get("inline_keyboard", []) for b in row]


async def test_start_sends_welcome_with_topic_buttons(app, fake_request):
    await app.process_update(message_update(app.bot, "/start"))
    [sent] = fake_request.sent()
    assert "Hello" in sent["text"]
    assert sent["parse_mode"] == "HTML"
    assert answer_data("delegation", "en") in keyboard_data(sent)


async def test_help_and_topics(app, fake_request):
    await app.process_update(message_update(app.bot, "/help"))
    await app.process_update(message_update(app.bot, "/topics"))
    help_text, topics = fake_request.sent()
    assert "/topics" in help_text["text"]
    assert "/principles" in topics["text"]
    assert len(keyboard_data(topics)) == len(app.bot_data["handlers"].knowledge.topics)


async def test_free_text_is_answered(app, fake_request):
    await app.process_update(message_update(app.bot, "who led the delegation?"))
    [sent] = fake_request.sent()
    assert "Juan Ramón de la Fuente" in sent["text"]
    assert sent["text"].startswith("<b>The Mexican delegation</b>")
    assert sent["chat_id"] == 777


async def test_did_you_mean_is_a_keyboard_of_entries(app, fake_request):
    await app.process_update(message_update(app.bot, "mexico"))
    [sent] = fake_request.sent()
    assert "Did you mean" in sent["text"]
    data = keyboard_data(sent)
    assert 1 <= len(data) <= 3
    assert all(d.startswith("s:en:") for d in data)


async def test_far_question_is_declined_with_escaped_echo(app, fake_request):
    await app.process_update(message_update(app.bot, "<b>who won</b> the football & cup"))
    [sent] = fake_request.sent()
    assert "does not seem to cover" in sent["text"]
    assert html.escape("<b>who won</b> the football & cup", quote=False) in sent["text"]


async def test_topic_commands_and_bot_username_suffix(app, fake_request):
    await app.process_update(message_update(app.bot, "/delegation"))
    await app.process_update(message_update(app.bot, f"/principles@{BOT_USERNAME}"))
    first, second = fake_request.texts()
    assert "Juan Ramón de la Fuente" in first
    assert "mutual trust" in second


async def test_command_for_another_bot_is_ignored_in_groups(app, fake_request):
    await app.process_update(message_update(app.bot, "/principles@OtherBot", chat_type="group"))
    assert fake_request.sent() == []


async def test_ask_command_in_a_group(app, fake_request):
    update = message_update(app.bot, "/ask who is the navy secretary", chat_type="supergroup")
    await app.process_update(update)
    [sent] = fake_request.sent()
    assert "Raymundo Pedro Morales" in sent["text"]
    assert sent["reply_parameters"]["message_id"] == update.message.message_id


async def test_ask_without_question_explains_usage(app, fake_request):
    await app.process_update(message_update(app.bot, "/ask"))
    assert "/ask" in fake_request.texts()[0]


async def test_unknown_command_gets_a_hint_in_private(app, fake_request):
    await app.process_update(message_update(app.bot, "/frobnicate"))
    assert "/help" in fake_request.texts()[0]


async def test_button_press_is_acknowledged_and_answered(app, fake_request):
    await app.process_update(callback_update(app.bot, answer_data("goal", "en")))
    methods = [name for name, _ in fake_request.calls]
    assert methods == ["answerCallbackQuery", "sendMessage"]
    assert "The main goal" in fake_request.texts()[0]


@pytest.mark.parametrize("data", [answer_data("gone-entry", "en"), "garbage", "t:x", "", "a:goal"])
async def test_stale_or_forged_buttons_get_a_polite_reply(app, fake_request, data):
    await app.process_update(callback_update(app.bot, data))
    assert fake_request.calls[0][0] == "answerCallbackQuery"
    [text] = fake_request.texts()
    assert "out of date" in text or "Tap a topic" in text


async def test_button_on_an_inline_message_edits_it(app, fake_request):
    await app.process_update(
        callback_update(app.bot, answer_data("goal", "en"), with_message=False)
    )
    assert [name for name, _ in fake_request.calls] == ["answerCallbackQuery", "editMessageText"]
    [edit] = fake_request.sent("editMessageText")
    assert edit["inline_message_id"] == "inline-1"
    assert "The main goal" in edit["text"]


async def test_every_reply_fits_in_one_telegram_message(app, fake_request, knowledge):
    for entry in knowledge.entries:
        await app.process_update(callback_update(app.bot, answer_data(entry.id, "en")))
    assert all(len(t) <= 4096 for t in fake_request.texts())


async def test_non_text_updates_do_not_crash(app, fake_request):
    sticker = {
        "message": {
            "message_id": 5,
            "date": 0,
            "chat": {"id": 777, "type": "private"},
            "from": {"id": 777, "is_bot": False, "first_name": "Ana"},
            "sticker": {
                "file_id": "f",
                "file_unique_id": "u",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        }
    }
    await app.process_update(raw_update(app.bot, sticker))
    [sent] = fake_request.sent()
    assert "I can only read text" in sent["text"]


async def test_errors_are_logged_and_the_user_is_told(app, fake_request, caplog):
    fake_request.fail_methods["sendMessage"] = (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: boom"},
    )
    with caplog.at_level(logging.ERROR):
        await app.process_update(message_update(app.bot, "who led the delegation?"))
    assert "error while handling an update" in caplog.text
    assert len(fake_request.sent()) == 2  # the failed answer, then the apology attempt
    assert "went wrong" in fake_request.sent()[1]["text"]
    assert TOKEN not in caplog.text


async def test_command_menu_is_registered_in_both_languages(app, fake_request, knowledge):
    await register_commands(app, knowledge)
    english, spanish = fake_request.sent("setMyCommands")
    assert "language_code" not in english
    assert spanish["language_code"] == "es"
    en_names = [c["command"] for c in english["commands"]]
    es_names = [c["command"] for c in spanish["commands"]]
    assert en_names[:7] == ["start", "help", "topics", "ask", "lang", "privacy", "forget"]
    assert {"delegation", "principles"} <= set(en_names)
    assert {"delegacion", "principios"} <= set(es_names)
    assert "Todo lo que puedo responder" in [c["description"] for c in spanish["commands"]]
    for params in (english, spanish):
        assert all(1 <= len(c["description"]) <= 256 for c in params["commands"])
        assert "scope" not in params
        assert not {"stats", "reload"} & {c["command"] for c in params["commands"]}


async def test_admins_see_the_admin_commands_in_their_own_menu(app, fake_request, knowledge):
    await register_commands(app, knowledge, admin_ids=[7])
    english, english_admin, spanish, spanish_admin = fake_request.sent("setMyCommands")
    for admin, public in ((english_admin, english), (spanish_admin, spanish)):
        assert admin["scope"] == {"type": "chat", "chat_id": 7}
        names = [c["command"] for c in admin["commands"]]
        assert {"stats", "reload"} <= set(names)
        assert set(names) - {"stats", "reload"} == {c["command"] for c in public["commands"]}
    assert spanish_admin["language_code"] == "es"


async def test_command_menu_failure_does_not_stop_the_bot(app, fake_request, knowledge, caplog):
    fake_request.fail_methods["setMyCommands"] = (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: nope"},
    )
    with caplog.at_level(logging.WARNING):
        await register_commands(app, knowledge)
    assert "could not register the en command menu" in caplog.text
    await app.process_update(message_update(app.bot, "who led the delegation?"))
    [answer] = fake_request.sent()
    assert "Juan Ramón de la Fuente" in answer["text"]


# ------------------------------------------------------------------ Spanish


async def test_spanish_question_gets_a_spanish_answer(app, fake_request):
    await app.process_update(message_update(app.bot, "¿Quién encabezó la delegación?"))
    [sent] = fake_request.sent()
    assert sent["text"].startswith("<b>La delegación mexicana</b>")
    assert "Fuente: el artículo" in sent["text"]
    assert all(d.startswith(("a:es:", "f:es:")) for d in keyboard_data(sent) if d)


async def test_message_language_beats_the_telegram_language_code(app, fake_request):
    await app.process_update(message_update(app.bot, "who led the delegation", language_code="es"))
    await app.process_update(
        message_update(app.bot, "quien encabezo la delegacion", language_code="en")
    )
    english, spanish = fake_request.texts()
    assert "The Mexican delegation" in english
    assert "La delegación mexicana" in spanish


async def test_language_code_breaks_ties(app, fake_request):
    await app.process_update(message_update(app.bot, "harfuch", language_code="es-MX"))
    await app.process_update(message_update(app.bot, "harfuch", language_code="en"))
    spanish, english = fake_request.texts()
    assert "secretario de Seguridad" in spanish
    assert "Secretary of Security" in english


async def test_spanish_did_you_mean_and_decline(app, fake_request):
    await app.process_update(message_update(app.bot, "méxico", language_code="es"))
    await app.process_update(message_update(app.bot, "¿quién ganó el mundial de fútbol?"))
    suggestion, decline = fake_request.texts()
    assert "¿Quisiste decir" in suggestion
    assert "el artículo no parece tratar eso" in decline


async def test_a_command_name_in_one_language_answers_in_that_language(app, fake_request):
    await app.process_update(message_update(app.bot, "/delegacion", language_code="es"))
    await app.process_update(message_update(app.bot, "/principios", language_code="en"))
    await app.process_update(message_update(app.bot, "/delegation", language_code="es"))
    await app.process_update(message_update(app.bot, "/washington", language_code="es"))
    first, second, third, fourth = fake_request.texts()
    assert "La delegación mexicana" in first
    assert "confianza mutua" in second  # the Spanish name, though the app is in English
    assert "The Mexican delegation" in third  # the English name, though the app is in Spanish
    assert "Fuente" in fourth  # one name for both languages: the app's language


async def test_start_help_and_topics_are_localised(app, fake_request):
    for command in ("/start", "/help", "/topics"):
        await app.process_update(message_update(app.bot, command, language_code="es"))
    start, help_text, topics = fake_request.texts()
    assert "¡Hola!" in start
    assert "/lang" in help_text
    assert "/delegacion — La delegación mexicana" in topics


async def test_lang_pins_and_unpins_the_chat_language(app, fake_request):
    await app.process_update(message_update(app.bot, "/lang es"))
    await app.process_update(message_update(app.bot, "who led the delegation"))
    await app.process_update(message_update(app.bot, "/lang"))
    await app.process_update(message_update(app.bot, "/lang auto"))
    await app.process_update(message_update(app.bot, "who led the delegation"))
    pinned, answer_es, status, unpinned, answer_en = fake_request.texts()
    assert "español" in pinned
    assert "La delegación mexicana" in answer_es
    assert "es" in status
    assert "language of each message" in unpinned
    assert "The Mexican delegation" in answer_en


async def test_lang_with_junk_shows_usage(app, fake_request):
    await app.process_update(message_update(app.bot, "/lang klingon"))
    assert "/lang en" in fake_request.texts()[0]


async def test_spanish_buttons_answer_in_spanish(app, fake_request):
    await app.process_update(callback_update(app.bot, answer_data("goal", "es")))
    assert "El objetivo principal" in fake_request.texts()[0]
