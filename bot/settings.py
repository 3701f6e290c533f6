"""Settings from the environment and `.env` (pydantic-settings). Build one with `Settings()`.

There is deliberately no module-level instance: the CLI builds one, tests build their own.
Validation messages never include the token's value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.matching import Thresholds

PROJECT_ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_KNOWLEDGE_DIR: Final = PROJECT_ROOT / "knowledge"
_TOKEN_SHAPE: Final = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
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

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: object) -> object:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if not isinstance(raw, str) or not _TOKEN_SHAPE.fullmatch(raw.strip()):
            raise ValueError(
                "does not look like a token from @BotFather (digits, a colon, then letters); "
                "leave it empty to use the console chat"
            )
        return raw.strip()

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not re.match(r"^https?://", value):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    def thresholds(self) -> Thresholds:
        """The matcher's cut-offs as configured."""
        return Thresholds(
            answer=self.answer_threshold,
            suggest=self.suggest_threshold,
            margin=self.answer_margin,
        )


def describe_errors(error: ValidationError) -> list[str]:
    """One line per invalid setting, naming the environment variable and never the value."""
    lines = []
    for detail in error.errors():
        name = "_".join(str(part) for part in detail["loc"]).upper() or "settings"
        lines.append(f"{name}: {detail['msg'].removeprefix('Value error, ')}")
    return lines
