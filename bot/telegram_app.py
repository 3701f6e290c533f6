"""The Telegram edge: handlers that parse an update, call the `Answerer`, and send its `Reply`.

`build_application` is the one composition root: defaults, handlers in order, the error
handler last, and the command menu registered at start-up. Tests inject a fake `request`.
"""

from __future__ import annotations

import logging
from typing import Final

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
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
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.answers import Answerer
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


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard (None when it has none)."""
    rows = [
        [
            InlineKeyboardButton(b.label, url=b.url)
            if b.url
            else InlineKeyboardButton(b.label, callback_data=b.data)
            for b in row
        ]
        for row in reply.buttons
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def send_reply(message: Message, reply: Reply) -> None:
    """Send a reply as one or more HTML messages; the keyboard goes on the last one."""
    chunks = reply.html_chunks()
    quote = message.chat.type != ChatType.PRIVATE
    for position, chunk in enumerate(chunks):
        last = position == len(chunks) - 1
        await message.reply_text(
            chunk, reply_markup=keyboard(reply) if last else None, do_quote=quote and position == 0
        )


class BotHandlers:
    """The handlers, bound to the answerer they use (replaceable, for reloads)."""

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer

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

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start: welcome and topic buttons."""
        if update.effective_message:
            reply = self.answerer.welcome(self.language(update, context))
            await send_reply(update.effective_message, reply)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help: how to ask."""
        if update.effective_message:
            await send_reply(
                update.effective_message, self.answerer.help(self.language(update, context))
            )

    async def topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/topics: every topic as a button."""
        if update.effective_message:
            reply = self.answerer.topics(self.language(update, context))
            await send_reply(update.effective_message, reply)

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/ask <question>: answer the question after the command (for groups)."""
        message = update.effective_message
        if message:
            question = " ".join(context.args or [])
            pinned = self.pinned(context) is not None
            reply = self.answerer.command("ask", question, self.language(update, context), pinned)
            if reply is not None:
                await send_reply(message, reply)

    async def topic(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/<topic>: the answer card of that topic."""
        message = update.effective_message
        if message is None or not message.text:
            return
        name = message.text.split()[0][1:].split("@")[0]
        reply = self.answerer.command(name, "", self.language(update, context))
        if reply is not None:
            await send_reply(message, reply)

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Free text: answer, "did you mean", or decline."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        reply = self.answerer.answer(message.text, self.pinned(context), self.hint(update))
        await send_reply(message, reply)

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command we do not have: a hint in private chats, silence in groups."""
        message = update.effective_message
        if message is None or message.chat.type != ChatType.PRIVATE:
            return
        language = self.language(update, context)
        reply = self.answerer.info(messages(language).unknown_command, language)
        await send_reply(message, reply)

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

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: always acknowledged, then answered (stale data gets the topics)."""
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        reply = self.answerer.press(query.data or "", self.language(update, context))
        if isinstance(query.message, Message):
            await send_reply(query.message, reply)

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
) -> Application:  # type: ignore[type-arg]
    """Wire the Telegram application: defaults, handlers in order, error handler last."""
    token = settings.telegram_bot_token
    if token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the Telegram application")
    handlers = BotHandlers(answerer)

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
            CommandHandler("start", handlers.start),
            CommandHandler("help", handlers.help),
            CommandHandler("topics", handlers.topics),
            CommandHandler("ask", handlers.ask),
            CommandHandler("lang", handlers.lang),
            CommandHandler(topic_commands, handlers.topic),
            CallbackQueryHandler(handlers.button),
            MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.text),
            MessageHandler(filters.COMMAND, handlers.unknown_command),
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
