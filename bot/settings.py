"""Settings from the environment and `.env` (pydantic-settings). Build one with `Settings()`.

There is deliberately no module-level instance: the CLI builds one, tests build their own.
Validation messages never include the token's value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.matching import Thresholds

PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_DIR: Final = PROJECT_ROOT / "knowledge"
_TOKEN_SHAPE: Final = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_WEBHOOK_SECRET_SHAPE: Final = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
DEFAULT_DATABASE: Final = Path("data") / "agreement-bot.sqlite3"
_DEFAULTS: Final = Thresholds()


class Settings(BaseSettings):
    """Everything the operator can configure; see .env.example for the documented list."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", validate_default=True
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    knowledge_dir: Path = DEFAULT_KNOWLEDGE_DIR
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    answer_threshold: float = Field(default=_DEFAULTS.answer, ge=0, le=100)
    suggest_threshold: float = Field(default=_DEFAULTS.suggest, ge=0, le=100)
    answer_margin: float = Field(default=_DEFAULTS.margin, ge=0, le=100)
    anchored_threshold: float = Field(default=_DEFAULTS.anchored, ge=0, le=100)

    bot_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    webhook_behind_proxy: bool = False  # trust X-Real-IP / X-Forwarded-For from a proxy
    metrics_port: int | None = Field(default=None, ge=1, le=65535)  # polling: /metrics here

    database_path: Path = DEFAULT_DATABASE
    database_url: SecretStr | None = None  # postgresql://user:password@host:port/dbname
    inbox_lease_seconds: float = Field(default=30.0, gt=0)  # PostgreSQL: a replica's claim
    hash_secret: SecretStr | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    flood_limit: int = Field(default=20, ge=1)
    flood_window_seconds: float = Field(default=60.0, gt=0)
    outgoing_rate_limit: float = Field(default=30.0, ge=0)
    http_timeout_seconds: float = Field(default=10.0, gt=0)
    send_attempts: int = Field(default=6, ge=1, le=20)
    concurrent_updates: int = Field(default=8, ge=1, le=1024)
    inbox_keep_hours: float = Field(default=24.0, gt=0)
    context_minutes: float = Field(default=10.0, ge=0)

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: object) -> str | None:
        return _secret_of_shape(
            value,
            _TOKEN_SHAPE,
            "does not look like a token from @BotFather (digits, a colon, then letters); "
            "leave it empty to use the console chat",
        )

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://", value):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> str | None:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if not isinstance(raw, str) or not re.match(r"^postgres(?:ql)?://", raw.strip()):
            raise ValueError("must be a postgresql://user:password@host:port/dbname URL")
        return raw.strip()

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_list(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return [p for p in parts if p]
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _secret_shape(cls, value: object) -> str | None:
        return _secret_of_shape(
            value, _WEBHOOK_SECRET_SHAPE, "must be 16-256 characters of A-Z, a-z, 0-9, '_' and '-'"
        )

    @model_validator(mode="after")
    def _webhook_needs(self) -> Settings:
        if self.bot_mode == "webhook":
            missing = [
                name
                for name, value in (
                    ("WEBHOOK_URL", self.webhook_url),
                    ("WEBHOOK_SECRET", self.webhook_secret),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"BOT_MODE=webhook needs {' and '.join(missing)}")
            if self.webhook_url and not self.webhook_url.startswith("https://"):
                raise ValueError("WEBHOOK_URL must be an https:// URL (Telegram requires it)")
        return self

    def thresholds(self) -> Thresholds:
        """The matcher's cut-offs as configured."""
        return Thresholds(
            answer=self.answer_threshold,
            suggest=self.suggest_threshold,
            margin=self.answer_margin,
            anchored=self.anchored_threshold,
        )


def _secret_of_shape(value: object, shape: re.Pattern[str], problem: str) -> str | None:
    """A secret's text: None when empty, else it must match `shape` (the message never
    contains the value)."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str) or not shape.fullmatch(raw.strip()):
        raise ValueError(problem)
    return raw.strip()


def describe_errors(error: ValidationError) -> list[str]:
    """One line per invalid setting, naming the environment variable and never the value."""
    lines = []
    for detail in error.errors():
        name = "_".join(str(part) for part in detail["loc"]).upper() or "settings"
        lines.append(f"{name}: {detail['msg'].removeprefix('Value error, ')}")
    return lines
