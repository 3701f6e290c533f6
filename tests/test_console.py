"""The console chat: same answers, commands, numbered buttons, clean exit."""

from __future__ import annotations

from bot.console import BANNER, ConsoleChat, render


def run_script(answerer, lines: list[str]) -> str:
    feed = iter(lines)
    output: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    assert ConsoleChat(answerer).run(read=read, write=output.append) == 0
    return "\n".join(output)


def test_console_answers_and_quits(answerer):
    out = run_script(answerer, ["who led the delegation?", "/quit", "never read"])
    assert out.startswith(BANNER)
    assert "Juan Ramón de la Fuente" in out
    assert "never read" not in out


def test_console_commands_and_numbered_buttons(answerer):
    chat = ConsoleChat(answerer)
    topics = chat.respond("/topics")
    assert "[1]" in render(topics)
    first = topics.buttons[0][0]
    assert chat.respond("1").entry_id == first.data.removeprefix("a:en:")
    assert chat.respond("/principles@SomeBot").entry_id == "principles"
    assert "/topics" in chat.respond("/nonsense").plain


def test_console_ends_on_end_of_input(answerer):
    out = run_script(answerer, [])
    assert out.startswith(BANNER)


def test_console_treats_out_of_range_numbers_as_questions(answerer):
    chat = ConsoleChat(answerer)
    assert chat.respond("99").kind in {"decline", "info"}


def test_console_answers_spanish_in_spanish_and_pins_with_lang(answerer):
    chat = ConsoleChat(answerer)
    assert chat.respond("¿quién encabezó la delegación?").language == "es"
    assert chat.respond("/lang es").language == "es"
    assert chat.respond("who led the delegation").language == "es"
    assert chat.respond("/topics").language == "es"
    chat.respond("/lang auto")
    assert chat.respond("who led the delegation").language == "en"
    assert "auto" in chat.respond("/lang").plain
