"""The Telegram handlers: parse an update, call the `Answerer`, send its `Reply`.

One class, `BotHandlers`, bound to the answerer (replaced whole on reload), the feedback sink
and the settings. In groups the bot answers free text only when it is mentioned or replied to.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Final

from telegram import (
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes

from bot.core.feedback import FeedbackEvent, FeedbackSink
from bot.core.knowledge import LANGUAGES, KnowledgeError, Language, load_knowledge
from bot.core.language import DEFAULT_LANGUAGE, language_of_code
from bot.core.messages import messages
from bot.core.pipeline import Answerer, feedback_event
from bot.core.replies import Reply, plain
from bot.settings import Settings
from bot.store.report import build_report
from bot.store.sqlite import FeedbackStore
from bot.telegram.io import inline_article, keyboard, register_commands, send_reply
from bot.telegram.limits import FloodLimiter, Verdict

log = logging.getLogger(__name__)

LANGUAGE_KEY: Final = "language"  # chat_data key of a language pinned with /lang
MAX_INLINE_RESULTS: Final = 10
INLINE_CACHE_SECONDS: Final = 60


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


class BotHandlers:
    """The handlers, bound to the answerer (replaced whole on reload) and the feedback sink."""

    def __init__(
        self,
        answerer: Answerer,
        feedback: FeedbackSink,
        settings: Settings,
        store: FeedbackStore | None = None,
    ) -> None:
        self.answerer = answerer
        self.feedback = feedback
        self.settings = settings
        self.store = store
        self.limiter = FloodLimiter(settings.flood_limit, settings.flood_window_seconds)
        self._reload_lock = asyncio.Lock()

    def is_admin(self, update: Update) -> bool:
        """True when the sender is one of ADMIN_IDS."""
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_ids

    # ------------------------------------------------------------------ language

    @staticmethod
    def pinned(context: ContextTypes.DEFAULT_TYPE) -> Language | None:
        """The language pinned for this chat with /lang, if any."""
        chat_data = context.chat_data
        value = chat_data.get(LANGUAGE_KEY) if chat_data is not None else None
        return value if value in LANGUAGES else None

    @staticmethod
    def hint(update: Update) -> str | None:
        """The user's Telegram language_code, used only to break ties."""
        return update.effective_user.language_code if update.effective_user else None

    def language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> Language:
        """The language for replies that have no question to read: pinned, else the user's."""
        return self.pinned(context) or language_of_code(self.hint(update)) or DEFAULT_LANGUAGE

    # ------------------------------------------------------------------ commands

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start [payload]: welcome with topic buttons, or the entry a deep link names."""
        message = update.effective_message
        if message is None:
            return
        payload = " ".join(context.args or [])
        reply = self.answerer.command("start", payload, self.language(update, context))
        if reply is not None:
            await send_reply(message, reply, context.bot.username)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help: how to ask."""
        if update.effective_message:
            reply = self.answerer.help(self.language(update, context))
            await send_reply(update.effective_message, reply)

    async def topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/topics: every topic as a button."""
        if update.effective_message:
            reply = self.answerer.topics(self.language(update, context))
            await send_reply(update.effective_message, reply)

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/ask <question>: answer the question after the command (for groups)."""
        message = update.effective_message
        if message is None:
            return
        question = " ".join(context.args or [])
        pinned = self.pinned(context) is not None
        reply = self.answerer.command("ask", question, self.language(update, context), pinned)
        if reply is not None:
            self._note_unanswered(update, question, reply)
            await send_reply(message, reply, context.bot.username)

    async def lang(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/lang en|es|auto: pin the chat's answer language, or follow each message again."""
        message = update.effective_message
        if message is None or context.chat_data is None:
            return
        fallback = language_of_code(self.hint(update)) or DEFAULT_LANGUAGE
        argument = " ".join(context.args or [])
        reply, pinned = self.answerer.set_language(argument, self.pinned(context), fallback)
        if pinned is None:
            context.chat_data.pop(LANGUAGE_KEY, None)
        else:
            context.chat_data[LANGUAGE_KEY] = pinned
        await send_reply(message, reply)

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/<topic> (looked up in the current knowledge base, so reloads can add topics), or a
        command we do not have: a hint in private chats, silence in groups."""
        message = update.effective_message
        if message is None or not message.text:
            return
        name, _, target = message.text.split()[0][1:].partition("@")
        if target and target.lower() != (context.bot.username or "").lower():
            await self.unknown_command(update, context)  # /command@OtherBot: a hint in private
            return
        reply = self.answerer.command(name, "", self.language(update, context))
        if reply is not None:
            await send_reply(message, reply, context.bot.username)
        else:
            await self.unknown_command(update, context)

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command we do not have: a hint in private chats, silence in groups."""
        message = update.effective_message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return
        language = self.language(update, context)
        await send_reply(message, self.answerer.info(messages(language).unknown_command, language))

    # ------------------------------------------------------------------ admins

    async def _admin_reply(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: Callable[[], Awaitable[str]]
    ) -> None:
        """Send an admin command's text; for anyone else behave like an unknown command."""
        message = update.effective_message
        if not self.is_admin(update):
            await self.unknown_command(update, context)
        elif message is not None:
            await send_reply(message, Reply("info", "en", (plain(await text()),)))

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stats (admins): feedback totals and the top unanswered questions."""

        async def text() -> str:
            return self.stats_text()

        await self._admin_reply(update, context, text)

    def stats_text(self) -> str:
        """The /stats message (plain text)."""
        if self.store is None:
            return "No feedback store is configured."
        try:
            totals = self.store.stats()
            report = build_report(self.store)
        except (sqlite3.Error, OSError) as exc:
            return f"The feedback store cannot be read: {exc}"
        lines = [
            f"Knowledge: {len(self.answerer.knowledge.entries)} entries.",
            f"Feedback: {totals.unanswered} unanswered, {totals.picks} did-you-mean picks, "
            f"{totals.upvotes} 👍, {totals.downvotes} 👎, from {totals.chats} chats.",
            "Top unanswered:",
        ]
        lines += [f"  {g.count} × {g.example}" for g in report.unanswered[:5]] or ["  (none)"]
        lines.append("Most 👎:")
        lines += [f"  {e}: {d} 👎 / {u} 👍" for e, u, d in report.downvoted[:3]] or ["  (none)"]
        return "\n".join(lines)

    async def reload_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/reload (admins): load knowledge/ again; a broken file keeps the running base."""

        async def text() -> str:
            return (await self.reload(context.application))[1]

        await self._admin_reply(update, context, text)

    async def reload(self, application: Application) -> tuple[bool, str]:  # type: ignore[type-arg]
        """Load the knowledge base again and swap it in whole; on problems keep the old one."""
        async with self._reload_lock:
            settings = self.settings
            try:
                knowledge = await asyncio.to_thread(load_knowledge, settings.knowledge_dir)
            except KnowledgeError as exc:
                lines = [str(p) for p in exc.problems]
                log.error("reload refused, the running knowledge base stays:\n%s", "\n".join(lines))
                text = "Reload refused; the running knowledge base stays. Problems:\n" + "\n".join(
                    lines
                )
                return False, text
            answerer = await asyncio.to_thread(Answerer, knowledge, settings.thresholds())
            self.answerer = answerer  # one reference swap: every later update sees the new base
            freeze_long_lived()
            await register_commands(application, answerer)
            log.info("knowledge reloaded: %d entries", len(knowledge.entries))
            return True, f"Reloaded: {len(knowledge.entries)} entries."

    # ------------------------------------------------------------------ limits

    async def flood_guard(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Runs first: over FLOOD_LIMIT messages a minute, one polite notice, then silence."""
        message = update.message
        user = update.effective_user
        if message is None or user is None or self.is_admin(update):
            return
        verdict = self.limiter.check(user.id)
        if verdict is Verdict.ALLOW:
            return
        if verdict is Verdict.NOTIFY:
            language = self.language(update, context)
            notice = messages(language).flood.format(limit=self.settings.flood_limit)
            await message.reply_text(notice)
        raise ApplicationHandlerStop

    # ------------------------------------------------------------------ free text

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Free text: answer, "did you mean", small talk, or decline (groups: only if asked)."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        question = addressed_text(message, context.bot.id, context.bot.username)
        if question is None:
            return
        if not question:  # only "@bot": say hello
            reply = self.answerer.welcome(self.language(update, context))
        else:
            reply = self.answerer.answer(question, self.pinned(context), self.hint(update))
            self._note_unanswered(update, question, reply)
        await send_reply(message, reply, context.bot.username)

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A sticker, photo, voice message or location in a private chat: ask for words."""
        message = update.effective_message
        if message is None:
            return
        language = self.language(update, context)
        await send_reply(message, self.answerer.info(messages(language).only_text, language))

    # ------------------------------------------------------------------ buttons and inline

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: always acknowledged, then answered (stale data gets the topics)."""
        query = update.callback_query
        if query is None:
            return
        data = query.data or ""
        origin = query.message if isinstance(query.message, Message) else None
        asked = origin.reply_to_message if origin is not None else None
        chat = update.effective_chat.id if update.effective_chat else None
        event = feedback_event(data, asked.text if asked is not None else None, chat)
        if event is not None:
            self.feedback.record(event)
        reply = self.answerer.press(data, self.language(update, context))
        if reply is None:  # a vote
            await query.answer(messages(event.language if event else "en").vote_thanks)
            return
        await query.answer()
        if origin is not None:
            await send_reply(origin, reply, context.bot.username)
        elif query.inline_message_id:  # a message sent through inline mode
            await query.edit_message_text(
                reply.html_chunks()[0], reply_markup=keyboard(reply, context.bot.username)
            )

    async def inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """@bot <query> in any chat: up to ten answer cards, the topics, or "not covered"."""
        query = update.inline_query
        if query is None:
            return
        text = query.query.strip()
        language, cards = self.answerer.inline(text, self.hint(update), MAX_INLINE_RESULTS)
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
            self.feedback.record(FeedbackEvent("unanswered", language, question=text))
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS)

    # ------------------------------------------------------------------ errors

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the exception with the update, and tell the user something went wrong."""
        log.error("error while handling an update: %r", update, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        try:
            language = self.language(update, context)
            await context.bot.send_message(update.effective_chat.id, messages(language).error)
        except TelegramError:
            log.warning("could not tell the user about the error", exc_info=True)

    def _note_unanswered(self, update: Update, question: str, reply: Reply) -> None:
        if reply.kind in ("decline", "suggest"):
            chat = update.effective_chat.id if update.effective_chat else None
            event = FeedbackEvent("unanswered", reply.language, question=question, chat=chat)
            self.feedback.record(event)


def freeze_long_lived() -> None:
    """Keep the knowledge base and its index, which live as long as the process, out of the
    garbage collector's full passes: walking them stalled replies by tens of milliseconds.
    Unfreezing first lets a reload's old index be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
