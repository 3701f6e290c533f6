"""The harness's own ceiling: a trivial bot that long-polls and echoes every message back.

It does the least a bot can do over the Bot API (httpx, the same 8 messages in flight as the
real bot's default), so `tests/loadtest.py` can tell how much of a run's limit is the fake
server and the load generator, and how much is the real bot.

    python -m tests.echo_bot <base url with token>
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import httpx

IN_FLIGHT = 8


async def main(base: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    slots = asyncio.Semaphore(IN_FLIGHT)
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=16)) as client:

        async def echo(message: dict[str, Any]) -> None:
            async with slots:
                await client.post(
                    f"{base}/sendMessage",
                    json={"chat_id": message["chat"]["id"], "text": message.get("text", "")},
                )

        offset = 0
        while not stop.is_set():
            response = await client.post(
                f"{base}/getUpdates", json={"offset": offset, "timeout": 1}
            )
            for update in response.json().get("result", []):
                offset = update["update_id"] + 1
                if "message" in update:
                    await slots.acquire()  # keep at most IN_FLIGHT waiting, like the real bot
                    slots.release()
                    task = asyncio.create_task(echo(update["message"]))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
