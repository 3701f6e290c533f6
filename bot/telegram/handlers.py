"""The Telegram handlers: read an update, ask the interaction layer, send what it says.

`BotHandlers` holds no conversation rules of its own: it turns an update into a `Sender` and
a call on `Interaction` (`bot.chat`), and the reply into Bot API calls. PTB does the routing:
one handler per command row, per button kind and per kind of message. In groups the bot
reads free text only when it is mentioned or replied to.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any, Final

from telegram import (
    CallbackQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes

from bot.chat import commands
from bot.chat.callbacks import decode
from bot.chat.interaction import Interaction, Response, Sender
from bot.chat.limits import FloodLimiter, Verdict
from bot.core.knowledge import KnowledgeBase
from bot.core.messages import messages
from bot.core.replies import Reply, ShowEntry, ShowTopics, Vote
from bot.settings import Settings
from bot.telegram.io import inline_article, keyboard, register_commands, send_reply
from bot.telegram.metrics import Metrics

log = logging.getLogger(__name__)

MAX_INLINE_RESULTS: Final = 10
INLINE_CACHE_SECONDS: Final = 60
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def addressed_text(message: Message, bot_id: int, bot_username: str | None) -> str | None:
    """The question in a message meant for the bot, or None when it is not meant for it.

    Private chats: always. Groups: only when the message mentions @bot_username or replies
    to one of the bot's messages; the mention itself is removed from the question.
    """
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    handle = f"@{bot_username}".lower() if bot_username else None
    mentioned = handle is not None and any(
        entity.type == MessageEntity.MENTION and message.parse_entity(entity).lower() == handle
        for entity in message.entities
    )
    mentioned = mentioned or any(
        entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id
        for entity in message.entities
    )
    replied = message.reply_to_message
    replied_to_bot = bool(replied and replied.from_user and replied.from_user.id == bot_id)
    if not (mentioned or replied_to_bot):
        return None
    if handle:
        text = re.sub(re.escape(handle), " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())


def answered_in(message: Message, bot_id: int) -> str | None:
    """The entry of the bot's answer that `message` replies to, read from that answer's 👍
    button (a reply to an answer is a follow-up to it, in groups as in private chats)."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return None
    markup = replied.reply_markup
    for row in markup.inline_keyboard if markup is not None else ():
        for button in row:
            action = decode(button.callback_data) if isinstance(button.callback_data, str) else None
            if isinstance(action, Vote):
                return action.entry_id
    return None


class BotHandlers:
    """The handlers, bound to one interaction layer."""

    def __init__(
        self, interaction: Interaction, settings: Settings, metrics: Metrics | None = None
    ) -> None:
        self.interaction = interaction
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.limiter = FloodLimiter(settings.flood_limit, settings.flood_window_seconds)
        self.metrics.knowledge_entries.set(len(self.knowledge.entries))

    @property
    def knowledge(self) -> KnowledgeBase:
        """The knowledge base answering now (a reload replaces it)."""
        return self.interaction.answerer.knowledge

    def sender(self, update: Update) -> Sender:
        """Who sent the update, as the interaction layer sees them."""
        user = update.effective_user
        chat = update.effective_chat
        return Sender(
            chat=chat.id if chat is not None else None,
            user=user.id if user is not None else None,
            app_language=user.language_code if user is not None else None,
            admin=user is not None and user.id in self.settings.admin_ids,
            private=chat is None or chat.type == ChatType.PRIVATE,
        )

    # ------------------------------------------------------------------ commands

    def command_handler(self, row: commands.Command) -> Handler:
        """The callback of one row of the command table (PTB routes by name)."""

        async def handle(update: Update, context: Context) -> None:
            message = update.effective_message
            if message is None or not message.text:
                return
            name = message.text.split()[0][1:].partition("@")[0]
            argument = " ".join(context.args or [])
            sender = self.sender(update)
            if row.admin:  # /reload reads files: keep the event loop free meanwhile
                run = self.interaction.run
                response = await asyncio.to_thread(run, row, sender, argument, name)
            else:
                response = self.interaction.run(row, sender, argument, name)
            await self._respond(message, response, context)

        return handle

    async def command(self, update: Update, context: Context) -> None:
        """Any other /command: a topic of the current knowledge base (so reloads can add
        topics), or a command we do not have (a hint in private chats, silence in groups)."""
        message = update.effective_message
        if message is None or not message.text:
            return
        name, _, target = message.text.split()[0][1:].partition("@")
        sender = self.sender(update)
        if target and target.lower() != (context.bot.username or "").lower():
            response = Response(self.interaction.unknown_command(sender))  # /command@OtherBot
        else:
            response = self.interaction.command(sender, name)
        await self._respond(message, response, context)

    async def _respond(self, message: Message, response: Response, context: Context) -> None:
        if response.reply is not None:
            await self._send(message, response.reply, context.bot.username)
        if response.reloaded:
            await self.after_reload(context.application)

    async def reload(self, application: Application) -> tuple[bool, str]:  # type: ignore[type-arg]
        """Load the knowledge base again (SIGHUP); on problems the running one stays."""
        done, text = await asyncio.to_thread(self.interaction.reload)
        if done:
            await self.after_reload(application)
        else:
            log.error("reload refused, the running knowledge base stays:\n%s", text)
        return done, text

    async def after_reload(self, application: Application) -> None:  # type: ignore[type-arg]
        """A new knowledge base is in: publish its menus, keep it out of the GC's full passes."""
        freeze_long_lived()
        knowledge = self.knowledge
        self.metrics.reloads.inc()
        self.metrics.knowledge_entries.set(len(knowledge.entries))
        await register_commands(application, knowledge, self.settings.admin_ids)
        log.info("knowledge reloaded: %d entries", len(knowledge.entries))

    # ------------------------------------------------------------------ limits

    async def flood_guard(self, update: Update, context: Context) -> None:
        """Runs first: over FLOOD_LIMIT messages and button presses a minute, one polite
        notice, then silence until the window frees up (admins are never limited)."""
        message = update.message
        query = update.callback_query
        user = update.effective_user
        if user is None or (message is None and query is None):
            return
        sender = self.sender(update)
        if sender.admin:
            return
        verdict = self.limiter.check(user.id)
        if verdict is Verdict.ALLOW:
            return
        if verdict is Verdict.NOTIFY:
            language = self.interaction.language(sender)
            notice = messages(language).flood.format(limit=self.settings.flood_limit)
            if message is not None:
                await message.reply_text(notice)
            elif query is not None:
                await query.answer(notice)
        raise ApplicationHandlerStop

    # ------------------------------------------------------------------ free text

    async def text(self, update: Update, context: Context) -> None:
        """Free text: answer, "did you mean", small talk, or decline (groups: only if asked)."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        question = addressed_text(message, context.bot.id, context.bot.username)
        if question is None:
            return
        sender = self.sender(update)
        if question:
            with self.metrics.timing_match():
                replied_to = answered_in(message, context.bot.id)
                reply = self.interaction.text(sender, question, replied_to)
        else:  # only "@bot": say hello
            reply = self.interaction.welcome(sender)
        await self._send(message, reply, context.bot.username)

    async def not_text(self, update: Update, context: Context) -> None:
        """A sticker, photo, voice message or location in a private chat: ask for words."""
        message = update.effective_message
        if message is not None:
            await self._send(message, self.interaction.only_text(self.sender(update)))

    # ------------------------------------------------------------------ buttons and inline

    async def show(self, update: Update, context: Context) -> None:
        """A topic, related-topic or "did you mean" button: that entry's card."""
        query, action, question = self._pressed(update)
        if query is None:
            return
        sender = self.sender(update)
        if isinstance(action, ShowEntry):
            reply = self.interaction.show(sender, action, question)
        else:
            reply = self.interaction.stale(sender)
        await self._deliver(query, reply, context)

    async def topics_button(self, update: Update, context: Context) -> None:
        """The "📚 Topics" button."""
        query, action, _ = self._pressed(update)
        if query is None:
            return
        sender = self.sender(update)
        if isinstance(action, ShowTopics):
            reply = self.interaction.answerer.topics(action.language)
        else:
            reply = self.interaction.stale(sender)
        await self._deliver(query, reply, context)

    async def vote(self, update: Update, context: Context) -> None:
        """👍 or 👎: kept for the curator, thanked with a short notice (no new message)."""
        query, action, question = self._pressed(update)
        if query is None:
            return
        sender = self.sender(update)
        if isinstance(action, Vote):
            await query.answer(self.interaction.vote(sender, action, question))
        else:
            await self._deliver(query, self.interaction.stale(sender), context)

    async def stale(self, update: Update, context: Context) -> None:
        """Any other button (out of date, or forged): the topics, politely."""
        query, _, _ = self._pressed(update)
        if query is not None:
            await self._deliver(query, self.interaction.stale(self.sender(update)), context)

    @staticmethod
    def _pressed(
        update: Update,
    ) -> tuple[CallbackQuery | None, ShowEntry | Vote | ShowTopics | None, str | None]:
        """The query, its decoded action, and the question its message answered (if known)."""
        query = update.callback_query
        if query is None:
            return None, None, None
        origin = query.message if isinstance(query.message, Message) else None
        asked = origin.reply_to_message if origin is not None else None
        return query, decode(query.data or ""), asked.text if asked is not None else None

    async def _send(self, message: Message, reply: Reply, username: str | None = None) -> None:
        """Send a reply, counted by outcome."""
        await send_reply(message, reply, username)
        self.metrics.replied(reply.kind)

    async def _deliver(self, query: CallbackQuery, reply: Reply, context: Context) -> None:
        """Acknowledge the press, then send the reply under the pressed message (or edit the
        message in place when it was sent through inline mode)."""
        await query.answer()
        origin = query.message if isinstance(query.message, Message) else None
        if origin is not None:
            await self._send(origin, reply, context.bot.username)
        elif query.inline_message_id:
            await query.edit_message_text(
                reply.html_chunks()[0], reply_markup=keyboard(reply, context.bot.username)
            )

    async def inline(self, update: Update, context: Context) -> None:
        """@bot <query> in any chat: up to ten answer cards, the topics, or "not covered"."""
        query = update.inline_query
        if query is None:
            return
        sender = self.sender(update)
        language, cards = self.interaction.inline(sender, query.query, MAX_INLINE_RESULTS)
        username = context.bot.username
        if cards:
            results = [inline_article(card, username) for card in cards]
        else:
            words = messages(language)
            results = [
                InlineQueryResultArticle(
                    id="not-covered",
                    title=words.inline_no_match_title,
                    description=words.inline_no_match,
                    input_message_content=InputTextMessageContent(words.inline_no_match),
                )
            ]
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS)

    # ------------------------------------------------------------------ errors

    async def error(self, update: object, context: Context) -> None:
        """Log the exception with the update, and tell the user something went wrong."""
        log.error("error while handling an update: %r", update, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        try:
            language = self.interaction.language(self.sender(update))
            await context.bot.send_message(update.effective_chat.id, messages(language).error)
        except TelegramError:
            log.warning("could not tell the user about the error", exc_info=True)


def freeze_long_lived() -> None:
    """Keep the knowledge base and its index, which live as long as the process, out of the
    garbage collector's full passes: walking them stalled replies by tens of milliseconds.
    Unfreezing first lets a reload's old index be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
