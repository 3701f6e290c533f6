"""How the application runs in both modes: start-up, the durable inbox, long polling, shutdown.

As in PTB's custom-webhook example, `async with application` initialises and shuts it down,
and the application runs between `start()` and `stop()`; the updates come from our own
long-polling loop (`poll`) or from the webhook server, never from PTB's Updater, because an
update must be kept in the inbox before it is acknowledged:

- polling: a fetched batch is written to the inbox (one transaction) before the next
  getUpdates moves the offset past it;
- webhook: an update is written before the server answers 2xx (`bot.telegram.webhook`).

`InboxApplication` marks an update done once its handlers have run. On start, every update
kept but not done is processed first (`running`). An update id already in the inbox is a
second delivery: acknowledged and dropped. `stop()` finishes every update already on the
queue. Done rows older than INBOX_KEEP_HOURS, and topics older than CONTEXT_MINUTES, are
pruned.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from typing import Any, Final

from telegram import Update
from telegram._utils.types import ODVInput
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.store.base import InboxError, Store
from bot.telegram.handlers import BotHandlers
from bot.telegram.io import register_commands
from bot.telegram.metrics import Metrics

log = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS: Final = 10  # how long one getUpdates waits for news
MAX_POLL_BACKOFF_SECONDS: Final = 30.0
PRUNE_EVERY_SECONDS: Final = 3600.0


class RawUpdates(BaseRequest):
    """The getUpdates connection, which keeps the raw body of its last answer, so that the
    inbox stores Telegram's own JSON instead of serialising every update again."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.last = b""

    @property
    def read_timeout(self) -> float | None:
        """The wrapped connection's read timeout."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Initialise the wrapped connection."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Shut the wrapped connection down."""
        await self.inner.shutdown()

    async def do_request(  # noqa: PLR0917 (the signature is BaseRequest's)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make the call, and keep its body."""
        code, self.last = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        return code, self.last

    def bodies_of(self, updates: Sequence[Update]) -> list[str] | None:
        """The raw JSON of each of `updates`, from the last answer (None if it does not match)."""
        try:
            raw = json.loads(self.last)["result"]
        except (ValueError, KeyError, TypeError):
            return None
        if [item.get("update_id") for item in raw] != [u.update_id for u in updates]:
            return None
        return [json.dumps(item, ensure_ascii=False) for item in raw]


class InboxApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, which marks each update done in the inbox once it is handled."""

    inbox: Store | None = None
    metrics: Metrics | None = None
    keep_seconds: float = 24 * 3600.0
    context_seconds: float = 600.0
    raw_updates: RawUpdates | None = None

    async def process_update(self, update: object) -> None:
        """Run the handlers, then mark the update done (not when cancelled half-way)."""
        await super().process_update(update)
        if self.inbox is not None and isinstance(update, Update):
            self.inbox.finish(update.update_id)


def inbox_of(application: Application) -> Store | None:  # type: ignore[type-arg]
    """The application's inbox, if it keeps one."""
    return application.inbox if isinstance(application, InboxApplication) else None


def accept(
    application: Application,  # type: ignore[type-arg]
    updates: Sequence[Update],
    bodies: Sequence[str] | None = None,
) -> list[Update]:
    """Keep `updates` in the inbox (`bodies`: their raw JSON, when the caller has it); returns
    the ones seen for the first time, in order.

    Raises `InboxError` when they cannot be kept (then they must not be acknowledged).
    """
    inbox = inbox_of(application)
    metrics = application.metrics if isinstance(application, InboxApplication) else None
    if inbox is None:
        if metrics is not None:
            metrics.updates.inc(len(updates))
        return list(updates)
    if bodies is None:
        bodies = [json.dumps(u.to_dict()) for u in updates]
    fresh = set(
        inbox.accept([(u.update_id, body) for u, body in zip(updates, bodies, strict=True)])
    )
    dropped = len(updates) - len(fresh)
    if metrics is not None:
        metrics.updates.inc(len(fresh))
        metrics.duplicates.inc(dropped)
    if dropped:
        log.info("dropped %d update(s) delivered a second time", dropped)
    return [u for u in updates if u.update_id in fresh]


async def starting(application: Application) -> None:  # type: ignore[type-arg]
    """Once the application is initialised: publish the menus, listen for SIGHUP."""
    handlers: BotHandlers = application.bot_data["handlers"]
    await register_commands(application, handlers.knowledge, handlers.settings.admin_ids)
    _reload_on_sighup(application, handlers)


@contextlib.asynccontextmanager
async def running(application: Application) -> AsyncIterator[None]:  # type: ignore[type-arg]
    """The application initialised, started and fed what the inbox still holds; on exit,
    stopped after finishing every update on its queue, and shut down."""
    async with application:
        await starting(application)
        await application.start()
        pruning = asyncio.create_task(_prune_now_and_then(application))
        taking_over = asyncio.create_task(_take_over_now_and_then(application))
        try:
            await _replay(application)
            yield
        finally:
            pruning.cancel()
            taking_over.cancel()
            await application.stop()


async def poll(application: Application, stop: asyncio.Event) -> None:  # type: ignore[type-arg]
    """Long polling until `stop` is set: each batch is kept in the inbox before the offset
    moves past it; a batch that cannot be kept is fetched again."""
    bot = application.bot
    if await _until_stopped(bot.delete_webhook(), stop) is None:
        log.info("stopped during start-up, before any update was received")
        return
    offset: int | None = None
    backoff = 0.5
    while not stop.is_set():
        try:
            updates = await _until_stopped(
                bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=Update.ALL_TYPES
                ),
                stop,
            )
            if updates is None:
                return
            raw = application.raw_updates if isinstance(application, InboxApplication) else None
            fresh = accept(application, updates, raw.bodies_of(updates) if raw else None)
        except (InvalidToken, Forbidden):
            raise
        except (TelegramError, InboxError) as exc:
            log.warning("getting updates failed (%s); again in %.1fs", exc, backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, MAX_POLL_BACKOFF_SECONDS)
            continue
        backoff = 0.5
        for update in fresh:
            await application.update_queue.put(update)
        if updates:
            offset = updates[-1].update_id + 1


async def _until_stopped(call: Any, stop: asyncio.Event) -> Any:
    """The result of `call`, or None when `stop` is set first (the call is cancelled: what
    it would have fetched stays unconfirmed at Telegram)."""
    fetch = asyncio.ensure_future(call)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if fetch.done():
        return fetch.result()
    fetch.cancel()
    with contextlib.suppress(asyncio.CancelledError, TelegramError):
        await fetch
    return None


async def _replay(application: Application) -> None:  # type: ignore[type-arg]
    inbox = inbox_of(application)
    if inbox is None:
        return
    left = inbox.unfinished()
    if left:
        log.warning("answering %d update(s) kept from before a crash first", len(left))
    for _, body in left:
        update = Update.de_json(json.loads(body), application.bot)
        await application.update_queue.put(update)


async def _take_over_now_and_then(application: Application) -> None:  # type: ignore[type-arg]
    """With a shared inbox (replicas on one database): every third of a lease, renew this
    replica's claims, and answer the updates another replica claimed and stopped renewing
    (it died)."""
    inbox = inbox_of(application)
    if inbox is None or not inbox.shared:
        return
    while True:
        await asyncio.sleep(getattr(inbox, "lease_seconds", 30.0) / 3)
        try:
            inbox.renew()
            await _replay(application)
        except InboxError as exc:
            log.warning("could not look for updates to take over: %s", exc)


async def _prune_now_and_then(application: Application) -> None:  # type: ignore[type-arg]
    inbox = inbox_of(application)
    if inbox is None or not isinstance(application, InboxApplication):
        return
    while True:
        inbox.prune(application.keep_seconds)
        inbox.prune_topics(application.context_seconds)
        await asyncio.sleep(PRUNE_EVERY_SECONDS)


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
