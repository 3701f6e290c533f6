"""The pure answering pipeline: cards, suggestions, declines and topics."""

from __future__ import annotations

from bot.core.language import LanguageChoice
from bot.core.replies import ShowEntry, ShowTopics


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
    assert [row[0].action for row in related] == [
        ShowEntry(r, "en") for r in answerer.knowledge.get("principles").related
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
    assert [row[0].action for row in reply.buttons] == [
        ShowEntry(s, "en", picked=True) for s in reply.suggestions
    ]


def test_decline_quotes_the_question_escaped_and_points_to_topics(answerer):
    reply = answerer.answer("<script>alert('football scores')</script>")
    assert reply.kind == "decline"
    [html] = reply.html_chunks()
    assert "&lt;script&gt;" in html
    assert "<script>" not in html
    assert "/topics" in reply.plain
    assert reply.buttons[0][0].action == ShowTopics("en")


def test_a_decline_that_names_something_of_the_article_offers_its_nearest_topic(answerer):
    """A low score on a message with a distinctive word of an entry ("sovereignty") is not
    a dead end: the decline offers that entry, as a "did you mean" pick for the curator."""
    for question, language in (
        ("sovereignty, how does that sit with the neighbours", "en"),
        ("soberania, como queda eso con los vecinos", "es"),
    ):
        reply = answerer.answer(question)
        assert reply.kind == "decline", question
        assert (reply.suggestions, reply.nearest) == ((), "principles")
        assert reply.buttons[0][0].action == ShowEntry("principles", language, picked=True)
        assert reply.buttons[-1][0].action == ShowTopics(language)
        assert answerer.knowledge.get("principles").text(language).title in reply.plain


def test_a_decline_close_to_a_topic_offers_it_without_a_distinctive_word(answerer):
    """No word of the message is distinctive, but its best candidate scores at least the
    anchored cut-off: the decline still points at that topic instead of a flat "not
    covered"."""
    reply = answerer.answer("estuvo el secretario de estado de EU o quién?")
    assert (reply.kind, reply.nearest) == ("decline", "us-officials")


def test_a_decline_about_a_subject_the_article_lacks_offers_no_topic(answerer):
    for question in ("what is Canada's sovereignty policy", "how do I bake bread"):
        reply = answerer.answer(question)
        assert reply.kind == "decline", question
        assert reply.nearest is None
        assert "/topics" in reply.plain


def test_long_questions_are_truncated_in_the_echo(answerer):
    reply = answerer.answer("football " * 500)
    assert reply.kind == "decline"
    assert len(reply.plain) < 600


def test_topics_lists_every_command(answerer, knowledge):
    reply = answerer.topics()
    for entry in knowledge.topics:
        assert f"/{entry.command}" in reply.plain
    assert sum(len(row) for row in reply.buttons) == len(knowledge.topics)


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


def test_language_choice_pinned_then_own_then_app_language():
    assert LanguageChoice("es", "en").resolve("en") == "es"
    assert LanguageChoice(None, "es-MX").resolve("en") == "en"
    assert LanguageChoice(None, "es-MX").resolve(None) == "es"
    assert LanguageChoice(None, "fr").resolve(None) == "en"


def test_pinned_language_wins(answerer):
    assert answerer.answer("who led the delegation", LanguageChoice("es")).language == "es"
    assert answerer.answer("quien encabezo la delegacion", LanguageChoice("en")).language == "en"


def test_spanish_topics_use_spanish_aliases(answerer):
    text = answerer.topics("es").plain
    assert "/delegacion" in text
    assert "/washington" in text  # no alias: the English command is shown


def test_a_request_for_the_bots_own_view_is_told_it_has_none(answerer):
    for question, language, words in (
        ("what do you think, will the working group change anything?", "en", "no opinion"),
        ("¿quiénes fueron? en tu opinión, ¿sirvió de algo?", "es", "no tengo una opinión"),
    ):
        reply = answerer.answer(question)
        assert (reply.kind, reply.language, reply.nearest) == ("decline", language, None)
        assert words in reply.plain.lower()
    assert "no opinion" not in answerer.answer("how do I bake bread").plain


def test_a_message_that_names_a_year_is_told_the_article_gives_none(answerer):
    for question, language, words in (
        ("what did the two countries agree on security in 2019?", "en", "gives no year"),
        ("¿y qué acordaron en 2021?", "es", "no da ningún año"),
    ):
        reply = answerer.answer(question)
        assert (reply.kind, reply.language) == ("decline", language)
        assert words in reply.plain
    # a year beside a question the article answers leaves that question answered
    assert answerer.answer("who led the delegation? and what happened in 2019?").kind == "answer"
