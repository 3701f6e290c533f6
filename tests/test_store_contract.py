"""One suite of contract tests for every implementation of `bot.store.base.Store`.

Today the implementation is SQLite; a PostgreSQL one (issue 14) joins the `store` fixture's
parameters and must pass the same tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.core.feedback import FeedbackEvent
from bot.store.base import Store
from bot.store.sqlite import SqliteStore

CHAT = 555_000_111
USER = 555_000_222


@pytest.fixture(params=["sqlite"])
def store(request, tmp_path) -> Iterator[Store]:
    kept = SqliteStore(tmp_path / "contract.sqlite3", b"contract-key")
    yield kept
    kept.close()


def body(update_id: int) -> str:
    return json.dumps({"update_id": update_id})


def test_an_update_is_kept_once(store):
    assert store.accept([(1, body(1)), (2, body(2))]) == [1, 2]
    assert store.accept([(1, body(1))]) == []
    assert store.inbox_depth()[0] == 2


def test_unfinished_updates_come_back_oldest_first_until_finished(store):
    store.accept([(5, body(5)), (3, body(3))])
    assert [u for u, _ in store.unfinished()] == [3, 5]
    store.finish(3)
    assert store.unfinished() == [(5, body(5))]
    store.finish(5)
    assert store.inbox_depth() == (0, None)


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
        assert str(CHAT) not in dump
        assert str(USER) not in dump


def test_the_store_can_be_pinged(store):
    assert store.ping()
