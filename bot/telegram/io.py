"""Putting replies on Telegram: inline keyboards, split messages, inline-mode articles, menus.

The `Reply` comes from the core as plain data; this module turns it into Bot API calls.
"""

from __future__ import annotations

import logging
from typing import Final

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application

from bot.core.knowledge import LANGUAGES, Language
from bot.core.language import DEFAULT_LANGUAGE
from bot.core.messages import messages
from bot.core.pipeline import Answerer, deep_link_payload
from bot.core.replies import Reply

log = logging.getLogger(__name__)

BUILTIN_COMMANDS: Final = ("start", "help", "topics", "ask", "lang")  # in the menus
_MENU_DESCRIPTIONS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "start": "Welcome and main topics",
        "help": "How to ask",
        "topics": "Everything I can answer",
        "ask": "Ask a question (in groups)",
        "lang": "Answer language: en, es or auto",
    },
    "es": {
        "start": "Bienvenida y temas principales",
        "help": "Cómo preguntar",
        "topics": "Todo lo que puedo responder",
        "ask": "Hacer una pregunta (en grupos)",
        "lang": "Idioma de las respuestas: es, en o auto",
    },
}
DESCRIPTION_CHARS: Final = 100


def keyboard(reply: Reply, bot_username: str | None = None) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard; answer cards also get a share link."""
    rows = [
        [
            InlineKeyboardButton(b.label, url=b.url)
            if b.url
            else InlineKeyboardButton(b.label, callback_data=b.data)
            for b in row
        ]
        for row in reply.buttons
    ]
    if bot_username and reply.kind == "answer" and reply.entry_id:
        payload = deep_link_payload(reply.entry_id, reply.language)
        link = f"https://t.me/{bot_username}?start={payload}"
        rows.append([InlineKeyboardButton(messages(reply.language).share, url=link)])
    return InlineKeyboardMarkup(rows) if rows else None


async def send_reply(message: Message, reply: Reply, bot_username: str | None = None) -> None:
    """Send a reply as HTML messages of at most 4096 characters; the keyboard goes last.

    In groups, and for "did you mean", the first message quotes the user's message.
    """
    chunks = reply.html_chunks()
    quote = message.chat.type != ChatType.PRIVATE or reply.kind == "suggest"
    for position, chunk in enumerate(chunks):
        last = position == len(chunks) - 1
        await message.reply_text(
            chunk,
            reply_markup=keyboard(reply, bot_username) if last else None,
            do_quote=quote and position == 0,
        )


def inline_article(card: Reply, bot_username: str | None) -> InlineQueryResultArticle:
    """An answer card as an inline result: title, one-line description, the card as message."""
    description = card.paragraphs[1].plain.split("\n")[0] if len(card.paragraphs) > 1 else ""
    if len(description) > DESCRIPTION_CHARS:
        description = description[: DESCRIPTION_CHARS - 1] + "…"
    return InlineQueryResultArticle(
        id=card.entry_id or card.paragraphs[0].plain[:64],
        title=card.paragraphs[0].plain,
        description=description,
        input_message_content=InputTextMessageContent(
            card.html_chunks()[0], parse_mode=ParseMode.HTML
        ),
        reply_markup=keyboard(card, bot_username),
    )


async def register_commands(application: Application, answerer: Answerer) -> None:  # type: ignore[type-arg]
    """Publish the command menu in English (default) and Spanish with setMyCommands."""
    for language in LANGUAGES:
        descriptions = _MENU_DESCRIPTIONS[language]
        commands = [BotCommand(name, descriptions[name]) for name in BUILTIN_COMMANDS]
        commands += [
            BotCommand(command, entry.text(language).title)
            for entry in answerer.knowledge.commands
            if (command := entry.command_for(language)) is not None
        ]
        try:
            await application.bot.set_my_commands(
                commands, language_code=None if language == DEFAULT_LANGUAGE else language
            )
        except TelegramError:
            log.warning("could not register the %s command menu", language, exc_info=True)
