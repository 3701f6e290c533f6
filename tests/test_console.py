"""The console chat: same answers, commands, numbered buttons, clean exit."""

from __future__ import annotations

from bot.chat.interaction import Interaction
from bot.console import ConsoleChat, render


def run_script(answerer, lines: list[str]) -> str:
    feed = iter(lines)
    output: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    assert ConsoleChat(Interaction(answerer)).run(read=read, write=output.append) == 0
    return "\n".join(output)


def test_console_answers_and_quits(answerer):
    out = run_script(answerer, ["who led the delegation?", "/quit", "never read"])
    assert out.startswith("agreement-bot console chat")
    first_topic = answerer.knowledge.topics[0].command
    assert f"/{first_topic}," in out.split("\n\n")[0]  # an example from the knowledge base
    assert "Juan Ramón de la Fuente" in out
    assert "never read" not in out


def test_console_commands_and_numbered_buttons(answerer):
    chat = ConsoleChat(Interaction(answerer))
    topics = chat.respond("/topics")
    assert "[1]" in render(topics)
    first = topics.buttons[0][0]
    assert chat.respond("1").entry_id == first.action.entry_id
    assert chat.respond("/principles@SomeBot").entry_id == "principles"
    assert "/help" in chat.respond("/nonsense").plain


def test_console_ends_on_end_of_input(answerer):
    out = run_script(answerer, [])
    assert out.startswith("agreement-bot console chat")


def test_console_treats_out_of_range_numbers_as_questions(answerer):
    chat = ConsoleChat(Interaction(answerer))
    assert chat.respond("99").kind in {"decline", "info"}


def test_console_answers_spanish_in_spanish_and_pins_with_lang(answerer):
    chat = ConsoleChat(Interaction(answerer))
    assert chat.respond("¿quién encabezó la delegación?").language == "es"
    assert chat.respond("/lang es").language == "es"
    assert chat.respond("who led the delegation").language == "es"
    assert chat.respond("/topics").language == "es"
    chat.respond("/lang auto")
    assert chat.respond("who led the delegation").language == "en"
    assert "auto" in chat.respond("/lang").plain


def test_console_votes_are_thanked_and_keep_the_buttons(answerer):
    chat = ConsoleChat(Interaction(answerer))
    card = chat.respond("who led the delegation?")
    thumbs = [b.label for row in card.buttons for b in row].index("👍") + 1
    assert "Thanks" in chat.respond(str(thumbs)).plain
    assert chat.respond("1").entry_id == card.buttons[0][0].action.entry_id
    assert [e.kind for e in chat.interaction.feedback.events] == ["vote"]


def test_commands_follow_the_language_the_user_writes_in(answerer):
    chat = ConsoleChat(Interaction(answerer))
    chat.respond("¿quién encabezó la delegación?")
    assert chat.respond("/privacy").language == "es"
    chat.respond("who led the delegation?")
    assert chat.respond("/help").language == "en"
