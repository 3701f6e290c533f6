"""The curator's loop: the SQLite store (schema, hashing, failures, crashes) and the report."""

from __future__ import annotations

import csv
import io
import logging
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from bot.cli import EXIT_OK, main
from bot.core.feedback import FeedbackEvent
from bot.store.report import build_report, format_report, group_questions, write_csv
from bot.store.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStore, load_hash_secret, migrate

CHAT_ID = 987654321


@pytest.fixture
def store(tmp_path):
    db = SqliteStore(tmp_path / "data" / "feedback.sqlite3", b"test-secret")
    yield db
    db.close()


def unanswered(question: str, chat: int = CHAT_ID, language: str = "en") -> FeedbackEvent:
    return FeedbackEvent("unanswered", language, question=question, chat=chat)  # type: ignore[arg-type]


def test_database_is_created_on_first_use_in_wal_mode(store):
    assert not store.path.exists()
    store.record(unanswered("who paid for it?"))
    assert store.path.exists()
    connection = store.connect()
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_an_older_schema_upgrades_itself(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    old.execute(
        "INSERT INTO events (at, kind, language, question) VALUES ('t', 'unanswered', 'en', 'q')"
    )
    old.commit()
    old.close()
    store = SqliteStore(path, b"k")
    assert store.unanswered() == [("q", "en", 1)]
    connection = store.connect()
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = [row[1] for row in connection.execute("PRAGMA index_list(events)")]
    assert "events_by_kind" in indexes
    store.close()


def test_a_newer_schema_is_refused_without_crashing_the_bot(tmp_path, caplog):
    path = tmp_path / "new.sqlite3"
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    newer.close()
    with pytest.raises(sqlite3.DatabaseError):
        migrate(sqlite3.connect(path))
    store = SqliteStore(path, b"k")
    with caplog.at_level(logging.WARNING):
        store.record(unanswered("q"))
    assert "answering goes on" in caplog.text


def test_chats_are_stored_only_as_keyed_hashes(store):
    for question in ("first", "second"):
        store.record(unanswered(question))
    store.record(FeedbackEvent("vote", "en", "goal", 1, None, CHAT_ID))
    store.close()
    for path in store.path.parent.iterdir():
        assert str(CHAT_ID).encode() not in path.read_bytes(), path.name
    rows = sqlite3.connect(store.path).execute("SELECT DISTINCT chat FROM events").fetchall()
    assert len(rows) == 1
    assert len(rows[0][0]) == 32
    assert rows[0][0] == store.chat_key(CHAT_ID)
    assert SqliteStore(store.path, b"another-secret").chat_key(CHAT_ID) != rows[0][0]


def test_hash_secret_comes_from_settings_or_a_private_file(tmp_path):
    assert load_hash_secret("from-settings", tmp_path) == b"from-settings"
    first = load_hash_secret(None, tmp_path / "data")
    assert first == load_hash_secret(None, tmp_path / "data")
    key_file = tmp_path / "data" / "hash-secret"
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_a_full_disk_is_logged_and_the_bot_goes_on(store, caplog):
    store.record(unanswered("fills the first page"))
    connection = store.connect()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    with caplog.at_level(logging.WARNING):
        for number in range(200):
            store.record(unanswered("x" * 400 + str(number)))
    assert "full" in caplog.text
    assert "answering goes on" in caplog.text


def test_a_read_only_database_is_logged_and_the_bot_goes_on(store, caplog):
    store.record(unanswered("before"))
    store.connect().execute("PRAGMA query_only = ON")
    with caplog.at_level(logging.WARNING):
        store.record(unanswered("after"))
    assert "readonly" in caplog.text or "read-only" in caplog.text


def test_an_unwritable_directory_is_logged_and_the_bot_goes_on(tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    store = SqliteStore(blocker / "feedback.sqlite3", b"k")
    with caplog.at_level(logging.WARNING):
        store.record(unanswered("q"))
    assert "could not store feedback" in caplog.text


def test_the_store_survives_a_kill_in_the_middle_of_writing(tmp_path):
    path = tmp_path / "killed.sqlite3"
    writer = textwrap.dedent(
        f"""
        from pathlib import Path
        from bot.core.feedback import FeedbackEvent
        from bot.store.sqlite import SqliteStore
        store = SqliteStore(Path({str(path)!r}), b"k")
        number = 0
        while True:
            store.record(FeedbackEvent("unanswered", "en", question="q" * 300 + str(number)))
            number += 1
            if number == 50:
                print("writing", flush=True)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == b"writing"
    time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    count, complete = connection.execute(
        "SELECT COUNT(*), SUM(question LIKE 'qqq%' AND at IS NOT NULL) FROM events"
    ).fetchone()
    assert count >= 50
    assert complete == count
    connection.close()
    store = SqliteStore(path, b"k")
    store.record(unanswered("after the crash"))
    assert ("after the crash", "en", 1) in store.unanswered()
    store.close()


# ------------------------------------------------------------------ the report


@pytest.fixture
def filled(store):
    for question, times in [
        ("who paid for it?", 3),
        ("Who pays for it", 2),
        ("what about tariffs", 1),
        ("¿quién paga?", 2),
    ]:
        for _ in range(times):
            store.record(unanswered(question, language="es" if "¿" in question else "en"))
    for user, value in enumerate((-1, -1, -1, 1)):
        store.record(FeedbackEvent("vote", "en", "goal", value, None, CHAT_ID, user))
    store.record(FeedbackEvent("vote", "en", "arms", 1, None, CHAT_ID))
    store.record(FeedbackEvent("vote", "en", "trip", -1, None, CHAT_ID))
    for _ in range(2):
        store.record(FeedbackEvent("pick", "en", "money", 0, "who foots the bill", CHAT_ID))
    return store


def test_one_vote_per_person_and_entry_the_last_one_counts(store):
    for _ in range(50):
        store.record(FeedbackEvent("vote", "en", "goal", -1, None, CHAT_ID, 7))
    assert store.votes() == [("goal", 0, 1)]
    store.record(FeedbackEvent("vote", "en", "goal", 1, None, CHAT_ID, 7))
    store.record(FeedbackEvent("vote", "en", "goal", -1, None, CHAT_ID, 8))
    assert store.votes() == [("goal", 1, 1)]
    voters = [row[0] for row in store.connect().execute("SELECT voter FROM votes")]
    assert all(len(v) == 32 and not v.isdigit() for v in voters)  # keyed hashes only


def test_the_database_file_is_readable_by_its_owner_only(store):
    store.record(unanswered("who paid for it?"))
    assert store.path.stat().st_mode & 0o777 == 0o600


def test_report_groups_similar_unanswered_questions(filled):
    report = build_report(filled)
    first = report.unanswered[0]
    assert (first.example, first.count) == ("who paid for it?", 5)
    assert first.variants == ["Who pays for it"]
    assert [(g.example, g.count) for g in report.unanswered[1:]] == [
        ("¿quién paga?", 2),
        ("what about tariffs", 1),
    ]


def test_report_lists_most_downvoted_entries_and_missing_phrasings(filled):
    report = build_report(filled)
    assert report.downvoted == [("goal", 1, 3), ("trip", 0, 1)]
    assert report.missing_phrasings == [("who foots the bill", "money", 2)]
    text = format_report(report)
    assert "goal: 1 / 3" in text
    assert "money <- 'who foots the bill'" in text


def test_report_csv(filled):
    out = io.StringIO()
    write_csv(build_report(filled), out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["section", "entry_id", "text", "language", "count", "extra"]
    sections = [row[0] for row in rows[1:]]
    assert sections.count("unanswered") == 3
    assert ["downvoted", "goal", "", "", "3", "upvotes=1"] in rows
    assert ["missing_phrasing", "money", "who foots the bill", "", "2", ""] in rows


def test_grouping_keeps_languages_apart():
    groups = group_questions([("who pays", "en", 2), ("who pays", "es", 1)])
    assert len(groups) == 2


def test_report_command(filled, monkeypatch, capsys):
    filled.close()
    monkeypatch.setenv("DATABASE_PATH", str(filled.path))
    assert main(["report"]) == EXIT_OK
    assert "who paid for it?" in capsys.readouterr().out
    assert main(["report", "--csv"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("section,entry_id")


def test_report_command_without_a_database(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "none.sqlite3"))
    assert main(["report"]) == EXIT_OK
    assert "no feedback recorded yet" in capsys.readouterr().out
