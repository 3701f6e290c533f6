"""Logging never shows the token, and the HTTP client loggers stay quiet."""

from __future__ import annotations

import logging

from bot.logs import REDACTED, configure_logging
from tests.fakes import TOKEN


def test_secrets_are_redacted_from_messages_and_tracebacks(capsys):
    configure_logging("DEBUG", [TOKEN])
    log = logging.getLogger("test.redaction")
    log.debug("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"failed at /bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("boom")
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert err.count(REDACTED) == 2


def test_httpx_logger_stays_at_warning():
    configure_logging("DEBUG", [TOKEN])
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING


def test_secrets_are_redacted_whatever_their_case(capsys):
    configure_logging("INFO", [TOKEN])
    logging.getLogger("test.redaction").error("bad request: /bot%s/sendmessage", TOKEN.lower())
    err = capsys.readouterr().err
    assert TOKEN.lower() not in err
    assert REDACTED in err
