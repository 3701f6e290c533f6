"""The local console chat: the bot's own answers in a terminal, used when no token is set.

Slash commands work as on Telegram, and a number follows one of the last reply's buttons.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.feedback import FeedbackEvent, FeedbackSink, MemoryFeedback
from bot.core.knowledge import Language
from bot.core.messages import messages
from bot.core.pipeline import Answerer, feedback_event
from bot.core.replies import Button, Reply

QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})
BANNER = (
    "agreement-bot console chat: the same answers the Telegram bot gives.\n"
    "No TELEGRAM_BOT_TOKEN is set. To go live, put TELEGRAM_BOT_TOKEN=<token from @BotFather> "
    "in .env and run `make run` again.\n"
    "Ask in English or Spanish, or try /topics, /help, /delegation, /lang es. "
    "Type a button's number to press it, /quit to leave.\n"
)


def render(reply: Reply) -> str:
    """A reply as console text: the plain text, then numbered buttons."""
    lines = [reply.plain]
    for number, button in enumerate(_flat(reply), start=1):
        lines.append(f"  [{number}] {button.label}")
    return "\n".join(lines)


def _flat(reply: Reply) -> list[Button]:
    return [b for row in reply.buttons for b in row if b.data is not None]


class ConsoleChat:
    """One conversation: remembers the last buttons so that a number can press them."""

    def __init__(
        self, answerer: Answerer, language: Language = "en", feedback: FeedbackSink | None = None
    ) -> None:
        self.answerer = answerer
        self.language = language  # for commands; questions are answered in their own language
        self.pinned: Language | None = None  # set with /lang en|es, cleared with /lang auto
        self.feedback = feedback if feedback is not None else MemoryFeedback()
        self._buttons: list[Button] = []
        self._last_question: str | None = None

    def respond(self, line: str) -> Reply:
        """The reply to one line typed by the user."""
        text = line.strip()
        language = self.pinned or self.language
        if text.isdigit() and 1 <= int(text) <= len(self._buttons):
            data = self._buttons[int(text) - 1].data or ""
            event = feedback_event(data, self._last_question)
            if event is not None:
                self.feedback.record(event)
            pressed = self.answerer.press(data, language)
            if pressed is None:  # a vote: acknowledged, the buttons stay
                return self.answerer.info(messages(language).vote_thanks, language)
            reply = pressed
        elif text.startswith("/"):
            name, _, argument = text[1:].partition(" ")
            name = name.split("@")[0].lower()
            if name == "lang":
                reply, self.pinned = self.answerer.set_language(
                    argument, self.pinned, self.language
                )
            else:
                pinned = self.pinned is not None
                found = self.answerer.command(name, argument, language, pinned)
                reply = found or self.answerer.info(self.answerer.help(language).plain, language)
        else:
            reply = self.answerer.answer(text, self.pinned)
            self._last_question = text
            if reply.kind in ("decline", "suggest"):
                self.feedback.record(FeedbackEvent("unanswered", reply.language, question=text))
        self._buttons = _flat(reply)
        return reply

    def run(self, read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> int:
        """Chat until /quit or end of input; returns the exit status."""
        write(BANNER)
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
