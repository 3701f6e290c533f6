"""Surviving a flaky network: PTB's rate limiter that also retries failed Bot API calls.

Telegram's flood limits and its 429 answers are PTB's `AIORateLimiter` job; 5xx answers,
timeouts, dropped connections and answers that are not JSON (a proxy's error page with
status 200) are retried here with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final

from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import AIORateLimiter

from bot.telegram.metrics import Metrics

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS: Final = 4.0
GROUP_MESSAGES_PER_MINUTE: Final = 20  # Telegram's limit per group
_Json = dict[str, Any]


class PatientRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter (Telegram's flood limits; waits out 429 retry_after), which also
    retries network failures — 5xx answers, timeouts, dropped connections — with backoff.

    A failed call is retried, so a reply is not lost to a passing fault. Telegram has no
    idempotency keys: if it applied a send and only the response was lost, the retry sends
    it twice. At-least-once is the better trade for a question-answering bot.
    getUpdates is left to the Updater, which has its own retry loop.
    """

    def __init__(
        self,
        overall_max_rate: float,
        attempts: int,
        backoff: float = 0.25,
        metrics: Metrics | None = None,
    ) -> None:
        limited = overall_max_rate > 0  # 0 switches both limits off (local test servers only)
        super().__init__(
            overall_max_rate=overall_max_rate,
            group_max_rate=GROUP_MESSAGES_PER_MINUTE if limited else 0,
            max_retries=attempts,
        )
        self.attempts = attempts
        self.backoff = backoff
        self.metrics = metrics

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
            except TelegramError as exc:
                # BadRequest is a NetworkError in PTB, but a 400 never succeeds on retry; and
                # a call aborted because its coroutine is being closed must not be retried.
                if not (isinstance(exc, NetworkError) or is_garbled(exc)):
                    raise
                final = isinstance(exc, BadRequest) or attempt == self.attempts
                if final or endpoint == "getUpdates" or from_closing(exc):
                    if self.metrics is not None and not from_closing(exc):
                        self.metrics.failures.labels(endpoint).inc()
                    raise
                if self.metrics is not None:
                    self.metrics.retries.labels(endpoint).inc()
                log.warning("%s failed (%s); retry %d in %.2fs", endpoint, exc, attempt, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_SECONDS)
        raise AssertionError("unreachable")  # pragma: no cover


def is_garbled(exc: TelegramError) -> bool:
    """True for PTB's "Invalid server response": an answer whose body is not JSON."""
    return type(exc) is TelegramError and "invalid server response" in exc.message.lower()


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
