"""One suite of contract tests for every implementation of `bot.store.base.Store`.

SQLite (the embedded default) and PostgreSQL (a real server started by the tests, see
`tests/postgres_server.py`) must pass the same tests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from bot.core.feedback import FeedbackEvent
from bot.store.base import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore

LEASE = 0.3  # seconds (PostgreSQL's claims), short for the tests
CHAT = 555_000_111
USER = 555_000_222


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        kept: Store = SqliteStore(tmp_path / "contract.sqlite3", b"contract-key")
    else:
        url = request.getfixturevalue("postgres_url")
        kept = PostgresStore(url, b"contract-key", lease_seconds=LEASE)
    yield kept
    kept.close()


def restarted(store: Store) -> Store:
    """The same storage opened again, as by a restarted (or another) bot, once every claim
    of the first has run out."""
    if isinstance(store, SqliteStore):
        return SqliteStore(store.path, b"contract-key")
    assert isinstance(store, PostgresStore)
    time.sleep(LEASE * 1.5)
    return PostgresStore(store.url, b"contract-key", lease_seconds=LEASE)


def body(update_id: int) -> str:
    return json.dumps({"update_id": update_id})


def test_an_update_is_kept_once(store):
    assert store.accept([(1, body(1)), (2, body(2))]) == [1, 2]
    assert store.accept([(1, body(1))]) == []
    assert store.inbox_depth()[0] == 2


def test_unfinished_updates_come_back_after_a_restart_oldest_first(store):
    store.accept([(5, body(5)), (3, body(3)), (4, body(4))])
    store.finish(4)
    again = restarted(store)
    assert again.unfinished() == [(3, body(3)), (5, body(5))]
    again.finish(3)
    again.finish(5)
    assert again.inbox_depth() == (0, None)
    again.close()


def test_finished_updates_are_pruned_after_the_keeping_time(store):
    store.accept([(1, body(1))])
    store.finish(1)
    assert store.prune(keep_seconds=3600) == 0
    assert store.prune(keep_seconds=0) == 1


def test_one_vote_per_voter_and_entry(store):
    for value in (1, -1, -1):
        store.record(FeedbackEvent("vote", "en", "goal", value, None, CHAT, USER))
    store.record(FeedbackEvent("vote", "en", "goal", 1, None, CHAT, USER + 1))
    assert store.votes() == [("goal", 1, 1)]


def test_unanswered_questions_are_counted(store):
    for _ in range(2):
        store.record(FeedbackEvent("unanswered", "en", question="who paid?", chat=CHAT))
    assert store.unanswered() == [("who paid?", "en", 2)]


def test_chat_state_and_forgetting(store):
    store.pin(CHAT, "es")
    store.set_topic(CHAT, "morales")
    store.record(FeedbackEvent("unanswered", "en", question="who paid?", chat=CHAT))
    store.record(FeedbackEvent("vote", "en", "goal", 1, None, CHAT, USER))
    assert store.pinned(CHAT) == "es"
    assert store.topic(CHAT, max_age=60) == "morales"
    assert store.topic(CHAT, max_age=-1) is None  # older than allowed
    assert store.forget(CHAT, USER) >= 3
    assert store.pinned(CHAT) is None
    assert store.topic(CHAT, max_age=60) is None
    assert store.unanswered() == []
    assert store.votes() == []


def test_ids_are_never_kept_in_clear(store, tmp_path):
    store.pin(CHAT, "en")
    store.record(FeedbackEvent("vote", "en", "goal", 1, None, CHAT, USER))
    store.record(FeedbackEvent("unanswered", "en", question="q", chat=CHAT))
    if isinstance(store, SqliteStore):
        dump = "\n".join(store.connect().iterdump())
    else:
        tables = ("events", "votes", "chat_state", "inbox")
        dump = "\n".join(str(store._execute(f"SELECT * FROM {t}")) for t in tables)
    assert str(CHAT) not in dump
    assert str(USER) not in dump


def test_the_store_can_be_pinged(store):
    assert store.ping()


def test_two_replicas_share_the_inbox_and_take_over_after_the_lease(postgres_url):
    first = PostgresStore(postgres_url, b"k", lease_seconds=0.3)
    second = PostgresStore(postgres_url, b"k", lease_seconds=0.3)
    try:
        assert first.accept([(1, body(1)), (2, body(2))]) == [1, 2]
        assert second.accept([(2, body(2))]) == []  # delivered to the other replica too
        assert second.unfinished() == []  # the first replica's claims still hold
        first.finish(1)
        time.sleep(0.4)  # the first replica died: its claim on update 2 runs out
        assert second.unfinished() == [(2, body(2))]
        assert first.unfinished() == []  # now claimed by the second
        second.pin(CHAT, "es")
        assert first.pinned(CHAT) == "es"  # a pin set through one holds on the other
    finally:
        first.close()
        second.close()


def test_a_newer_schema_is_refused(postgres_url):
    import psycopg

    from bot.store import postgres

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE agreement_schema (version INTEGER)")
        connection.execute(
            "INSERT INTO agreement_schema VALUES (%s)", (postgres.SCHEMA_VERSION + 1,)
        )
    store = PostgresStore(postgres_url, b"k")
    with pytest.raises(psycopg.DatabaseError, match="newer than this program"):
        store.connect()
    store.close()


def test_the_curators_report_reads_the_shared_database(postgres_url, monkeypatch, capsys):
    from bot.cli import EXIT_OK, main

    store = PostgresStore(postgres_url, b"k")
    store.record(FeedbackEvent("unanswered", "en", question="who paid for it?", chat=CHAT))
    store.close()
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    assert main(["report"]) == EXIT_OK
    assert "who paid for it?" in capsys.readouterr().out
