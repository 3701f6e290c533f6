"""The schema of everything the bot keeps, once, for both backends: one versioned list of
steps, each in SQLite's and in PostgreSQL's dialect where they differ.

`STEPS[n]` upgrades a store from schema version n to n + 1; SQLite counts versions in
`PRAGMA user_version`, PostgreSQL in the table `agreement_schema`. A new step is appended
here, in both dialects, and both stores pick it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Step:
    """One schema change: what it is for, and its SQL in each dialect."""

    purpose: str
    sqlite: str
    postgres: str


STEPS: Final[tuple[Step, ...]] = (
    Step(
        "the curator's events: votes, picks, declined questions (votes move out in step 4)",
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
    CREATE TABLE events (
        id BIGSERIAL PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('vote', 'pick', 'unanswered')),
        language TEXT NOT NULL,
        entry_id TEXT,
        value INTEGER NOT NULL DEFAULT 0,
        question TEXT,
        chat TEXT
    )
    """,
    ),
    Step(
        "events by kind and entry, for the report",
        """
    CREATE INDEX events_by_kind ON events (kind, entry_id);
    """,
        "CREATE INDEX events_by_kind ON events (kind, entry_id)",
    ),
    Step(
        "the durable inbox: an update kept before it is acknowledged, until answered",
        """
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        body TEXT NOT NULL,
        received REAL NOT NULL,
        done REAL
    );
    CREATE INDEX inbox_unfinished ON inbox (update_id) WHERE done IS NULL;
    CREATE INDEX inbox_done ON inbox (done) WHERE done IS NOT NULL;
    """,
        """
    CREATE TABLE inbox (
        update_id BIGINT PRIMARY KEY,
        body TEXT NOT NULL,
        received DOUBLE PRECISION NOT NULL,
        done DOUBLE PRECISION,
        claimed_by TEXT,
        lease_until DOUBLE PRECISION
    );
    CREATE INDEX inbox_unfinished ON inbox (update_id) WHERE done IS NULL
    """,
    ),
    Step(
        "one vote per voter and entry (the last one counts); earlier votes move over",
        """
    CREATE TABLE votes (
        voter TEXT NOT NULL,
        entry_id TEXT NOT NULL,
        language TEXT NOT NULL,
        value INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (voter, entry_id)
    );
    INSERT OR REPLACE INTO votes (voter, entry_id, language, value, at)
        SELECT COALESCE(chat, 'unknown'), entry_id, language, value, at
        FROM events WHERE kind = 'vote' AND entry_id IS NOT NULL ORDER BY id;
    DELETE FROM events WHERE kind = 'vote';
    """,
        """
    CREATE TABLE votes (
        voter TEXT NOT NULL,
        entry_id TEXT NOT NULL,
        language TEXT NOT NULL,
        value INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (voter, entry_id)
    )
    """,
    ),
    Step(
        "per-chat state: the /lang pin and the last answer's topic",
        """
    CREATE TABLE chat_state (
        chat TEXT PRIMARY KEY,
        language TEXT,
        topic TEXT,
        topic_at REAL
    );
    """,
        """
    CREATE TABLE chat_state (
        chat TEXT PRIMARY KEY,
        language TEXT,
        topic TEXT,
        topic_at DOUBLE PRECISION
    )
    """,
    ),
)
SCHEMA_VERSION: Final = len(STEPS)
