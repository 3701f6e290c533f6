"""The Telegram edge: handlers that parse an update, call the `Answerer`, and send its `Reply`.

`build_application` is the one composition root: defaults, handlers in order, the error
handler last, and the command menus registered at start-up. Tests inject a fake `request`.
In groups the bot answers free text only when it is mentioned or replied to.
"""

from __future__ import annotations

import logging
import re
from typing import Final

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
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.answers import Answerer, deep_link_payload, feedback_event
from bot.feedback import FeedbackEvent, FeedbackSink, MemoryFeedback
from bot.knowledge import LANGUAGES, Language
from bot.language import DEFAULT_LANGUAGE, language_of_code
from bot.logs import configure_logging
from bot.messages import messages
from bot.replies import Reply
from bot.settings import Settings

log = logging.getLogger(__name__)

BUILTIN_COMMANDS: Final = ("start", "help", "topics", "ask", "lang")
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
# Messages only: edited messages and channel posts are not questions to answer.
NEW_MESSAGES: Final = filters.UpdateType.MESSAGE


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
    """The handlers, bound to the answerer (replaceable, for reloads) and the feedback sink."""

    def __init__(self, answerer: Answerer, feedback: FeedbackSink) -> None:
        self.answerer = answerer
        self.feedback = feedback

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

    async def topic(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/<topic>: the answer card of that topic."""
        message = update.effective_message
        if message is None or not message.text:
            return
        name = message.text.split()[0][1:].split("@")[0]
        reply = self.answerer.command(name, "", self.language(update, context))
        if reply is not None:
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

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command we do not have: a hint in private chats, silence in groups."""
        message = update.effective_message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return
        language = self.language(update, context)
        await send_reply(message, self.answerer.info(messages(language).unknown_command, language))

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
    feedback: FeedbackSink | None = None,
) -> Application:  # type: ignore[type-arg]
    """Wire the Telegram application: defaults, handlers in order, error handler last."""
    token = settings.telegram_bot_token
    if token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the Telegram application")
    handlers = BotHandlers(answerer, feedback if feedback is not None else MemoryFeedback())

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        await register_commands(application, handlers.answerer)

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
        .rate_limiter(AIORateLimiter())
        .post_init(post_init)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data["handlers"] = handlers

    topic_commands = [c for e in answerer.knowledge.commands for c in e.commands]
    application.add_handlers(
        [
            CommandHandler("start", handlers.start, filters=NEW_MESSAGES),
            CommandHandler("help", handlers.help, filters=NEW_MESSAGES),
            CommandHandler("topics", handlers.topics, filters=NEW_MESSAGES),
            CommandHandler("ask", handlers.ask, filters=NEW_MESSAGES),
            CommandHandler("lang", handlers.lang, filters=NEW_MESSAGES),
            CommandHandler(topic_commands, handlers.topic, filters=NEW_MESSAGES),
            CallbackQueryHandler(handlers.button),
            InlineQueryHandler(handlers.inline),
            MessageHandler(NEW_MESSAGES & filters.TEXT & ~filters.COMMAND, handlers.text),
            MessageHandler(NEW_MESSAGES & filters.COMMAND, handlers.unknown_command),
        ]
    )
    application.add_error_handler(handlers.error)
    return application


def run_telegram(settings: Settings, answerer: Answerer) -> int:
    """Run the bot with long polling until interrupted."""
    token = settings.telegram_bot_token
    configure_logging(settings.log_level, [token.get_secret_value()] if token else [])
    application = build_application(settings, answerer)
    log.info("starting the bot with long polling (%d entries)", len(answerer.knowledge.entries))
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
