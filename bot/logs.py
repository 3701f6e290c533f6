"""Logging set-up: one format, quiet HTTP libraries, and secrets redacted from every line.

The Bot API token is part of every request URL; httpx logs URLs at INFO and PTB logs its
base URL at DEBUG, so the HTTP loggers stay at WARNING and every formatted line (message,
arguments and traceback) is scrubbed of the secrets it is given, whatever their case (PTB
lowercases the text of some Bot API errors, which may echo the request URL).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[REDACTED]"


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces each secret with [REDACTED] in the final text."""

    def __init__(self, secrets: Iterable[str], fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        found = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in found), re.IGNORECASE) if found else None
        )

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then redact."""
        text = super().format(record)
        return self._pattern.sub(REDACTED, text) if self._pattern is not None else text


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level`, with HTTP client loggers at WARNING and secrets redacted."""
    logging.basicConfig(level=level, format=FORMAT, force=True)
    formatter = RedactingFormatter(list(secrets))
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
