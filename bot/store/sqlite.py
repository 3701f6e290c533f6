"""SQLite storage of what the curator needs: declined questions, "did you mean" picks and votes.

One file in WAL mode, created on first use. `PRAGMA user_version` carries the schema version
and opening a file upgrades it step by step. A chat is stored only as an HMAC keyed with a
secret, never its id, and no names. Storage failures (a full or read-only disk) are logged
and swallowed: the bot keeps answering. No Telegram import.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from bot.core.feedback import FeedbackEvent
from bot.core.pipeline import MAX_QUESTION_CHARS  # the longest question the bot reads

log = logging.getLogger(__name__)

# MIGRATIONS[n] upgrades a file from schema version n to n + 1.
MIGRATIONS: Final[tuple[str, ...]] = (
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('vote', 'pick', 'unanswered')),
        language TEXT NOT NULL,
        entry_id TEXT,
        value INTEGER NOT NULL DEFAULT 0,
        question TEXT,
        chat TEXT
    );
    """,
    """
    CREATE INDEX events_by_kind ON events (kind, entry_id);
    """,
)
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
        log.warning("cannot keep a hash secret in %s (%s); using one for this run only", path, exc)
        return secrets.token_hex(32).encode()


@dataclass(frozen=True)
class Stats:
    """Counts for /stats."""

    unanswered: int
    picks: int
    upvotes: int
    downvotes: int
    chats: int


class FeedbackStore:
    """A `FeedbackSink` that keeps events in SQLite."""

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
            connection = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            migrate(connection)
            self._connection = connection
        return self._connection

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
        """Store one event; a storage failure is logged and the bot carries on."""
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

    # ------------------------------------------------------------------ reading

    def unanswered(self) -> list[tuple[str, str, int]]:
        """(question, language, times asked) of declined or only-suggested questions."""
        return self._rows(
            "SELECT question, language, COUNT(*) FROM events"
            " WHERE kind = 'unanswered' AND question IS NOT NULL"
            " GROUP BY lower(question), language ORDER BY COUNT(*) DESC, question"
        )

    def votes(self) -> list[tuple[str, int, int]]:
        """(entry id, 👍, 👎) per voted entry, most 👎 first."""
        return self._rows(
            "SELECT entry_id, SUM(value > 0), SUM(value < 0) FROM events"
            " WHERE kind = 'vote' GROUP BY entry_id"
            " ORDER BY SUM(value < 0) DESC, SUM(value > 0), entry_id"
        )

    def picks(self) -> list[tuple[str, str, int]]:
        """(question, picked entry id, times) of "did you mean" picks with a known question."""
        return self._rows(
            "SELECT question, entry_id, COUNT(*) FROM events"
            " WHERE kind = 'pick' AND question IS NOT NULL"
            " GROUP BY lower(question), entry_id ORDER BY COUNT(*) DESC, question"
        )

    def stats(self) -> Stats:
        """Totals for /stats."""
        rows = self._rows(
            "SELECT SUM(kind = 'unanswered'), SUM(kind = 'pick'),"
            " SUM(kind = 'vote' AND value > 0), SUM(kind = 'vote' AND value < 0),"
            " COUNT(DISTINCT chat) FROM events"
        )
        values = [int(v or 0) for v in rows[0]] if rows else [0] * 5
        return Stats(*values)

    def _rows(self, sql: str) -> list[tuple]:  # type: ignore[type-arg]
        return list(self.connect().execute(sql).fetchall())


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
