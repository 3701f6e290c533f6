"""The local console chat: the bot's own answers in a terminal, used when no token is set.

Slash commands work as on Telegram, and a number follows one of the last reply's buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.chat.interaction import Interaction, Response, Sender
from bot.core.knowledge import Language
from bot.core.replies import Button, Reply

QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})
BANNER = (
    "agreement-bot console chat: the same answers the Telegram bot gives.\n"
    "No TELEGRAM_BOT_TOKEN is set. To go live, put TELEGRAM_BOT_TOKEN=<token from @BotFather> "
    "in .env and run `make run` again.\n"
    "Ask in English or Spanish, or try /topics, /help, {example}/lang es. "
    "Type a button's number to press it, /quit to leave.\n"
)


def render(reply: Reply) -> str:
    """A reply as console text: the plain text, then numbered buttons."""
    lines = [reply.plain]
    for number, button in enumerate(_flat(reply), start=1):
        lines.append(f"  [{number}] {button.label}")
    return "\n".join(lines)


def _flat(reply: Reply) -> list[Button]:
    return [b for row in reply.buttons for b in row if b.action is not None]


class ConsoleChat:
    """One conversation: remembers the last buttons so that a number can press them."""

    CHAT_ID = 0  # the console is one private chat

    def __init__(self, interaction: Interaction, language: Language = "en") -> None:
        self.interaction = interaction
        self.sender = Sender(self.CHAT_ID, app_language=language, private=True)
        self._buttons: list[Button] = []
        self._last_question: str | None = None

    def respond(self, line: str) -> Reply:
        """The reply to one line typed by the user."""
        text = line.strip()
        chat = self.interaction
        if text.isdigit() and 1 <= int(text) <= len(self._buttons):
            action = self._buttons[int(text) - 1].action
            response = chat.press(self.sender, action, self._last_question)
        elif text.startswith("/"):
            name, _, argument = text[1:].partition(" ")
            response = chat.command(self.sender, name.split("@")[0], argument)
        else:
            response = Response(chat.text(self.sender, text))
            self._last_question = text
            if response.reply is not None:  # a terminal has no app language: the chat's is it
                self.sender = replace(self.sender, app_language=response.reply.language)
        if response.reply is None:  # a vote: acknowledged, the buttons stay
            return chat.answerer.info(response.notice or "", chat.language(self.sender))
        self._buttons = _flat(response.reply)
        return response.reply

    def run(self, read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> int:
        """Chat until /quit or end of input; returns the exit status."""
        first = next(iter(self.interaction.answerer.knowledge.topics), None)
        write(BANNER.format(example=f"/{first.command_for('en')}, " if first else ""))
        while True:
            try:
                line = read("you> ")
            except (EOFError, KeyboardInterrupt):
                write("")
                return 0
            if line.strip().lower() in QUIT_WORDS:
                return 0
            if line.strip():
                write("bot> " + render(self.respond(line)).replace("\n", "\n     ") + "\n")
