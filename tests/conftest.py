"""Shared fixtures: the shipped knowledge base, an answerer, and an offline Telegram application."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.chat.interaction import Interaction, load
from bot.core.knowledge import KnowledgeBase
from bot.core.pipeline import Answerer
from bot.settings import DEFAULT_KNOWLEDGE_DIR, Settings
from bot.telegram.app import build_application
from tests import postgres_server
from tests.fakes import TOKEN, RecordingRequest

KNOWLEDGE_DIR = DEFAULT_KNOWLEDGE_DIR


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's .env or environment settings."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return load(KNOWLEDGE_DIR)


@pytest.fixture(scope="session")
def answerer(knowledge: KnowledgeBase) -> Answerer:
    return Answerer(knowledge)


@pytest.fixture
def interaction(answerer: Answerer) -> Interaction:
    return Interaction(answerer)


@pytest.fixture(scope="session")
def postgres_server_running() -> Iterator[postgres_server.Server]:
    """A real PostgreSQL server for the session (skipped, loudly, without its binaries)."""
    if not postgres_server.available():
        warnings.warn(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: the PostgreSQL tests are "
            "SKIPPED. Install Debian's postgresql package (.ci/run does).",
            stacklevel=1,
        )
        pytest.skip("PostgreSQL server binaries not found")
    with postgres_server.running_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server_running: postgres_server.Server) -> str:
    """An empty database of its own for one test."""
    return postgres_server.fresh_database(postgres_server_running.url)


@pytest.fixture
def settings() -> Settings:
    return Settings(telegram_bot_token=SecretStr(TOKEN), _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def fake_request() -> RecordingRequest:
    return RecordingRequest()


@pytest.fixture
async def app(
    settings: Settings, answerer: Answerer, fake_request: RecordingRequest
) -> AsyncIterator:
    application = build_application(settings, answerer, request=fake_request)
    async with application:
        fake_request.clear()
        yield application
