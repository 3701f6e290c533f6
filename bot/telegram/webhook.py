"""Webhook mode: a small tornado server that takes Telegram's POSTs and answers /healthz.

Telegram sends every update to WEBHOOK_URL with the X-Telegram-Bot-Api-Secret-Token header;
a request without the right secret gets 403 and is never parsed. An accepted update is put
on the application's queue before 200 is returned, and shutdown stops the server first and
then drains the queue, so a received update is never lost. PTB's own run_webhook has no
place for a health route, hence this module (tornado comes with PTB's "webhooks" extra).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import urlparse

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
HEALTH_PATH: Final = "/healthz"
MAX_BODY_BYTES: Final = 1_000_000
DRAIN_SECONDS: Final = 10.0

Health = Callable[[], dict[str, Any]]
OnStart = Callable[[Application], Awaitable[None]]  # type: ignore[type-arg]


def webhook_path(webhook_url: str) -> str:
    """The local path Telegram's POSTs arrive on: the path of the public WEBHOOK_URL."""
    return urlparse(webhook_url).path or "/"


class _UpdateHandler(tornado.web.RequestHandler):
    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    async def post(self) -> None:
        server = self.server
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), server.secret.encode()):
            log.warning(
                "webhook request without the right secret token from %s", self.request.remote_ip
            )
            self.send_error(403)
            return
        try:
            data = json.loads(self.request.body)
            update = Update.de_json(data, server.application.bot)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("webhook request with a body that is not an update: %s", exc)
            self.send_error(400)
            return
        server.begin()
        try:
            await server.application.update_queue.put(update)
        finally:
            server.end()
        self.set_status(200)
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish({"ok": False, "status": status_code})


class _HealthHandler(tornado.web.RequestHandler):
    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    def get(self) -> None:
        report = self.server.health()
        self.set_status(200 if report.get("status") == "ok" else 503)
        self.set_header("Cache-Control", "no-store")
        self.finish(report)


class WebhookServer:
    """Receives updates over HTTP for one application."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        secret: str,
        path: str,
        health: Health,
    ) -> None:
        self.application = application
        self.secret = secret
        self.path = path
        self.health = health
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._http: tornado.httpserver.HTTPServer | None = None
        self.port: int | None = None

    def begin(self) -> None:
        """An accepted update is on its way to the queue."""
        self.in_flight += 1
        self._idle.clear()

    def end(self) -> None:
        """That update is on the queue."""
        self.in_flight -= 1
        if not self.in_flight:
            self._idle.set()

    def app(self) -> tornado.web.Application:
        """The tornado application (routes: the webhook path and /healthz)."""
        return tornado.web.Application(
            [
                (HEALTH_PATH, _HealthHandler, {"server": self}),
                (self.path, _UpdateHandler, {"server": self}),
            ]
        )

    async def start(self, address: str, port: int) -> int:
        """Listen on address:port (0 picks a free port); returns the port."""
        self._http = tornado.httpserver.HTTPServer(
            self.app(), max_body_size=MAX_BODY_BYTES, xheaders=True
        )
        sockets = tornado.netutil.bind_sockets(port, address)
        self._http.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        log.info("webhook server listening on %s:%d%s", address, self.port, self.path)
        return self.port

    async def stop(self) -> None:
        """Stop accepting requests, and wait for accepted updates to reach the queue."""
        if self._http is None:
            return
        self._http.stop()
        try:
            await asyncio.wait_for(self._idle.wait(), DRAIN_SECONDS)
        except TimeoutError:
            log.error("%d webhook updates did not reach the queue in time", self.in_flight)
        await self._http.close_all_connections()
        self._http = None


async def serve(
    application: Application,  # type: ignore[type-arg]
    *,
    webhook_url: str,
    secret: str,
    listen: str,
    port: int,
    health: Health,
    stop: asyncio.Event,
    ready: Callable[[int], None] | None = None,
    on_start: OnStart | None = None,
) -> None:
    """Run the application on a webhook until `stop` is set, then shut down cleanly.

    As in PTB's custom-webhook example: `async with application` initialises and shuts it
    down, and the application runs between `start()` and `stop()`, with this server in
    front instead of an updater. `on_start` runs once the application is initialised.
    """
    server = WebhookServer(application, secret, webhook_path(webhook_url), health)
    async with application:
        if on_start is not None:
            await on_start(application)
        await application.start()
        bound = await server.start(listen, port)
        await application.bot.set_webhook(
            webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
        if ready is not None:
            ready(bound)
        await stop.wait()
        log.info("stopping: no new webhook requests; finishing the received updates")
        await server.stop()
        await application.stop()
