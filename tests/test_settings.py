"""Settings: token handling, validation messages that never show the token, thresholds."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from bot.settings import Settings, describe_errors
from tests.fakes import TOKEN


def make(**values) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_without_token():
    settings = make()
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"


def test_token_is_secret(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = make()
    assert isinstance(settings.telegram_bot_token, SecretStr)
    assert settings.telegram_bot_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())


def test_empty_token_means_console(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "  ")
    assert make().telegram_bot_token is None


@pytest.mark.parametrize("bad", ["your-token-here", "123:short", "not a token at all"])
def test_placeholder_tokens_are_rejected_without_echoing_them(monkeypatch, bad):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bad)
    with pytest.raises(ValidationError) as caught:
        make()
    lines = describe_errors(caught.value)
    assert lines[0].startswith("TELEGRAM_BOT_TOKEN: does not look like a token")
    assert all(bad not in line for line in lines)


def test_env_file_is_read(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nTELEGRAM_API_BASE_URL=http://127.0.0.1:8081/bot/\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.telegram_bot_token is not None
    assert settings.telegram_api_base_url == "http://127.0.0.1:8081/bot"


def test_base_url_must_be_http(monkeypatch):
    with pytest.raises(ValidationError):
        make(telegram_api_base_url="ftp://example")


def test_thresholds_come_from_settings():
    thresholds = make(answer_threshold=80, suggest_threshold=50, answer_margin=3).thresholds()
    assert (thresholds.answer, thresholds.suggest, thresholds.margin) == (80, 50, 3)


def test_every_setting_is_documented():
    from tests.conftest import KNOWLEDGE_DIR

    root = KNOWLEDGE_DIR.parent
    example = (root / ".env.example").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        variable = name.upper()
        assert variable in example, f"{variable} missing from .env.example"
        assert f"`{variable}`" in readme, f"{variable} missing from the README"


def test_env_is_git_ignored():
    from tests.conftest import KNOWLEDGE_DIR

    ignored = (KNOWLEDGE_DIR.parent / ".gitignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored
