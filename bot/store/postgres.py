"""PostgreSQL storage, for several replicas on one database (DATABASE_URL): the same `Store`
as SQLite, shared.

psycopg 3 with a small connection pool. The schema is versioned in `agreement_schema`; a newer
bot upgrades an older database step by step at start, an older bot refuses a newer one. The
inbox is shared: `update_id` is unique, so a second delivery — to this replica or another —
is dropped; a replica claims what it accepts with a lease and renews its claims while it
runs, and `unfinished` hands out only updates whose lease has run out (a replica that died),
claiming them with a fresh lease
(`FOR UPDATE SKIP LOCKED`, so two replicas never take the same one). Chats and voters are
stored only as keyed hashes, as in SQLite. Feedback failures are logged and swallowed; inbox
failures raise. No Telegram import.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

import psycopg
from psycopg_pool import ConnectionPool

from bot.core.feedback import FeedbackEvent
from bot.core.knowledge import Language
from bot.core.pipeline import MAX_QUESTION_CHARS
from bot.store.base import InboxError, Stats
from bot.store.schema import STEPS

if TYPE_CHECKING:
    from bot.store.base import Store

log = logging.getLogger(__name__)

LEASE_SECONDS: Final = 30.0  # a replica's claim on an update it is answering
CLAIM_BATCH: Final = 500
WAIT_SECONDS: Final = 1.0  # the longest a call waits for a connection
RETRY_SECONDS: Final = 1.0  # after a failure, calls fail at once for this long
MIGRATION_LOCK: Final = 8_421_337  # the advisory lock replicas take to migrate one at a time
# MIGRATIONS[n] upgrades a database from schema version n to n + 1 (bot/store/schema.py).
MIGRATIONS: Final[tuple[str, ...]] = tuple(step.postgres for step in STEPS)
SCHEMA_VERSION: Final = len(MIGRATIONS)


class PostgresStore:
    """The inbox, feedback and chat state in PostgreSQL, shared by replicas."""

    shared = True  # other replicas use the same inbox: take over their unfinished updates

    def __init__(
        self, url: str, secret: bytes, lease_seconds: float = LEASE_SECONDS, pool_size: int = 4
    ) -> None:
        self.url = url
        self._secret = secret
        self.lease_seconds = lease_seconds
        self.owner = uuid.uuid4().hex  # this replica, for its claims on updates
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            open=False,
            timeout=WAIT_SECONDS,
            kwargs={"autocommit": True, "connect_timeout": max(1, int(WAIT_SECONDS))},
            check=ConnectionPool.check_connection,  # a connection lost in an outage is replaced
        )
        self._opened = False
        self._down_until = 0.0

    # ------------------------------------------------------------------ life cycle

    def connect(self) -> None:
        """Open the pool and bring the schema up to date; raises psycopg.Error."""
        if not self._opened:
            self._pool.open(wait=True, timeout=10)
            self._opened = True
            with self._pool.connection() as connection:
                migrate(connection)

    def ping(self) -> bool:
        """True when the database can be reached."""
        try:
            self._execute("SELECT 1")
        except (psycopg.Error, OSError) as exc:
            log.warning("the database cannot be reached: %s", exc)
            return False
        return True

    def close(self) -> None:
        """Close the pool."""
        if self._opened:
            self._pool.close()
            self._opened = False

    def chat_key(self, chat: int | None) -> str | None:
        """The keyed hash that stands for a chat or a voter."""
        if chat is None:
            return None
        return hmac.new(self._secret, str(chat).encode(), hashlib.sha256).hexdigest()[:32]

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection. While the database is away, calls fail at once for a moment
        after each failure instead of each waiting (these calls run on the event loop)."""
        if time.monotonic() < self._down_until:
            raise psycopg.OperationalError("the database was unreachable a moment ago")
        try:
            self.connect()
            with self._pool.connection() as connection:
                yield connection
        except psycopg.OperationalError:
            self._down_until = time.monotonic() + RETRY_SECONDS
            raise

    def _execute(self, sql: str, values: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._connection() as connection, connection.cursor() as cursor:
            cursor.execute(sql, values)
            return list(cursor.fetchall()) if cursor.description is not None else []

    # ------------------------------------------------------------------ the inbox

    def accept(self, updates: Sequence[tuple[int, str]]) -> list[int]:
        """Keep updates (one transaction), claimed by this replica; the ids that are new."""
        if not updates:
            return []
        now = time.time()
        try:
            with self._connection() as connection, connection.transaction():
                fresh = []
                for update_id, body in updates:
                    rows = connection.execute(
                        "INSERT INTO inbox (update_id, body, received, claimed_by, lease_until)"
                        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (update_id) DO NOTHING"
                        " RETURNING update_id",
                        (update_id, body, now, self.owner, now + self.lease_seconds),
                    ).fetchall()
                    fresh += [int(row[0]) for row in rows]
                return fresh
        except (psycopg.Error, OSError) as exc:
            raise InboxError(f"cannot keep updates in PostgreSQL: {exc}") from exc

    def finish(self, update_id: int) -> None:
        """The update has been handled."""
        try:
            self._execute(
                "UPDATE inbox SET done = %s WHERE update_id = %s AND done IS NULL",
                (time.time(), update_id),
            )
        except (psycopg.Error, OSError) as exc:
            log.warning(
                "could not mark update %d done: %s (it may be answered twice)", update_id, exc
            )

    def renew(self) -> None:
        """Extend this replica's claims on the updates it holds (its heartbeat): only a
        replica that stopped renewing — that died — has its updates taken over."""
        try:
            self._execute(
                "UPDATE inbox SET lease_until = %s WHERE claimed_by = %s AND done IS NULL",
                (time.time() + self.lease_seconds, self.owner),
            )
        except (psycopg.Error, OSError) as exc:
            log.warning("could not renew the claims on updates: %s", exc)

    def unfinished(self) -> list[tuple[int, str]]:
        """Claim, with a fresh lease, the updates no replica is answering (none claimed them,
        or the claim ran out: that replica died); oldest first."""
        now = time.time()
        try:
            rows = self._execute(
                "UPDATE inbox SET claimed_by = %s, lease_until = %s WHERE update_id IN ("
                " SELECT update_id FROM inbox WHERE done IS NULL"
                " AND (lease_until IS NULL OR lease_until < %s)"
                " ORDER BY update_id LIMIT %s FOR UPDATE SKIP LOCKED)"
                " RETURNING update_id, body",
                (self.owner, now + self.lease_seconds, now, CLAIM_BATCH),
            )
        except (psycopg.Error, OSError) as exc:
            raise InboxError(f"cannot read the inbox in PostgreSQL: {exc}") from exc
        return sorted((int(u), str(b)) for u, b in rows)

    def prune(self, keep_seconds: float) -> int:
        """Forget handled updates older than `keep_seconds`."""
        try:
            rows = self._execute(
                "DELETE FROM inbox WHERE done IS NOT NULL AND done < %s RETURNING update_id",
                (time.time() - keep_seconds,),
            )
        except (psycopg.Error, OSError) as exc:
            log.warning("could not prune the inbox: %s", exc)
            return 0
        return len(rows)

    def inbox_depth(self) -> tuple[int, float | None]:
        """(updates not handled yet, age of the oldest)."""
        count, oldest = self._execute(
            "SELECT COUNT(*), MIN(received) FROM inbox WHERE done IS NULL"
        )[0]
        return int(count), (time.time() - float(oldest)) if oldest is not None else None

    # ------------------------------------------------------------------ feedback

    def record(self, event: FeedbackEvent) -> None:
        """Keep one event (a vote replaces the voter's earlier vote on the entry)."""
        at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        try:
            if event.kind == "vote":
                voter = self.chat_key(event.user if event.user is not None else event.chat)
                self._execute(
                    "INSERT INTO votes (voter, entry_id, language, value, at)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (voter, entry_id)"
                    " DO UPDATE SET value = EXCLUDED.value, language = EXCLUDED.language,"
                    " at = EXCLUDED.at",
                    (voter or "unknown", event.entry_id, event.language,
                     1 if event.value > 0 else -1, at),
                )  # fmt: skip
                return
            question = event.question[:MAX_QUESTION_CHARS] if event.question else None
            self._execute(
                "INSERT INTO events (at, kind, language, entry_id, value, question, chat)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (at, event.kind, event.language, event.entry_id, event.value, question,
                 self.chat_key(event.chat)),
            )  # fmt: skip
        except (psycopg.Error, OSError) as exc:
            log.warning("could not store feedback in PostgreSQL: %s; answering goes on", exc)

    def unanswered(self) -> list[tuple[str, str, int]]:
        """(question, language, times asked) of questions that got no answer card."""
        rows = self._execute(
            "SELECT MIN(question), language, COUNT(*) FROM events"
            " WHERE kind = 'unanswered' AND question IS NOT NULL"
            " GROUP BY lower(question), language ORDER BY COUNT(*) DESC, MIN(question)"
        )
        return [(str(q), str(lang), int(n)) for q, lang, n in rows]

    def votes(self) -> list[tuple[str, int, int]]:
        """(entry id, 👍, 👎) per voted entry, most 👎 first."""
        rows = self._execute(
            "SELECT entry_id, COUNT(*) FILTER (WHERE value > 0), COUNT(*) FILTER (WHERE value < 0)"
            " FROM votes GROUP BY entry_id"
            " ORDER BY COUNT(*) FILTER (WHERE value < 0) DESC,"
            " COUNT(*) FILTER (WHERE value > 0), entry_id"
        )
        return [(str(e), int(up), int(down)) for e, up, down in rows]

    def picks(self) -> list[tuple[str, str, int]]:
        """(question, picked entry id, times) of "did you mean" picks."""
        rows = self._execute(
            "SELECT MIN(question), entry_id, COUNT(*) FROM events"
            " WHERE kind = 'pick' AND question IS NOT NULL"
            " GROUP BY lower(question), entry_id ORDER BY COUNT(*) DESC, MIN(question)"
        )
        return [(str(q), str(e), int(n)) for q, e, n in rows]

    def stats(self) -> Stats:
        """Totals for /stats."""
        row = self._execute(
            "SELECT (SELECT COUNT(*) FROM events WHERE kind = 'unanswered'),"
            " (SELECT COUNT(*) FROM events WHERE kind = 'pick'),"
            " (SELECT COUNT(*) FROM votes WHERE value > 0),"
            " (SELECT COUNT(*) FROM votes WHERE value < 0),"
            " (SELECT COUNT(DISTINCT chat) FROM events)"
        )[0]
        return Stats(*(int(v or 0) for v in row))

    # ------------------------------------------------------------------ chat state

    def pinned(self, chat: int | None) -> Language | None:
        """The chat's /lang pin."""
        value = self._state(chat, "SELECT language FROM chat_state WHERE chat = %s")
        return "es" if value == "es" else "en" if value == "en" else None

    def pin(self, chat: int | None, language: Language | None) -> None:
        """Pin (None: unpin) the chat's language."""
        self._set_state(
            chat,
            "INSERT INTO chat_state (chat, language) VALUES (%s, %s)"
            " ON CONFLICT (chat) DO UPDATE SET language = EXCLUDED.language",
            (language,),
        )

    def topic(self, chat: int | None, max_age: float) -> str | None:
        """The chat's last answered entry, if less than `max_age` seconds ago."""
        key = self.chat_key(chat)
        if key is None:
            return None
        try:
            rows = self._execute(
                "SELECT topic FROM chat_state WHERE chat = %s AND topic_at >= %s",
                (key, time.time() - max_age),
            )
        except (psycopg.Error, OSError) as exc:
            log.warning("could not read a conversation's topic: %s", exc)
            return None
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def set_topic(self, chat: int | None, entry_id: str | None) -> None:
        """Remember the chat's last answered entry (None: forget it)."""
        self._set_state(
            chat,
            "INSERT INTO chat_state (chat, topic, topic_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (chat) DO UPDATE SET topic = EXCLUDED.topic,"
            " topic_at = EXCLUDED.topic_at",
            (entry_id, time.time() if entry_id else None),
        )

    def prune_topics(self, max_age: float) -> None:
        """Forget topics older than `max_age`, and rows with nothing left."""
        try:
            self._execute(
                "UPDATE chat_state SET topic = NULL, topic_at = NULL WHERE topic_at < %s",
                (time.time() - max_age,),
            )
            self._execute("DELETE FROM chat_state WHERE language IS NULL AND topic IS NULL")
        except (psycopg.Error, OSError) as exc:
            log.warning("could not prune old topics: %s", exc)

    def forget(self, chat: int | None, user: int | None) -> int:
        """Delete everything kept for the chat and the user's votes; rows deleted."""
        deleted = 0
        chat_key, voter = self.chat_key(chat), self.chat_key(user)
        try:
            if chat_key is not None:
                for sql in (
                    "DELETE FROM chat_state WHERE chat = %s RETURNING chat",
                    "DELETE FROM events WHERE chat = %s RETURNING id",
                ):
                    deleted += len(self._execute(sql, (chat_key,)))
            if voter is not None:
                sql = "DELETE FROM votes WHERE voter = %s RETURNING voter"
                deleted += len(self._execute(sql, (voter,)))
        except (psycopg.Error, OSError) as exc:
            log.warning("could not forget a chat: %s", exc)
        return deleted

    def _state(self, chat: int | None, sql: str) -> object:
        key = self.chat_key(chat)
        if key is None:
            return None
        try:
            rows = self._execute(sql, (key,))
        except (psycopg.Error, OSError) as exc:
            log.warning("could not read a conversation's state: %s", exc)
            return None
        return rows[0][0] if rows else None

    def _set_state(self, chat: int | None, sql: str, values: tuple[object, ...]) -> None:
        key = self.chat_key(chat)
        if key is None:
            return
        try:
            self._execute(sql, (key, *values))
        except (psycopg.Error, OSError) as exc:
            log.warning("could not keep a conversation's state: %s", exc)


def migrate(connection: psycopg.Connection[Any]) -> int:
    """Bring the schema to SCHEMA_VERSION, one transaction per step; refuse a newer one."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))  # one at a time
        connection.execute("CREATE TABLE IF NOT EXISTS agreement_schema (version INTEGER)")
        row = connection.execute("SELECT version FROM agreement_schema").fetchone()
        version = int(row[0]) if row else 0
        if row is None:
            connection.execute("INSERT INTO agreement_schema (version) VALUES (0)")
        if version > SCHEMA_VERSION:
            raise psycopg.DatabaseError(
                f"database schema {version} is newer than this program's ({SCHEMA_VERSION}): "
                "run the newer bot, or a fresh database"
            )
        while version < SCHEMA_VERSION:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    connection.execute(statement)
            version += 1
            connection.execute("UPDATE agreement_schema SET version = %s", (version,))
            log.info("database upgraded to schema %d", version)
    return version


if TYPE_CHECKING:  # mypy checks that PostgresStore is a complete `Store`

    def _is_a_store(store: PostgresStore) -> Store:
        return store
