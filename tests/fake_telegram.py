"""A fake Telegram Bot API server for tests and the load benchmark.

Real HTTP on 127.0.0.1 (tornado, which PTB's "webhooks" extra already brings). It implements
getMe, getUpdates (offset confirms, timeout long-polls, limit), sendMessage, editMessageText,
answerCallbackQuery, answerInlineQuery, setMyCommands, deleteWebhook, setWebhook and
getWebhookInfo, records every call, and can deliver updates to a webhook like Telegram does.

Faults: a chosen share of calls can get 429 with retry_after, 500, 502, a hang past the
client's read timeout, a dropped connection, or status 200 with a body that is not JSON (a
proxy's error page). A faulty call is never applied, the way an
overloaded front end rejects a request before Telegram acts on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import tornado.httpserver
import tornado.netutil
import tornado.web

from tests.fakes import bot_user

_ANSWERED_WITH_TRUE = frozenset(
    {"answerCallbackQuery", "answerInlineQuery", "setMyCommands", "editMessageText"}
)
BOT_ID = 5150
BOT_USERNAME = "AgreementFakeBot"
FAULT_KINDS = ("429", "500", "502", "hang", "drop", "garbled")
# Parameters that are plain strings on the wire (everything else is JSON-encoded by PTB).
_STRINGS = frozenset(
    {
        "text", "query", "callback_query_id", "inline_query_id", "url", "secret_token",
        "parse_mode", "inline_message_id", "language_code", "description", "next_offset",
    }
)  # fmt: skip


@dataclass
class Faults:
    """Which calls fail, and how."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    methods: frozenset[str] | None = None  # None: every method but getMe
    retry_after: int = 1
    hang_seconds: float = 2.0
    seed: int = 7
    rng: random.Random = field(init=False)
    _turn: itertools.count[int] = field(init=False, default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def pick(self, method: str) -> str | None:
        """The fault for this call, or None."""
        if self.rate <= 0 or (self.methods is None and method == "getMe"):
            return None
        if self.methods is not None and method not in self.methods:
            return None
        if self.rng.random() >= self.rate:
            return None
        return self.kinds[next(self._turn) % len(self.kinds)]  # every kind in turn


@dataclass(frozen=True)
class Call:
    """One Bot API call as the server saw it (faulty calls included, marked)."""

    method: str
    params: dict[str, Any]
    at: float
    fault: str | None = None


class FakeTelegram:
    """The server and its state: the users' updates, the bot's calls, the faults."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.faults = Faults()
        self.calls: list[Call] = []
        self.pending: list[dict[str, Any]] = []  # updates not yet confirmed by an offset
        self.pushed_at: dict[int, float] = {}  # update_id -> when the user "sent" it
        self.webhook: dict[str, Any] | None = None
        self.webhook_targets: list[str] = []  # where to POST (the bots' local addresses)
        self.on_call: Callable[[Call], None] | None = None
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._http: tornado.httpserver.HTTPServer | None = None
        self._delivery: asyncio.Task[None] | None = None
        self.port = 0

    # ------------------------------------------------------------------ server

    async def start(self) -> FakeTelegram:
        """Listen on a free port of 127.0.0.1."""
        app = tornado.web.Application(
            [(r"/bot([^/]+)/([A-Za-z]+)", _MethodHandler, {"fake": self})],
            log_function=lambda handler: None,  # a harness: no access log on shutdown races
        )
        self._http = tornado.httpserver.HTTPServer(app)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self._http.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        return self

    async def stop_delivery(self) -> None:
        """Stop POSTing to webhooks (the updates not delivered stay pending)."""
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None

    async def stop(self) -> None:
        """Stop the server and the webhook delivery."""
        if self._delivery is not None:
            self._delivery.cancel()
        if self._http is not None:
            self._http.stop()
            await self._http.close_all_connections()

    @property
    def base_url(self) -> str:
        """TELEGRAM_API_BASE_URL for the bot."""
        return f"http://127.0.0.1:{self.port}/bot"

    # ------------------------------------------------------------------ the users' side

    def push(self, payload: dict[str, Any]) -> int:
        """A user does something; returns the update id."""
        update_id = next(self._update_ids)
        self.pending.append({"update_id": update_id, **payload})
        self.pushed_at[update_id] = time.perf_counter()
        self._arrived.set()
        return update_id

    def send_text(
        self, text: str, chat_id: int, user_id: int | None = None, chat_type: str = "private"
    ) -> int:
        """A user sends a text message."""
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": "User"}
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "Group"
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0]) if text.strip() else 1
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self.push({"message": message})

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """Parameters of every applied call to `method`."""
        return [c.params for c in self.calls if c.method == method and c.fault is None]

    def replies_to(self, chat_id: int) -> list[str]:
        """Texts the bot sent to one chat."""
        return [str(p["text"]) for p in self.sent() if p.get("chat_id") == chat_id]

    async def wait_until(self, condition: Callable[[], bool], within: float = 20.0) -> None:
        """Wait until `condition()` holds, or fail after `within` seconds."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake Telegram server did not see what was expected")
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------------ the methods

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset", 0) or 0)
        limit = int(params.get("limit", 100) or 100)
        timeout = float(params.get("timeout", 0) or 0)
        if offset:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
        if not self.pending and timeout > 0:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return []
        return self.pending[:limit]

    def apply(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return bot_user(BOT_ID, BOT_USERNAME)
        if method in ("sendMessage", "editMessageText") and "inline_message_id" not in params:
            chat_id = params.get("chat_id", 0)
            return {
                "message_id": int(params.get("message_id") or next(self._message_ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if int(chat_id) > 0 else "supergroup"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Agreement"},
                "text": params.get("text", ""),
            }
        if method == "setWebhook":
            self.webhook = {"url": params.get("url"), "secret": params.get("secret_token")}
        elif method == "deleteWebhook":
            self.webhook = None
            if params.get("drop_pending_updates"):
                self.pending.clear()
        elif method == "getWebhookInfo":
            url = self.webhook["url"] if self.webhook else ""
            return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}
        elif method not in _ANSWERED_WITH_TRUE:
            raise _ApiError(404, "Not Found: method not found")
        return True

    # ------------------------------------------------------------------ webhook delivery

    def deliver_to(self, target: str | list[str], concurrency: int = 40) -> None:
        """Start POSTing pending updates to the bot's webhook server, like Telegram would
        (to several, in turn by update id, like a load balancer in front of replicas)."""
        self.webhook_targets = [target] if isinstance(target, str) else list(target)
        self._delivery = asyncio.create_task(self._deliver(concurrency))

    async def _deliver(self, concurrency: int) -> None:
        in_flight: set[int] = set()
        slots = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(timeout=5) as client:

            async def post(update: dict[str, Any]) -> None:
                async with slots:
                    assert self.webhook is not None
                    headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook["secret"] or ""}
                    try:
                        response = await client.post(
                            self.webhook_targets[update["update_id"] % len(self.webhook_targets)],
                            json=update,
                            headers=headers,
                        )
                        if response.status_code == 200:
                            self.pending = [
                                u for u in self.pending if u["update_id"] != update["update_id"]
                            ]
                    except httpx.HTTPError:
                        pass  # the bot is down: Telegram keeps the update and tries again
                    finally:
                        in_flight.discard(update["update_id"])

            while True:
                if self.webhook is not None:
                    for update in list(self.pending):
                        if update["update_id"] not in in_flight:
                            in_flight.add(update["update_id"])
                            asyncio.create_task(post(update))  # noqa: RUF006 (tracked by id)
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), 0.05)


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


class _MethodHandler(tornado.web.RequestHandler):
    def initialize(self, fake: FakeTelegram) -> None:
        self.fake = fake

    def _params(self) -> dict[str, Any]:
        body = self.request.body or b""
        content_type = self.request.headers.get("Content-Type", "")
        if "json" in content_type and body:
            return dict(json.loads(body))
        raw: dict[str, str] = dict(parse_qsl(body.decode(), keep_blank_values=True))
        for key, values in self.request.query_arguments.items():
            raw.setdefault(key, values[-1].decode())
        if "multipart" in content_type:
            raw.update({k: v[0].decode() for k, v in self.request.body_arguments.items()})
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _STRINGS:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    async def get(self, token: str, method: str) -> None:
        await self.post(token, method)

    async def post(self, token: str, method: str) -> None:
        fake = self.fake
        if token != fake.token:
            self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        params = self._params()
        fault = fake.faults.pick(method)
        call = Call(method, params, time.perf_counter(), fault)
        fake.calls.append(call)
        if fault is not None:
            await self._fail(fault)
            return
        try:
            if method == "getUpdates":
                result: Any = await fake.get_updates(params)
            else:
                result = fake.apply(method, params)
        except _ApiError as exc:
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            self._reply(exc.code, body)
            return
        if fake.on_call is not None:
            fake.on_call(call)
        self._reply(200, {"ok": True, "result": result})

    async def _fail(self, fault: str) -> None:
        faults = self.fake.faults
        if fault == "429":
            body = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {faults.retry_after}",
                "parameters": {"retry_after": faults.retry_after},
            }
            self._reply(429, body)
        elif fault == "garbled":
            self.set_status(200)
            self.set_header("Content-Type", "text/html")
            self.finish("<html><body>502 Bad Gateway</body></html>")
        elif fault in ("500", "502"):
            code = int(fault)
            self._reply(code, {"ok": False, "error_code": code, "description": "Server error"})
        else:
            if fault == "hang":
                await asyncio.sleep(faults.hang_seconds)
            self._auto_finish = False
            self.request.connection.close()  # type: ignore[union-attr]

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, *args: Any) -> None:  # dropped connections are on purpose
        return None
