"""A conversation, not a lookup: follow-ups read in the context of the last answer,
questions with several parts, state that survives a restart, /privacy and /forget."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from pydantic import SecretStr

from bot.chat.interaction import Interaction, Sender
from bot.chat.state import MemoryChatState
from bot.cli import main
from bot.core.followup import FollowUp, follow_up
from bot.core.replies import ShowEntry, Vote
from bot.settings import Settings
from bot.store.sqlite import SqliteStore
from bot.telegram.app import build_application
from bot.tools import dialogues
from tests.conftest import KNOWLEDGE_DIR
from tests.fakes import TOKEN, raw_update, vote_data

ME = Sender(chat=42, user=42)

# What the dialogues measured when these floors were set (the held-out half is never tuned on):
# on 2026-12-03, with "also"/"también" read as a follow-up, 134 of 166 held-out turns right,
# 25 of 33 follow-ups, one turn made worse by context (README: Answer quality).
DIALOGUE_RATCHET = {"accuracy": 0.80, "follow_up_accuracy": 0.75, "decline_rate": 0.95}
MAX_MADE_WORSE_HELD_OUT = 1


# ------------------------------------------------------------------ which messages lean on context


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("is he a general?", FollowUp.PRONOUN),
        ("what did they report?", FollowUp.PRONOUN),
        ("¿y él qué hace?", FollowUp.PRONOUN),
        ("why?", FollowUp.BARE),
        ("¿cuándo?", FollowUp.BARE),
        ("how many?", FollowUp.BARE),
        ("¿para qué?", FollowUp.BARE),
        ("and him?", FollowUp.ELLIPSIS),
        ("what about it?", FollowUp.ELLIPSIS),
        ("¿también fue a Washington?", FollowUp.ALSO),  # the subject left out
        ("did she go too?", FollowUp.PRONOUN),
        ("¿ni un nombre?", FollowUp.PRONOUN),
        ("not even the secretary of state?", FollowUp.PRONOUN),
    ],
)
def test_messages_that_cannot_stand_alone(message, kind):
    assert follow_up(message) is kind


@pytest.mark.parametrize(
    "message",
    ["what are the four principles?", "and Morales?", "¿y la de seguridad?", "tell me a joke",
     "¿quién es el secretario de Marina?", "what about the guns?"],
)  # fmt: skip
def test_messages_that_stand_alone(message):
    assert follow_up(message) is None


def test_a_follow_up_is_read_with_the_last_answer(interaction):
    assert interaction.text(ME, "who is the secretary of security?").entry_id == "garcia-harfuch"
    reply = interaction.text(ME, "what does he do?")
    assert (reply.entry_id, reply.context) == ("garcia-harfuch", "garcia-harfuch")
    interaction.text(ME, "¿quién es el secretario de marina?")
    reply = interaction.text(ME, "¿y él qué hace?")
    assert (reply.entry_id, reply.context, reply.language) == ("morales", "morales", "es")


def test_also_without_a_subject_leans_on_the_last_answers_person(interaction):
    interaction.text(ME, "¿quién es el fiscal general?")
    reply = interaction.text(ME, "¿también fue a Washington?")
    assert (reply.entry_id, reply.context) == ("gertz-manero", "gertz-manero")
    interaction.text(ME, "which U.S. officials took part?")  # a topic, not a person
    reply = interaction.text(ME, "¿también fue a Washington?")
    assert (reply.entry_id, reply.context) == ("trip", None)


def test_context_never_changes_a_self_contained_or_out_of_scope_message(interaction):
    interaction.text(ME, "who led the delegation?")
    assert interaction.text(ME, "what are the four principles?").entry_id == "principles"
    joke = interaction.text(ME, "tell me a joke")
    assert joke.kind == "decline"
    assert joke.context is None


def test_context_expires(answerer):
    now = [0.0]
    chat = Interaction(answerer, state=MemoryChatState(clock=lambda: now[0]), context_seconds=60)
    chat.text(ME, "who is the secretary of security?")
    assert chat.context(ME) is not None
    now[0] = 61
    assert chat.context(ME) is None


def test_a_button_sets_the_context(interaction):
    interaction.press(ME, ShowEntry("morales", "en"), None)
    assert interaction.context(ME).id == "morales"


def test_in_groups_only_a_reply_to_an_answer_carries_context(interaction):
    group = Sender(chat=-100, user=7, private=False)
    interaction.text(group, "who is the secretary of security?")
    assert interaction.context(group) is None  # the group's other messages are not follow-ups
    assert interaction.context(group, replied_to="morales").id == "morales"


# ------------------------------------------------------------------ several parts


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        ("who are the defense secretary and the ambassador?", ("trevilla", "moctezuma")),
        ("who is Harfuch and who is Figueroa?", ("garcia-harfuch", "figueroa")),
        (
            "¿quiénes son el secretario de Marina y la secretaria ejecutiva?",
            ("morales", "figueroa"),
        ),
    ],
)
def test_a_question_with_several_parts_gets_each_answer(answerer, message, parts):
    reply = answerer.answer(message)
    assert reply.parts == parts
    for entry_id in parts:
        assert answerer.knowledge.get(entry_id).text(reply.language).title in reply.plain
    assert [row[0].action.entry_id for row in reply.buttons] == list(parts)


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        ("hablan de drogas o nomás de armas?", ("drugs", "arms")),
        ("is it just the drugs, or do firearms come into it too?", ("arms", "drugs")),
    ],
)
def test_both_alternatives_of_an_either_or_question_are_answered(answerer, message, parts):
    """Each alternative names a covered topic: both are answered, the one asked about first
    (not the one that "only" assumes)."""
    assert answerer.answer(message).parts == parts


@pytest.mark.parametrize(
    "message",
    [
        "is this about drugs or about migration?",
        "was the US secretary of state there or who?",
        "the delegation went to Washington — who led it?",
        "what did the US and Mexico agree?",
        "what happens in the next weeks and months?",
    ],
)
def test_a_message_that_mentions_two_things_is_one_question(answerer, message):
    assert answerer.answer(message).parts == ()


# ------------------------------------------------------------------ state that survives a restart


def test_the_pin_and_the_topic_survive_a_restart_under_a_keyed_hash(answerer, tmp_path):
    me = Sender(chat=987654321, user=987654321)
    path = tmp_path / "bot.sqlite3"
    first = SqliteStore(path, b"key")
    before = Interaction(answerer, first, state=first)
    before.command(me, "lang", "es")
    before.text(me, "who is the secretary of security?")
    first.close()
    second = SqliteStore(path, b"key")
    after = Interaction(answerer, second, state=second)
    assert after.pinned(me) == "es"
    assert after.context(me).id == "garcia-harfuch"
    assert "987654321" not in "\n".join(second.connect().iterdump())  # no chat id in clear
    second.close()


def test_privacy_says_what_is_kept_and_forget_deletes_it(answerer, tmp_path):
    store = SqliteStore(tmp_path / "bot.sqlite3", b"key")
    chat = Interaction(answerer, store, state=store)
    privacy = chat.command(ME, "privacy").reply.plain
    assert "/forget" in privacy
    assert "10 minutes" in privacy
    assert "/forget" in chat.command(Sender(chat=1, app_language="es"), "privacy").reply.plain
    chat.command(ME, "lang", "es")
    chat.text(ME, "what is the weather in Paris?")
    chat.text(ME, "who is the secretary of security?")
    chat.vote(ME, Vote("goal", "en", 1))
    assert store.unanswered()
    assert store.votes()
    done = chat.command(ME, "forget").reply.plain
    assert "borré" in done  # in the chat's pinned language, before the pin went
    assert store.unanswered() == []
    assert store.votes() == []
    assert chat.pinned(ME) is None
    assert chat.context(ME) is None
    store.close()


# ------------------------------------------------------------------ Telegram and the command line


async def test_on_telegram_a_reply_to_an_answer_in_a_group_is_read_in_its_context(
    answerer, fake_request
):
    settings = Settings(telegram_bot_token=SecretStr(TOKEN), _env_file=None)  # type: ignore[call-arg]
    application = build_application(settings, answerer, request=fake_request)
    bot_user = {
        "id": 4242,
        "is_bot": True,
        "first_name": "Agreement",
        "username": "AgreementTestBot",
    }
    group = {"id": -100123, "type": "supergroup", "title": "G"}
    answer = {
        "message_id": 5,
        "date": 0,
        "chat": group,
        "from": bot_user,
        "text": "Admiral Raymundo Pedro Morales …",
        "reply_markup": {
            "inline_keyboard": [[{"text": "👍", "callback_data": vote_data("morales", 1, "en")}]]
        },
    }
    message = {
        "message_id": 6,
        "date": 0,
        "chat": group,
        "from": {"id": 7, "is_bot": False, "first_name": "U"},
        "text": "what does he do?",
        "reply_to_message": answer,
    }
    async with application:
        await application.process_update(raw_update(application.bot, {"message": message}))
    [sent] = fake_request.sent()
    assert "Raymundo Pedro Morales" in sent["text"]


def test_the_conversation_contract_of_ask(tmp_path):
    lines = "who is the secretary of security?\nwhat does he do?\nwhat does he do?\n"
    together = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "--conversation", "-"],
        input=lines, capture_output=True, text=True, check=True, cwd=KNOWLEDGE_DIR.parent,
    )  # fmt: skip
    first, second, _ = [json.loads(line) for line in together.stdout.splitlines()]
    assert (first["entry_id"], first["context"]) == ("garcia-harfuch", None)
    assert (second["entry_id"], second["context"]) == ("garcia-harfuch", "garcia-harfuch")
    apart = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "-"],
        input=lines, capture_output=True, text=True, check=True, cwd=KNOWLEDGE_DIR.parent,
    )  # fmt: skip
    assert all(json.loads(line)["context"] is None for line in apart.stdout.splitlines())


def test_explain_shows_the_context(monkeypatch, capsys):
    script = "who is the secretary of security?\nwhat does he do?\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    assert main(["ask", "--explain", "--conversation", "-"]) == 0
    out = capsys.readouterr().out
    assert "context:     (none: no recent answer)" in out
    assert "context:     garcia-harfuch used (pronoun)" in out


# ------------------------------------------------------------------ the dialogues


@pytest.fixture(scope="module")
def dialogue_results(answerer):
    halves = dialogues.split_dialogues(dialogues.load_dialogues())
    return {name: dialogues.run(answerer, found) for name, found in halves.items()}


def test_the_dialogues_are_many_varied_and_well_labelled(answerer):
    found = dialogues.load_dialogues()
    assert len(found) >= 60
    assert {d.language for d in found} == {"en", "es"}
    assert dialogues.unknown_labels(found, answerer) == []
    turns = [t for d in found for t in d.turns]
    assert sum(t.is_follow_up for t in turns) >= 30
    assert sum(not t.in_scope for t in turns) >= 20
    assert sum(t.multi_part for t in turns) >= 5


def test_dialogues_keep_their_floors(dialogue_results):
    held_out = dialogues.summarise(dialogue_results["held-out"])
    for figure, floor in DIALOGUE_RATCHET.items():
        assert getattr(held_out, figure) >= floor, (figure, held_out)
    assert held_out.made_worse <= MAX_MADE_WORSE_HELD_OUT
    assert dialogues.summarise(dialogue_results["tuning"]).made_worse == 0


def test_context_helps_follow_ups(dialogue_results):
    for results in dialogue_results.values():
        report = dialogues.summarise(results)
        assert report.follow_ups_right >= report.follow_ups_right_alone + 0.15 * report.follow_ups
