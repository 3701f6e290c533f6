"""Webhook mode: a small tornado server that takes Telegram's POSTs and answers /healthz.

Telegram sends every update to WEBHOOK_URL with the X-Telegram-Bot-Api-Secret-Token header.
The header is checked before the body is read: a request without the right secret gets 403
and its body is never taken in. Bodies are capped at MAX_BODY_BYTES, and idle or slow
connections time out. A body that is not an update gets 400 and one warning line.

An update is written to the durable inbox before 200 is returned (a second delivery of the
same update_id is acknowledged and dropped), then put on the application's queue; if the
inbox cannot keep it, the answer is 503 and Telegram delivers it again. Shutdown stops the
server first and then drains the queue. PTB's own run_webhook has no place for a health
route, hence this module (tornado comes with PTB's "webhooks" extra).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlparse

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Update
from telegram.ext import Application

from bot.store.base import InboxError
from bot.telegram.lifecycle import accept, running
from bot.telegram.metrics import CONTENT_TYPE

log = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
HEALTH_PATH: Final = "/healthz"
METRICS_PATH: Final = "/metrics"
MAX_BODY_BYTES: Final = 1_000_000
DRAIN_SECONDS: Final = 10.0
IDLE_CONNECTION_SECONDS: Final = 30.0  # a keep-alive connection with no request is closed
BODY_SECONDS: Final = 10.0  # a body that takes longer to arrive is refused

Health = Callable[[], dict[str, Any]]


class ListenError(OSError):
    """The server cannot listen where it was told to (port in use, bad address)."""


def webhook_path(webhook_url: str) -> str:
    """The local path Telegram's POSTs arrive on: the path of the public WEBHOOK_URL."""
    return urlparse(webhook_url).path or "/"


def parse_update(body: bytes, application: Application) -> Update:  # type: ignore[type-arg]
    """The update in a request body; ValueError when the body is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise ValueError(f"JSON {type(data).__name__} without an integer update_id")
    try:
        update = Update.de_json(data, application.bot)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise ValueError(f"not an update ({exc.__class__.__name__}: {exc})") from None
    if update is None:
        raise ValueError("not an update")
    return update


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    def initialize(self, server: WebhookServer) -> None:
        self.server = server
        self._chunks: list[bytes] = []
        self._size = 0

    def prepare(self) -> None:
        """Before any of the body is read: the secret, then the announced size."""
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.server.secret.encode()):
            log.warning(
                "webhook request without the right secret token from %s", self.request.remote_ip
            )
            self._refuse(403)
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            self._refuse(413)

    def _refuse(self, status: int) -> None:
        self.set_status(status)
        self.set_header("Connection", "close")
        self.finish({"ok": False, "status": status})
        close = getattr(self.request.connection, "close", None)
        if close is not None:
            close()  # never read the rest of the body

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > MAX_BODY_BYTES:
            self._refuse(413)
            return
        self._chunks.append(chunk)

    async def post(self) -> None:
        server = self.server
        body = b"".join(self._chunks)
        try:
            update = parse_update(body, server.application)
        except ValueError as exc:
            log.warning("webhook request with a body that is not an update: %s", exc)
            self.send_error(400)
            return
        server.begin()
        try:
            fresh = accept(server.application, [update], [body.decode("utf-8", "replace")])
            for kept in fresh:
                await server.application.update_queue.put(kept)
        except InboxError as exc:
            log.error("update %d not acknowledged, Telegram will retry: %s", update.update_id, exc)
            self.send_error(503)
            return
        finally:
            server.end()
        self.set_status(200)
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish({"ok": False, "status": status_code})


class _MetricsHandler(tornado.web.RequestHandler):
    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    def get(self) -> None:
        metrics = getattr(self.server.application, "metrics", None)
        if metrics is None:
            self.send_error(404)
            return
        self.set_header("Content-Type", CONTENT_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.finish(metrics.render())


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
        behind_proxy: bool = False,
    ) -> None:
        self.application = application
        self.secret = secret
        self.path = path
        self.health = health
        self.behind_proxy = behind_proxy
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
        """The tornado application: /healthz, /metrics and (unless it only reports on a
        polling bot) the webhook path."""
        routes: list[Any] = [
            (HEALTH_PATH, _HealthHandler, {"server": self}),
            (METRICS_PATH, _MetricsHandler, {"server": self}),
        ]
        if self.path:
            routes.append((self.path, _UpdateHandler, {"server": self}))
        return tornado.web.Application(routes)

    async def start(self, address: str, port: int) -> int:
        """Listen on address:port (0 picks a free port); returns the port."""
        self._http = tornado.httpserver.HTTPServer(
            self.app(),
            max_body_size=MAX_BODY_BYTES,
            xheaders=self.behind_proxy,  # X-Real-IP is trusted only from a proxy in front
            idle_connection_timeout=IDLE_CONNECTION_SECONDS,
            body_timeout=BODY_SECONDS,
        )
        try:
            sockets = tornado.netutil.bind_sockets(port, address)
        except OSError as exc:
            raise ListenError(f"cannot listen on {address}:{port}: {exc}") from None
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
    behind_proxy: bool = False,
) -> None:
    """Run the application on a webhook until `stop` is set, then shut down cleanly: the
    server stops taking requests first, then every update already accepted is answered."""
    server = WebhookServer(application, secret, webhook_path(webhook_url), health, behind_proxy)
    async with running(application):
        bound = await server.start(listen, port)
        try:
            await application.bot.set_webhook(
                webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
            )
            if ready is not None:
                ready(bound)
            await stop.wait()
            log.info("stopping: no new webhook requests; finishing the received updates")
        finally:
            await server.stop()
