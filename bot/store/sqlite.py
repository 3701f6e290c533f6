"""SQLite storage: the durable inbox of updates, and what the curator needs (declined
questions, "did you mean" picks and votes).

One file in WAL mode, created on first use with mode 0600 (it holds people's questions).
`PRAGMA user_version` carries the schema version and opening a file upgrades it step by step.
A chat or a voter is stored only as an HMAC keyed with a secret, never its id, and no names.
Feedback failures (a full or read-only disk) are logged and swallowed: the bot keeps
answering. Inbox failures raise, so that an update is never acknowledged unless it is kept.
No Telegram import.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from bot.core.feedback import FeedbackEvent
from bot.core.knowledge import Language
from bot.store.base import InboxError, Stats
from bot.store.schema import STEPS

if TYPE_CHECKING:
    from bot.store.base import Store
from bot.core.pipeline import MAX_QUESTION_CHARS  # the longest question the bot reads

log = logging.getLogger(__name__)

# MIGRATIONS[n] upgrades a file from schema version n to n + 1 (bot/store/schema.py).
MIGRATIONS: Final[tuple[str, ...]] = tuple(step.sqlite for step in STEPS)
SCHEMA_VERSION: Final = len(MIGRATIONS)
SECRET_FILE: Final = "hash-secret"  # noqa: S105 (a file name, not a password)


def load_hash_secret(configured: str | None, directory: Path) -> bytes:
    """The HMAC key: HASH_SECRET when set, else a random key kept beside the database (0600).

    If that file cannot be written either, a key for this run only is used (logged).
    """
    if configured:
        return configured.encode()
    path = directory / SECRET_FILE
    try:
        if path.exists():
            return path.read_text(encoding="utf-8").strip().encode()
        directory.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(key)
        log.warning("HASH_SECRET is not set; created %s (keep it out of backups you share)", path)
        return key.encode()
    except OSError as exc:
        log.warning(
            "cannot keep a hash secret in %s (%s): using a new one for this run only, so after "
            "each restart the same chat counts as a new one and votes start over; set "
            "HASH_SECRET or make the directory writable",
            path,
            exc,
        )
        return secrets.token_hex(32).encode()


class SqliteStore:
    """The durable inbox, and a `FeedbackSink` that keeps events in SQLite."""

    shared = False  # one process owns the file: nothing to take over from others

    def __init__(
        self,
        path: Path,
        secret: bytes,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.path = path
        self._secret = secret
        self._clock = clock
        self._connection: sqlite3.Connection | None = None

    # ------------------------------------------------------------------ life cycle

    def connect(self) -> sqlite3.Connection:
        """Open (creating and upgrading) the database; raises sqlite3.Error or OSError."""
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():  # people's questions: readable by the bot's user only
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            connection = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            migrate(connection)
            self._connection = connection
        return self._connection

    def ping(self) -> bool:
        """True when the database can be reached and read."""
        try:
            self.connect().execute("SELECT 1").fetchone()
        except (sqlite3.Error, OSError):
            return False
        return True

    def close(self) -> None:
        """Close the database (a later use opens it again)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # ------------------------------------------------------------------ writing

    def chat_key(self, chat: int | None) -> str | None:
        """The keyed hash that stands for a chat in the database."""
        if chat is None:
            return None
        return hmac.new(self._secret, str(chat).encode(), hashlib.sha256).hexdigest()[:32]

    def record(self, event: FeedbackEvent) -> None:
        """Store one event; a storage failure is logged and the bot carries on.

        A vote replaces the same voter's earlier vote on the same entry."""
        if event.kind == "vote":
            self._vote(event)
            return
        question = event.question[:MAX_QUESTION_CHARS] if event.question else None
        row = (
            self._clock().isoformat(timespec="seconds"),
            event.kind,
            event.language,
            event.entry_id,
            event.value,
            question,
            self.chat_key(event.chat),
        )
        try:
            connection = self.connect()
            with connection:
                connection.execute(
                    "INSERT INTO events (at, kind, language, entry_id, value, question, chat)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not store feedback in %s: %s; answering goes on", self.path, exc)

    def _vote(self, event: FeedbackEvent) -> None:
        voter = self.chat_key(event.user if event.user is not None else event.chat) or "unknown"
        row = (
            voter,
            event.entry_id,
            event.language,
            1 if event.value > 0 else -1,
            self._clock().isoformat(timespec="seconds"),
        )
        try:
            connection = self.connect()
            with connection:
                connection.execute(
                    "INSERT OR REPLACE INTO votes (voter, entry_id, language, value, at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    row,
                )
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not store a vote in %s: %s; answering goes on", self.path, exc)

    # ------------------------------------------------------------------ chat state

    def pinned(self, chat: int | None) -> Language | None:
        """The language pinned for `chat` with /lang, if any."""
        value = self._state(chat, "language")
        return "es" if value == "es" else "en" if value == "en" else None

    def pin(self, chat: int | None, language: Language | None) -> None:
        """Pin `chat`'s answer language (None: follow each message again)."""
        self._set_state(
            chat,
            "INSERT INTO chat_state (chat, language) VALUES (?, ?)"
            " ON CONFLICT (chat) DO UPDATE SET language = excluded.language",
            (language,),
        )

    def topic(self, chat: int | None, max_age: float) -> str | None:
        """The entry `chat` was last answered about, if that was less than `max_age` ago."""
        key = self.chat_key(chat)
        if key is None:
            return None
        try:
            rows = self._query(
                "SELECT topic FROM chat_state WHERE chat = ? AND topic_at >= ?",
                (key, time.time() - max_age),
            )
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not read a conversation's topic: %s", exc)
            return None
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def set_topic(self, chat: int | None, entry_id: str | None) -> None:
        """Remember the entry `chat` was just answered about (None: forget it)."""
        self._set_state(
            chat,
            "INSERT INTO chat_state (chat, topic, topic_at) VALUES (?, ?, ?)"
            " ON CONFLICT (chat) DO UPDATE SET topic = excluded.topic,"
            " topic_at = excluded.topic_at",
            (entry_id, time.time() if entry_id else None),
        )

    def prune_topics(self, max_age: float) -> None:
        """Forget every topic older than `max_age` (and rows with nothing left in them)."""
        try:
            connection = self.connect()
            with connection:
                connection.execute(
                    "UPDATE chat_state SET topic = NULL, topic_at = NULL WHERE topic_at < ?",
                    (time.time() - max_age,),
                )
                connection.execute(
                    "DELETE FROM chat_state WHERE language IS NULL AND topic IS NULL"
                )
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not prune old topics: %s", exc)

    def forget(self, chat: int | None, user: int | None) -> int:
        """Delete everything kept for `chat` (and the votes of `user`); returns rows deleted."""
        chat_key = self.chat_key(chat)
        voter = self.chat_key(user)
        deleted = 0
        try:
            connection = self.connect()
            with connection:
                if chat_key is not None:
                    for table in ("chat_state", "events"):
                        cursor = connection.execute(
                            f"DELETE FROM {table} WHERE chat = ?",  # noqa: S608 (fixed names)
                            (chat_key,),
                        )
                        deleted += cursor.rowcount
                if voter is not None:
                    cursor = connection.execute("DELETE FROM votes WHERE voter = ?", (voter,))
                    deleted += cursor.rowcount
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not forget a chat: %s", exc)
        return deleted

    def _state(self, chat: int | None, column: str) -> object:
        key = self.chat_key(chat)
        if key is None:
            return None
        try:
            rows = self._query(
                f"SELECT {column} FROM chat_state WHERE chat = ?",  # noqa: S608 (fixed names)
                (key,),
            )
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not read a conversation's state: %s", exc)
            return None
        return rows[0][0] if rows else None

    def _set_state(self, chat: int | None, upsert: str, values: tuple[object, ...]) -> None:
        """One upsert of the chat's row (its key first, then `values`)."""
        key = self.chat_key(chat)
        if key is None:
            return
        try:
            connection = self.connect()
            with connection:
                connection.execute(upsert, (key, *values))
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not keep a conversation's state: %s", exc)

    # ------------------------------------------------------------------ the inbox

    def accept(self, updates: Sequence[tuple[int, str]]) -> list[int]:
        """Keep updates (id, raw JSON) in one transaction; returns the ids that are new.

        An id seen before (a second delivery) is not new. Raises `InboxError` when the
        updates cannot be kept: then they must not be acknowledged.
        """
        if not updates:
            return []
        now = time.time()
        try:
            connection = self.connect()
            with connection:
                fresh = []
                for update_id, body in updates:
                    cursor = connection.execute(
                        "INSERT OR IGNORE INTO inbox (update_id, body, received) VALUES (?, ?, ?)",
                        (update_id, body, now),
                    )
                    if cursor.rowcount == 1:
                        fresh.append(update_id)
                return fresh
        except (sqlite3.Error, OSError) as exc:
            raise InboxError(f"cannot keep updates in {self.path}: {exc}") from exc

    def finish(self, update_id: int) -> None:
        """The update has been answered (or deliberately left unanswered)."""
        try:
            connection = self.connect()
            with connection:
                connection.execute(
                    "UPDATE inbox SET done = ? WHERE update_id = ? AND done IS NULL",
                    (time.time(), update_id),
                )
        except (sqlite3.Error, OSError) as exc:
            log.warning(
                "could not mark update %d done: %s (it may be answered twice)", update_id, exc
            )

    def renew(self) -> None:
        """Nothing to renew: one process owns the file."""

    def unfinished(self) -> list[tuple[int, str]]:
        """(update id, raw JSON) of every kept update not answered yet, oldest first."""
        try:
            return self._query(
                "SELECT update_id, body FROM inbox WHERE done IS NULL ORDER BY update_id"
            )
        except (sqlite3.Error, OSError) as exc:
            raise InboxError(f"cannot read the inbox in {self.path}: {exc}") from exc

    def prune(self, keep_seconds: float) -> int:
        """Forget answered updates older than `keep_seconds`; returns how many."""
        try:
            connection = self.connect()
            with connection:
                cursor = connection.execute(
                    "DELETE FROM inbox WHERE done IS NOT NULL AND done < ?",
                    (time.time() - keep_seconds,),
                )
                return int(cursor.rowcount)
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not prune the inbox: %s", exc)
            return 0

    def inbox_depth(self) -> tuple[int, float | None]:
        """(updates kept but not answered, seconds since the oldest of them arrived)."""
        rows = self._query("SELECT COUNT(*), MIN(received) FROM inbox WHERE done IS NULL")
        count, oldest = rows[0]
        return int(count), (time.time() - float(oldest)) if oldest is not None else None

    # ------------------------------------------------------------------ reading

    def unanswered(self) -> list[tuple[str, str, int]]:
        """(question, language, times asked) of declined or only-suggested questions."""
        return self._query(
            "SELECT question, language, COUNT(*) FROM events"
            " WHERE kind = 'unanswered' AND question IS NOT NULL"
            " GROUP BY lower(question), language ORDER BY COUNT(*) DESC, question"
        )

    def votes(self) -> list[tuple[str, int, int]]:
        """(entry id, 👍, 👎) per voted entry, most 👎 first; one vote per voter and entry."""
        return self._query(
            "SELECT entry_id, SUM(value > 0), SUM(value < 0) FROM votes GROUP BY entry_id"
            " ORDER BY SUM(value < 0) DESC, SUM(value > 0), entry_id"
        )

    def picks(self) -> list[tuple[str, str, int]]:
        """(question, picked entry id, times) of "did you mean" picks with a known question."""
        return self._query(
            "SELECT question, entry_id, COUNT(*) FROM events"
            " WHERE kind = 'pick' AND question IS NOT NULL"
            " GROUP BY lower(question), entry_id ORDER BY COUNT(*) DESC, question"
        )

    def stats(self) -> Stats:
        """Totals for /stats."""
        rows = self._query(
            "SELECT (SELECT COUNT(*) FROM events WHERE kind = 'unanswered'),"
            " (SELECT COUNT(*) FROM events WHERE kind = 'pick'),"
            " (SELECT COUNT(*) FROM votes WHERE value > 0),"
            " (SELECT COUNT(*) FROM votes WHERE value < 0),"
            " (SELECT COUNT(DISTINCT chat) FROM events)"
        )
        values = [int(v or 0) for v in rows[0]] if rows else [0] * 5
        return Stats(*values)

    def _query(self, sql: str, values: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
        return list(self.connect().execute(sql, values).fetchall())


def migrate(connection: sqlite3.Connection) -> int:
    """Upgrade the schema to SCHEMA_VERSION, one transaction per step; returns the version."""
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"database schema {version} is newer than this program's ({SCHEMA_VERSION})"
        )
    while version < SCHEMA_VERSION:
        with connection:
            connection.executescript(
                f"BEGIN; {MIGRATIONS[version]} PRAGMA user_version = {version + 1}; COMMIT;"
            )
        version += 1
        log.info("feedback database upgraded to schema %d", version)
    return version


if TYPE_CHECKING:  # mypy checks that SqliteStore is a complete `Store`

    def _is_a_store(store: SqliteStore) -> Store:
        return store
