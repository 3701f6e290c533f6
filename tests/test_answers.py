"""The answering pipeline: cards, suggestions, declines, commands and button presses."""

from __future__ import annotations

from bot.answers import TOPICS_DATA
from bot.replies import ANSWER_PREFIX


def test_who_led_the_delegation_names_de_la_fuente(answerer):
    reply = answerer.answer("who led the delegation?")
    assert reply.kind == "answer"
    assert reply.entry_id == "delegation"
    assert "Juan Ramón de la Fuente" in reply.plain


def test_answer_card_has_title_answer_source_and_related_buttons(answerer):
    reply = answerer.card(answerer.knowledge.get("principles"))
    assert reply.paragraphs[0].html == "<b>The four principles</b>"
    assert "cooperation without subordination" in reply.paragraphs[1].plain
    assert reply.paragraphs[-1].plain.startswith("📄 Source: the article, paragraph 4")
    assert [row[0].data for row in reply.buttons] == [
        ANSWER_PREFIX + r for r in answerer.knowledge.get("principles").related
    ]


def test_not_covered_cards_say_the_article_is_silent(answerer):
    reply = answerer.answer("which american officials attended the meeting?")
    assert reply.entry_id == "us-officials"
    assert "does not name" in reply.plain
    assert "silent" in reply.paragraphs[-1].plain


def test_did_you_mean_offers_up_to_three_buttons(answerer):
    reply = answerer.answer("mexico")
    assert reply.kind == "suggest"
    assert not reply.matched
    assert 1 <= len(reply.suggestions) <= 3
    assert [row[0].data for row in reply.buttons] == [ANSWER_PREFIX + s for s in reply.suggestions]


def test_decline_quotes_the_question_escaped_and_points_to_topics(answerer):
    reply = answerer.answer("<script>alert('football scores')</script>")
    assert reply.kind == "decline"
    assert "&lt;script&gt;" in reply.html
    assert "<script>" not in reply.html
    assert "/topics" in reply.plain
    assert reply.buttons[0][0].data == TOPICS_DATA


def test_long_questions_are_truncated_in_the_echo(answerer):
    reply = answerer.answer("football " * 500)
    assert reply.kind == "decline"
    assert len(reply.plain) < 600


def test_commands(answerer):
    assert answerer.command("delegation").entry_id == "delegation"
    assert answerer.command("PRINCIPLES").entry_id == "principles"
    assert "Hello" in answerer.command("start").plain
    assert "/topics" in answerer.command("help").plain
    assert "/delegation" in answerer.command("topics").plain
    assert answerer.command("ask", "who led the delegation").entry_id == "delegation"
    assert "/ask" in answerer.command("ask", "  ").plain
    assert answerer.command("nonsense") is None


def test_button_presses_including_stale_and_forged_data(answerer):
    assert answerer.press(ANSWER_PREFIX + "goal").entry_id == "goal"
    assert answerer.press(TOPICS_DATA).kind == "info"
    for data in (ANSWER_PREFIX + "deleted-entry", "zzz", "", "a:" + "x" * 100):
        reply = answerer.press(data)
        assert reply.kind == "info"
        assert "out of date" in reply.plain


def test_topics_lists_every_command(answerer, knowledge):
    reply = answerer.topics()
    for entry in knowledge.commands:
        assert f"/{entry.command}" in reply.plain
    assert sum(len(row) for row in reply.buttons) == len(knowledge.commands)
