"""The Telegram edge: handlers that parse an update, call the `Answerer`, and send its `Reply`.

`build_application` is the one composition root: defaults, handlers in order, the error
handler last, and the command menus registered at start-up. Tests inject a fake `request`.
In groups the bot answers free text only when it is mentioned or replied to.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import signal
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import webhook
from bot.answers import Answerer, deep_link_payload, feedback_event
from bot.feedback import FeedbackEvent, FeedbackSink, MemoryFeedback
from bot.knowledge import LANGUAGES, KnowledgeError, Language, load_knowledge
from bot.language import DEFAULT_LANGUAGE, language_of_code
from bot.limits import FloodLimiter, Verdict
from bot.logs import configure_logging
from bot.messages import messages
from bot.replies import Reply, plain
from bot.report import build_report
from bot.settings import Settings
from bot.store import FeedbackStore, load_hash_secret

log = logging.getLogger(__name__)

BUILTIN_COMMANDS: Final = ("start", "help", "topics", "ask", "lang")  # in the menus
ADMIN_COMMANDS: Final = ("stats", "reload")  # admins only, never in the menus
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
LANGUAGE_KEY: Final = "language"  # chat_data key of a language pinned with /lang
MAX_INLINE_RESULTS: Final = 10
INLINE_CACHE_SECONDS: Final = 60
DESCRIPTION_CHARS: Final = 100
MAX_BACKOFF_SECONDS: Final = 4.0
GROUP_MESSAGES_PER_MINUTE: Final = 20  # Telegram's limit per group
# httpcore scans every pooled connection for each request, so PTB's default of 256 costs more
# than it gives: 16 keep-alive connections carry far more than Telegram's 30 messages a second.
CONNECTION_POOL_SIZE: Final = 16
_Json = dict[str, Any]
# Messages only: edited messages and channel posts are not questions to answer.
NEW_MESSAGES: Final = filters.UpdateType.MESSAGE


class PatientRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter (Telegram's flood limits; waits out 429 retry_after), which also
    retries network failures — 5xx answers, timeouts, dropped connections — with backoff.

    A failed call is retried, so a reply is not lost to a passing fault. Telegram has no
    idempotency keys: if it applied a send and only the response was lost, the retry sends
    it twice. At-least-once is the better trade for a question-answering bot.
    getUpdates is left to the Updater, which has its own retry loop.
    """

    def __init__(self, overall_max_rate: float, attempts: int, backoff: float = 0.25) -> None:
        limited = overall_max_rate > 0  # 0 switches both limits off (local test servers only)
        super().__init__(
            overall_max_rate=overall_max_rate,
            group_max_rate=GROUP_MESSAGES_PER_MINUTE if limited else 0,
            max_retries=attempts,
        )
        self.attempts = attempts
        self.backoff = backoff

    async def process_request(  # noqa: PLR0917 (the signature is BaseRateLimiter's)
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | _Json | list[_Json]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | _Json | list[_Json]:
        """Run the call under the rate limits; retry network failures a few times."""
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except NetworkError as exc:
                # BadRequest is a NetworkError in PTB, but a 400 never succeeds on retry; and
                # a call aborted because its coroutine is being closed must not be retried.
                final = isinstance(exc, BadRequest) or attempt == self.attempts
                if final or endpoint == "getUpdates" or from_closing(exc):
                    raise
                log.warning("%s failed (%s); retry %d in %.2fs", endpoint, exc, attempt, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        raise AssertionError("unreachable")  # pragma: no cover


def from_closing(exc: BaseException) -> bool:
    """True when `exc` was caused by a coroutine being closed (a GeneratorExit in its chain).

    PTB closes its start-up coroutine when a stop signal arrives during start-up; httpx then
    reports the aborted request as an ordinary error, which PTB wraps in NetworkError.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, GeneratorExit):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


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
            _freeze_long_lived()
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
            results = [_article(card, username) for card in cards]
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


def _article(card: Reply, bot_username: str | None) -> InlineQueryResultArticle:
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


def build_application(
    settings: Settings,
    answerer: Answerer,
    *,
    request: BaseRequest | None = None,
    store: FeedbackStore | None = None,
    feedback: FeedbackSink | None = None,
) -> Application:  # type: ignore[type-arg]
    """Wire the Telegram application: defaults, handlers in order, error handler last.

    Feedback goes to `feedback`, else to `store`, else to memory. SIGHUP reloads the
    knowledge base when the application runs in the main thread.
    """
    token = settings.telegram_bot_token
    if token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the Telegram application")
    sink: FeedbackSink = feedback or store or MemoryFeedback()
    handlers = BotHandlers(answerer, sink, settings, store)

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        await register_commands(application, handlers.answerer)
        _reload_on_sighup(application, handlers)

    async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
        if store is not None:
            store.close()

    builder = (
        ApplicationBuilder()
        .token(token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(PatientRateLimiter(settings.outgoing_rate_limit, settings.send_attempts))
        .concurrent_updates(settings.concurrent_updates)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        timeout = settings.http_timeout_seconds
        builder = (
            builder.connection_pool_size(CONNECTION_POOL_SIZE)
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .write_timeout(timeout)
            .pool_timeout(timeout)
            .get_updates_connect_timeout(timeout)
            .get_updates_read_timeout(timeout)
            .get_updates_pool_timeout(timeout)
        )
    application = builder.build()
    application.bot_data["handlers"] = handlers

    application.add_handler(TypeHandler(Update, handlers.flood_guard), group=-1)
    application.add_handlers(
        [
            CommandHandler("start", handlers.start, filters=NEW_MESSAGES),
            CommandHandler("help", handlers.help, filters=NEW_MESSAGES),
            CommandHandler("topics", handlers.topics, filters=NEW_MESSAGES),
            CommandHandler("ask", handlers.ask, filters=NEW_MESSAGES),
            CommandHandler("lang", handlers.lang, filters=NEW_MESSAGES),
            CommandHandler("stats", handlers.stats, filters=NEW_MESSAGES),
            CommandHandler("reload", handlers.reload_command, filters=NEW_MESSAGES),
            CallbackQueryHandler(handlers.button),
            InlineQueryHandler(handlers.inline),
            MessageHandler(NEW_MESSAGES & filters.TEXT & ~filters.COMMAND, handlers.text),
            MessageHandler(NEW_MESSAGES & filters.COMMAND, handlers.command),
            MessageHandler(
                NEW_MESSAGES & filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL,
                handlers.not_text,
            ),
        ]
    )
    application.add_error_handler(handlers.error)
    return application


def _reload_on_sighup(application: Application, handlers: BotHandlers) -> None:  # type: ignore[type-arg]
    """SIGHUP reloads the knowledge base (only possible in the main thread, on Unix)."""
    loop = asyncio.get_running_loop()
    pending: set[asyncio.Task[tuple[bool, str]]] = set()

    def reload() -> None:
        task = loop.create_task(handlers.reload(application))
        pending.add(task)  # keep a reference until it is done
        task.add_done_callback(pending.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, reload)
    except (ValueError, RuntimeError, NotImplementedError, AttributeError):
        log.debug("SIGHUP reload is not available here")


def _freeze_long_lived() -> None:
    """Keep the knowledge base and its index, which live as long as the process, out of the
    garbage collector's full passes: walking them stalled replies by tens of milliseconds.
    Unfreezing first lets a reload's old index be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def health(application: Application, mode: str) -> dict[str, Any]:  # type: ignore[type-arg]
    """What /healthz reports: up when the application runs with a loaded knowledge base."""
    handlers: BotHandlers = application.bot_data["handlers"]
    entries = len(handlers.answerer.knowledge.entries)
    ok = application.running and entries > 0
    return {
        "status": "ok" if ok else "unavailable",
        "mode": mode,
        "running": application.running,
        "knowledge_entries": entries,
    }


def run_telegram(settings: Settings, answerer: Answerer) -> int:
    """Run the bot until SIGINT or SIGTERM: long polling, or a webhook when BOT_MODE=webhook."""
    secrets = [
        s.get_secret_value() for s in (settings.telegram_bot_token, settings.webhook_secret) if s
    ]
    configure_logging(settings.log_level, secrets)
    directory = settings.database_path.parent
    hash_secret = settings.hash_secret.get_secret_value() if settings.hash_secret else None
    store = FeedbackStore(settings.database_path, load_hash_secret(hash_secret, directory))
    application = build_application(settings, answerer, store=store)
    entries = len(answerer.knowledge.entries)
    _freeze_long_lived()
    try:
        if settings.bot_mode == "polling":
            log.info("starting with long polling (%d entries)", entries)
            application.run_polling(allowed_updates=Update.ALL_TYPES)
        else:
            log.info("starting with a webhook (%d entries)", entries)
            asyncio.run(_run_webhook(application, settings))
    except InvalidToken:
        log.error("Telegram refused the token: check TELEGRAM_BOT_TOKEN (from @BotFather)")
        return 2
    except (NetworkError, RuntimeError) as exc:
        if not from_closing(exc):
            raise
        log.info("stopped during start-up, before any update was received")
    log.info("stopped cleanly")
    return 0


async def _run_webhook(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    await webhook.serve(
        application,
        webhook_url=settings.webhook_url,
        secret=settings.webhook_secret.get_secret_value(),
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        health=lambda: health(application, "webhook"),
        stop=stop,
    )
