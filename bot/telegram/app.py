"""The composition root of the Telegram bot: `build_application` wires the store, the
interaction layer, defaults, the rate limiter, handlers in order and the error handler last;
`run_telegram` runs it with long polling or a webhook until SIGINT or SIGTERM. Tests inject
a fake `request`.
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
from telegram.request import BaseRequest, HTTPXRequest

from bot.chat import callbacks, commands
from bot.chat.interaction import Interaction, load
from bot.core.feedback import FeedbackSink, MemoryFeedback
from bot.core.knowledge import Language
from bot.core.pipeline import Answerer
from bot.logs import configure_logging
from bot.settings import Settings
from bot.store.base import Store
from bot.store.postgres import PostgresStore
from bot.store.report import stats_text
from bot.store.sqlite import SqliteStore, load_hash_secret
from bot.telegram import webhook
from bot.telegram.handlers import BotHandlers, freeze_long_lived
from bot.telegram.lifecycle import InboxApplication, RawUpdates, inbox_of, poll, running
from bot.telegram.metrics import Metrics
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
    store: Store | None = None,
    feedback: FeedbackSink | None = None,
) -> InboxApplication:
    """Wire the Telegram application: defaults, handlers in order, error handler last.

    Feedback goes to `feedback`, else to `store`, else to memory; /stats reads `store`, and
    the durable inbox lives in `store` (without one, updates are not kept). The application
    has no Updater: `bot.telegram.lifecycle` runs it in both modes.
    """
    token = settings.telegram_bot_token
    if token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the Telegram application")

    def stats(language: Language, entries: int) -> str:
        assert store is not None
        return stats_text(store, language, entries)

    def loader() -> Answerer:
        return Answerer(load(settings.knowledge_dir), settings.thresholds())

    interaction = Interaction(
        answerer,
        feedback or store or MemoryFeedback(),
        state=store,
        context_seconds=settings.context_minutes * 60,
        stats=stats if store is not None else None,
        loader=loader,
    )
    metrics = Metrics()
    handlers = BotHandlers(interaction, settings, metrics)

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
        .rate_limiter(
            PatientRateLimiter(
                settings.outgoing_rate_limit, settings.send_attempts, metrics=metrics
            )
        )
        .concurrent_updates(settings.concurrent_updates)
        .updater(None)
        .application_class(InboxApplication)
    )
    timeout = settings.http_timeout_seconds
    if request is not None:
        builder = builder.request(request)
        updates_request = RawUpdates(request)
    else:
        builder = (
            builder.connection_pool_size(CONNECTION_POOL_SIZE)
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .write_timeout(timeout)
            .pool_timeout(timeout)
        )
        updates_request = RawUpdates(
            HTTPXRequest(
                connection_pool_size=1,
                read_timeout=timeout,
                connect_timeout=timeout,
                pool_timeout=timeout,
            )
        )
    application = builder.get_updates_request(updates_request).build()
    assert isinstance(application, InboxApplication)
    application.raw_updates = updates_request
    application.inbox = store
    application.metrics = metrics
    if store is not None:
        metrics.watch_inbox(store.inbox_depth)
    application.keep_seconds = settings.inbox_keep_hours * 3600
    application.context_seconds = settings.context_minutes * 60
    application.bot_data["handlers"] = handlers

    application.add_handler(TypeHandler(Update, handlers.flood_guard), group=-1)
    application.add_handlers(
        [
            *(
                CommandHandler(row.all_names, handlers.command_handler(row), filters=NEW_MESSAGES)
                for row in commands.COMMANDS
            ),
            CallbackQueryHandler(handlers.show, pattern=callbacks.SHOW_PATTERN),
            CallbackQueryHandler(handlers.vote, pattern=callbacks.VOTE_PATTERN),
            CallbackQueryHandler(handlers.topics_button, pattern=callbacks.TOPICS_PATTERN),
            CallbackQueryHandler(handlers.stale),
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


def health(application: Application, mode: str) -> dict[str, Any]:  # type: ignore[type-arg]
    """What /healthz reports: up when the application runs with a loaded knowledge base and
    its database can be reached."""
    handlers: BotHandlers = application.bot_data["handlers"]
    entries = len(handlers.knowledge.entries)
    store = inbox_of(application)
    database = "none" if store is None else "ok" if store.ping() else "unreachable"
    ok = application.running and entries > 0 and database != "unreachable"
    return {
        "status": "ok" if ok else "unavailable",
        "mode": mode,
        "running": application.running,
        "knowledge_entries": entries,
        "database": database,
    }


def open_store(settings: Settings) -> Store:
    """PostgreSQL when DATABASE_URL is set (replicas share it), else the SQLite file."""
    directory = settings.database_path.parent
    hash_secret = settings.hash_secret.get_secret_value() if settings.hash_secret else None
    if settings.database_url is not None:
        if hash_secret is None:
            log.warning("DATABASE_URL without HASH_SECRET: replicas must share one HASH_SECRET")
        key = load_hash_secret(hash_secret, directory)
        url = settings.database_url.get_secret_value()
        return PostgresStore(url, key, lease_seconds=settings.inbox_lease_seconds)
    return SqliteStore(settings.database_path, load_hash_secret(hash_secret, directory))


def run_telegram(settings: Settings, answerer: Answerer) -> int:
    """Run the bot until SIGINT or SIGTERM: long polling, or a webhook when BOT_MODE=webhook.

    Exit status 0 after a clean stop, 2 when Telegram refuses the token or the webhook
    server cannot listen, 1 after any other failure (logged, with secrets redacted).
    """
    secrets = [
        s.get_secret_value()
        for s in (settings.telegram_bot_token, settings.webhook_secret, settings.database_url)
        if s
    ]
    configure_logging(settings.log_level, secrets)
    try:
        return _run(settings, answerer)
    except webhook.ListenError as exc:
        log.error("the webhook server %s", exc)
        return 2
    except InvalidToken:
        log.error("Telegram refused the token: check TELEGRAM_BOT_TOKEN (from @BotFather)")
        return 2
    except Exception:
        log.critical("the bot stopped on an error", exc_info=True)  # secrets redacted
        return 1


def _run(settings: Settings, answerer: Answerer) -> int:
    store = open_store(settings)
    application = build_application(settings, answerer, store=store)
    entries = len(answerer.knowledge.entries)
    freeze_long_lived()
    log.info("starting with %s (%d entries)", settings.bot_mode, entries)
    try:
        asyncio.run(_serve(application, settings))
    except (NetworkError, RuntimeError) as exc:
        if not from_closing(exc):
            raise
        log.info("stopped during start-up, before any update was received")
    finally:
        store.close()
    log.info("stopped cleanly")
    return 0


async def _serve(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if settings.bot_mode == "polling":
        async with running(application):
            status = None
            if settings.metrics_port is not None:  # /healthz and /metrics beside the polling
                status = webhook.WebhookServer(
                    application, "", "", lambda: health(application, "polling")
                )
                await status.start(settings.webhook_listen, settings.metrics_port)
            try:
                await poll(application, stop)
            finally:
                if status is not None:
                    await status.stop()
        return
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
        behind_proxy=settings.webhook_behind_proxy,
    )
