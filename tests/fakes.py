"""Offline Telegram doubles: a recording BaseRequest and builders of incoming updates."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from telegram import Bot, Update
from telegram.request import BaseRequest, RequestData

from bot.chat.callbacks import encode
from bot.core.knowledge import Language
from bot.core.replies import ShowEntry, Vote
from bot.telegram.app import health
from bot.telegram.webhook import serve

BOT_ID = 4242
BOT_USERNAME = "AgreementTestBot"
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"
_ids = itertools.count(1)


def answer_data(entry_id: str, language: Language) -> str:
    """The callback data of a button that answers `entry_id`."""
    return encode(ShowEntry(entry_id, language))


def vote_data(entry_id: str, value: int, language: Language) -> str:
    """The callback data of a 👍 (1) or 👎 (-1) button."""
    return encode(Vote(entry_id, language, value))


async def serve_webhook_in_background(
    application: Any, url: str, secret: str
) -> tuple[asyncio.Task[None], asyncio.Event, int]:
    """Run `application` on the webhook server at 127.0.0.1 (a free port) in a task.

    Returns the task, the event that stops it, and the port."""
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            application,
            webhook_url=url,
            secret=secret,
            listen="127.0.0.1",
            port=0,
            health=lambda: health(application, "webhook"),
            stop=stop,
            ready=ready.set_result,
        )
    )
    return task, stop, await asyncio.wait_for(ready, 10)


def bot_user(bot_id: int, username: str) -> dict[str, Any]:
    """What getMe answers for the bot."""
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": "Agreement",
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": True,
    }


class RecordingRequest(BaseRequest):
    """Answers every Bot API call like Telegram would, and records (method, parameters)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_methods: dict[str, tuple[int, dict[str, Any]]] = {}

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(  # noqa: PLR0917 (the signature is BaseRequest's)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        parameters = dict(request_data.parameters) if request_data else {}
        self.calls.append((endpoint, parameters))
        if endpoint in self.fail_methods:
            status, body = self.fail_methods[endpoint]
            return status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(endpoint, parameters)}).encode()

    def _result(self, endpoint: str, parameters: dict[str, Any]) -> Any:
        if endpoint == "getMe":
            return bot_user(BOT_ID, BOT_USERNAME)
        if endpoint == "editMessageText" and "inline_message_id" in parameters:
            return True
        if endpoint in ("sendMessage", "editMessageText"):
            return {
                "message_id": next(_ids),
                "date": 0,
                "chat": {"id": parameters.get("chat_id", 1), "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Agreement"},
                "text": parameters.get("text", ""),
            }
        if endpoint == "getUpdates":
            return []
        return True

    # ------------------------------------------------------------------ assertions

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        """Parameters of every call to `method`, in order."""
        return [params for name, params in self.calls if name == method]

    def texts(self) -> list[str]:
        """Texts of every sent message."""
        return [str(p["text"]) for p in self.sent()]

    def clear(self) -> None:
        self.calls.clear()


def user(user_id: int = 777, language_code: str | None = "en") -> dict[str, Any]:
    data: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Ana"}
    if language_code:
        data["language_code"] = language_code
    return data


def chat(chat_type: str = "private", chat_id: int = 777) -> dict[str, Any]:
    data: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type != "private":
        data["title"] = "Test group"
    return data


def message_update(
    bot: Bot,
    text: str,
    *,
    chat_type: str = "private",
    chat_id: int | None = None,
    language_code: str | None = "en",
    reply_to_bot: bool = False,
    entities: list[dict[str, Any]] | None = None,
) -> Update:
    """An incoming text message; commands get their bot_command entity automatically."""
    cid = chat_id if chat_id is not None else (777 if chat_type == "private" else -100123)
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": 0,
        "chat": chat(chat_type, cid),
        "from": user(language_code=language_code),
        "text": text,
    }
    if entities is not None:
        message["entities"] = entities
    elif text.startswith("/"):
        length = len(text.split(maxsplit=1)[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    if reply_to_bot:
        message["reply_to_message"] = {
            "message_id": next(_ids),
            "date": 0,
            "chat": chat(chat_type, cid),
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Agreement",
                "username": BOT_USERNAME,
            },
            "text": "earlier answer",
        }
    return Update.de_json({"update_id": next(_ids), "message": message}, bot)


def callback_update(
    bot: Bot,
    data: str,
    *,
    chat_type: str = "private",
    with_message: bool = True,
    replying_to: str | None = None,
) -> Update:
    """A button press on one of the bot's messages."""
    cid = 777 if chat_type == "private" else -100123
    query: dict[str, Any] = {
        "id": str(next(_ids)),
        "from": user(),
        "chat_instance": "ci",
        "data": data,
    }
    if with_message:
        query["message"] = {
            "message_id": next(_ids),
            "date": 0,
            "chat": chat(chat_type, cid),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Agreement"},
            "text": "a card",
        }
        if replying_to is not None:
            query["message"]["reply_to_message"] = {
                "message_id": next(_ids),
                "date": 0,
                "chat": chat(chat_type, cid),
                "from": user(),
                "text": replying_to,
            }
    else:
        query["inline_message_id"] = "inline-1"
    return Update.de_json({"update_id": next(_ids), "callback_query": query}, bot)


def inline_update(bot: Bot, query: str, language_code: str | None = "en") -> Update:
    """An inline query: @bot <query> typed in any chat."""
    payload = {
        "id": str(next(_ids)),
        "from": user(language_code=language_code),
        "query": query,
        "offset": "",
    }
    return Update.de_json({"update_id": next(_ids), "inline_query": payload}, bot)


def raw_update(bot: Bot, payload: dict[str, Any]) -> Update:
    """Any update from a raw Bot API dict (update_id added)."""
    return Update.de_json({"update_id": next(_ids), **payload}, bot)
