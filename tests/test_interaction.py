"""The interaction layer: the command table, buttons and deep links, language precedence,
the unanswered rule, votes and reloads, as the console and Telegram both see them."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat import commands
from bot.chat.callbacks import (
    SHOW_PATTERN,
    TOPICS_PATTERN,
    VOTE_PATTERN,
    decode,
    deep_link_payload,
    encode,
    parse_deep_link,
)
from bot.chat.interaction import Interaction, Sender, load
from bot.core.knowledge import KnowledgeError
from bot.core.pipeline import Answerer
from bot.core.replies import ShowEntry, ShowTopics, Vote
from tests.conftest import KNOWLEDGE_DIR

EN = Sender(chat=1, app_language="en")
ES = Sender(chat=2, app_language="es-MX")
GROUP = Sender(chat=-100, app_language="en", private=False)
ADMIN = Sender(chat=3, app_language="en", admin=True)

# ------------------------------------------------------------------ callback data and links

ACTIONS = st.one_of(
    st.builds(
        ShowEntry,
        st.from_regex(r"[a-z0-9][a-z0-9_-]{0,39}", fullmatch=True),
        st.sampled_from(["en", "es"]),
        st.booleans(),
    ),
    st.builds(
        Vote,
        st.from_regex(r"[a-z0-9][a-z0-9_-]{0,39}", fullmatch=True),
        st.sampled_from(["en", "es"]),
        st.sampled_from([1, -1]),
    ),
    st.builds(ShowTopics, st.sampled_from(["en", "es"])),
)


@given(ACTIONS)
def test_callback_data_round_trips_and_fits_telegram(action):
    data = encode(action)
    assert decode(data) == action
    assert len(data.encode()) <= 64
    patterns = [SHOW_PATTERN, VOTE_PATTERN, TOPICS_PATTERN]
    assert sum(bool(p.match(data)) for p in patterns) == 1


@pytest.mark.parametrize("data", ["", "zzz", "a:goal", "a:xx:goal", "t:x", "f:en:*:goal", "a:en:"])
def test_forged_or_stale_callback_data_decodes_to_nothing(data):
    assert decode(data) is None


def test_deep_links_name_the_entry_and_its_language():
    assert deep_link_payload("goal", "en") == "goal"
    assert deep_link_payload("goal", "es") == "es-goal"
    assert ("goal", "es") in parse_deep_link("es-goal")
    assert parse_deep_link("goal")[0] == ("goal", None)


# ------------------------------------------------------------------ the command table


def test_the_table_holds_every_built_in_command_once():
    names = [name for row in commands.COMMANDS for name in row.all_names]
    assert len(names) == len(set(names))
    assert {"start", "help", "topics", "ask", "lang", "stats", "reload"} <= set(names)
    for row in commands.COMMANDS:
        assert row.menu["en"]
        assert row.menu["es"]
        assert commands.find(row.names["en"].upper()) is row


def test_topic_commands_may_not_take_a_built_in_name(tmp_path):
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, copy)
    path = copy / "20_actions.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("command: principles", "command: topics", 1), encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load(copy)
    [problem] = caught.value.problems
    assert problem.field == "command"
    assert "/topics is one of the bot's own commands" in str(problem)


def test_commands(interaction):
    def reply(name, argument="", sender=EN):
        return interaction.command(sender, name, argument).reply

    assert reply("delegation").entry_id == "delegation"
    assert reply("PRINCIPLES").entry_id == "principles"
    assert "Hello" in reply("start").plain
    assert "/topics" in reply("help").plain
    assert "/delegation" in reply("topics").plain
    assert reply("ask", "who led the delegation").entry_id == "delegation"
    assert "/ask" in reply("ask", "  ").plain
    assert "don't know that command" in reply("nonsense").plain
    assert reply("nonsense", sender=GROUP) is None  # silence in groups


def test_help_names_topic_commands_from_the_knowledge_base(interaction, knowledge):
    for sender, language in ((EN, "en"), (ES, "es")):
        text = interaction.command(sender, "help").reply.plain
        for entry in knowledge.topics[:3]:
            assert f"/{entry.command_for(language)}" in text


def test_a_spanish_alias_answers_in_spanish_and_the_english_name_in_english(interaction):
    assert interaction.command(EN, "principios").reply.language == "es"
    assert interaction.command(ES, "principles").reply.language == "en"
    assert interaction.command(ES, "washington").reply.language == "es"  # same in both: app's


def test_the_pin_wins_over_the_command_and_the_message(interaction):
    interaction.command(EN, "lang", "es")
    assert interaction.command(EN, "principles").reply.language == "es"
    assert interaction.text(EN, "who led the delegation?").language == "es"
    assert interaction.command(EN, "ask", "who led the delegation?").reply.language == "es"
    assert interaction.text(ES, "who led the delegation?").language == "en"  # another chat
    interaction.command(EN, "lang", "auto")
    assert interaction.text(EN, "quien encabezo la delegacion").language == "es"


def test_admin_commands_are_for_admins_only(interaction):
    assert "don't know that command" in interaction.command(EN, "stats").reply.plain
    assert interaction.command(GROUP, "reload").reply is None
    assert "No feedback store" in interaction.command(ADMIN, "stats").reply.plain


def test_stats_are_in_the_admins_language(answerer):
    interaction = Interaction(answerer, stats=lambda language, entries: f"{language} {entries}")
    admin_es = Sender(chat=4, app_language="es", admin=True)
    assert (
        interaction.command(admin_es, "stats").reply.plain
        == f"es {len(answerer.knowledge.entries)}"
    )


def test_reload_swaps_the_pipeline_and_a_broken_base_keeps_the_old(answerer, tmp_path):
    directory = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, directory)
    interaction = Interaction(answerer, loader=lambda: Answerer(load(directory)))
    response = interaction.command(ADMIN, "reload")
    assert response.reloaded
    assert "Reloaded" in response.reply.plain
    assert interaction.answerer is not answerer
    (directory / "broken.yaml").write_text("entries: [", encoding="utf-8")
    kept = interaction.answerer
    response = interaction.command(ADMIN, "reload")
    assert not response.reloaded
    assert "broken.yaml" in response.reply.plain
    assert interaction.answerer is kept


# ------------------------------------------------------------------ buttons and the curator


def test_button_presses_including_stale_and_forged_data(interaction):
    assert interaction.press(EN, ShowEntry("goal", "en"), None).reply.entry_id == "goal"
    assert interaction.press(EN, ShowTopics("es"), None).reply.language == "es"
    assert interaction.press(ES, decode("a:xx:goal"), None).reply.language == "es"
    for action in (ShowEntry("deleted-entry", "en"), decode("zzz"), None):
        reply = interaction.press(EN, action, None).reply
        assert reply.kind == "info"
        assert "out of date" in reply.plain


def test_votes_and_picks_reach_the_curator(interaction):
    response = interaction.press(EN, Vote("goal", "es", -1), "what is the goal")
    assert response.reply is None
    assert response.notice == "¡Gracias por tu opinión!"
    interaction.press(EN, ShowEntry("goal", "en", picked=True), "mexico")
    interaction.press(EN, ShowEntry("goal", "en"), None)  # a plain topic button: no event
    events = interaction.feedback.events
    assert [(e.kind, e.entry_id, e.value, e.chat) for e in events] == [
        ("vote", "goal", -1, 1),
        ("pick", "goal", 0, 1),
    ]


def test_only_questions_without_an_answer_card_are_noted_as_unanswered(interaction):
    interaction.text(EN, "who led the delegation?")
    interaction.text(EN, "hello")
    interaction.text(EN, "what is the weather in Paris?")
    interaction.text(EN, "mexico")
    interaction.command(GROUP, "ask", "who won the football?")
    interaction.inline(EN, "zzzz qqqq", 10)
    noted = [(e.question, e.chat) for e in interaction.feedback.events]
    assert noted == [
        ("what is the weather in Paris?", 1),
        ("mexico", 1),
        ("who won the football?", -100),
        ("zzzz qqqq", 1),
    ]
