"""The composition root of the Telegram bot: `build_application` wires defaults, the rate
limiter, handlers in order and the error handler last; `run_telegram` runs it with long
polling or a webhook until SIGINT or SIGTERM. Tests inject a fake `request`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any, Final

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.core.feedback import FeedbackSink, MemoryFeedback
from bot.core.pipeline import Answerer
from bot.logs import configure_logging
from bot.settings import Settings
from bot.store.sqlite import FeedbackStore, load_hash_secret
from bot.telegram import webhook
from bot.telegram.handlers import BotHandlers, freeze_long_lived
from bot.telegram.io import register_commands
from bot.telegram.resilience import PatientRateLimiter, from_closing

log = logging.getLogger(__name__)

# httpcore scans every pooled connection for each request, so PTB's default of 256 costs more
# than it gives: 16 keep-alive connections carry far more than Telegram's 30 messages a second.
CONNECTION_POOL_SIZE: Final = 16
# Messages only: edited messages and channel posts are not questions to answer.
NEW_MESSAGES: Final = filters.UpdateType.MESSAGE


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
    freeze_long_lived()
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
