"""The answering pipeline: cards, suggestions, declines, commands and button presses."""

from __future__ import annotations

from bot.core.pipeline import answer_data, topics_data


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
    *related, votes = reply.buttons
    assert [row[0].data for row in related] == [
        answer_data(r, "en") for r in answerer.knowledge.get("principles").related
    ]
    assert [b.label for b in votes] == ["👍", "👎"]


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
    assert [row[0].data for row in reply.buttons] == [
        answer_data(s, "en", "s") for s in reply.suggestions
    ]


def test_decline_quotes_the_question_escaped_and_points_to_topics(answerer):
    reply = answerer.answer("<script>alert('football scores')</script>")
    assert reply.kind == "decline"
    assert "&lt;script&gt;" in reply.html
    assert "<script>" not in reply.html
    assert "/topics" in reply.plain
    assert reply.buttons[0][0].data == topics_data("en")


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
    assert answerer.press(answer_data("goal", "en")).entry_id == "goal"
    assert answerer.press(topics_data("en")).kind == "info"
    assert answerer.press("a:xx:goal", "es").language == "es"  # unknown code: chat's language
    for data in (answer_data("deleted-entry", "en"), "zzz", "", "a:en:" + "x" * 100):
        reply = answerer.press(data)
        assert reply.kind == "info"
        assert "out of date" in reply.plain


def test_topics_lists_every_command(answerer, knowledge):
    reply = answerer.topics()
    for entry in knowledge.commands:
        assert f"/{entry.command}" in reply.plain
    assert sum(len(row) for row in reply.buttons) == len(knowledge.commands)


def test_spanish_questions_are_answered_in_spanish(answerer):
    reply = answerer.answer("¿Cuáles son los cuatro principios?")
    assert reply.language == "es"
    assert reply.entry_id == "principles"
    assert "cooperación sin subordinación" in reply.plain
    assert reply.plain.startswith("Los cuatro principios")


def test_spanish_without_accents_or_question_marks(answerer):
    reply = answerer.answer("quien encabezo la delegacion")
    assert (reply.language, reply.entry_id) == ("es", "delegation")
    assert "canciller Juan Ramón de la Fuente" in reply.plain


def test_every_entry_has_a_spanish_card(answerer, knowledge):
    for entry in knowledge.entries:
        card = answerer.card(entry, "es")
        assert card.paragraphs[0].plain == entry.es.title
        assert "Fuente" in card.plain or "El artículo no lo dice" in card.plain


def test_pinned_language_wins(answerer):
    assert answerer.answer("who led the delegation", language="es").language == "es"
    reply = answerer.command("ask", "quien encabezo la delegacion", "en", pinned=True)
    assert reply.language == "en"


def test_spanish_topics_use_spanish_aliases(answerer):
    text = answerer.topics("es").plain
    assert "/delegacion" in text
    assert "/washington" in text  # no alias: the English command is shown
