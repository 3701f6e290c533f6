"""Putting replies on Telegram: inline keyboards, split messages, inline-mode articles, menus.

The `Reply` comes from the core as plain data; this module turns it into Bot API calls.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Final

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
)
from telegram._utils.types import JSONDict
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import Application
from telegram.helpers import create_deep_linked_url

from bot.chat import commands
from bot.chat.callbacks import deep_link_payload, encode
from bot.core.knowledge import LANGUAGES, KnowledgeBase, Language
from bot.core.language import DEFAULT_LANGUAGE
from bot.core.messages import messages
from bot.core.replies import Reply

log = logging.getLogger(__name__)

DESCRIPTION_CHARS: Final = 100
KEYBOARD_CACHE: Final = 4096  # keyboards kept, by reply (the cards repeat; declines do not)


class _Keyboard(InlineKeyboardMarkup):
    """An inline keyboard that works out its JSON once: the same answer cards, with the same
    buttons, go out again and again, and PTB's generic serialisation of a keyboard costs more
    than matching the question did."""

    __slots__ = ("_as_dict",)
    _as_dict: JSONDict

    def __init__(self, rows: Sequence[Sequence[InlineKeyboardButton]]) -> None:
        super().__init__(rows)
        object.__setattr__(self, "_as_dict", super().to_dict())

    def to_dict(self, recursive: bool = True) -> JSONDict:
        """The keyboard as the Bot API wants it (a fresh copy of the top level)."""
        return dict(self._as_dict)


@lru_cache(maxsize=KEYBOARD_CACHE)
def keyboard(reply: Reply, bot_username: str | None = None) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard; answer cards also get a share link."""
    rows = [
        [
            InlineKeyboardButton(b.label, callback_data=encode(b.action))
            if b.action is not None
            else InlineKeyboardButton(b.label, url=b.url)
            for b in row
        ]
        for row in reply.buttons
    ]
    if bot_username and reply.kind == "answer" and reply.entry_id:
        payload = deep_link_payload(reply.entry_id, reply.language)
        link = create_deep_linked_url(bot_username, payload)
        rows.append([InlineKeyboardButton(messages(reply.language).share, url=link)])
    return _Keyboard(rows) if rows else None


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


def menu(knowledge: KnowledgeBase, language: Language, admin: bool) -> list[BotCommand]:
    """The command menu in `language`: the built-in commands (admin ones only for admins),
    then the topic commands of the knowledge base."""
    found = [
        BotCommand(row.names[language], row.menu[language])
        for row in commands.COMMANDS
        if admin or not row.admin
    ]
    found += [
        BotCommand(command, entry.text(language).title)
        for entry in knowledge.topics
        if (command := entry.command_for(language)) is not None
    ]
    return found


async def register_commands(
    application: Application,  # type: ignore[type-arg]
    knowledge: KnowledgeBase,
    admin_ids: Iterable[int] = (),
) -> None:
    """Publish the command menus with setMyCommands: English (the default) and Spanish for
    everyone, and the same with the admin commands in each admin's private chat."""
    for language in LANGUAGES:
        code = None if language == DEFAULT_LANGUAGE else language
        scopes = [(None, False), *((BotCommandScopeChat(a), True) for a in sorted(admin_ids))]
        for scope, admin in scopes:
            try:
                await application.bot.set_my_commands(
                    menu(knowledge, language, admin), scope=scope, language_code=code
                )
            except TelegramError:
                log.warning("could not register the %s command menu", language, exc_info=True)
