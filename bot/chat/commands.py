"""The command table: every built-in command, once.

A row holds the command's name in each language, what it does, its menu description and its
/help line in each language, and whether only admins may use it (and see it in their menu).
Adding a built-in command is one row here; topic commands come from the knowledge base.
The knowledge base may not use these names (`reserved_names`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bot.core.knowledge import LANGUAGES, Language
from bot.core.replies import Reply

if TYPE_CHECKING:
    from bot.chat.interaction import Interaction, Sender

Run = Callable[["Interaction", "Sender", str], "Reply | None"]


@dataclass(frozen=True)
class Command:
    """One built-in command."""

    names: Mapping[Language, str]  # the name shown in each language; every name works
    run: Run  # (interaction, sender, argument) -> the reply, or None for silence
    menu: Mapping[Language, str]  # the description in Telegram's command menu
    usage: Mapping[Language, str] | None = None  # the /help line; None: not in /help
    admin: bool = False  # only ADMIN_IDS may use it, and only their menu shows it

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every name of the command, without repeats."""
        return tuple(dict.fromkeys(self.names[language] for language in LANGUAGES))

    def language_of(self, name: str) -> Language | None:
        """The language a name belongs to when only one language uses it (a clear signal)."""
        owners = [language for language in LANGUAGES if self.names[language] == name]
        return owners[0] if len(owners) == 1 else None


def _both(name: str) -> dict[Language, str]:
    return dict.fromkeys(LANGUAGES, name)


COMMANDS: Final[tuple[Command, ...]] = (
    Command(
        _both("start"),
        lambda chat, sender, argument: chat.start(sender, argument),
        {"en": "Welcome and main topics", "es": "Bienvenida y temas principales"},
    ),
    Command(
        _both("help"),
        lambda chat, sender, argument: chat.help(sender),
        {"en": "How to ask", "es": "Cómo preguntar"},
        {"en": "— this message", "es": "— este mensaje"},
    ),
    Command(
        _both("topics"),
        lambda chat, sender, argument: chat.topics(sender),
        {"en": "Everything I can answer", "es": "Todo lo que puedo responder"},
        {"en": "— every topic I can answer", "es": "— todos los temas que puedo responder"},
    ),
    Command(
        _both("ask"),
        lambda chat, sender, argument: chat.ask(sender, argument),
        {"en": "Ask a question (in groups)", "es": "Hacer una pregunta (en grupos)"},
        {"en": "<question> — ask in a group chat", "es": "<pregunta> — para preguntar en un grupo"},
    ),
    Command(
        _both("lang"),
        lambda chat, sender, argument: chat.set_language(sender, argument),
        {"en": "Answer language: en, es or auto", "es": "Idioma de las respuestas: es, en o auto"},
        {
            "en": "en | es | auto — choose the language of my answers",
            "es": "es | en | auto — elegir el idioma de mis respuestas",
        },
    ),
    Command(
        _both("privacy"),
        lambda chat, sender, argument: chat.privacy(sender),
        {"en": "What I keep about this chat", "es": "Qué guardo de este chat"},
        {"en": "— what I keep, and for how long", "es": "— qué guardo y por cuánto tiempo"},
    ),
    Command(
        _both("forget"),
        lambda chat, sender, argument: chat.forget(sender),
        {"en": "Delete what I keep about this chat", "es": "Borrar lo que guardo de este chat"},
        {"en": "— delete it all", "es": "— borrarlo todo"},
    ),
    Command(
        _both("stats"),
        lambda chat, sender, argument: chat.stats(sender),
        {"en": "Feedback totals and top unanswered", "es": "Opiniones y preguntas sin respuesta"},
        admin=True,
    ),
    Command(
        _both("reload"),
        lambda chat, sender, argument: chat.reload_reply(sender),
        {"en": "Load the knowledge base again", "es": "Volver a cargar el conocimiento"},
        admin=True,
    ),
)


def find(name: str) -> Command | None:
    """The built-in command with this name (in any language), if any."""
    name = name.lower()
    return next((c for c in COMMANDS if name in c.all_names), None)


def reserved_names() -> frozenset[str]:
    """Every built-in command name: topic commands may not take them."""
    return frozenset(name for command in COMMANDS for name in command.all_names)
